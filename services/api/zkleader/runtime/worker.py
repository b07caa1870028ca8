"""gunicorn lifecycle glue: one participant per container, in a serving worker.

Called from ``gunicorn.conf.py`` hooks: ``post_worker_init`` (after the fork,
so no kazoo thread is ever forked) and ``worker_exit`` (graceful close on
SIGTERM, so the successor leads at once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..config import Settings
from .host import ElectionHost
from .ownership import ParticipantLock
from .paths import RuntimePaths

log = logging.getLogger("zkleader.runtime")

_guard = threading.Lock()
_host: ElectionHost | None = None
_lock: ParticipantLock | None = None
_exiting = False


def start(settings: Settings, worker_alive: Callable[[], bool]) -> None:
    """Run the participant here if no other worker of this container does;
    otherwise wait in the background to take over should that worker die."""
    global _lock
    paths = RuntimePaths(settings.state_dir)
    paths.ensure()
    _lock = ParticipantLock(paths.lock)

    def become_participant() -> None:
        global _host
        with _guard:
            if _exiting or not worker_alive():
                return
            _host = ElectionHost(settings, paths)
            _host.start()

    if _lock.try_acquire():
        become_participant()
    else:
        log.info("another worker runs the election participant; standing by")
        _lock.acquire_in_background(become_participant)


def stop(timeout: float = 5.0) -> None:
    """Close the participant (if this worker runs it) and release the lock."""
    global _exiting, _host
    with _guard:
        _exiting = True
        host, _host = _host, None
    if host is not None:
        host.close(timeout)
    if _lock is not None:
        _lock.release()
