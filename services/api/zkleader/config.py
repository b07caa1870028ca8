"""Settings from the environment, validated once at start.

A bad value stops the process at once with one line naming the variable;
a half-configured participant is worse than none.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from .election.acl import DigestCredentials

_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:]+\])(?::(?P<port>\d{1,5}))?$")
_INSTANCE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
ELECTION_ROLES = ("candidate", "observer")
MIN_SESSION_TIMEOUT = 1.0
MAX_SESSION_TIMEOUT = 60.0
MAX_DRAIN_SECONDS = 5.0


class ConfigError(ValueError):
    """One bad setting: ``variable`` and what is wrong with it."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    zk_hosts: str
    election_path: str
    instance_id: str
    advertised_address: str
    session_timeout: float
    credentials: DigestCredentials | None
    admin_token: str | None = field(repr=False)
    log_level: str
    state_dir: str
    gunicorn_workers: int = 2
    gunicorn_threads: int = 4
    # The fenced journal (POST/GET /journal): its root znode (default: beside
    # the election, e.g. /zkleader/journal) and how many entries the leader
    # keeps (older ones are trimmed; more entries cost ZooKeeper memory).
    journal_path: str = "/zkleader/journal"
    journal_max_entries: int = 10_000
    # DRAIN_SECONDS: on SIGTERM, how long a leader keeps serving while /primary
    # answers 404, before it stops listening and hands over (see
    # zkleader.runtime.stopping). Must outlast one gateway check interval plus
    # its round trip (100 ms in services/gateway/haproxy.cfg), or requests the
    # gateway just sent meet a closed port. Every graceful failover waits this
    # long before the handover; 0 stops listening at once (no balancer in front).
    drain_seconds: float = 0.3
    # ELECTION_ROLE: "candidate" (default) enrols and may lead; "observer"
    # never enrols, so it never leads, yet serves the whole API and knows the
    # leader (docs/observers.md). An election needs at least one candidate.
    election_role: str = "candidate"

    def safe_summary(self) -> dict[str, object]:
        """What may be logged: no password, no token."""
        return {
            "zk_hosts": self.zk_hosts,
            "election_path": self.election_path,
            "instance_id": self.instance_id,
            "advertised_address": self.advertised_address,
            "session_timeout": self.session_timeout,
            "zk_digest_user": self.credentials.user if self.credentials else None,
            "admin_token_set": self.admin_token is not None,
            "log_level": self.log_level,
            "state_dir": self.state_dir,
            "gunicorn_workers": self.gunicorn_workers,
            "gunicorn_threads": self.gunicorn_threads,
            "journal_path": self.journal_path,
            "journal_max_entries": self.journal_max_entries,
            "drain_seconds": self.drain_seconds,
            "election_role": self.election_role,
        }


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate; raises :class:`ConfigError` on the first bad value."""
    env = os.environ if env is None else env
    hostname = socket.gethostname()
    instance = _get(env, "INSTANCE_ID", hostname)
    if not _INSTANCE.match(instance):
        raise ConfigError("INSTANCE_ID", "use 1-64 letters, digits, '.', '_' or '-'")
    election_path = _election_path(env)
    return Settings(
        zk_hosts=_zk_hosts(env),
        election_path=election_path,
        instance_id=instance,
        advertised_address=_advertised_address(env, hostname),
        session_timeout=_session_timeout(env),
        credentials=_credentials(env),
        admin_token=_secret(env, "ADMIN_TOKEN") or None,
        log_level=_log_level(env),
        state_dir=_get(env, "STATE_DIR", "/var/lib/zkleader"),
        gunicorn_workers=_count(env, "GUNICORN_WORKERS", 2),
        gunicorn_threads=_count(env, "GUNICORN_THREADS", 4),
        journal_path=_journal_path(env, election_path),
        journal_max_entries=_count(env, "JOURNAL_MAX_ENTRIES", 10_000, most=1_000_000),
        drain_seconds=_seconds(env, "DRAIN_SECONDS", 0.3, 0.0, MAX_DRAIN_SECONDS),
        election_role=_election_role(env),
    )


def load_settings_or_exit(env: Mapping[str, str] | None = None) -> Settings:
    """For process start: one line on stderr and exit status 2 on bad config."""
    try:
        return load_settings(env)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def _get(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name)
    return default if value is None else value.strip()


def _secret(env: Mapping[str, str], name: str) -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker
    and Kubernetes secrets are files); empty when neither is set.

    A variable counts as set when it is not empty. Both set is an error, and
    so is a ``_FILE`` that cannot be read or holds nothing: an operator who
    names a file means to use it. Only the file's trailing line break is
    stripped (a secret may end in spaces). Errors name the variable and the
    path, never the value.
    """
    file_variable = f"{name}_FILE"
    value = _get(env, name, "")
    path = _get(env, file_variable, "")
    if not path:
        return value
    if value:
        raise ConfigError(name, f"set either {name} or {file_variable}, not both")
    try:
        with open(path, encoding="utf-8") as stream:
            content = stream.read()
    except UnicodeDecodeError:
        raise ConfigError(file_variable, f"{path!r} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(file_variable, f"cannot read {path!r}: {exc.strerror or exc}") from None
    secret = content.removesuffix("\n").removesuffix("\r")
    if not secret.strip():
        raise ConfigError(file_variable, f"{path!r} is empty")
    return secret


def _zk_hosts(env: Mapping[str, str]) -> str:
    raw = _get(env, "ZK_HOSTS", "")
    hosts = [h.strip() for h in raw.split(",")]
    if not raw or not all(hosts):
        raise ConfigError("ZK_HOSTS", "give a comma-separated list of host:port, e.g. zk1:2181,zk2:2181")
    for host in hosts:
        match = _HOST_PORT.match(host)
        if match is None:
            raise ConfigError("ZK_HOSTS", f"{host!r} is not host[:port]")
        port = match["port"]
        if port is not None and not 1 <= int(port) <= 65535:
            raise ConfigError("ZK_HOSTS", f"port {port} out of range 1-65535")
    return ",".join(hosts)


def _election_path(env: Mapping[str, str]) -> str:
    return _znode_path(env, "ELECTION_PATH", "/zkleader/election")


def _journal_path(env: Mapping[str, str], election_path: str) -> str:
    """Beside the election by default (never under it: the election's children are its members)."""
    parent = election_path.rsplit("/", 1)[0]
    path = _znode_path(env, "JOURNAL_PATH", f"{parent}/journal")
    if path == election_path or path.startswith(election_path + "/") or election_path.startswith(path + "/"):
        raise ConfigError("JOURNAL_PATH", f"{path!r} must lie outside ELECTION_PATH {election_path!r} and not above it")
    return path


def _znode_path(env: Mapping[str, str], name: str, default: str) -> str:
    path = _get(env, name, default)
    if not path.startswith("/"):
        raise ConfigError(name, f"{path!r} must start with '/'")
    segments = path[1:].split("/")
    if path == "/" or not all(segments):
        raise ConfigError(name, f"{path!r} needs non-empty segments and no trailing '/'")
    for segment in segments:
        if segment in (".", "..", "zookeeper") or not _SEGMENT.match(segment):
            raise ConfigError(name, f"segment {segment!r} is not allowed")
    return path


def _advertised_address(env: Mapping[str, str], hostname: str) -> str:
    address = _get(env, "ADVERTISED_ADDRESS", f"http://{hostname}:8000")
    if not re.match(r"^https?://[^\s/]+", address):
        raise ConfigError("ADVERTISED_ADDRESS", f"{address!r} is not an http(s) URL")
    return address


def _session_timeout(env: Mapping[str, str]) -> float:
    return _seconds(env, "ZK_SESSION_TIMEOUT", 4.0, MIN_SESSION_TIMEOUT, MAX_SESSION_TIMEOUT)


def _seconds(env: Mapping[str, str], name: str, default: float, least: float, most: float) -> float:
    raw = _get(env, name, f"{default:g}")
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"{raw!r} is not a number of seconds") from None
    if not least <= value <= most:  # also refuses nan
        raise ConfigError(name, f"{raw} s is outside {least:g}-{most:g} s")
    return value


def _credentials(env: Mapping[str, str]) -> DigestCredentials | None:
    user = _get(env, "ZK_DIGEST_USER", "")
    password = _secret(env, "ZK_DIGEST_PASSWORD")
    if not user and not password:
        return None
    if not user or not password:
        missing = "ZK_DIGEST_USER" if not user else "ZK_DIGEST_PASSWORD"
        raise ConfigError(
            missing, "set both ZK_DIGEST_USER and ZK_DIGEST_PASSWORD (or ZK_DIGEST_PASSWORD_FILE), or neither"
        )
    if ":" in user:
        raise ConfigError("ZK_DIGEST_USER", "must not contain ':'")
    return DigestCredentials(user, password)


def _count(env: Mapping[str, str], name: str, default: int, most: int = 64) -> int:
    raw = _get(env, name, str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise ConfigError(name, f"{raw!r} is not a whole number from 1 to {most}")
    return int(raw)


def _election_role(env: Mapping[str, str]) -> str:
    role = _get(env, "ELECTION_ROLE", "candidate").lower()
    if role not in ELECTION_ROLES:
        raise ConfigError("ELECTION_ROLE", f"{role!r} is not one of {', '.join(ELECTION_ROLES)}")
    return role


def _log_level(env: Mapping[str, str]) -> str:
    level = _get(env, "LOG_LEVEL", "INFO").upper()
    if level not in _LOG_LEVELS:
        raise ConfigError("LOG_LEVEL", f"{level!r} is not one of {', '.join(_LOG_LEVELS)}")
    return level
