"""The leader record: ``{instance, address, epoch}`` as the election path's data.

The leader writes it with a compare-and-set on the path's version and never
over a newer epoch, so a deposed leader cannot overwrite its successor's
record. Followers watch it to know the leader without listing the members.

:class:`LeaderRecord` plugs into the election as a leadership listener: a
gain schedules the write (retried with the worker's back-off until it holds
or we stop leading), a loss cancels it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, KazooException
from kazoo.protocol.states import WatchedEvent

from .identity import Identity
from .status import LeaderInfo
from .worker import Scheduler, Timer

log = logging.getLogger("zkleader.election")


def encode(record: LeaderInfo) -> bytes:
    return json.dumps(asdict(record), separators=(",", ":")).encode()


def decode(data: bytes | None) -> LeaderInfo | None:
    """The election path's data; ``None`` when empty or not ours."""
    try:
        raw = json.loads(data or b"")
        return LeaderInfo(str(raw["instance"]), str(raw["address"]), int(raw["epoch"]))
    except (ValueError, KeyError, TypeError):
        return None


class LeaderRecord:
    """Writes our record while we lead; reads (and watches) it while we follow.

    Worker thread only. ``leading()``: whether we lead right now."""

    def __init__(
        self,
        client: KazooClient,
        path: str,
        identity: Identity,
        call: Callable[[Any], Any],
        scheduler: Scheduler,
        *,
        tries: int,
        leading: Callable[[], bool],
        on_event: Callable[[WatchedEvent], None],
    ) -> None:
        self._client = client
        self._path = path
        self._identity = identity
        self._call = call
        self._scheduler = scheduler
        self._tries = tries
        self._leading = leading
        self._on_event = on_event
        self._pending: int | None = None  # epoch whose record is not yet written

    # ------------------------------------------- the leadership listener

    def gained(self, epoch: int) -> None:
        self._pending = epoch
        self._scheduler.succeeded(Timer.RECORD)  # a fresh back-off for this term
        self._scheduler.after(Timer.RECORD, 0.0)

    def lost(self) -> None:
        self._pending = None
        self._scheduler.succeeded(Timer.RECORD)

    # ------------------------------------------------------------ writing

    def write(self) -> None:
        """The RECORD timer: publish ourselves as leader, fenced by epoch."""
        epoch = self._pending
        if epoch is None or not self._leading():
            self._pending = None
            return
        try:
            written = self._put(LeaderInfo(self._identity.instance, self._identity.address, epoch))
        except KazooException as exc:
            log.warning("could not publish the leader record: %s", exc)
            written = False
        if written:
            self._pending = None
            self._scheduler.succeeded(Timer.RECORD)
        else:
            self._scheduler.retry(Timer.RECORD)

    def _put(self, record: LeaderInfo) -> bool:
        for _ in range(self._tries):
            data, stat = self._call(self._client.get_async(self._path))
            current = decode(data)
            if current is not None and current.epoch >= record.epoch:
                return True
            try:
                self._call(self._client.set_async(self._path, encode(record), version=stat.version))
                return True
            except BadVersionError:
                continue
        log.warning("leader record changed under us %d times; retrying later", self._tries)
        return False

    # ------------------------------------------------------------ reading

    def read(self) -> LeaderInfo | None:
        """Followers: read the record and keep watching it."""
        data, _ = self._call(self._client.get_async(self._path, watch=self._on_event))
        return decode(data)
