"""Stop taking connections the moment SIGTERM arrives (the graceful drain).

gunicorn's gthread worker, on SIGTERM, notices only at its next poll (up to
1 s later), and then keeps its listening sockets open but unwatched until its
requests in flight are done: connections that arrive meanwhile are accepted
by the kernel and later reset, after the client (HAProxy) has sent the
request. That is a write whose outcome the client cannot know.

So each worker, on SIGTERM, closes its listening sockets at once, on its own
event loop: from then on a new connection is refused, which HAProxy may
safely retry elsewhere (nothing was sent), and its health checks fail fast,
while the requests already accepted finish normally. The election is handed
over afterwards, from ``worker_exit``, as before.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

log = logging.getLogger("zkleader.runtime")


def install(worker: Any) -> bool:
    """Wrap the worker's SIGTERM handler (from gunicorn's ``post_worker_init``).

    False when the worker is not one this knows how to stop early (then
    gunicorn's own stop applies).
    """
    queue = getattr(worker, "method_queue", None)
    if queue is None or not hasattr(worker, "set_accept_enabled") or not hasattr(worker, "sockets"):
        log.warning("prompt stop not installed: %s is not a gthread worker", type(worker).__name__)
        return False

    def close_listeners() -> None:  # on the worker's event loop
        worker.alive = False
        worker.set_accept_enabled(False)
        for listener in worker.sockets:
            listener.close()
        log.info("SIGTERM: stopped listening; finishing requests in flight")

    def on_term(signum: int, frame: FrameType | None) -> None:
        worker.alive = False
        # Not from the handler itself: it may have interrupted the loop while
        # it holds the queue's lock. A thread waits for the lock instead.
        threading.Thread(target=queue.defer, args=(close_listeners,), name="prompt-stop", daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    return True
