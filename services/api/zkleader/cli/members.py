"""The instances the command talks to, and what each one says about itself."""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import click

from .ops import http

DEFAULT_URLS = ("http://127.0.0.1:5001", "http://127.0.0.1:5002", "http://127.0.0.1:5003")
URLS_ENV = "ZKLEADER_URLS"


def resolve_urls(given: Iterable[str]) -> list[str]:
    """``--url`` values, else ``$ZKLEADER_URLS``, else the three published ports.
    Each value may hold several URLs separated by commas or spaces."""
    raw = list(given) or [os.environ.get(URLS_ENV, "")]
    urls = [part for value in raw for part in re.split(r"[,\s]+", value) if part]
    if not urls:
        return list(DEFAULT_URLS)
    for url in urls:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise click.BadParameter(f"{url!r} is not an http:// or https:// URL", param_hint="--url/ZKLEADER_URLS")
    return [url.rstrip("/") for url in dict.fromkeys(urls)]


@dataclass(frozen=True)
class Member:
    """One instance as it answered ``GET /leader`` (``error`` when it did not)."""

    url: str
    instance: str | None
    error: str | None
    role: str | None = None
    state: str | None = None
    epoch: int | None = None
    leader: str | None = None
    sequence: int | None = None
    lease_remaining: float | None = None

    @property
    def reachable(self) -> bool:
        return self.error is None

    @property
    def is_leader(self) -> bool:
        return self.role == "leader"

    @property
    def label(self) -> str:
        return self.instance or self.url

    def to_json(self) -> dict[str, Any]:
        raw = asdict(self)
        return {
            "instance": raw["instance"],
            "url": raw["url"],
            "reachable": self.reachable,
            "error": raw["error"],
            "role": raw["role"],
            "state": raw["state"],
            "epoch": raw["epoch"],
            "leader": raw["leader"],
            "sequence": raw["sequence"],
            "leaseRemaining": raw["lease_remaining"],
        }

    def signature(self) -> tuple[Any, ...]:
        """What a change is: who answers, roles, states, epochs and leaders (not the lease countdown)."""
        return (self.url, self.instance, self.error, self.role, self.state, self.epoch, self.leader)


def member_from(url: str, reply: http.Reply, sequences: dict[str, int] | None = None) -> Member:
    """``reply``: the instance at ``url`` answering ``GET /leader``."""
    if not reply.answered:
        return Member(url, None, f"does not answer: {reply.error}")
    view = reply.body
    if reply.status != 200 or not isinstance(view, dict):
        return Member(url, None, f"answered GET /leader with {reply.message()}")
    instance = view.get("instance") if isinstance(view.get("instance"), str) else None
    leader = (view.get("leader") or {}).get("instance") if isinstance(view.get("leader"), dict) else None
    lease = view.get("leaseRemaining")
    epoch = view.get("epoch")
    return Member(
        url=url,
        instance=instance,
        error=None,
        role=role_of(view),
        state=str(view.get("state", "?")),
        epoch=epoch if isinstance(epoch, int) else None,
        leader=leader,
        sequence=(sequences or {}).get(instance or ""),
        lease_remaining=float(lease) if isinstance(lease, int | float) else None,
    )


def role_of(view: dict[str, Any]) -> str:
    """``leader`` only while it may act as leader (``isLeader``); ``observer``
    when the instance says so; ``replica`` for every other candidate."""
    if view.get("isLeader") is True:
        return "leader"
    if view.get("role") == "observer":
        return "observer"
    return "replica"


def read_members(urls: list[str], timeout: float, with_sequences: bool = True) -> tuple[list[Member], str | None]:
    """Every instance's ``GET /leader`` (at once) and, from one that answers,
    the election order (``GET /cluster``). The second value says why the
    order is missing, when it is."""
    replies = http.each(lambda url: http.get(url, "/leader?include=lease", timeout), urls)
    members = [member_from(url, reply) for url, reply in zip(urls, replies, strict=True)]
    if not with_sequences:
        return members, None
    sequences, problem = read_sequences([m for m in members if m.reachable], timeout)
    return [member_from(url, reply, sequences) for url, reply in zip(urls, replies, strict=True)], problem


def read_sequences(reachable: list[Member], timeout: float) -> tuple[dict[str, int], str | None]:
    """Instance -> member-node sequence, from the leader if it answers, else any instance."""
    if not reachable:
        return {}, None
    source = next((m for m in reachable if m.is_leader), reachable[0])
    reply = http.get(source.url, "/cluster", timeout)
    participants = reply.body.get("participants") if reply.ok and isinstance(reply.body, dict) else None
    if not isinstance(participants, list):
        why = reply.error if not reply.answered else reply.message()
        return {}, f"{source.label} cannot list the participants (GET /cluster: {why})"
    return {
        p["instance"]: p["sequence"]
        for p in participants
        if isinstance(p, dict) and isinstance(p.get("instance"), str) and isinstance(p.get("sequence"), int)
    }, None
