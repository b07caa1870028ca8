"""The graceful stop of a gunicorn worker: drain, then stop taking connections.

On SIGTERM a leader must not lose a request that a load balancer already sent
it, and must not be cut off by the balancer while one is in flight:

1. **Drain** (``drain_seconds``): the worker keeps accepting and serving, while
   ``/primary`` answers 404 instead of 200 (:func:`draining`). HAProxy's
   ``http-check disable-on-404`` then stops *sending* new requests here at its
   next check, but keeps the server up, so the requests it already sent are
   answered here normally. Had the check failed outright (503, or a refused
   connection), HAProxy would mark the server down a few checks later and,
   with ``on-marked-down shutdown-sessions``, cut whatever request it had just
   routed here: a write whose outcome the client cannot know.
2. **Stop listening**, on the worker's own event loop: from then on a new
   connection is refused (nothing sent: a balancer may retry it elsewhere),
   and the requests already accepted finish.
3. ``then`` runs (on a thread of its own): the election is handed over (see
   :mod:`zkleader.runtime.worker`): the journal's appends in flight finish
   first, then the member node goes and the successor leads. Not from
   gunicorn's ``worker_exit`` alone, which comes only after the worker's
   kept-alive connections linger out (up to 2 s of a peer's polling).

The drain must outlast one balancer check interval plus its round trip
(the gateway checks every 100 ms; the default 0.3 s leaves room).

gunicorn's own gthread stop would instead keep its listening sockets open but
unwatched until its requests in flight are done: connections arriving
meanwhile are accepted by the kernel and reset later, after the client sent
its request. That is why the listeners are closed here, explicitly.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger("zkleader.runtime")

_draining = False  # set once, from the SIGTERM handler: a plain flag, no lock


def draining() -> bool:
    """True from SIGTERM on, in this process: a leader answers 404 on /primary."""
    return _draining


def install(worker: Any, drain_seconds: float, then: Callable[[], None]) -> bool:
    """Replace the worker's SIGTERM handler (from gunicorn's ``post_worker_init``).

    False when the worker is not one this knows how to stop: then gunicorn's
    own stop applies, with no drain (``/primary`` never answers 404).
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
        log.info("stopped listening; finishing requests in flight")
        threading.Thread(target=then, name="hand-over", daemon=True).start()

    def stop_after_drain() -> None:
        time.sleep(drain_seconds)
        # Not from the signal handler itself: it may have interrupted the loop
        # while it holds the queue's lock. This thread waits for the lock instead.
        queue.defer(close_listeners)

    def on_term(signum: int, frame: FrameType | None) -> None:
        global _draining
        if _draining:
            return
        _draining = True
        threading.Thread(target=stop_after_drain, name="graceful-stop", daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    return True
