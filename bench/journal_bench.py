"""Journal write throughput and latency, through the gateway and straight to
the leader, in one run (closed loop: each client sends its next write when
the last one is answered)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import requests

from tests.support.stack import StackClient, sole_leader
from tests.support.waiting import eventually

from .stats import percentile

Log = Callable[[str], None]


def write_load(stack: StackClient, seconds: float, clients: int, log: Log) -> dict[str, Any]:
    """One run per target (the gateway, then the leader's own port), same settings."""
    leader, _ = eventually(lambda: sole_leader(stack), timeout=60)
    runs = {}
    for label, target in (("gateway", "gateway"), (f"leader ({leader})", leader)):
        runs[label] = _closed_loop(f"{stack.url(target)}/journal", seconds, clients)
        r = runs[label]
        log(
            f"journal writes via {label}: {r['writesPerSecond']:.0f}/s, p50 {r['latencyMs']['p50']} ms, "
            f"p99 {r['latencyMs']['p99']} ms, {r['failed']} failed"
        )
    return {"seconds": seconds, "clients": clients, "leader": leader, "runs": runs}


def _closed_loop(url: str, seconds: float, clients: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    prefix = uuid.uuid4().hex[:8]

    def client(n: int) -> None:
        session = requests.Session()
        i = 0
        while time.monotonic() < stop_at:
            i += 1
            key = f"load-{prefix}-{n}-{i}"
            started = time.monotonic()
            try:
                status = session.post(
                    url, json={"message": key}, headers={"Idempotency-Key": key}, timeout=15
                ).status_code
            except requests.RequestException:
                status = 0
            elapsed = (time.monotonic() - started) * 1000
            with lock:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if status == 201:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - began
    ok = statuses.get("201", 0)
    return {
        "writesPerSecond": round(ok / took, 1),
        "latencyMs": {q: _r(percentile(latencies, n)) for q, n in (("p50", 50), ("p99", 99))},
        "statuses": statuses,
        "failed": sum(v for k, v in statuses.items() if k != "201"),
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
