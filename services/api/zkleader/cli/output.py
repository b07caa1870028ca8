"""Where the command writes: rich consoles for stdout and stderr, one-line errors, JSON."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, NoReturn

import click
from rich.console import Console

from .exits import Exit


def _console(stream: Any, stderr: bool) -> Console:
    # Off a terminal rich assumes 80 columns and would wrap tables; a pipe has no width.
    width = None if stream.isatty() else 160
    return Console(stderr=stderr, highlight=False, width=width, soft_wrap=width is not None)


class Output:
    """Colour only on a terminal, never with NO_COLOR set or TERM=dumb (rich's own rules)."""

    def __init__(self) -> None:
        self.out = _console(sys.stdout, stderr=False)
        self.err = _console(sys.stderr, stderr=True)

    def error(self, message: str) -> None:
        """One line on stderr, ``zkleader: ...``; markup in ``message`` is not interpreted."""
        self.err.print(f"zkleader: {message}", markup=False, highlight=False)

    def json(self, value: Any) -> None:
        click.echo(json.dumps(value, indent=None if not sys.stdout.isatty() else 2))


def fail(message: str, code: Exit) -> NoReturn:
    Output().error(message)
    sys.exit(int(code))


def clock(at: float) -> str:
    """``HH:MM:SS.mmm`` in local time."""
    return time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at % 1 * 1000):03d}"


def timestamp(at: float | None) -> str:
    """``YYYY-MM-DD HH:MM:SS.mmm`` in local time, ``-`` for none."""
    if at is None:
        return "-"
    return time.strftime("%Y-%m-%d ", time.localtime(at)) + clock(at)
