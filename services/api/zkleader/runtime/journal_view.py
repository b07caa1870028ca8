"""The journal as every gunicorn worker sees it: requests to the participant's
process over the control socket (the fence lives in that process's session)."""

from __future__ import annotations

from typing import Any

from ..journal import AppendOutcome, AppendResult
from . import control
from .journal_desk import APPEND, READ
from .paths import RuntimePaths


class SharedJournal:
    def __init__(self, paths: RuntimePaths, session_timeout: float) -> None:
        self._socket = paths.control_socket
        # An append is a few ZooKeeper calls, each bounded by the session timeout.
        self._timeout = session_timeout * 3

    def append(self, message: str, key: str | None) -> AppendResult:
        try:
            raw = control.request(self._socket, APPEND, self._timeout, {"message": message, "key": key})
        except control.ControlNoReply as exc:
            return AppendResult(AppendOutcome.UNKNOWN, detail=f"{exc}: the append may or may not have happened")
        except control.ControlUnavailable as exc:
            return AppendResult(AppendOutcome.UNAVAILABLE, detail=f"{exc}; nothing written")
        except RuntimeError as exc:  # the participant failed mid-way: we cannot tell how far it got
            return AppendResult(AppendOutcome.UNKNOWN, detail=f"append failed: {exc}")
        return AppendResult.from_dict(raw)

    def read(self, after: int, limit: int) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = control.request(
            self._socket, READ, self._timeout, {"after": after, "limit": limit}
        )
        return entries
