"""``GET /leader`` under load with wrk (Debian's package), idle and during a failover."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.support.stack import INSTANCES, StackClient, sole_leader
from tests.support.waiting import eventually, expect

Log = Callable[[str], None]
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(url: str, seconds: int, connections: int, threads: int) -> dict[str, Any]:
    """One wrk run; requests per second and latency percentiles in ms."""
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    percentiles = {
        f"p{m[1]}": round(float(m[2]) * _UNITS[m[3]], 3)
        for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requestsPerSecond": rps,
        "latencyMs": percentiles,
        "non2xx": int(errors.group(1)) if errors else 0,
        "socketErrors": socket_errors.group(1) if socket_errors else None,
        "seconds": seconds,
        "connections": connections,
        "threads": threads,
    }


def leader_endpoint_load(
    stack: StackClient, seconds: int, connections: tuple[int, ...], session_timeout: float, log: Log
) -> dict[str, Any]:
    """Load one follower's /leader idle, then again while the leader is killed,
    at each concurrency (wrk is closed-loop: more connections, more queueing)."""
    runs: dict[str, Any] = {}
    for c in connections:
        runs[str(c)] = _idle_and_failover(stack, seconds, c, session_timeout, log)
    return {"connections": list(connections), "runs": runs}


def _idle_and_failover(
    stack: StackClient, seconds: int, connections: int, session_timeout: float, log: Log
) -> dict[str, Any]:
    leader, _ = eventually(lambda: sole_leader(stack), timeout=60)
    target = next(name for name in INSTANCES if name != leader)
    url = f"http://127.0.0.1:{stack.ports[target]}/leader"
    threads = min(2, connections)

    idle = run_wrk(url, seconds, connections, threads)
    log(
        f"/leader idle on {target}, {connections} connections: {idle['requestsPerSecond']:.0f} req/s, "
        f"p99 {idle['latencyMs'].get('p99')} ms"
    )
    result: dict[str, Any] = {}

    def loaded() -> None:
        result.update(run_wrk(url, seconds, connections, threads))

    worker = threading.Thread(target=loaded)
    worker.start()
    time.sleep(seconds / 4)
    stack.compose("kill", leader)
    survivors = [name for name in INSTANCES if name != leader]
    new, _ = eventually(lambda: sole_leader(stack, survivors), timeout=4 * session_timeout)
    worker.join()
    stack.compose("start", leader)
    eventually(lambda: expect(sole_leader(stack)[0] == new), timeout=6 * session_timeout)
    log(
        f"/leader on {target} while {leader} was killed and {new} took over, {connections} connections: "
        f"{result['requestsPerSecond']:.0f} req/s, p99 {result['latencyMs'].get('p99')} ms"
    )
    return {"target": target, "idle": idle, "duringFailover": {**result, "killed": leader, "newLeader": new}}
