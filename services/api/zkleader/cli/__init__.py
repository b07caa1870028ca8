"""The ``zkleader`` operator command (click + rich, the ``[cli]`` extra): ``zkleader --help``.

:func:`run` is the console script (not named ``main``: importing the
submodule :mod:`zkleader.cli.main` would shadow it). It imports the command
only when run, so that without the extra it says what to install in one line
instead of a traceback; :mod:`zkleader.cli.ops` (the failover drill's helpers) needs
neither click nor rich.
"""

from __future__ import annotations

import sys

INSTALL_HINT = "zkleader: the zkleader command needs the [cli] extra: pip install 'zkleader[cli]'"


def run() -> None:
    """Run the command, or exit 1 with :data:`INSTALL_HINT` when click or rich is missing."""
    try:
        from .main import main as command
    except ModuleNotFoundError as missing:
        if missing.name not in ("click", "rich") and not (missing.name or "").startswith(("click.", "rich.")):
            raise
        print(f"{INSTALL_HINT} ({missing.name} is not installed)", file=sys.stderr)
        raise SystemExit(1) from None
    command()
