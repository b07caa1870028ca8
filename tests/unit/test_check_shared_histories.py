"""The checker against histories whose verdicts established checkers gave.

They live outside the repository, in ``../shared/histories`` from the root of
the checkout (for a git worktree, from the root of its main checkout). In CI
they must be there; elsewhere the test is skipped, saying why.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.compose import REPO_ROOT
from zkleader.testing.check import check_file

SETS = {"jepsen-etcd": "register", "kv": "kv"}
BUDGET = 60.0  # seconds for the whole shared set (the bound)


def shared_histories() -> Path | None:
    roots = [REPO_ROOT]
    common = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if common.returncode == 0:
        roots.append(Path(common.stdout.strip()).parent)
    for root in roots:
        candidate = root.parent / "shared" / "histories"
        if candidate.is_dir():
            return candidate
    return None


def test_every_shared_verdict_agrees_within_the_budget() -> None:
    folder = shared_histories()
    if folder is None:
        message = f"no shared histories at {REPO_ROOT.parent / 'shared' / 'histories'}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    started = time.monotonic()
    disagreements = []
    checked = 0
    for name, model in SETS.items():
        for line in (folder / name / "expected.tsv").read_text().splitlines():
            file, expected = line.split("\t")
            verdict = check_file(model, folder / name / file, timeout=BUDGET)
            got = "linearizable" if verdict.linearizable else "not-linearizable"
            checked += 1
            if got != expected:
                disagreements.append(f"{name}/{file}: {got}, expected {expected}")
    took = time.monotonic() - started
    assert checked >= 54, f"only {checked} histories listed"
    assert not disagreements, disagreements
    assert took < BUDGET, f"{took:.1f} s for the shared set"
