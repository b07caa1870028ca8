"""The whole compose stack, brought up once by pytest-docker for these tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from pytest_docker.plugin import Services

from tests.support.compose import REPO_ROOT, compose_command, run

PROJECT = "zkleader-test"
INSTANCES = {"api1": 5001, "api2": 5002, "api3": 5003}
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
    # Compose substitutes ${ADMIN_TOKEN} from this environment.
    os.environ["ADMIN_TOKEN"] = ADMIN_TOKEN
    return ["down -v --remove-orphans", "up --build --wait"]


@dataclass
class Stack:
    services: Services

    def compose(self, *args: str, env: dict[str, str] | None = None) -> str:
        command = compose_command(PROJECT, "compose.yaml")
        if env:
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                return run([*command, *args])
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        return run([*command, *args])

    def get(self, instance: str, path: str, timeout: float = 1.0) -> requests.Response:
        return requests.get(f"http://127.0.0.1:{INSTANCES[instance]}{path}", timeout=timeout)

    def leader_view(self, instance: str) -> dict[str, Any] | None:
        """``GET /leader`` of one instance, or None when it does not answer."""
        try:
            response = self.get(instance, "/leader")
        except requests.RequestException:
            return None
        return response.json() if response.status_code == 200 else None

    def views(self, instances: list[str] | None = None) -> dict[str, dict[str, Any] | None]:
        return {name: self.leader_view(name) for name in instances or list(INSTANCES)}

    def history(self, instance: str) -> list[dict[str, Any]]:
        response = self.get(instance, "/leader/history")
        response.raise_for_status()
        terms: list[dict[str, Any]] = response.json()
        return terms


@pytest.fixture(scope="session")
def stack(docker_services: Services) -> Iterator[Stack]:
    yield Stack(docker_services)


def sole_leader(stack: Stack, instances: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """Assert exactly one of ``instances`` leads and every one agrees; return it."""
    views = stack.views(instances)
    assert all(v is not None for v in views.values()), f"not all answer: {views}"
    leading = [name for name, v in views.items() if v and v["isLeader"]]
    assert len(leading) == 1, f"expected one leader, got {leading}: {views}"
    leader = leading[0]
    epoch = views[leader]["epoch"]  # type: ignore[index]
    for name, view in views.items():
        assert view is not None
        assert view["state"] == ("leader" if name == leader else "follower"), views
        assert view["leader"] and view["leader"]["instance"] == leader, views
        assert view["epoch"] == epoch, views
    return leader, views[leader]  # type: ignore[return-value]
