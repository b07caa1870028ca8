"""JSON for every error; never a stack trace to the client."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("zkleader.web")


def error_response(status: int, message: str) -> ResponseReturnValue:
    return jsonify({"status": status, "error": message}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        response = exc.get_response()
        body, status = error_response(exc.code or 500, exc.description or exc.name)
        body.headers.extend((k, v) for k, v in response.headers.items() if k == "Allow")  # type: ignore[union-attr]
        return body, status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unhandled error serving a request")
        return error_response(500, InternalServerError.description)
