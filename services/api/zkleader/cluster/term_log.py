"""The cluster-wide term log in ZooKeeper (like Patroni's ``/history``).

Each grant is one child of the log's path, named by its epoch (zero-padded,
so names sort as epochs do), holding ``{epoch, instance, address, electedAt,
endedAt, reason}`` as JSON. The leader writes it in one transaction with a
``check`` of its own member node (a :class:`Fence`), so a deposed leader
cannot record a grant; the same transaction deletes the oldest entries
beyond ``limit``, so retention is bounded. A clean end (resign, close) is
written by the same instance as a compare-and-set on its own entry.

Every method makes ZooKeeper calls: never call them on the election worker
or on kazoo's event thread (see ``runtime.termlog``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError, RolledBackError
from kazoo.security import ACL, OPEN_ACL_UNSAFE

from .. import Fence
from .report import ClusterTerm

log = logging.getLogger("zkleader.terms")

_PREFIX = "term-"


def term_log_path(election_path: str) -> str:
    """Where the log lives: beside the election path (never under it, where
    every child is taken for a member)."""
    return f"{election_path}-terms"


def _name(epoch: int) -> str:
    return f"{_PREFIX}{epoch:020d}"


def encode_term(term: ClusterTerm) -> bytes:
    raw = {
        "epoch": term.epoch,
        "instance": term.instance,
        "address": term.address,
        "electedAt": term.elected_at,
        "endedAt": term.ended_at,
        "reason": term.reason,
    }
    return json.dumps(raw, separators=(",", ":")).encode()


def decode_term(data: bytes | None) -> ClusterTerm | None:
    """An entry's data; None when it is not one we wrote."""
    try:
        raw: dict[str, Any] = json.loads(data or b"")
        return ClusterTerm(
            epoch=int(raw["epoch"]),
            instance=str(raw["instance"]),
            address=str(raw["address"]),
            elected_at=float(raw["electedAt"]),
            ended_at=None if raw.get("endedAt") is None else float(raw["endedAt"]),
            reason=None if raw.get("reason") is None else str(raw["reason"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


class FencedOut(Exception):
    """The grant was not recorded: our member node is gone (we no longer lead)."""


class ClusterTermLog:
    """Reads and writes the term log under ``path`` with ``client``."""

    def __init__(self, client: KazooClient, path: str, *, acl: Sequence[ACL] | None = None, limit: int = 100) -> None:
        if limit < 1:
            raise ValueError("the term log must keep at least one term")
        self._client = client
        self._path = path
        self._acl = list(acl) if acl else list(OPEN_ACL_UNSAFE)
        self._limit = limit
        self._cache: dict[str, ClusterTerm] = {}

    @property
    def path(self) -> str:
        return self._path

    def record_grant(self, fence: Fence, term: ClusterTerm) -> None:
        """Write a new grant, fenced by our member node; idempotent.

        Raises :class:`FencedOut` when the member node is gone.
        """
        if term.epoch != fence.epoch:
            raise ValueError(f"term epoch {term.epoch} is not the fence's {fence.epoch}")
        self._client.ensure_path(self._path, acl=self._acl)
        for _ in range(3):
            self._client.sync(self._path)  # list what the ensemble's leader has, not a lagging server's view
            names = sorted(n for n in self._client.get_children(self._path) if n.startswith(_PREFIX))
            if _name(term.epoch) in names:
                return  # already there (a lost reply to an earlier try)
            excess = max(0, len(names) + 1 - self._limit)
            tx = self._client.transaction()
            tx.check(fence.member_path, -1)  # -1: any version, the node must exist
            tx.create(f"{self._path}/{_name(term.epoch)}", encode_term(term), acl=self._acl)
            for old in names[:excess]:
                tx.delete(f"{self._path}/{old}")
            results = tx.commit()
            # In a failed multi the operations before the failing one come back
            # RolledBackError: the cause is the first other error.
            failures = [r for r in results if isinstance(r, Exception) and not isinstance(r, RolledBackError)]
            if not any(isinstance(r, Exception) for r in results):
                return
            first = failures[0] if failures else results[0]
            if isinstance(results[0], NoNodeError):
                raise FencedOut(f"member node {fence.member_path} is gone")
            if isinstance(first, NodeExistsError):
                return
            # A pruned entry vanished under us (another writer pruned it): list again.
            log.info("term log transaction rolled back (%s); retrying", type(first).__name__)
        raise RuntimeError("term log transaction kept failing")

    def record_end(self, epoch: int, instance: str, ended_at: float, reason: str) -> bool:
        """Mark our own open entry as ended; False when there is none to mark."""
        path = f"{self._path}/{_name(epoch)}"
        for _ in range(3):
            try:
                data, stat = self._client.get(path)
            except NoNodeError:
                return False
            current = decode_term(data)
            if current is None or current.instance != instance or current.ended_at is not None:
                return False
            ended = ClusterTerm(current.epoch, current.instance, current.address, current.elected_at, ended_at, reason)
            try:
                self._client.set(path, encode_term(ended), version=stat.version)
                return True
            except BadVersionError:
                continue
            except NoNodeError:
                return False
        return False

    def recent(self) -> list[ClusterTerm]:
        """The retained terms, oldest first. Entries already ended are read once."""
        try:
            names = sorted(n for n in self._client.get_children(self._path) if n.startswith(_PREFIX))
        except NoNodeError:
            return []
        self._cache = {n: t for n, t in self._cache.items() if n in names}
        pending = [
            (n, self._client.get_async(f"{self._path}/{n}"))
            for n in names
            if n not in self._cache or self._cache[n].ended_at is None
        ]
        for name, reply in pending:
            try:
                data, _ = reply.get(timeout=5.0)
            except NoNodeError:
                continue
            term = decode_term(data)
            if term is not None:
                self._cache[name] = term
        return [self._cache[n] for n in names if n in self._cache]
