"""Faults injected with plain Docker, and where to aim them."""

from __future__ import annotations

import json
import socket
import struct

from tests.support.compose import run

from .conftest import PROJECT, Stack

NETWORK = f"{PROJECT}_zkleader"
ZK_SERVERS = ["zk1", "zk2", "zk3"]


def container(stack: Stack, service: str) -> str:
    return stack.compose("ps", "-q", service).strip()


def partition(stack: Stack, service: str) -> None:
    """Cut a container off the stack's network (its published ports go too)."""
    run(["docker", "network", "disconnect", NETWORK, container(stack, service)])


def heal(stack: Stack, service: str) -> None:
    run(["docker", "network", "connect", "--alias", service, NETWORK, container(stack, service)])


def zk_mode(stack: Stack, server: str) -> str | None:
    """``leader``/``follower`` from the server's own ``srvr``; None if not serving."""
    try:
        out = stack.compose("exec", "-T", server, "/usr/local/bin/zk-healthcheck")
    except RuntimeError:
        return None
    return out.strip().removeprefix("Mode: ") or None


def zk_leader(stack: Stack) -> str:
    modes = {server: zk_mode(stack, server) for server in ZK_SERVERS}
    leaders = [s for s, mode in modes.items() if mode == "leader"]
    assert len(leaders) == 1, f"ensemble modes: {modes}"
    return leaders[0]


def connected_zk_server(stack: Stack, api: str) -> str:
    """The ZooKeeper server an API instance's session is connected to, read
    from the container's own socket table (no ZooKeeper internals needed)."""
    table = stack.compose("exec", "-T", api, "cat", "/proc/net/tcp")
    peers = set()
    for line in table.splitlines()[1:]:
        fields = line.split()
        remote, state = fields[2], fields[3]
        address, port = remote.split(":")
        if int(port, 16) == 2181 and state == "01":  # ESTABLISHED
            peers.add(socket.inet_ntoa(struct.pack("<I", int(address, 16))))  # stored little-endian
    servers = {zk_address(stack, s): s for s in ZK_SERVERS}
    found = [servers[p] for p in peers if p in servers]
    assert len(found) == 1, f"{api} connections to 2181: {peers}, servers {servers}"
    return found[0]


def zk_address(stack: Stack, server: str) -> str:
    info = json.loads(run(["docker", "inspect", container(stack, server)]))[0]
    return str(info["NetworkSettings"]["Networks"][NETWORK]["IPAddress"])
