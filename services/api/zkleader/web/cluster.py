"""``GET /cluster`` and ``GET /cluster/terms``, and the cluster metrics.

What this instance sees of the whole cluster: the ZooKeeper membership next
to every member's own answer to ``/leader`` (from the peer poller's latest
report), who claims leadership right now, and the cluster-wide term log.
Answers from memory: never waits on ZooKeeper or on a peer, except for the
live membership listing when no peer report exists at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from .. import ElectionState, Identity, Participant, Status
from ..cluster.report import ClusterReport, MemberReport, own_member_report

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from .view import ElectionView

STALE_AFTER = 3.0
"""A peer report older than this (seconds) is not trusted: its poller stopped."""


class ClusterSource(Protocol):
    """The peer poller's latest report, or None when there is none."""

    def report(self) -> ClusterReport | None: ...


def fresh_report(source: ClusterSource | None, now: float) -> ClusterReport | None:
    report = source.report() if source is not None else None
    if report is None or now - report.polled_at > STALE_AFTER:
        return None
    return report


def _member_json(m: MemberReport) -> dict[str, Any]:
    return {
        "instance": m.instance,
        "address": m.address,
        "self": m.is_self,
        "inElection": m.in_election,
        "zkLeader": m.zk_leader,
        "reachable": m.reachable,
        "isLeader": m.reported_is_leader,
        "state": m.reported_state,
        "epoch": m.reported_epoch,
        "leader": m.reported_leader,
        "leaseRemaining": None if m.lease_left is None else round(m.lease_left, 3),
        "error": m.error,
        "checkedAt": m.checked_at,
    }


def _own_member(status: Status, listed: list[Participant], now: float) -> dict[str, Any]:
    mine = next((p for p in listed if p.instance == status.instance), None)
    return _member_json(own_member_report(status.instance, mine.address or "" if mine else "", status, mine, now))


def _membership(
    view: ElectionView, status: Status, report: ClusterReport | None, now: float
) -> tuple[list[Participant], float | None, str | None]:
    """The election's members read live (as ``/cluster`` always did) while this
    instance is connected; otherwise the poller's last listing, with the reason
    (no request waits on an ensemble this instance already lost). The own
    state is fresher than the poller's report, which may still carry an error
    from before this instance connected."""
    last = report.participants if report is not None else []
    last_at = report.listed_at if report is not None else None
    if status.state not in _CONNECTED:
        return last, last_at, f"not connected to ZooKeeper: {status.reason or status.state.value}"
    try:
        return view.participants(), now, None
    except Exception as exc:  # noqa: BLE001 - ZooKeeper or the participant is unavailable
        return last, last_at, f"cannot list participants: {exc}"


_CONNECTED = (ElectionState.LEADER, ElectionState.FOLLOWER, ElectionState.OBSERVER)


def _observers(view: ElectionView, status: Status) -> list[Identity]:
    """The registered observers (ELECTION_ROLE=observer), read live; none when
    this instance cannot read them now (the membership warning says why)."""
    if status.state not in _CONNECTED:
        return []
    try:
        return view.observers()
    except Exception:  # noqa: BLE001 - ZooKeeper or the participant is unavailable
        return []


def _with_observers(members: list[dict[str, Any]], observers: list[Identity]) -> list[dict[str, Any]]:
    """Every row gets its ``role``; registered observers not polled get a row of their own."""
    names = {o.instance for o in observers}
    listed = {m["instance"] for m in members}
    for o in observers:
        if o.instance not in listed:
            row = _member_json(MemberReport(o.instance, o.address, False, False, reachable=False, error="not polled"))
            members.append(row | {"reachable": None})
    for m in members:
        m["role"] = "observer" if m["instance"] in names or m.get("state") == "observer" else "candidate"
    return members


def _merge(
    status: Status, participants: list[Participant], polled: list[dict[str, Any]], now: float
) -> list[dict[str, Any]]:
    """Members in election order (then the others), with their place in the
    listing above; this instance's own row as of now; members not yet polled
    shown as such."""
    order = {p.instance: i for i, p in enumerate(participants) if p.instance}
    rows = {m["instance"]: m for m in polled if not m["self"]}
    rows[status.instance] = _own_member(status, participants, now)
    for p in participants:
        if p.instance and p.instance not in rows:
            rows[p.instance] = _member_json(
                MemberReport(p.instance, p.address or "", True, p.is_leader, reachable=False, error="not polled yet")
            ) | {"reachable": None}
    for name, row in rows.items():
        row["inElection"] = name in order
        row["zkLeader"] = order.get(name) == 0
    return sorted(rows.values(), key=lambda m: (order.get(m["instance"], len(order)), m["instance"]))


def build_cluster_blueprint(view: ElectionView, source: ClusterSource | None) -> Blueprint:
    bp = Blueprint("cluster", __name__)

    @bp.get("/cluster")
    def cluster() -> ResponseReturnValue:
        now = time.time()
        status = view.status()
        report = fresh_report(source, now)
        warnings: list[str] = []
        participants, listed_at, zk_error = _membership(view, status, report, now)
        if report is not None:
            members = [_member_json(m) for m in report.members]
        else:
            stale = source.report() if source is not None else None
            warnings.append(
                "members' own states are unknown: no peer poll yet"
                if stale is None
                else f"members' own states are unknown: the last peer poll is {now - stale.polled_at:.0f}s old"
            )
            members = []
        members = _merge(status, participants, members, now)
        observers = _observers(view, status)
        members = _with_observers(members, observers)
        if zk_error is not None:
            warnings.append(f"ZooKeeper membership not visible: {zk_error}")
        for m in members:
            if m["reachable"] is False:
                warnings.append(f"{m['instance']} does not answer ({m['error']})")
        claimants = [m["instance"] for m in members if m["isLeader"]]
        if len(claimants) > 1:
            warnings.append(f"more than one instance claims leadership: {', '.join(claimants)}")
        leader = None
        if status.leader is not None:
            holder = next((m for m in members if m["instance"] == status.leader.instance), None)
            leader = {
                "instance": status.leader.instance,
                "address": status.leader.address,
                "epoch": status.leader.epoch,
                "leaseRemaining": holder["leaseRemaining"] if holder else None,
                "reachable": holder["reachable"] if holder else None,
            }
        elif status.state not in _CONNECTED:
            warnings.append(f"{status.instance} does not know the leader: {status.reason or status.state.value}")
        body: dict[str, Any] = {
            "observer": status.instance,
            "observedAt": now,
            "state": status.state.value,
            "leader": leader,
            "claimants": claimants,
            "leaderlessSince": report.leaderless_since if report and not claimants else None,
            "zookeeper": {"error": zk_error, "listedAt": listed_at},
            "participants": [
                {"instance": p.instance, "address": p.address, "sequence": p.sequence, "isLeader": p.is_leader}
                for p in participants
            ],
            "observers": [{"instance": o.instance, "address": o.address} for o in observers],
            "members": members,
            "warnings": warnings,
        }
        if zk_error is not None:
            body.update({"status": 503, "error": zk_error})
            return jsonify(body), 503
        return jsonify(body)

    @bp.get("/cluster/terms")
    def terms() -> ResponseReturnValue:
        now = time.time()
        report = fresh_report(source, now)
        if report is None:
            return jsonify({"status": 503, "error": "the cluster term log is not available here", "terms": []}), 503
        return jsonify(
            {
                "asOf": report.listed_at,
                "error": report.terms_error,
                "terms": [
                    {
                        "epoch": t.epoch,
                        "instance": t.instance,
                        "address": t.address,
                        "electedAt": t.elected_at,
                        "endedAt": t.ended_at,
                        "reason": t.reason,
                    }
                    for t in report.terms
                ],
            }
        )

    return bp


class ClusterCollector(Collector):
    """Cluster metrics from the peer poller's latest report (none when stale)."""

    def __init__(self, source: ClusterSource | None) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        report = fresh_report(self._source, time.time())
        if report is None:
            return
        yield GaugeMetricFamily(
            "zkleader_cluster_leader_claimants",
            "Instances that claim isLeader right now, as this instance polled them (1 is healthy).",
            value=float(len(report.claimants)),
        )
        yield GaugeMetricFamily(
            "zkleader_cluster_members_unreachable",
            "Members that did not answer /leader within the poll timeout.",
            value=float(sum(1 for m in report.members if not m.reachable)),
        )
        gaps = report.gaps
        buckets = [(_le(b), float(c)) for b, c in zip(gaps.bounds, gaps.counts, strict=True)]
        buckets.append(("+Inf", float(gaps.count)))
        yield HistogramMetricFamily(
            "zkleader_cluster_leaderless_gap_seconds",
            "Leaderless gaps this instance observed (no instance claimed leadership), to within a poll.",
            buckets=buckets,
            sum_value=gaps.total,
        )


def _le(bound: float) -> str:
    return repr(float(bound))
