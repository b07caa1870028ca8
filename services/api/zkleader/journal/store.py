"""The journal in ZooKeeper: fenced appends, synced reads, retention.

Layout under the journal root (every node with the election's ACL)::

    head               {"first": F, "last": L}: the retained range, gapless
    entries/e-<seq>    one entry each (JSON), seq zero-padded to 20 digits
    keys/<hex(key)>    {"seq", "digest"} for each Idempotency-Key in use

An append is ONE transaction::

    check(<leader's member node>)        the fence: fails once we are deposed
    setData(head, L+1, version=v)        orders appends; a stale head fails
    create(entries/e-<L+1>)
    create(keys/<hex(key)>)              only with a key: exists => already written

All or nothing: a deposed leader's node is gone for good (its name never
comes back), so its append cannot commit, whatever its clock or lease says;
and the same key can never be written twice. The seq is a counter in the
head, not a sequential node, so it neither wraps at 2^31 nor leaves gaps.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import (
    AuthFailedError,
    BadVersionError,
    ConnectionClosedError,
    KazooException,
    NodeExistsError,
    NoNodeError,
    OperationTimeoutError,
    RolledBackError,
    SessionExpiredError,
)
from kazoo.security import ACL

from ..election import Fence
from .model import AppendOutcome, AppendResult, Entry, message_digest

log = logging.getLogger("zkleader.journal")

TRIM_BATCH = 100
"""At most this many entries are deleted per trimming transaction."""
_ATTEMPTS = 5


_WRITTEN_UNREADABLE = (
    "already written under this Idempotency-Key, but it cannot be read now; resend with the same key "
    "(never a new one) to see it: "
)


def _refused_before_sending(pending: Any) -> str | None:
    """Why kazoo refused a request without sending it, or None if it was sent.

    kazoo's ``_call`` sets these on the result at once, before queueing, for a
    client whose authentication failed, whose session expired, or that was
    closed; any other failure may come after the request left (outcome unknown).
    """
    if not pending.ready():
        return None
    exc = pending.exception
    if isinstance(exc, AuthFailedError | SessionExpiredError | ConnectionClosedError):
        return _describe(exc)
    return None


@dataclass(frozen=True)
class _Head:
    first: int
    last: int
    version: int

    def next_bytes(self, first: int, last: int) -> bytes:
        return json.dumps({"first": first, "last": last}).encode()


class Journal:
    """Appends (leader only, fenced) and reads of one journal.

    ``client`` is the election's own kazoo client: the fence is a node of its
    session. Appends are serialized by a lock (one writer per process, and
    the head's version orders writers across processes); reads run freely.
    ``timeout`` bounds every ZooKeeper call (the session timeout is right).
    """

    def __init__(
        self,
        client: KazooClient,
        root: str,
        acl: Sequence[ACL],
        *,
        instance: str,
        max_entries: int = 10_000,
        timeout: float = 4.0,
        clock: Callable[[], float],
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._client = client
        self._root = root.rstrip("/")
        self._acl = list(acl)
        self._instance = instance
        self._max_entries = max_entries
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._ready = False
        self._head: _Head | None = None  # cached by the writer; None: read it again
        self._head_epoch: int | None = None

    @property
    def root(self) -> str:
        return self._root

    def entry_path(self, seq: int) -> str:
        return f"{self._root}/entries/e-{seq:020d}"

    def key_path(self, key: str) -> str:
        return f"{self._root}/keys/{key.encode().hex()}"

    # --------------------------------------------------------------- append

    def append(self, fence: Fence, message: str, key: str | None = None) -> AppendResult:
        """Append ``message`` if ``fence`` still holds; 201-worthy only when
        the outcome says so. Never raises for ZooKeeper trouble: the outcome
        tells whether anything may have been written."""
        try:
            message.encode("utf-8")
        except UnicodeEncodeError:
            return AppendResult(
                AppendOutcome.INVALID, detail="the message is not text UTF-8 can encode; nothing written"
            )
        with self._lock:
            try:
                self._ensure()
            except KazooException as exc:
                return AppendResult(AppendOutcome.UNAVAILABLE, detail=f"journal unavailable: {_describe(exc)}")
            for _ in range(_ATTEMPTS):
                result = self._attempt(fence, message, key)
                if result is not None:
                    return result
            return AppendResult(AppendOutcome.UNAVAILABLE, detail="the journal head kept changing; nothing written")

    def _attempt(self, fence: Fence, message: str, key: str | None) -> AppendResult | None:
        """One transaction; None when the cached head was stale (try again)."""
        try:
            head = self._current_head(fence.epoch)
        except KazooException as exc:
            return AppendResult(AppendOutcome.UNAVAILABLE, detail=f"journal unavailable: {_describe(exc)}")
        seq = head.last + 1
        entry = Entry(seq, fence.epoch, self._instance, message, self._clock(), key)
        tx = self._client.transaction()
        tx.check(fence.member_path, -1)  # -1: any version; the node must exist
        tx.set_data(f"{self._root}/head", head.next_bytes(head.first, seq), version=head.version)
        tx.create(self.entry_path(seq), entry.to_bytes(), acl=self._acl)
        if key is not None:
            record = json.dumps({"seq": seq, "digest": message_digest(message)}).encode()
            tx.create(self.key_path(key), record, acl=self._acl)
        pending = tx.commit_async()  # never raises: a refusal is set on the result
        refused = _refused_before_sending(pending)
        if refused is not None:
            self._head = None
            return AppendResult(AppendOutcome.UNAVAILABLE, detail=f"journal unavailable, nothing sent: {refused}")
        try:
            results = pending.get(timeout=self._timeout)
        except Exception as exc:  # noqa: BLE001 - sent, reply lost: it may have committed
            self._head = None
            log.warning("append outcome unknown", extra={"seq": seq, "error": _describe(exc)})
            return AppendResult(
                AppendOutcome.UNKNOWN,
                detail=f"the commit was sent but its reply was lost ({_describe(exc)}): it may or may not "
                "have been written; retry with the same Idempotency-Key to find out",
            )
        failed = [
            (i, r) for i, r in enumerate(results) if isinstance(r, Exception) and not isinstance(r, RolledBackError)
        ]
        if not failed:
            self._head = _Head(head.first, seq, head.version + 1)
            self._trim(fence)
            return AppendResult(AppendOutcome.APPENDED, entry)
        index, error = failed[0]
        if index == 0:
            self._head = None
            return AppendResult(AppendOutcome.NOT_LEADER, detail="deposed: our member node is gone; nothing written")
        if index == 3 and isinstance(error, NodeExistsError):
            assert key is not None
            try:
                replay = self._replay(key, message)
            except KazooException as exc:
                # Written (the key exists): never "nothing written", which may be
                # resent under a new key. The same key will replay it.
                return AppendResult(AppendOutcome.UNKNOWN, detail=_WRITTEN_UNREADABLE + _describe(exc))
            return replay or AppendResult(AppendOutcome.UNKNOWN, detail=_WRITTEN_UNREADABLE + "its key vanished")
        if isinstance(error, BadVersionError | NoNodeError | NodeExistsError):
            self._head = None  # another writer moved the head: read it again
            return None
        return AppendResult(AppendOutcome.UNAVAILABLE, detail=f"append refused: {_describe(error)}; nothing written")

    def _replay(self, key: str, message: str) -> AppendResult | None:
        """The entry already written under ``key``, or None if there is none."""
        try:
            data, _ = self._call(self._client.get_async(self.key_path(key)))
        except NoNodeError:
            return None
        record = json.loads(data)
        if record["digest"] != message_digest(message):
            return AppendResult(AppendOutcome.CONFLICT, detail="this Idempotency-Key was used for another message")
        data, _ = self._call(self._client.get_async(self.entry_path(int(record["seq"]))))
        return AppendResult(AppendOutcome.REPLAYED, Entry.from_bytes(data))

    def _current_head(self, epoch: int) -> _Head:
        if self._head is None or self._head_epoch != epoch:
            self._call(self._client.sync_async(self._root))  # not a lagging server's view
            data, stat = self._call(self._client.get_async(f"{self._root}/head"))
            raw = json.loads(data)
            self._head = _Head(int(raw["first"]), int(raw["last"]), stat.version)
            self._head_epoch = epoch
        return self._head

    def _trim(self, fence: Fence) -> None:
        """Delete the oldest entries beyond ``max_entries`` (a batch at a time),
        fenced like an append. Failures are logged; the next append retries."""
        head = self._head
        assert head is not None
        excess = head.last - head.first + 1 - self._max_entries
        if excess <= 0:
            return
        doomed = range(head.first, head.first + min(excess, TRIM_BATCH))
        try:
            pending = [(seq, self._client.get_async(self.entry_path(seq))) for seq in doomed]
            keys: list[str] = []
            present: list[int] = []
            for seq, get in pending:
                try:
                    data, _ = self._call(get)
                except NoNodeError:
                    continue
                present.append(seq)
                key = Entry.from_bytes(data).key
                if key is not None:
                    keys.append(key)
            first = doomed.stop
            tx = self._client.transaction()
            tx.check(fence.member_path, -1)
            tx.set_data(f"{self._root}/head", head.next_bytes(first, head.last), version=head.version)
            for seq in present:
                tx.delete(self.entry_path(seq))
            for key in keys:
                tx.delete(self.key_path(key))
            results = self._call(tx.commit_async())
        except Exception as exc:  # noqa: BLE001 - retention must never fail an append
            self._head = None
            log.warning("trimming the journal failed: %s", _describe(exc))
            return
        if any(isinstance(r, Exception) for r in results):
            self._head = None
            log.warning("trimming the journal was refused: %s", [type(r).__name__ for r in results])
            return
        self._head = _Head(first, head.last, head.version + 1)

    # ----------------------------------------------------------------- read

    def read(self, after: int = 0, limit: int = 100) -> list[Entry]:
        """Entries with seq > ``after`` in order, at most ``limit``; a ``sync``
        first, so every instance answers what the ZooKeeper leader has."""
        if limit < 1:
            return []
        try:
            self._call(self._client.sync_async(self._root))
            data, _ = self._call(self._client.get_async(f"{self._root}/head"))
        except NoNodeError:
            return []  # nothing was ever appended
        raw = json.loads(data)
        first, last = int(raw["first"]), int(raw["last"])
        start = max(after + 1, first)
        pending = [
            self._client.get_async(self.entry_path(seq)) for seq in range(start, min(last, start + limit - 1) + 1)
        ]
        entries = []
        for get in pending:
            try:
                data, _ = self._call(get)
            except NoNodeError:
                continue  # trimmed since we read the head
            entries.append(Entry.from_bytes(data))
        return entries

    # -------------------------------------------------------------- helpers

    def _ensure(self) -> None:
        if self._ready:
            return
        for folder in ("entries", "keys"):
            self._call(self._client.ensure_path_async(f"{self._root}/{folder}", acl=self._acl))
        with contextlib.suppress(NodeExistsError):
            self._call(
                self._client.create_async(
                    f"{self._root}/head", json.dumps({"first": 1, "last": 0}).encode(), acl=self._acl
                )
            )
        self._ready = True

    def _call(self, pending: Any) -> Any:
        try:
            return pending.get(timeout=self._timeout)
        except self._client.handler.timeout_exception as exc:
            raise OperationTimeoutError(f"no reply within {self._timeout:.1f}s") from exc


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".rstrip(": ")
