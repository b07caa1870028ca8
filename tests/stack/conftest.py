"""The whole compose stack, brought up once by pytest-docker for these tests."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator

import pytest
from pytest_docker.plugin import Services

from tests.support.compose import REPO_ROOT
from tests.support.journal_writers import Reader, Writer, check_history, check_journal, read_journal
from tests.support.stack import INSTANCES as INSTANCES
from tests.support.stack import StackClient as Stack
from tests.support.stack import sole_leader as sole_leader
from tests.support.waiting import eventually

# Overridable so that two checkouts can run their stack tests side by side
# (with ZKLEADER_IMAGE_TAG apart too, so that neither rebuilds the other's images).
PROJECT = os.environ.get("ZKLEADER_TEST_PROJECT", "zkleader-test")
# Not the default 5001-5003, so the tests never touch a stack a person runs.
_PORT_BASE = int(os.environ.get("ZKLEADER_TEST_PORT_BASE", "15000"))
TEST_PORTS = {name: _PORT_BASE + int(name[-1]) for name in INSTANCES}
GATEWAY_TEST_PORT = _PORT_BASE + 10
SESSION_TIMEOUT = 4.0  # compose.yaml's default ZK_SESSION_TIMEOUT
ADMIN_TOKEN = "stack-test-token"
ZK_DIGEST_PASSWORD = "stack-test-zk-password"


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(REPO_ROOT / "compose.yaml")


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return PROJECT


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    # Compose substitutes ${ADMIN_TOKEN_SECRET_FILE} and ${API1_PORT}... from
    # this environment; the secrets reach the instances as files only.
    os.environ.update(_secret_files({"ADMIN_TOKEN": ADMIN_TOKEN, "ZK_DIGEST_PASSWORD": ZK_DIGEST_PASSWORD}))
    os.environ.update(Stack(PROJECT, TEST_PORTS, GATEWAY_TEST_PORT).port_env())
    return ["down -v --remove-orphans", "up --build --wait"]


def _secret_files(secrets: dict[str, str]) -> dict[str, str]:
    """Write each secret to a file of its own; compose.yaml's <NAME>_SECRET_FILE variables."""
    folder = tempfile.mkdtemp(prefix="zkleader-test-secrets-")
    os.chmod(folder, 0o755)  # the instances run as uid 10001
    env = {}
    for name, value in secrets.items():
        path = os.path.join(folder, name.lower())
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(value + "\n")
        os.chmod(path, 0o644)
        env[f"{name}_SECRET_FILE"] = path
    return env


@pytest.fixture(scope="session")
def stack(docker_services: Services) -> Iterator[Stack]:
    """The running stack (pytest-docker started it and stops it at the end)."""
    yield Stack(PROJECT, TEST_PORTS, GATEWAY_TEST_PORT)


@pytest.fixture
def journal_writers(stack: Stack, request: pytest.FixtureRequest) -> Iterator[tuple[Writer, Writer]]:
    """Two writers for the length of a fault scenario: one through the
    gateway, one straight at every instance's own port (deposed leaders
    included), and a reader of every instance. Afterwards the journal
    invariants are checked (:func:`check_journal`), the counts go to
    ``results/faults/``, and the history of every write and read is saved
    under ``results/histories/`` and checked (:func:`check_history`)."""
    eventually(lambda: sole_leader(stack), timeout=60)
    # Through the gateway: issue 21's client (timeout T + 3 s, no key, no retries).
    through_gateway = Writer(stack, ["gateway"], rate=10.0, timeout=SESSION_TIMEOUT + 3.0, keyed=False).start()
    direct = Writer(stack, list(INSTANCES), rate=5.0).start()
    reader = Reader(stack, list(INSTANCES)).start()
    yield through_gateway, direct
    writes = {"gateway": through_gateway.stop(), "direct": direct.stop()}
    reader.stop()
    # Every instance must answer reads again (it may still be re-enrolling).
    for name in INSTANCES:
        eventually(lambda name=name: read_journal(stack, name), timeout=60, interval=0.5)
    counts = check_journal(stack, [*writes["gateway"], *writes["direct"]])
    # The final reads, after every write ended, must show every acknowledged one.
    final_reads = [reader.read_once(name) for name in INSTANCES]
    assert all(r.entries is not None for r in final_reads), "an instance stopped answering reads"
    check_history(request.node.name, [*writes["gateway"], *writes["direct"]], reader.reads)
    record = {
        "scenario": request.node.name,
        "recordedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "journal": counts,
        "writers": {
            name: {
                "writes": len(ws),
                "acknowledged": sum(1 for w in ws if w.ok),
                "statuses": {str(s): sum(1 for w in ws if w.status == s) for s in sorted({w.status for w in ws})},
            }
            for name, ws in writes.items()
        },
    }
    results = REPO_ROOT / "results" / "faults"
    results.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in request.node.name)
    (results / f"journal-{safe}.json").write_text(json.dumps(record, indent=2) + "\n")
