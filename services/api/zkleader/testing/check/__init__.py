"""A linearizability checker for recorded histories (``python -m zkleader.testing.check``).

Three models, each in its own module: ``register`` (Jepsen's compare-and-set
register log), ``kv`` (Jepsen's key-value store with append) and ``journal``
(the project's own JSON-lines history of journal appends and reads). The first
two are checked by the Wing-Gong search with Lowe's cache of visited states
(:mod:`.search`); the journal by its own rules (:mod:`.journal`), which need no
search because every read shows the order itself.
"""

from __future__ import annotations

from .models import MODELS, check_file
from .verdict import Malformed, Undecided, Verdict

__all__ = ["MODELS", "Malformed", "Undecided", "Verdict", "check_file"]
