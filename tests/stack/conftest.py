"""The whole compose stack, brought up once by pytest-docker for these tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pytest_docker.plugin import Services

from tests.support.compose import REPO_ROOT
from tests.support.stack import INSTANCES as INSTANCES
from tests.support.stack import StackClient as Stack
from tests.support.stack import sole_leader as sole_leader

# Overridable so that two checkouts can run their stack tests side by side
# (with ZKLEADER_IMAGE_TAG apart too, so that neither rebuilds the other's images).
PROJECT = os.environ.get("ZKLEADER_TEST_PROJECT", "zkleader-test")
# Not the default 5001-5003, so the tests never touch a stack a person runs.
_PORT_BASE = int(os.environ.get("ZKLEADER_TEST_PORT_BASE", "15000"))
TEST_PORTS = {name: _PORT_BASE + int(name[-1]) for name in INSTANCES}
GATEWAY_TEST_PORT = _PORT_BASE + 10
SESSION_TIMEOUT = 4.0  # compose.yaml's default ZK_SESSION_TIMEOUT
ADMIN_TOKEN = "stack-test-token"


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(REPO_ROOT / "compose.yaml")


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return PROJECT


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    # Compose substitutes ${ADMIN_TOKEN} and ${API1_PORT}... from this environment.
    os.environ["ADMIN_TOKEN"] = ADMIN_TOKEN
    os.environ.update(Stack(PROJECT, TEST_PORTS, GATEWAY_TEST_PORT).port_env())
    return ["down -v --remove-orphans", "up --build --wait"]


@pytest.fixture(scope="session")
def stack(docker_services: Services) -> Iterator[Stack]:
    """The running stack (pytest-docker started it and stops it at the end)."""
    yield Stack(PROJECT, TEST_PORTS, GATEWAY_TEST_PORT)
