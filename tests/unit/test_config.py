"""Configuration: every bad value is named, in one line, and stops the process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.compose import REPO_ROOT
from zkleader.config import ConfigError, load_settings

GOOD = {"ZK_HOSTS": "zk1:2181,zk2:2181", "INSTANCE_ID": "api1"}


def test_defaults() -> None:
    settings = load_settings(GOOD)
    assert settings.zk_hosts == "zk1:2181,zk2:2181"
    assert settings.election_path == "/zkleader/election"
    assert settings.session_timeout == 4.0
    assert settings.drain_seconds == 0.3
    assert settings.credentials is None and settings.admin_token is None
    assert settings.advertised_address.startswith("http://")
    assert settings.election_role == "candidate"


def test_election_role_observer_any_case() -> None:
    assert load_settings({**GOOD, "ELECTION_ROLE": "Observer"}).election_role == "observer"
    with pytest.raises(ConfigError, match="ELECTION_ROLE: 'voter' is not one of candidate, observer"):
        load_settings({**GOOD, "ELECTION_ROLE": "voter"})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ZK_HOSTS", ""),
        ("ZK_HOSTS", "zk1:2181,,zk2:2181"),
        ("ZK_HOSTS", "zk1:99999"),
        ("ZK_HOSTS", "zk 1:2181"),
        ("ZK_SESSION_TIMEOUT", "soon"),
        ("ZK_SESSION_TIMEOUT", "0.5"),
        ("ZK_SESSION_TIMEOUT", "600"),
        ("ELECTION_PATH", "election"),
        ("ELECTION_PATH", "/"),
        ("ELECTION_PATH", "/a//b"),
        ("ELECTION_PATH", "/a/b/"),
        ("ELECTION_PATH", "/zookeeper"),
        ("ELECTION_PATH", "/a/../b"),
        ("INSTANCE_ID", "has space"),
        ("ADVERTISED_ADDRESS", "api1:8000"),
        ("LOG_LEVEL", "LOUD"),
        ("ELECTION_ROLE", "nofailover"),
        ("GUNICORN_WORKERS", "0"),
        ("GUNICORN_THREADS", "many"),
        ("DRAIN_SECONDS", "-0.1"),
        ("DRAIN_SECONDS", "nan"),
        ("DRAIN_SECONDS", "60"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**GOOD, variable: value})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ")


@pytest.mark.parametrize(
    ("given", "missing"), [("ZK_DIGEST_USER", "ZK_DIGEST_PASSWORD"), ("ZK_DIGEST_PASSWORD", "ZK_DIGEST_USER")]
)
def test_half_a_credential_names_the_missing_half(given: str, missing: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**GOOD, given: "something"})
    assert caught.value.variable == missing


def test_secrets_never_appear_in_reprs_or_summaries() -> None:
    settings = load_settings({**GOOD, "ZK_DIGEST_USER": "u", "ZK_DIGEST_PASSWORD": "pw-123", "ADMIN_TOKEN": "tok-456"})
    for text in (repr(settings), str(settings.safe_summary())):
        assert "pw-123" not in text and "tok-456" not in text


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"ZK_HOSTS": ""}, "ZK_HOSTS"), ({"ZK_HOSTS": "zk:2181", "ZK_SESSION_TIMEOUT": "x"}, "ZK_SESSION_TIMEOUT")],
)
def test_gunicorn_exits_at_once_with_one_line(env: dict[str, str], variable: str) -> None:
    """The real entry point: gunicorn with our config file, before any worker."""
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "zkleader.wsgi:app"],
        cwd=REPO_ROOT / "services/api",
        env={"PATH": "/usr/bin:/bin", "STATE_DIR": "/tmp/zkleader-config-test", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"configuration error: {variable}: "), done.stderr
