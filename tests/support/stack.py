"""A client for a running compose stack: compose commands, the HTTP API, faults.

Shared by the stack tests and the benchmark; it asserts nothing by itself
except in :func:`sole_leader`, which is meant for bounded waits. Finding the
sole leader and running a failover trial are the package's own
(:mod:`zkleader.cli.ops`), the same code the ``zkleader`` command runs.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

import requests

from zkleader.cli.ops.leader import sole_leader as find_sole_leader

from .compose import compose_command, pause, run

INSTANCES = ("api1", "api2", "api3")
DEFAULT_PORTS = {"api1": 5001, "api2": 5002, "api3": 5003}
DEFAULT_GATEWAY_PORT = 5000
ZK_SERVERS = ["zk1", "zk2", "zk3"]


@dataclass(frozen=True)
class TermRecord:
    """One leadership term as an instance recorded it (wall-clock seconds)."""

    instance: str
    epoch: int
    elected_at: float
    ended_at: float | None
    reason: str | None


@dataclass(frozen=True)
class StackClient:
    """``ports``: the loopback port each instance is published on (compose.yaml
    reads them from API1_PORT..API3_PORT, default 5001-5003)."""

    project: str
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    gateway_port: int = DEFAULT_GATEWAY_PORT

    def port_env(self) -> dict[str, str]:
        """Environment for ``docker compose`` so that it publishes on ``ports``."""
        env = {f"API{name[-1]}_PORT": str(port) for name, port in self.ports.items()}
        env["GATEWAY_PORT"] = str(self.gateway_port)
        return env

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def url(self, instance: str) -> str:
        """An instance's own published address; ``"gateway"`` for the gateway."""
        return self.gateway_url if instance == "gateway" else f"http://127.0.0.1:{self.ports[instance]}"

    @property
    def network(self) -> str:
        return f"{self.project}_zkleader"

    def compose(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> str:
        command = compose_command(self.project, "compose.yaml")
        env = {**self.port_env(), **(env or {})}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            return run([*command, *args], timeout=timeout)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def get(self, instance: str, path: str, timeout: float = 1.0) -> requests.Response:
        return requests.get(f"http://127.0.0.1:{self.ports[instance]}{path}", timeout=timeout)

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

    def terms(self, instances: list[str] | None = None) -> list[TermRecord]:
        """Every term of every instance, in the order they began."""
        found = [
            TermRecord(name, t["epoch"], t["electedAt"], t["endedAt"], t["reason"])
            for name in instances or list(INSTANCES)
            for t in self.history(name)
        ]
        return sorted(found, key=lambda t: t.elected_at)

    # ----------------------------------------------------------------- faults

    def pause(self, service: str) -> None:
        """Freeze a container (``docker compose pause``, retried if the freezer fails to settle)."""
        pause(compose_command(self.project, "compose.yaml"), service)

    def container(self, service: str) -> str:
        return self.compose("ps", "-q", service).strip()

    def partition(self, service: str) -> None:
        """Cut a container off the stack's network (its published ports go too)."""
        run(["docker", "network", "disconnect", self.network, self.container(service)])

    def heal(self, service: str) -> None:
        run(["docker", "network", "connect", "--alias", service, self.network, self.container(service)])

    def zk_mode(self, server: str) -> str | None:
        """``leader``/``follower`` from the server's own ``srvr``; None if not serving."""
        try:
            out = self.compose("exec", "-T", server, "/usr/local/bin/zk-healthcheck")
        except RuntimeError:
            return None
        return out.strip().removeprefix("Mode: ") or None

    def zk_address(self, server: str) -> str:
        info = json.loads(run(["docker", "inspect", self.container(server)]))[0]
        return str(info["NetworkSettings"]["Networks"][self.network]["IPAddress"])

    def connected_zk_server(self, api: str) -> str | None:
        """The ZooKeeper server an API instance is connected to, read from the
        container's own socket table (no ZooKeeper internals needed)."""
        table = self.compose("exec", "-T", api, "cat", "/proc/net/tcp")
        peers = set()
        for line in table.splitlines()[1:]:
            fields = line.split()
            address, port = fields[2].split(":")
            if int(port, 16) == 2181 and fields[3] == "01":  # ESTABLISHED
                peers.add(socket.inet_ntoa(struct.pack("<I", int(address, 16))))  # stored little-endian
        servers = {self.zk_address(s): s for s in ZK_SERVERS}
        found = [servers[p] for p in peers if p in servers]
        return found[0] if len(found) == 1 else None


def transition_after(terms: list[TermRecord], fault_at: float) -> dict[str, Any]:
    """Timings of the first leadership change after a fault."""
    ended = [t for t in terms if t.ended_at is not None and t.ended_at >= fault_at - 0.001]
    old = min(ended, key=lambda t: t.ended_at or 0.0) if ended else None
    new = next((t for t in terms if t.elected_at >= fault_at and (old is None or t is not old)), None)
    record: dict[str, Any] = {"faultAt": round(fault_at, 3)}
    if old is not None and old.ended_at is not None:
        record["oldLeader"] = old.instance
        record["stepDownSeconds"] = round(old.ended_at - fault_at, 3)
    if new is not None:
        record["newLeader"] = new.instance
        record["newLeaderSeconds"] = round(new.elected_at - fault_at, 3)
        if old is not None and old.ended_at is not None:
            record["leaderlessSeconds"] = round(new.elected_at - old.ended_at, 3)
    return record


def sole_leader(stack: StackClient, instances: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """Assert exactly one of ``instances`` leads and every one agrees (the one
    definition: :func:`zkleader.cli.ops.leader.sole_leader`); return it and its view."""
    views = stack.views(instances)
    found = find_sole_leader(views)
    assert found is not None, f"no single leader that every instance agrees on: {views}"
    view = views[found.name]
    assert view is not None
    return found.name, view
