"""Who a participant is: stored as the data of its member node."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Identity:
    """What anyone listing the election can learn about a participant."""

    instance: str
    address: str
    started_at: float

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes | None) -> Identity | None:
        """Decode node data; ``None`` when it is not an identity we wrote."""
        if not data:
            return None
        try:
            raw = json.loads(data)
            return cls(
                instance=str(raw["instance"]),
                address=str(raw["address"]),
                started_at=float(raw["started_at"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
