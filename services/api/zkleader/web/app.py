"""Flask application factory. Knows the election only through ``ElectionView``."""

from __future__ import annotations

from flask import Flask

from .errors import register_error_handlers
from .metrics import ElectionCollector, make_registry
from .routes import build_blueprint
from .view import ElectionView


def create_app(view: ElectionView, *, admin_token: str | None) -> Flask:
    app = Flask("zkleader")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    registry = make_registry(ElectionCollector(view))
    app.register_blueprint(build_blueprint(view, admin_token, registry))
    register_error_handlers(app)
    return app
