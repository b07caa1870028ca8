"""Which process of this container runs the election: whoever holds the flock.

The kernel releases an ``flock`` when its holder dies, so a waiting worker
takes over after a crash without any stale-lock cleanup.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable


class ParticipantLock:
    def __init__(self, path: str) -> None:
        self._path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def acquire_in_background(self, on_acquired: Callable[[], None]) -> threading.Thread:
        """Wait for the lock on a daemon thread, then call ``on_acquired`` there."""

        def wait() -> None:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._fd = fd
            on_acquired()

        thread = threading.Thread(target=wait, name="participant-lock", daemon=True)
        thread.start()
        return thread

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
