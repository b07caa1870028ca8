"""``python -m zkleader.testing.check``: its arguments and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.compose import REPO_ROOT
from zkleader.testing.check.__main__ import main

LEGAL = "INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:ok\t:write\t1\n"
ILLEGAL = LEGAL + "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\t2\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    made = {"legal": LEGAL, "illegal": ILLEGAL, "garbled": "INFO  jepsen.util - 0\t:ok\t:write\t1\n"}
    paths = {name: tmp_path / f"{name}.log" for name in made}
    for name, text in made.items():
        paths[name].write_text(text)
    paths["absent"] = tmp_path / "absent.log"
    return paths


def test_exit_0_when_every_file_is_linearizable(files: dict[str, Path]) -> None:
    assert main(["register", str(files["legal"]), str(files["legal"])]) == 0


def test_exit_1_names_the_file_and_the_operation(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["register", str(files["legal"]), str(files["illegal"])]) == 1
    out = capsys.readouterr().out
    assert f"{files['illegal']}: NOT linearizable" in out and "line 3" in out


def test_exit_2_for_a_file_it_cannot_read(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["register", str(files["absent"])]) == 2
    assert main(["register", str(files["garbled"])]) == 2
    assert "no open invocation" in capsys.readouterr().err


def test_exit_3_when_undecided_within_the_timeout(files: dict[str, Path]) -> None:
    assert main(["register", "--timeout", "1e-9", str(files["legal"])]) == 3


def test_a_violation_is_never_hidden_by_another_file(files: dict[str, Path]) -> None:
    assert main(["register", str(files["absent"]), str(files["illegal"])]) == 1


def test_bad_arguments_exit_2(files: dict[str, Path]) -> None:
    for argv in (["nosuchmodel", str(files["legal"])], ["register"], ["register", "--timeout", "0", "x"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2


def test_it_runs_as_a_module(files: dict[str, Path]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zkleader.testing.check", "register", str(files["illegal"])],
        cwd=REPO_ROOT / "services" / "api",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
