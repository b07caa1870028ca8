"""Network faults inside one container's network namespace, with iptables.

Why iptables in the container's netns (entered from the host with
``nsenter -t <pid> -n``): it cuts single directions (one-way partitions),
single peers (ring partitions) and a share of packets (``-m statistic``),
which ``docker network disconnect`` cannot, and this kernel has no
``tc netem``. The published ports stay reachable (their traffic comes from
the bridge gateway, which no rule matches), so the tests keep seeing what a
faulted instance answers.

Every rule lives in one chain of our own, jumped to from INPUT and OUTPUT,
and matches only an address of a container on the stack's compose network:
removing the fault is deleting the jumps and the chain, verified afterwards.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .compose import run
from .stack import StackClient

CHAIN = "ZKLEADER-FAULT"
# nft first (the host's default), legacy where nft does not work in the netns.
BACKENDS = ("iptables", "iptables-legacy")


def compose_address(stack: StackClient, service: str) -> str:
    """A service container's IPv4 address on the stack's compose network,
    checked to lie inside that network's subnet."""
    info = json.loads(run(["docker", "inspect", stack.container(service)]))[0]
    address = str(info["NetworkSettings"]["Networks"][stack.network]["IPAddress"])
    network = json.loads(run(["docker", "network", "inspect", stack.network]))[0]
    subnets = [ipaddress.ip_network(c["Subnet"]) for c in network["IPAM"]["Config"] if "Subnet" in c]
    ip = ipaddress.ip_address(address)
    assert any(ip in subnet for subnet in subnets), f"{service}: {address} is not on {stack.network} {subnets}"
    return address


def container_pid(stack: StackClient, service: str) -> int:
    pid = int(run(["docker", "inspect", "-f", "{{.State.Pid}}", stack.container(service)]).strip())
    assert pid > 0, f"{service} is not running"
    return pid


@dataclass
class NetFault:
    """Drop rules in one container's netns, all in :data:`CHAIN`.

    ``allowed``: the only addresses a rule may match (the stack's containers)."""

    service: str
    pid: int
    allowed: frozenset[str]
    tool: str = ""
    rules: list[list[str]] = field(default_factory=list)

    def _iptables(self, *args: str) -> str:
        return run(["nsenter", "-t", str(self.pid), "-n", self.tool, "-w", *args], timeout=30)

    def install(self) -> NetFault:
        """Pick the backend that works in this netns and create the chain with its jumps."""
        errors = []
        for tool in BACKENDS:
            self.tool = tool
            try:
                self._iptables("-N", CHAIN)
            except RuntimeError as exc:
                errors.append(str(exc))
                continue
            self._iptables("-I", "INPUT", "1", "-j", CHAIN)
            self._iptables("-I", "OUTPUT", "1", "-j", CHAIN)
            return self
        raise RuntimeError(f"no iptables backend works in {self.service}'s netns: {errors}")

    def _drop(self, direction: str, addresses: Iterable[str], probability: float | None) -> None:
        for address in addresses:
            assert address in self.allowed, f"{address} is not a container on the stack's network"
            rule = [direction, f"{address}/32"]
            if probability is not None:
                rule += ["-m", "statistic", "--mode", "random", "--probability", str(probability)]
            self._iptables("-A", CHAIN, *rule, "-j", "DROP")
            self.rules.append(rule)

    def drop_from(self, addresses: Iterable[str], probability: float | None = None) -> None:
        """Drop packets arriving from ``addresses`` (all, or with ``probability``)."""
        self._drop("-s", addresses, probability)

    def drop_to(self, addresses: Iterable[str], probability: float | None = None) -> None:
        """Drop packets leaving for ``addresses``."""
        self._drop("-d", addresses, probability)

    def cut(self, addresses: Iterable[str], probability: float | None = None) -> None:
        """Both directions."""
        addresses = list(addresses)
        self.drop_from(addresses, probability)
        self.drop_to(addresses, probability)

    def remove(self) -> None:
        """Delete the jumps and the chain; raise unless none of it is left."""
        for hook in ("INPUT", "OUTPUT"):
            while f"-j {CHAIN}" in self._iptables("-S", hook):
                self._iptables("-D", hook, "-j", CHAIN)
        if f"-N {CHAIN}" in self._iptables("-S"):
            self._iptables("-F", CHAIN)
            self._iptables("-X", CHAIN)
        left = self._iptables("-S")
        assert CHAIN not in left, f"fault rules left in {self.service}: {left}"
        self.rules.clear()


@contextmanager
def network_faults(stack: StackClient, services: Iterable[str]) -> Iterator[dict[str, NetFault]]:
    """An installed, empty :class:`NetFault` per service; all removed (and the
    removal verified) on the way out, whatever happened."""
    services = list(services)
    allowed = frozenset(compose_address(stack, s) for s in [*stack_services(stack)])
    faults: dict[str, NetFault] = {}
    try:
        for service in services:
            faults[service] = NetFault(service, container_pid(stack, service), allowed).install()
        yield faults
    finally:
        errors = []
        for fault in faults.values():
            try:
                fault.remove()
            except (RuntimeError, AssertionError) as exc:
                errors.append(f"{fault.service}: {exc}")
        assert not errors, f"could not remove fault rules: {errors}"


def stack_services(stack: StackClient) -> list[str]:
    """The running services of the stack (their addresses are the only ones rules may name)."""
    return [s for s in stack.compose("ps", "--services", "--status", "running").split() if s]
