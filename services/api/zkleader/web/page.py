"""``GET /``: the live cluster page (HTML, JS and CSS served from the image,
no CDN). The page polls ``/cluster`` twice a second and ``/cluster/terms``
once a second from the instance that served it; see ``static/page.js``."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue


def build_page_blueprint() -> Blueprint:
    bp = Blueprint("page", __name__, static_folder="static", static_url_path="/static")

    @bp.get("/")
    def index() -> ResponseReturnValue:
        response = bp.send_static_file("index.html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    return bp
