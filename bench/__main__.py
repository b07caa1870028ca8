"""Run the failover benchmark and write the report: ``scripts/benchmark.sh [options]``.

Sections: failover on the compose stack (SIGKILL, graceful stop, partition),
``/leader`` under load, cold start, an idle soak, and the election recipes
side by side against one ZooKeeper. Figures go to
``results/bench/<timestamp>/`` (and ``results/bench/latest/``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.compose import REPO_ROOT, compose_command, run
from tests.support.journal_writers import Writer
from tests.support.stack import StackClient

from . import journal_bench, load, stack_bench
from .report import machine, markdown, plot_failover, write_json

# Overridable (ZKLEADER_BENCH_PROJECT, ZKLEADER_BENCH_PORT_BASE) so that a trial run
# never touches another checkout's benchmark stack.
STACK_PROJECT = os.environ.get("ZKLEADER_BENCH_PROJECT", "zkleader-bench")
_PORT_BASE = int(os.environ.get("ZKLEADER_BENCH_PORT_BASE", "25000"))
BENCH_PORTS = {name: _PORT_BASE + int(name[-1]) for name in ("api1", "api2", "api3")}  # clear of the tests'
BENCH_GATEWAY_PORT = _PORT_BASE
ZK_PROJECT = "zkleader-bench-zk"
TICK = 0.5  # compose.yaml's ZOO_TICK_TIME, in seconds


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/benchmark.sh", description=__doc__)
    parser.add_argument("--kills", type=int, default=30, help="SIGKILL failover trials")
    parser.add_argument("--stops", type=int, default=30, help="graceful stop trials")
    parser.add_argument("--partitions", type=int, default=10, help="network partition trials")
    parser.add_argument("--soak", type=float, default=600, help="idle soak seconds (0: skip)")
    parser.add_argument("--cold-starts", type=int, default=3)
    parser.add_argument("--load-seconds", type=int, default=12)
    parser.add_argument("--load-connections", default="8,64", help="wrk connections per run, comma-separated")
    parser.add_argument("--handoffs", type=int, default=30, help="handoffs per recipe and size")
    parser.add_argument("--sizes", default="10,100", help="participants per recipe run")
    parser.add_argument(
        "--write-rate",
        type=float,
        default=20.0,
        help="gateway writes per second during failovers (0: no writer, the election alone)",
    )
    parser.add_argument("--journal-seconds", type=float, default=15.0, help="journal write load per target")
    parser.add_argument("--journal-clients", type=int, default=8, help="closed-loop journal writers")
    parser.add_argument(
        "--skip", default="", help="comma-separated sections to skip: stack,journal,load,cold,soak,recipes"
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "bench")
    return parser.parse_args(argv)


def stack_sections(args: argparse.Namespace, skip: set[str], report: dict[str, Any]) -> None:
    stack = StackClient(STACK_PROJECT, BENCH_PORTS, BENCH_GATEWAY_PORT)
    log("bringing up the stack")
    stack.compose("down", "-v", "--remove-orphans")
    if "cold" not in skip and args.cold_starts:
        report["coldStart"] = stack_bench.cold_start(stack, args.cold_starts, log)
    else:
        stack.compose("up", "--build", "-d", "--wait", timeout=900)
    try:
        timeout = stack_bench.negotiated_session_timeout(stack)
        report["settings"]["negotiatedSessionTimeout"] = timeout
        if "stack" not in skip:
            failover = {}
            report["settings"]["gatewayWriteRate"] = args.write_rate
            for kind, count in (("kill", args.kills), ("stop", args.stops), ("partition", args.partitions)):
                if count:
                    # One writer through the gateway per fault kind, no retries of its own
                    # (none with --write-rate 0: the election alone, as before the gateway).
                    # The client of issue 21: timeout T + 3 s, and no Idempotency-Key (the gateway adds one).
                    writer = (
                        Writer(stack, ["gateway"], rate=args.write_rate, timeout=timeout + 3.0, keyed=False)
                        if args.write_rate > 0
                        else None
                    )
                    with writer if writer is not None else contextlib.nullcontext():
                        time.sleep(1.0)  # successes before the first fault, or its gap has no start
                        failover[kind] = stack_bench.failover_trials(stack, kind, count, timeout, log, writer)
                    if writer is not None:
                        report.setdefault("exactlyOnce", {})[kind] = stack_bench.exactly_once(stack, writer.results())
            report["failover"] = failover
        if "journal" not in skip:
            report["journal"] = journal_bench.write_load(stack, args.journal_seconds, args.journal_clients, log)
        if "load" not in skip:
            if load.wrk_available():
                concurrency = tuple(int(c) for c in args.load_connections.split(","))
                report["load"] = load.leader_endpoint_load(stack, args.load_seconds, concurrency, timeout, log)
            else:
                log("wrk not found: skipping the load section (apt-get install wrk)")
                report["skipped"].append("load: wrk not installed")
        if "soak" not in skip and args.soak > 0:
            report["soak"] = stack_bench.soak(stack, args.soak, log)
    finally:
        stack.compose("down", "-v", "--remove-orphans")


def recipe_section(args: argparse.Namespace, report: dict[str, Any]) -> None:
    from . import recipes

    command = compose_command(ZK_PROJECT, "tests/compose.zk.yaml")
    run([*command, "up", "--build", "-d", "--wait"], timeout=900)
    try:
        port = run([*command, "port", "zk", "2181"]).strip().rsplit(":", 1)[1]
        sizes = tuple(int(s) for s in args.sizes.split(","))
        log(f"recipes side by side, sizes {sizes}, {args.handoffs} handoffs each")
        report["recipes"] = recipes.run(f"127.0.0.1:{port}", sizes=sizes, handoffs=args.handoffs)
    finally:
        run([*command, "down", "-v"])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    skip = {s for s in args.skip.split(",") if s}
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report: dict[str, Any] = {
        "startedAt": started,
        "command": "scripts/benchmark.sh " + " ".join(argv),
        "machine": machine(),
        "settings": {"sessionTimeoutRequested": 4.0, "tickTime": TICK, "args": vars(args) | {"out": str(args.out)}},
        "skipped": [],
    }
    if not ({"stack", "journal", "load", "cold", "soak"} <= skip):
        stack_sections(args, skip, report)
    if "recipes" not in skip:
        recipe_section(args, report)
    report["finishedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    out = args.out / started.replace(":", "")
    out.mkdir(parents=True, exist_ok=True)
    from .verdicts import judge

    report["verdicts"], report["sections"] = judge(report)
    failover = report.get("failover", {})
    distributions = {
        "SIGKILL: new leader": [t["newLeaderSeconds"] for t in failover.get("kill", [])],
        "stop: new leader": [t["newLeaderSeconds"] for t in failover.get("stop", [])],
        "partition: new leader": [t["newLeaderSeconds"] for t in failover.get("partition", [])],
    }
    for kind, label in (("kill", "SIGKILL"), ("stop", "stop"), ("partition", "partition")):
        trials = failover.get(kind, [])
        gaps = [t["writeUnavailableSeconds"] for t in trials if t.get("writeUnavailableSeconds") is not None]
        failed = sum(len(t.get("failedWrites", [])) for t in trials)
        if gaps:
            distributions[f"{label}: writes unavailable\n({failed} failed writes)"] = gaps
    if any(distributions.values()) and plot_failover(out / "failover.png", distributions, "Failover time"):
        report["plot"] = "failover.png"
    write_json(out / "report.json", report)
    (out / "report.md").write_text(markdown(report))
    latest = args.out / "latest"
    shutil.rmtree(latest, ignore_errors=True)
    shutil.copytree(out, latest)
    log(f"report: {out / 'report.md'} (also {latest})")
    for v in report["verdicts"]:
        log(f"{'MET ' if v.met else 'MISS'} {v.target}: {v.measured} (limit {v.limit}) {v.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
