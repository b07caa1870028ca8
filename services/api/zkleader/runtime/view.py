"""What every gunicorn worker knows of the participant, for the web layer."""

from __future__ import annotations

import os

from ..election import ElectionState, Participant, Status, Term
from . import control, snapshot
from .paths import RuntimePaths


class SharedView:
    """Reads the snapshot file (re-parsed only when it was replaced) and asks
    the participant's process over the control socket for live operations."""

    def __init__(self, paths: RuntimePaths, instance: str, session_timeout: float) -> None:
        self._paths = paths
        self._instance = instance
        self._session_timeout = session_timeout
        self._cached_key: tuple[int, int] | None = None
        self._cached: snapshot.SharedState | None = None

    def _state(self) -> snapshot.SharedState | None:
        try:
            st = os.stat(self._paths.snapshot)
        except FileNotFoundError:
            return None
        key = (st.st_ino, st.st_mtime_ns)
        if key != self._cached_key:
            self._cached = snapshot.read(self._paths.snapshot)
            self._cached_key = key
        return self._cached

    def status(self) -> Status:
        shared = self._state()
        if shared is None:
            return self._placeholder("election not started yet")
        if shared.status.state is not ElectionState.STOPPED and not shared.owner_alive():
            return self._placeholder("election participant process ended; another worker is taking over")
        return shared.status

    def history(self) -> list[Term]:
        shared = self._state()
        return [] if shared is None else list(shared.history)

    def participants(self) -> list[Participant]:
        raw = control.request(self._paths.control_socket, "participants", self._session_timeout * 2)
        return [Participant(**p) for p in raw]

    def resign(self) -> bool:
        return bool(control.request(self._paths.control_socket, "resign", self._session_timeout * 3))

    def _placeholder(self, reason: str) -> Status:
        return Status(
            state=ElectionState.CONNECTING,
            instance=self._instance,
            epoch=None,
            leader=None,
            lease_deadline=None,
            enrolled=False,
            node=None,
            session_timeout=self._session_timeout,
            reason=reason,
        )
