"""gunicorn lifecycle glue: one participant per container, in a serving worker.

Called from ``gunicorn.conf.py`` hooks: ``post_worker_init`` (after the fork,
so no kazoo thread is ever forked) and ``worker_exit`` (graceful close on
SIGTERM, so the successor leads at once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..config import Settings
from .host import ElectionHost
from .ownership import ParticipantLock
from .paths import RuntimePaths

log = logging.getLogger("zkleader.runtime")

_guard = threading.Lock()
_stopping = threading.Lock()  # a second stop() waits for the first to finish
_host: ElectionHost | None = None
_lock: ParticipantLock | None = None
_exiting = False
_RETRY_FIRST, _RETRY_MAX = 0.5, 10.0  # seconds between attempts to start a participant that failed


def start(settings: Settings, worker_alive: Callable[[], bool]) -> None:
    """Run the participant here if no other worker of this container does;
    otherwise wait in the background to take over should that worker die."""
    global _lock
    paths = RuntimePaths(settings.state_dir)
    paths.ensure()
    _lock = ParticipantLock(paths.lock)

    def try_to_become_participant() -> bool:
        """True when done: running, or no longer wanted here."""
        global _host
        with _guard:
            if _exiting or not worker_alive():
                return True
            host = None
            try:
                host = ElectionHost(settings, paths)
                host.start()
            except Exception:
                log.exception("could not start the election participant; retrying")
                if host is not None:
                    try:
                        host.close()
                    except Exception:
                        log.exception("cleaning up the failed participant failed")
                return False
            _host = host
            return True

    def become_participant() -> None:
        # We hold the lock: nobody else in this container will run the
        # participant, so keep trying (with back-off) until it runs.
        delay = _RETRY_FIRST
        while not try_to_become_participant():
            time.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    if _lock.try_acquire():
        if not try_to_become_participant():
            threading.Thread(target=become_participant, name="participant-retry", daemon=True).start()
    else:
        log.info("another worker runs the election participant; standing by")
        _lock.acquire_in_background(become_participant)


def stop(timeout: float = 5.0) -> None:
    """Close the participant (if this worker runs it) and release the lock.
    Called twice on a graceful stop (after the drain, and from ``worker_exit``):
    the second call returns once the first is done."""
    global _exiting, _host
    with _stopping:
        with _guard:
            _exiting = True
            host, _host = _host, None
        if host is not None:
            host.close(timeout)
        if _lock is not None:
            _lock.release()
