"""Journal values and input rules, without ZooKeeper or HTTP."""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

MAX_MESSAGE = 1024
"""Characters in one entry's message."""
MAX_IDEMPOTENCY_KEY = 64
"""Characters in an ``Idempotency-Key``."""
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
"""Entries one read may return."""

_KEY = re.compile(rf"^[\x21-\x7e]{{1,{MAX_IDEMPOTENCY_KEY}}}$")


def valid_idempotency_key(key: str) -> bool:
    """1-64 printable ASCII characters, no spaces (it becomes part of a znode name)."""
    return bool(_KEY.match(key))


def message_digest(message: str) -> str:
    """Binds an idempotency key to its message: the same key with another
    message is a client error, not a replay."""
    return hashlib.sha256(message.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One committed journal entry. ``epoch`` is the fencing token of the
    leader that wrote it; ``at`` its wall clock (Unix seconds) when appending."""

    seq: int
    epoch: int
    instance: str
    message: str
    at: float
    key: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The public form (``GET /journal``): the key stays private."""
        return {"seq": self.seq, "epoch": self.epoch, "instance": self.instance, "message": self.message, "at": self.at}

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Entry:
        return cls(
            seq=int(raw["seq"]),
            epoch=int(raw["epoch"]),
            instance=str(raw["instance"]),
            message=str(raw["message"]),
            at=float(raw["at"]),
            key=None if raw.get("key") is None else str(raw["key"]),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry:
        return cls.from_dict(json.loads(data))


class AppendOutcome(enum.StrEnum):
    """What became of one append.

    Only ``appended`` and ``replayed`` mean the entry is in the journal.
    ``not_leader``, ``conflict``, ``invalid`` (a message UTF-8 cannot encode)
    and ``unavailable`` guarantee that nothing was
    written (safe to send elsewhere); ``unknown`` means the commit was sent and
    its reply lost: it may or may not have happened, so nobody may resend it
    blindly (a retry with the same Idempotency-Key is safe).
    """

    APPENDED = "appended"
    REPLAYED = "replayed"
    NOT_LEADER = "not-leader"
    CONFLICT = "conflict"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class AppendResult:
    outcome: AppendOutcome
    entry: Entry | None = None
    detail: str | None = None
    leader_instance: str | None = None
    leader_address: str | None = None

    def to_dict(self) -> dict[str, Any]:
        raw = asdict(self)
        raw["outcome"] = self.outcome.value
        return raw

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> AppendResult:
        entry = raw.get("entry")
        return cls(
            outcome=AppendOutcome(raw["outcome"]),
            entry=None if entry is None else Entry.from_dict(entry),
            detail=raw.get("detail"),
            leader_instance=raw.get("leader_instance"),
            leader_address=raw.get("leader_address"),
        )
