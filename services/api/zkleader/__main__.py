"""``python -m zkleader``: the operator command, without installing the console script."""

from .cli import run

run()
