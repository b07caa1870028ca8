"""The ``zkleader`` command against fake instances on loopback HTTP servers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from zkleader.cli.exits import Exit
from zkleader.cli.main import cli

from .fake_instances import FakeCluster, closed_port_url, serve

NAMES = ["api1", "api2", "api3"]


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster(NAMES, leader="api2")


@pytest.fixture
def urls(cluster: FakeCluster) -> Iterator[dict[str, str]]:
    with serve(cluster) as served:
        yield served


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), env={"ZKLEADER_URLS": "", "ZKLEADER_ADMIN_TOKEN": "", **(env or {})})
    assert "Traceback" not in result.output + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def url_args(urls: dict[str, str], *extra: str) -> list[str]:
    return [arg for url in [*urls.values(), *extra] for arg in ("--url", url)]


def test_list_shows_every_instance_with_role_epoch_sequence_and_lease(urls: dict[str, str]) -> None:
    result = run("list", *url_args(urls))
    assert result.exit_code == Exit.OK, result.output
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.lstrip().startswith("api2"))
    assert urls["api2"] in row and "leader" in row and "100" in row and "5.5 s" in row
    row = next(line for line in lines if line.lstrip().startswith("api3"))
    assert "replica" in row and "follower of api2" in row and " 3 " in row
    assert result.stderr == ""


def test_list_json(urls: dict[str, str]) -> None:
    result = run("list", "--json", *url_args(urls))
    assert result.exit_code == Exit.OK
    members = json.loads(result.stdout)
    assert [m["instance"] for m in members] == NAMES
    leader = members[1]
    assert leader == {
        "instance": "api2",
        "url": urls["api2"],
        "reachable": True,
        "error": None,
        "role": "leader",
        "state": "leader",
        "epoch": 100,
        "leader": "api2",
        "sequence": 2,
        "leaseRemaining": 5.5,
    }


def test_urls_from_the_environment_comma_separated(urls: dict[str, str]) -> None:
    result = run("list", "--json", env={"ZKLEADER_URLS": ",".join(urls.values())})
    assert [m["instance"] for m in json.loads(result.stdout)] == NAMES


def test_an_unreachable_instance_is_one_line_and_exit_3(urls: dict[str, str]) -> None:
    dead = closed_port_url()
    result = run("list", *url_args(urls, dead))
    assert result.exit_code == Exit.UNREACHABLE
    assert result.stderr == f"zkleader: {dead} does not answer: connection refused\n"
    assert "api2" in result.stdout  # the others are still shown


def test_a_bad_url_is_a_usage_error() -> None:
    result = run("list", "--url", "ftp://example")
    assert result.exit_code == Exit.USAGE
    assert "not an http:// or https:// URL" in result.stderr


def test_history_merges_every_instance_by_time(cluster: FakeCluster, urls: dict[str, str]) -> None:
    cluster.history = {
        "api1": [{"epoch": 1, "electedAt": 1000.0, "endedAt": 1010.0, "reason": "closed"}],
        "api2": [{"epoch": 3, "electedAt": 1020.0, "endedAt": None, "reason": None}],
        "api3": [{"epoch": 2, "electedAt": 1010.5, "endedAt": 1019.0, "reason": "resigned"}],
    }
    result = run("history", "--json", *url_args(urls))
    assert result.exit_code == Exit.OK
    terms = json.loads(result.stdout)
    assert [(t["instance"], t["epoch"]) for t in terms] == [("api1", 1), ("api3", 2), ("api2", 3)]
    table = run("history", "--last", "2", *url_args(urls)).stdout
    assert "resigned" in table and "leading" in table and "closed" not in table


def test_journal_tail_pages_through_to_the_end(cluster: FakeCluster, urls: dict[str, str]) -> None:
    cluster.journal = [
        {"seq": i, "epoch": 100, "instance": "api2", "message": f"entry {i}", "at": 1000.0 + i} for i in range(1, 2501)
    ]
    result = run("journal", "--json", "--limit", "3", *url_args(urls))
    assert result.exit_code == Exit.OK
    assert [e["seq"] for e in json.loads(result.stdout)] == [2498, 2499, 2500]
    after = json.loads(run("journal", "--json", "--after", "10", "--limit", "2", *url_args(urls)).stdout)
    assert [e["message"] for e in after] == ["entry 11", "entry 12"]
    assert "entry 2500" in run("journal", *url_args(urls)).stdout


def test_journal_absent_is_one_line_and_exit_4(urls: dict[str, str]) -> None:
    result = run("journal", *url_args(urls))
    assert result.exit_code == Exit.UNSUPPORTED
    assert result.stderr.count("\n") == 1 and "404" in result.stderr
    assert result.stdout == ""


def test_journal_skips_instances_that_do_not_answer(cluster: FakeCluster, urls: dict[str, str]) -> None:
    cluster.journal = [{"seq": 1, "epoch": 1, "instance": "api2", "message": "hello", "at": 1.0}]
    dead = closed_port_url()
    result = run("journal", "--json", "--url", dead, "--url", urls["api1"])
    assert result.exit_code == Exit.OK and json.loads(result.stdout)[0]["message"] == "hello"
    nobody = run("journal", "--url", dead)
    assert nobody.exit_code == Exit.UNREACHABLE and nobody.stderr.count("\n") == 1


def test_resign_hands_over_and_waits_for_the_successor(cluster: FakeCluster, urls: dict[str, str]) -> None:
    result = run("resign", "--json", *url_args(urls), env={"ZKLEADER_ADMIN_TOKEN": "secret"})
    assert result.exit_code == Exit.OK, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["resigned"] == "api2" and outcome["epoch"] == 100
    assert outcome["newLeader"] == "api1" and outcome["newEpoch"] == 101
    assert cluster.leader == "api1"


def test_resign_needs_a_token(urls: dict[str, str]) -> None:
    result = run("resign", *url_args(urls))
    assert result.exit_code == Exit.USAGE and "ZKLEADER_ADMIN_TOKEN" in result.stderr


def test_resign_with_a_wrong_token_is_refused(cluster: FakeCluster, urls: dict[str, str]) -> None:
    result = run("resign", "--token", "nope", *url_args(urls))
    assert result.exit_code == Exit.FAILED
    assert result.stderr == "zkleader: api2 refuses to resign: wrong token (HTTP 403)\n"
    assert cluster.leader == "api2"


def test_resign_disabled_is_exit_4(cluster: FakeCluster, urls: dict[str, str]) -> None:
    cluster.token = None
    result = run("resign", "--token", "secret", *url_args(urls))
    assert result.exit_code == Exit.UNSUPPORTED and "no ADMIN_TOKEN" in result.stderr


def test_switchover_hands_over_to_the_candidate(cluster: FakeCluster, urls: dict[str, str]) -> None:
    result = run("switchover", "--candidate", "api3", *url_args(urls), env={"ZKLEADER_ADMIN_TOKEN": "secret"})
    assert result.exit_code == Exit.OK, result.stderr
    assert result.stdout == "api3 leads now (epoch 101); api2 (epoch 100) is a follower; took 0.05 s\n"
    assert cluster.leader == "api3"


def test_switchover_json(cluster: FakeCluster, urls: dict[str, str]) -> None:
    result = run("switchover", "--json", "--candidate", "api1", "--token", "secret", *url_args(urls))
    assert result.exit_code == Exit.OK, result.stderr
    body = json.loads(result.stdout)
    assert body["leader"] == "api1" and body["epoch"] == 101 and body["previous"]["instance"] == "api2"


@pytest.mark.parametrize(
    ("candidate", "token", "code", "message"),
    [
        ("api9", "secret", Exit.FAILED, "api9 is unknown: no such member (HTTP 412)"),
        ("api2", "secret", Exit.FAILED, "api2 is already the leader (HTTP 412)"),
        ("api3", "nope", Exit.FAILED, "wrong token (HTTP 403)"),
    ],
)
def test_switchover_refusals_are_one_line(
    cluster: FakeCluster, urls: dict[str, str], candidate: str, token: str, code: Exit, message: str
) -> None:
    result = run("switchover", "--candidate", candidate, "--token", token, *url_args(urls))
    assert result.exit_code == code
    assert result.stderr.startswith("zkleader: ") and result.stderr.endswith(f"{message}\n"), result.stderr
    assert cluster.leader == "api2"


def test_switchover_disabled_is_exit_4_and_needs_a_token(cluster: FakeCluster, urls: dict[str, str]) -> None:
    assert run("switchover", "--candidate", "api3", *url_args(urls)).exit_code == Exit.USAGE
    cluster.token = None
    result = run("switchover", "--candidate", "api3", "--token", "secret", *url_args(urls))
    assert result.exit_code == Exit.UNSUPPORTED and "no ADMIN_TOKEN" in result.stderr


def test_switchover_skips_an_instance_that_does_not_answer(cluster: FakeCluster, urls: dict[str, str]) -> None:
    args = ["--url", closed_port_url(), *url_args(urls)]
    result = run("switchover", "--candidate", "api3", "--token", "secret", *args)
    assert result.exit_code == Exit.OK and cluster.leader == "api3"
    assert "does not answer" in result.stderr
    nobody = run("switchover", "--candidate", "api3", "--token", "secret", "--url", closed_port_url())
    assert nobody.exit_code == Exit.UNREACHABLE


def test_watch_shows_a_change_within_half_a_second(cluster: FakeCluster, urls: dict[str, str]) -> None:
    changed_at: list[float] = []

    def change() -> None:
        changed_at.append(time.time())
        cluster.hand_over("api3")

    timer = threading.Timer(1.0, change)
    timer.start()
    result = run("watch", "--json", "--duration", "2.5", *url_args(urls))
    timer.join()
    assert result.exit_code == Exit.OK
    frames = [json.loads(line) for line in result.stdout.splitlines()]
    leaders = [[m["instance"] for m in f["members"] if m["role"] == "leader"] for f in frames]
    assert leaders[0] == ["api2"] and leaders[-1] == ["api3"], leaders
    first_with_api3 = next(f for f, lead in zip(frames, leaders, strict=True) if lead == ["api3"])
    assert first_with_api3["at"] - changed_at[0] < 0.5


def test_watch_plain_lines_off_a_terminal(urls: dict[str, str]) -> None:
    result = run("watch", "--duration", "0.6", *url_args(urls))
    assert result.exit_code == Exit.OK
    line = result.stdout.splitlines()[0]
    assert "api2: leader (leader) epoch 100" in line and "api1: replica (follower of api2) epoch 100" in line


def test_the_entry_point_keeps_the_exit_codes() -> None:
    """``main()`` (the console script) runs click outside its standalone mode."""
    import subprocess
    import sys

    from tests.support.compose import REPO_ROOT

    def code(*args: str) -> subprocess.CompletedProcess[str]:
        env = {"PYTHONPATH": str(REPO_ROOT / "services" / "api"), "PATH": "/usr/bin:/bin"}
        return subprocess.run(
            [sys.executable, "-m", "zkleader", *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )

    assert code("--help").returncode == Exit.OK
    bogus = code("list", "--bogus")
    assert bogus.returncode == Exit.USAGE and "No such option" in bogus.stderr
    dead = code("list", "--url", closed_port_url())
    assert dead.returncode == Exit.UNREACHABLE and "Traceback" not in dead.stderr


def test_failover_reads_the_session_timeout_from_the_metrics_exposition() -> None:
    """The drill reads one gauge without prometheus-client (the [cli] extra has none)."""
    from collections.abc import Iterator as Metrics

    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.registry import Collector

    from zkleader.cli.failover import SESSION_TIMEOUT_METRIC, gauge_value

    class One(Collector):
        def collect(self) -> Metrics[GaugeMetricFamily]:
            yield GaugeMetricFamily("zkleader_session_timeout_seconds_other", "Decoy.", value=9.0)
            yield GaugeMetricFamily(SESSION_TIMEOUT_METRIC, "Negotiated.", value=2.5)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(One())
    assert gauge_value(generate_latest(registry).decode(), SESSION_TIMEOUT_METRIC) == 2.5
    assert gauge_value(f"{SESSION_TIMEOUT_METRIC} 4 1700000000000\n", SESSION_TIMEOUT_METRIC) == 4.0
    assert gauge_value(f"{SESSION_TIMEOUT_METRIC} garbage\n", SESSION_TIMEOUT_METRIC) is None
    assert gauge_value("# nothing here\n", SESSION_TIMEOUT_METRIC) is None
