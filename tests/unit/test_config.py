"""Configuration: every bad value is named, in one line, and stops the process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


# Secrets from files (ADMIN_TOKEN_FILE, ZK_DIGEST_PASSWORD_FILE): Docker and
# Kubernetes secrets are mounted as files, so no secret sits in the environment.


def test_secrets_read_from_files_without_the_trailing_newline(tmp_path: Path) -> None:
    token, password = tmp_path / "token", tmp_path / "password"
    token.write_text("tok-456\n")
    password.write_text(" pw 123 \r\n")  # only the line break goes; spaces belong to the secret
    settings = load_settings(
        {**GOOD, "ZK_DIGEST_USER": "u", "ZK_DIGEST_PASSWORD_FILE": str(password), "ADMIN_TOKEN_FILE": str(token)}
    )
    assert settings.admin_token == "tok-456"
    assert settings.credentials is not None and settings.credentials.password == " pw 123 "
    assert "tok-456" not in repr(settings) and "pw 123" not in str(settings.safe_summary())


def test_a_file_without_a_newline_is_read_whole(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("tok")
    assert load_settings({**GOOD, "ADMIN_TOKEN_FILE": str(token)}).admin_token == "tok"


def _user_for(name: str) -> dict[str, str]:
    return {"ZK_DIGEST_USER": "u"} if name == "ZK_DIGEST_PASSWORD" else {}


@pytest.mark.parametrize("name", ["ADMIN_TOKEN", "ZK_DIGEST_PASSWORD"])
def test_a_secret_and_its_file_both_set_is_an_error(name: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    with pytest.raises(ConfigError) as caught:
        load_settings({**GOOD, **_user_for(name), name: "from-env", f"{name}_FILE": str(secret)})
    assert caught.value.variable == name
    assert str(caught.value) == f"{name}: set either {name} or {name}_FILE, not both"


@pytest.mark.parametrize("name", ["ADMIN_TOKEN", "ZK_DIGEST_PASSWORD"])
def test_a_missing_secret_file_names_the_variable_and_path(name: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError) as caught:
        load_settings({**GOOD, **_user_for(name), f"{name}_FILE": str(missing)})
    assert caught.value.variable == f"{name}_FILE"
    assert str(missing) in str(caught.value) and "No such file" in str(caught.value)


@pytest.mark.parametrize("content", ["", "\n", "  \n"])
def test_an_empty_secret_file_is_an_error(content: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text(content)
    with pytest.raises(ConfigError, match=f"ADMIN_TOKEN_FILE: '{empty}' is empty"):
        load_settings({**GOOD, "ADMIN_TOKEN_FILE": str(empty)})


def test_an_unreadable_secret_file_is_an_error_that_never_shows_the_secret(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"  # open() fails on a directory even as root
    folder.mkdir()
    with pytest.raises(ConfigError) as caught:
        load_settings({**GOOD, "ZK_DIGEST_USER": "u", "ZK_DIGEST_PASSWORD_FILE": str(folder)})
    assert caught.value.variable == "ZK_DIGEST_PASSWORD_FILE" and str(folder) in str(caught.value)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe-secret-bytes")
    with pytest.raises(ConfigError) as caught:
        load_settings({**GOOD, "ADMIN_TOKEN_FILE": str(binary)})
    assert "is not UTF-8 text" in str(caught.value) and "secret-bytes" not in str(caught.value)


def test_an_empty_variable_beside_its_file_counts_as_unset(tmp_path: Path) -> None:
    """compose and Kubernetes may pass an empty variable; the file then decides."""
    token = tmp_path / "token"
    token.write_text("tok\n")
    assert load_settings({**GOOD, "ADMIN_TOKEN": "", "ADMIN_TOKEN_FILE": str(token)}).admin_token == "tok"


def test_a_password_file_still_needs_the_user(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("pw\n")
    with pytest.raises(ConfigError) as caught:
        load_settings({**GOOD, "ZK_DIGEST_PASSWORD_FILE": str(password)})
    assert caught.value.variable == "ZK_DIGEST_USER"
