"""``python -m zkleader.testing.check MODEL FILE...``: check recorded histories.

Exit status: 0 every file is linearizable; 1 at least one is not (each is
named with the operations that cannot be ordered); 2 a file could not be read
as a history of MODEL (or bad arguments); 3 a file was undecided within
``--timeout`` seconds (per file). When files end differently, the first of
1, 2, 3 that occurred wins: a violation found is never hidden by another file.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .models import MODELS, check_file
from .verdict import Malformed, Undecided

VALID, NOT_LINEARIZABLE, UNREADABLE, UNDECIDED = 0, 1, 2, 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m zkleader.testing.check", description="Check recorded histories for linearizability."
    )
    parser.add_argument("model", choices=sorted(MODELS), help="the history's format and model")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds of search per file (default 60)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only what is not linearizable")
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error("--timeout must be a positive number of seconds")
    results = set()
    for path in args.files:
        started = time.monotonic()
        try:
            verdict = check_file(args.model, path, args.timeout)
        except Malformed as exc:
            print(f"{path}: unreadable: {exc}", file=sys.stderr)
            results.add(UNREADABLE)
            continue
        except Undecided as exc:
            print(f"{path}: undecided within {args.timeout:g} s ({exc})")
            results.add(UNDECIDED)
            continue
        took = time.monotonic() - started
        if verdict.linearizable:
            results.add(VALID)
            if not args.quiet:
                print(f"{path}: linearizable ({verdict.operations} operations, {took:.2f} s)")
            continue
        results.add(NOT_LINEARIZABLE)
        print(f"{path}: NOT linearizable ({verdict.operations} operations, {took:.2f} s)")
        for line in verdict.explanation:
            print(f"  {line}")
    return min(results - {VALID}, default=VALID)


if __name__ == "__main__":
    sys.exit(main())
