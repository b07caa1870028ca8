"""What kazoo does not expose and the election needs: the negotiated session timeout.

The server clamps the requested session timeout T to its own bounds (by
default 2 to 20 ticks). The lease must stay below the *negotiated* T, yet
kazoo computes it in ``ConnectionHandler._connect`` (which returns
``read_timeout = 2/3 of T``) without keeping it. Like Patroni's
``dcs/zookeeper.py``, we wrap ``_connect`` on our own client's connection to
learn it on every (re)connect. That only works if the wrapper is in place
before the first connect: a client that is already started is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kazoo.client import KazooClient

log = logging.getLogger("zkleader.election")


class StartedClientError(ValueError):
    """The client was started before the election could learn its session timeout."""


def is_started(client: KazooClient) -> bool:
    """True once ``start``/``start_async`` ran (kazoo clears ``_stopped`` then)."""
    stopped = getattr(client, "_stopped", None)
    return stopped is not None and not stopped.is_set()


def track_negotiated_timeout(client: KazooClient, on_negotiated: Callable[[float], None]) -> bool:
    """Call ``on_negotiated(seconds)`` after every session (re)establishment.

    Raises :class:`StartedClientError` for a client already started. Returns
    False (and logs a warning) when this kazoo has no ``_connect`` to wrap; the
    requested timeout is then all we know.
    """
    if is_started(client):
        raise StartedClientError(
            "pass a kazoo client that is not started yet: the election must learn the session timeout "
            "the server negotiates (it may clamp the requested one) from the first connect"
        )
    connection = getattr(client, "_connection", None)
    original = getattr(connection, "_connect", None)
    if original is None:
        log.warning("cannot learn the negotiated session timeout; assuming the requested one")
        return False

    def connect(*args: Any, **kwargs: Any) -> Any:
        read_timeout, connect_timeout = original(*args, **kwargs)
        on_negotiated(read_timeout * 1.5 / 1000.0)
        return read_timeout, connect_timeout

    connection._connect = connect  # type: ignore[union-attr]
    return True
