"""Exit codes of the ``zkleader`` command (docs/operations.md lists them too)."""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    OK = 0
    """Done: every instance answered and the operation succeeded."""
    FAILED = 1
    """The operation failed or was refused: no single leader within the bound,
    a resign refused (401/403/409), a switchover refused (400/401/403/409/412)
    or not completed (503), an unexpected answer."""
    USAGE = 2
    """Bad arguments or configuration, or the stack is not there to work on."""
    UNREACHABLE = 3
    """At least one instance could not be reached (the others are still shown)."""
    UNSUPPORTED = 4
    """The instances do not offer this: the endpoint answered 404 (no journal
    yet, resign or switchover disabled because no ADMIN_TOKEN is configured)."""
    INTERRUPTED = 130
    """Stopped with Ctrl-C (SIGINT) or SIGTERM."""
