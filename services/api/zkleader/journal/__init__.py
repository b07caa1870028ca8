"""The fenced journal: leader-only appends, each one ZooKeeper transaction.

``model`` holds plain values and input rules (the web layer may import it);
``store`` holds the ZooKeeper logic (only the participant's process uses it).
"""

from .model import (
    MAX_IDEMPOTENCY_KEY,
    MAX_LIMIT,
    MAX_MESSAGE,
    AppendOutcome,
    AppendResult,
    Entry,
    valid_idempotency_key,
)

__all__ = [
    "MAX_IDEMPOTENCY_KEY",
    "MAX_LIMIT",
    "MAX_MESSAGE",
    "AppendOutcome",
    "AppendResult",
    "Entry",
    "valid_idempotency_key",
]
