"""/cluster, /cluster/terms, the page and the cluster metrics (Flask test client,
fakes), and the peer poller against fake peers."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from zkleader.cluster.report import ClusterReport, ClusterTerm, GapHistogram, MemberReport
from zkleader.election import ElectionState, Identity, LeaderInfo, Participant
from zkleader.runtime import peers
from zkleader.web import create_app

from .test_web import FakeView, following, leading

MEMBERS = [
    Participant("api1", "http://api1:8000", 3, "member-a-0000000003", True),
    Participant("api2", "http://api2:8000", 5, "member-b-0000000005", False),
]


@dataclass
class FakeSource:
    current: ClusterReport | None

    def report(self) -> ClusterReport | None:
        return self.current


def member(name: str, **changes: Any) -> MemberReport:
    base = MemberReport(name, f"http://{name}:8000", in_election=True, zk_leader=False, reachable=True)
    return replace(base, **changes)


def report(**changes: Any) -> ClusterReport:
    base = ClusterReport(
        observer="api1",
        polled_at=time.time(),
        zookeeper_error=None,
        listed_at=time.time(),
        participants=MEMBERS,
        members=[
            member("api1", is_self=True, zk_leader=True, reported_is_leader=True, reported_state="leader"),
            member("api2", reported_is_leader=False, reported_state="follower", reported_leader="api1"),
            member("api3", in_election=False, reachable=False, error="unreachable: refused"),
        ],
        gaps=GapHistogram((1.0, 5.0), (1, 3), total=9.5, count=4),
        terms=[
            ClusterTerm(40, "api2", "http://api2:8000", 100.0, 130.0, "resigned"),
            ClusterTerm(42, "api1", "x", 131),
        ],
    )
    return replace(base, **changes)


@pytest.fixture
def source() -> FakeSource:
    return FakeSource(report())


@pytest.fixture
def view() -> FakeView:
    return FakeView(current=leading(), members=MEMBERS)


@pytest.fixture
def client(view: FakeView, source: FakeSource) -> FlaskClient:
    return create_app(view, admin_token=None, cluster=source).test_client()


def test_cluster_shows_zookeeper_next_to_each_members_own_word(client: FlaskClient) -> None:
    body = client.get("/cluster").get_json()
    assert body["observer"] == "api1" and body["state"] == "leader"
    assert [p["instance"] for p in body["participants"]] == ["api1", "api2"]
    by_name = {m["instance"]: m for m in body["members"]}
    assert by_name["api1"]["self"] and by_name["api1"]["isLeader"] and by_name["api1"]["zkLeader"]
    assert 59 < by_name["api1"]["leaseRemaining"] <= 60, "this instance's own lease, read now"
    assert by_name["api2"] | {"checkedAt": None} == {
        "instance": "api2",
        "address": "http://api2:8000",
        "self": False,
        "inElection": True,
        "zkLeader": False,
        "reachable": True,
        "isLeader": False,
        "state": "follower",
        "epoch": None,
        "leader": "api1",
        "leaseRemaining": None,
        "error": None,
        "checkedAt": None,
        "role": "candidate",
    }
    assert by_name["api3"]["reachable"] is False and by_name["api3"]["inElection"] is False
    assert body["claimants"] == ["api1"]
    assert body["leader"]["instance"] == "api1" and body["leader"]["epoch"] == 42
    assert body["warnings"] == ["api3 does not answer (unreachable: refused)"]


def test_cluster_lists_registered_observers_with_their_role(client: FlaskClient, view: FakeView) -> None:
    view.watchers = [Identity("api3", "http://api3:8000", 0.0), Identity("api4", "http://api4:8000", 0.0)]
    body = client.get("/cluster").get_json()
    assert body["observers"] == [
        {"instance": "api3", "address": "http://api3:8000"},
        {"instance": "api4", "address": "http://api4:8000"},
    ]
    roles = {m["instance"]: m["role"] for m in body["members"]}
    assert roles == {"api1": "candidate", "api2": "candidate", "api3": "observer", "api4": "observer"}
    assert [p["instance"] for p in body["participants"]] == ["api1", "api2"]  # observers never enrol


def test_two_claimants_are_called_out(client: FlaskClient, source: FakeSource) -> None:
    assert source.current is not None
    members = list(source.current.members)
    members[1] = replace(members[1], reported_is_leader=True)
    source.current = replace(source.current, members=members)
    body = client.get("/cluster").get_json()
    assert body["claimants"] == ["api1", "api2"]
    assert any("more than one instance claims leadership" in w for w in body["warnings"])


def test_cluster_says_what_it_cannot_see_when_zookeeper_is_down(
    client: FlaskClient, view: FakeView, source: FakeSource
) -> None:
    def must_not_wait_on_zookeeper() -> list[Participant]:
        raise AssertionError("listed live although ZooKeeper is known to be out of reach")

    view.participants = must_not_wait_on_zookeeper  # type: ignore[method-assign]
    view.current = replace(following(), state=ElectionState.SUSPENDED, leader=None, reason="connection suspended")
    response = client.get("/cluster")
    assert response.status_code == 503
    body = response.get_json()
    assert "ZooKeeper membership not visible: not connected to ZooKeeper: connection suspended" in body["warnings"]
    assert "api1 does not know the leader: connection suspended" in body["warnings"]
    assert body["leader"] is None
    assert body["participants"], "the poller's last listing is still shown"
    # Connected again: listed live, even if the last poll (before that) had failed.
    view.participants = lambda: MEMBERS  # type: ignore[method-assign]
    view.current = following()
    source.current = replace(report(), zookeeper_error="cannot list the election: not connected")
    response = client.get("/cluster")
    assert response.status_code == 200 and response.get_json()["participants"][0]["instance"] == "api1"


def test_without_a_fresh_peer_report_cluster_lists_live_and_says_so(
    client: FlaskClient, view: FakeView, source: FakeSource
) -> None:
    source.current = replace(report(), polled_at=time.time() - 30)
    body = client.get("/cluster").get_json()
    assert [p["instance"] for p in body["participants"]] == ["api1", "api2"]
    assert [(m["instance"], m["reachable"]) for m in body["members"]] == [("api1", True), ("api2", None)]
    assert any("the last peer poll is 30s old" in w for w in body["warnings"])

    def broken() -> list[Participant]:
        raise ConnectionError("no ZooKeeper")

    view.participants = broken  # type: ignore[method-assign]
    response = client.get("/cluster")
    assert response.status_code == 503
    assert response.get_json()["status"] == 503 and "no ZooKeeper" in response.get_json()["error"]


def test_cluster_terms(client: FlaskClient, source: FakeSource) -> None:
    body = client.get("/cluster/terms").get_json()
    assert body["terms"] == [
        {
            "epoch": 40,
            "instance": "api2",
            "address": "http://api2:8000",
            "electedAt": 100.0,
            "endedAt": 130.0,
            "reason": "resigned",
        },
        {"epoch": 42, "instance": "api1", "address": "x", "electedAt": 131, "endedAt": None, "reason": None},
    ]
    source.current = None
    response = client.get("/cluster/terms")
    assert response.status_code == 503 and response.get_json()["status"] == 503


def test_the_page_and_its_assets_are_served_from_the_image(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert 'name="viewport"' in html and "/static/page.js" in html and "/static/page.css" in html
    assert "http://" not in html and "https://" not in html, "no external CDN"
    script = client.get("/static/page.js")
    assert script.status_code == 200 and "javascript" in script.content_type
    js = script.get_data(as_text=True)
    assert 'getJson("/cluster")' in js and "CLUSTER_EVERY_MS = 500" in js
    assert client.get("/static/page.css").status_code == 200
    assert client.get("/static/nope.js").status_code == 404


def test_cluster_metrics(client: FlaskClient, source: FakeSource) -> None:
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))}
    assert families["zkleader_cluster_leader_claimants"].samples[0].value == 1.0
    assert families["zkleader_cluster_members_unreachable"].samples[0].value == 1.0
    gaps = {(s.name, s.labels.get("le")): s.value for s in families["zkleader_cluster_leaderless_gap_seconds"].samples}
    assert gaps[("zkleader_cluster_leaderless_gap_seconds_bucket", "1.0")] == 1.0
    assert gaps[("zkleader_cluster_leaderless_gap_seconds_bucket", "5.0")] == 3.0
    assert gaps[("zkleader_cluster_leaderless_gap_seconds_bucket", "+Inf")] == 4.0
    assert gaps[("zkleader_cluster_leaderless_gap_seconds_count", None)] == 4.0
    assert gaps[("zkleader_cluster_leaderless_gap_seconds_sum", None)] == 9.5
    source.current = replace(report(), polled_at=time.time() - 30)  # a stale view is not exported
    assert "zkleader_cluster_leader_claimants" not in client.get("/metrics").get_data(as_text=True)


# ------------------------------------------------------------- the poller


def test_gap_tracker_counts_gaps_after_the_first_leader_only() -> None:
    gaps = peers.GapTracker(bounds=(1.0, 5.0))
    assert gaps.observe(0, 0.0) is None  # start-up: no leader yet, no gap
    gaps.observe(1, 1.0)
    gaps.observe(0, 2.0)
    gaps.observe(0, 3.0)
    assert gaps.since == 2.0
    assert gaps.observe(1, 6.5) == 4.5
    assert gaps.histogram() == GapHistogram((1.0, 5.0), (0, 1), 4.5, 1)


def test_poller_marks_unreachable_peers_and_keeps_polling_without_zookeeper() -> None:
    listing: list[Participant] | Exception = [
        Participant("api1", "http://api1:8000", 1, "m-1", True),
        Participant("api2", "http://api2:8000", 2, "m-2", False),
        Participant("api3", "http://api3:8000", 3, "m-3", False),
    ]
    answers: dict[str, dict[str, Any] | Exception] = {
        "http://api2:8000": {"isLeader": False, "state": "follower", "epoch": 7, "leader": {"instance": "api1"}},
        "http://api3:8000": ConnectionRefusedError("refused"),
    }

    def participants() -> list[Participant]:
        if isinstance(listing, Exception):
            raise listing
        return listing

    def fetch(address: str, timeout: float) -> dict[str, Any]:
        assert timeout == 0.5
        answer = answers[address]
        if isinstance(answer, Exception):
            raise answer
        return answer

    status = replace(leading(7), leader=LeaderInfo("api1", "http://api1:8000", 7))
    poller = peers.PeerPoller(
        instance="api1",
        address="http://api1:8000",
        status=lambda: status,
        participants=participants,
        terms=lambda: [ClusterTerm(7, "api1", "http://api1:8000", 1.0)],
        publish=lambda _: None,
        fetch=fetch,
    )
    try:
        first = poller.poll_once()
        by_name = {m.instance: m for m in first.members}
        assert [m.instance for m in first.members] == ["api1", "api2", "api3"]
        assert by_name["api1"].is_self and by_name["api1"].reported_is_leader and by_name["api1"].zk_leader
        assert by_name["api2"].reachable and by_name["api2"].reported_leader == "api1"
        assert not by_name["api3"].reachable and "refused" in (by_name["api3"].error or "")
        assert first.claimants == ["api1"] and first.zookeeper_error is None
        assert first.terms == [ClusterTerm(7, "api1", "http://api1:8000", 1.0)]

        listing = ConnectionError("not connected to ZooKeeper")
        second = poller.poll_once()
        assert second.zookeeper_error is not None and "not connected" in second.zookeeper_error
        assert [m.instance for m in second.members] == ["api1", "api2", "api3"], "last known peers still polled"
        assert second.participants == first.participants
    finally:
        poller.close()


def test_report_file_round_trip(tmp_path: Path) -> None:
    path = str(tmp_path / "peers.json")
    reader = peers.PeersFile(path)
    assert reader.report() is None
    written = report()
    peers.write(path, written)
    assert reader.report() == written


def test_a_new_report_with_the_same_inode_and_mtime_is_seen(tmp_path: Path) -> None:
    path = str(tmp_path / "peers.json")
    reader = peers.PeersFile(path)
    peers.write(path, report(observer="api1"))
    assert reader.report() is not None and reader.report().observer == "api1"  # type: ignore[union-attr]
    before = os.stat(path)
    # The next report lands on the same inode within the same mtime tick
    # (mkstemp reusing the inode os.replace just freed): same (st_ino, st_mtime_ns).
    with open(path, "r+b") as out:
        out.write(peers.encode(report(observer="api2")))
        out.truncate()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)

    seen = reader.report()
    assert seen is not None and seen.observer == "api2", "the cached older report was served"


def test_the_documented_alert_rules_use_exported_metrics(client: FlaskClient) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "monitoring.md").read_text()
    rules = doc.split("```yaml", 1)[1].split("```", 1)[0]
    used = set(re.findall(r"\b(zkleader_[a-z_]+)", rules))
    assert used >= {"zkleader_cluster_leader_claimants", "zkleader_cluster_leaderless_gap_seconds_bucket"}
    exported = client.get("/metrics").get_data(as_text=True)
    for name in used:
        assert f"\n{name}" in exported or exported.startswith(name), f"{name} is not exported"


def test_leader_tells_its_lease_only_when_asked(client: FlaskClient, view: FakeView) -> None:
    assert "leaseRemaining" not in client.get("/leader").get_json(), "the default answer stays as it was"
    assert 59 < client.get("/leader?include=lease").get_json()["leaseRemaining"] <= 60
    view.current = following()
    assert client.get("/leader?include=lease").get_json()["leaseRemaining"] is None
