"""Request bodies as JSON, one way for every route that reads one.

Anything that is not the documented JSON is the client's error (400), never a
500: ``json.loads`` raises ``RecursionError`` (not ``ValueError``) on deeply
nested input, and Flask's ``get_json(silent=True)`` lets that through.
"""

from __future__ import annotations

import json
from typing import Any


class BodyError(ValueError):
    """The body is not JSON this service accepts; the message says why (400)."""


def parse_json(body: bytes) -> Any:
    """The decoded body, or :class:`BodyError`."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BodyError("the body is not valid JSON") from exc


def is_utf8(text: str) -> bool:
    """False for a string JSON allows but UTF-8 cannot encode (a lone surrogate, ``"\\ud800"``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
