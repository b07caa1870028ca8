"""What every gunicorn worker knows of the participant, for the web layer."""

from __future__ import annotations

from .. import ElectionState, Identity, Liveness, Participant, Status, SwitchoverResult, Term, switchover_wait
from . import control, snapshot
from .paths import RuntimePaths


class SharedView:
    """Reads the snapshot file on every request and asks the participant's
    process over the control socket for live operations.

    The file is about 1 KB; re-reading it costs far less than being wrong. A
    cache keyed on ``(st_ino, st_mtime_ns)`` would be: ``mkstemp`` can reuse
    the inode that ``os.replace`` just freed within one coarse mtime tick, and
    a reader would keep serving an older LEADER snapshot.
    """

    def __init__(self, paths: RuntimePaths, instance: str, session_timeout: float, role: str = "candidate") -> None:
        self._paths = paths
        self._role = role  # shown while no participant runs yet
        self._instance = instance
        self._session_timeout = session_timeout

    def _state(self) -> snapshot.SharedState | None:
        return snapshot.read(self._paths.snapshot)

    def status(self) -> Status:
        shared = self._state()
        if shared is None:
            return Status.placeholder(self._instance, self._session_timeout, "election not started yet", self._role)
        if shared.status.state is not ElectionState.STOPPED and not shared.owner_alive():
            return Status.placeholder(
                self._instance,
                self._session_timeout,
                "election participant process ended; another worker is taking over",
                self._role,
            )
        return shared.status

    def history(self) -> list[Term]:
        shared = self._state()
        return [] if shared is None else list(shared.history)

    def participants(self) -> list[Participant]:
        raw = control.request(self._paths.control_socket, "participants", self._session_timeout * 2)
        return [Participant(**p) for p in raw]

    def resign(self) -> bool:
        return bool(control.request(self._paths.control_socket, "resign", self._session_timeout * 4))

    def observers(self) -> list[Identity]:
        raw = control.request(self._paths.control_socket, "observers", self._session_timeout * 2)
        return [Identity(**o) for o in raw]

    def switchover(self, candidate: str) -> SwitchoverResult:
        """Waits while the participant confirms the hand-over (bounded by
        :func:`switchover_wait`), plus the two calls that bracket it."""
        timeout = switchover_wait(self._session_timeout) + 2 * self._session_timeout
        raw = control.request(self._paths.control_socket, "switchover", timeout, {"candidate": candidate})
        return SwitchoverResult.from_json(raw)

    def liveness(self) -> Liveness:
        """The participant's own verdict; a live participant process that does
        not answer is not alive either. No participant (starting, or a worker
        taking over) is not a reason to restart the container."""
        try:
            raw = control.request(self._paths.control_socket, "liveness", min(1.0, self._session_timeout))
        except control.ControlUnavailable as exc:
            shared = self._state()
            if shared is not None and shared.status.state is not ElectionState.STOPPED and shared.owner_alive():
                return Liveness(False, 0.0, self._session_timeout, f"the participant does not answer: {exc}")
            return Liveness(True, 0.0, self._session_timeout, "no participant runs in this container yet")
        return Liveness.from_json(raw)
