"""Who leads, as the instances themselves say (``GET /leader``).

``sole_leader`` is the one definition of "a single leader that every instance
agrees on"; ``wait_for_leader`` is the one bounded wait for it. Both work on
views read by any means (``read_views`` here, a test's own client there).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import http

View = Mapping[str, Any]
"""One instance's ``GET /leader`` answer."""
Views = Mapping[str, View | None]
"""Instance name -> its view, None when it does not answer."""


@dataclass(frozen=True)
class Leader:
    name: str
    epoch: int


@dataclass(frozen=True)
class Found:
    """What a wait found: the leader, and the wall-clock start of the poll that showed it."""

    leader: Leader
    seen_at: float
    views: Views


def sole_leader(views: Views, min_epoch: int = 0) -> Leader | None:
    """The leader when exactly one instance says it leads with an epoch of at
    least ``min_epoch`` and every other one follows (or observes) it with that same epoch;
    None otherwise (also when any instance does not answer)."""
    if not views or any(v is None for v in views.values()):
        return None
    leading = [name for name, v in views.items() if v is not None and v.get("isLeader") is True]
    if len(leading) != 1:
        return None
    name = leading[0]
    epoch = views[name].get("epoch")  # type: ignore[union-attr]
    if not isinstance(epoch, int) or epoch < min_epoch:
        return None
    for other, view in views.items():
        assert view is not None
        # Observers (ELECTION_ROLE=observer) agree on the leader as followers do.
        if view.get("state") not in (("leader",) if other == name else ("follower", "observer")):
            return None
        if (view.get("leader") or {}).get("instance") != name or view.get("epoch") != epoch:
            return None
    return Leader(name, epoch)


def read_views(urls: Mapping[str, str], timeout: float = 1.0) -> dict[str, View | None]:
    """``GET /leader`` of every instance (name -> base URL), all at once."""
    names = list(urls)
    replies = http.each(lambda name: http.get(urls[name], "/leader", timeout), names)
    return {name: _view(reply) for name, reply in zip(names, replies, strict=True)}


def _view(reply: http.Reply) -> View | None:
    return reply.body if reply.status == 200 and isinstance(reply.body, dict) else None


def wait_for_leader(
    read: Callable[[], Views],
    *,
    timeout: float,
    interval: float = 0.2,
    min_epoch: int = 0,
    accept: Callable[[Leader], bool] = lambda _: True,
    on_poll: Callable[[float, Views], None] | None = None,
) -> Found | None:
    """Poll ``read`` every ``interval`` s until :func:`sole_leader` finds one
    (with ``min_epoch`` and ``accept``), or None once ``timeout`` s have passed.
    ``on_poll(started_at, views)`` sees every poll, the last one included."""
    deadline = time.time() + timeout
    while True:
        started = time.time()
        views = read()
        found = sole_leader(views, min_epoch)
        if on_poll is not None:
            on_poll(started, views)
        if found is not None and accept(found):
            return Found(found, started, views)
        now = time.time()
        if now >= deadline:
            return None
        time.sleep(max(0.0, min(interval - (now - started), deadline - now)))
