"""The secrets reach the instances as files only: `docker inspect` (open to
anyone with the Docker socket) shows no token and no password in any
instance's environment, and each instance does use them (the admin routes
accept the token read from ADMIN_TOKEN_FILE)."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.compose import run

from .conftest import ADMIN_TOKEN, INSTANCES, ZK_DIGEST_PASSWORD, Stack

pytestmark = pytest.mark.stack

SECRET_VARIABLES = ("ADMIN_TOKEN", "ZK_DIGEST_PASSWORD")


def environment(stack: Stack, service: str) -> list[str]:
    info = json.loads(run(["docker", "inspect", stack.container(service)]))[0]
    env: list[str] = info["Config"]["Env"]
    return env


@pytest.mark.parametrize("service", INSTANCES)
def test_no_secret_in_an_instances_inspected_environment(stack: Stack, service: str) -> None:
    env = environment(stack, service)
    names = {entry.split("=", 1)[0] for entry in env}
    assert {f"{name}_FILE" for name in SECRET_VARIABLES} <= names, names
    assert not names & set(SECRET_VARIABLES), names
    for entry in env:
        assert ADMIN_TOKEN not in entry and ZK_DIGEST_PASSWORD not in entry, entry.split("=", 1)[0]


@pytest.mark.parametrize("service", INSTANCES)
def test_the_token_file_is_the_one_in_use(stack: Stack, service: str) -> None:
    # A wrong bearer token is refused (403), which only happens with a token configured.
    wrong = requests.post(stack.url(service) + "/leader/resign", headers={"Authorization": "Bearer wrong"}, timeout=5)
    assert wrong.status_code == 403, wrong.text
