"""``POST /journal`` and ``GET /journal``: the fenced, leader-only journal.

A non-leader answers 503 with the leader it knows and writes nothing (so a
balancer may resend the request to another instance); it does not forward
(docs/routing.md says why).
"""

from __future__ import annotations

from typing import Any, Protocol

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from ..journal import MAX_LIMIT, MAX_MESSAGE, AppendOutcome, AppendResult, valid_idempotency_key
from ..journal.model import DEFAULT_LIMIT, MAX_IDEMPOTENCY_KEY
from .bodies import BodyError, is_utf8, parse_json
from .errors import error_response

MAX_BODY = 4096
"""Bytes in a ``POST /journal`` body; more is 413."""

_STATUS = {
    AppendOutcome.APPENDED: 201,
    AppendOutcome.REPLAYED: 201,  # the same answer as the first time
    AppendOutcome.NOT_LEADER: 503,  # nothing written: safe to resend elsewhere
    AppendOutcome.UNAVAILABLE: 503,  # nothing written
    AppendOutcome.CONFLICT: 409,
    AppendOutcome.INVALID: 400,  # nothing written
    AppendOutcome.UNKNOWN: 504,  # may have happened: never resent blindly
}


class JournalView(Protocol):
    """What the web layer may ask of the journal (see ``runtime.journal_view``)."""

    def append(self, message: str, key: str | None) -> AppendResult: ...

    def read(self, after: int, limit: int) -> list[dict[str, Any]]: ...


def build_journal_blueprint(journal: JournalView) -> Blueprint:
    bp = Blueprint("journal", __name__)

    @bp.post("/journal")
    def append() -> ResponseReturnValue:
        if request.mimetype != "application/json":
            return error_response(415, "send the entry as application/json")
        length = request.content_length
        if length is not None and length > MAX_BODY:
            return error_response(413, f"the body is over {MAX_BODY} bytes")
        body = request.stream.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return error_response(413, f"the body is over {MAX_BODY} bytes")
        message = _message(body)
        if isinstance(message, tuple):
            return error_response(*message)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not valid_idempotency_key(key):
            return error_response(
                400, f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} printable ASCII characters without spaces"
            )
        return _answer(journal.append(message, key))

    def _answer(result: AppendResult) -> Response:
        status = _STATUS[result.outcome]
        if result.entry is not None and result.outcome in (AppendOutcome.APPENDED, AppendOutcome.REPLAYED):
            entry = result.entry
            response = jsonify({"seq": entry.seq, "epoch": entry.epoch, "instance": entry.instance})
            response.status_code = status
            if result.outcome is AppendOutcome.REPLAYED:
                response.headers["Idempotent-Replayed"] = "true"
            return response
        raw: dict[str, Any] = {"status": status, "error": result.detail or result.outcome.value}
        if result.outcome is AppendOutcome.NOT_LEADER:
            raw["leader"] = (
                None
                if result.leader_instance is None
                else {"instance": result.leader_instance, "address": result.leader_address}
            )
        if result.outcome is AppendOutcome.UNKNOWN:
            raw["outcomeUnknown"] = True
        response = jsonify(raw)
        response.status_code = status
        return response

    @bp.get("/journal")
    def read() -> ResponseReturnValue:
        after = _whole(request.args.get("after"), 0, minimum=0)
        limit = _whole(request.args.get("limit"), DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        if after is None:
            return error_response(400, "after must be a whole number >= 0")
        if limit is None:
            return error_response(400, f"limit must be a whole number from 1 to {MAX_LIMIT}")
        try:
            entries = journal.read(after, limit)
        except Exception as exc:  # noqa: BLE001 - ZooKeeper or the participant is unavailable
            return error_response(503, f"cannot read the journal: {exc}")
        return jsonify({"entries": entries})

    return bp


def _message(body: bytes) -> str | tuple[int, str]:
    """The entry's message, or ``(status, error)``."""
    try:
        raw = parse_json(body)
    except BodyError as exc:
        return 400, str(exc)
    if not isinstance(raw, dict):
        return 400, 'send a JSON object: {"message": "..."}'
    if "message" not in raw:
        return 400, "message is missing"
    message = raw["message"]
    if not isinstance(message, str):
        return 400, "message must be a string"
    if not is_utf8(message):
        return 400, "message must be text UTF-8 can encode (no lone surrogates)"
    if len(message) > MAX_MESSAGE:
        return 400, f"message is longer than {MAX_MESSAGE} characters"
    return message


def _whole(raw: str | None, default: int, *, minimum: int, maximum: int | None = None) -> int | None:
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        return None
    return value
