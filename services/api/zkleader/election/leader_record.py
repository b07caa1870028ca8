"""The leader record: ``{instance, address, epoch}`` as the election path's data.

The leader writes it with a compare-and-set on the path's version and never
over a newer epoch, so a deposed leader cannot overwrite its successor's
record. Followers watch it to know the leader without listing the members.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from .status import LeaderInfo


def encode(record: LeaderInfo) -> bytes:
    return json.dumps(asdict(record), separators=(",", ":")).encode()


def decode(data: bytes | None) -> LeaderInfo | None:
    """The election path's data; ``None`` when empty or not ours."""
    try:
        raw = json.loads(data or b"")
        return LeaderInfo(str(raw["instance"]), str(raw["address"]), int(raw["epoch"]))
    except (ValueError, KeyError, TypeError):
        return None
