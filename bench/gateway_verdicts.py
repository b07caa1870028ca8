"""Issue 11's targets: write unavailability seen by a client of the gateway,
and journal write throughput and latency."""

from __future__ import annotations

import math
from typing import Any

from .report import Verdict, fmt
from .stats import summary


def _s(values: list[float]) -> dict[str, Any]:
    return summary(values, digits=3)


def gateway_verdicts(report: dict[str, Any]) -> tuple[list[Verdict], list[str]]:
    failover = report.get("failover", {})
    verdicts: list[Verdict] = []
    lines: list[str] = []
    with_writes = {k: t for k, t in failover.items() if any("writeUnavailableSeconds" in x for x in t)}
    if with_writes:
        rate = report["settings"].get("gatewayWriteRate")
        lines += [
            "## Writes through the gateway during failover",
            "",
            f"One client writes {rate:g} times a second through the gateway (HAProxy), with no retries of its",
            "own, during every trial above. Write unavailability is the time from the last successful write",
            "before the fault to the first one after it (the longest gap between consecutive successes).",
            "",
            "| fault | trials | unavailable p50 | p95 | max | election p50 | p95 | max | writes | failed |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for kind, trials in with_writes.items():
            gap = _s([t["writeUnavailableSeconds"] for t in trials if t.get("writeUnavailableSeconds") is not None])
            new = _s([t["newLeaderSeconds"] for t in trials])
            writes = sum(t.get("writes", 0) for t in trials)
            failed = sum(len(t.get("failedWrites", [])) for t in trials)
            lines.append(
                f"| {kind} | {len(trials)} | {fmt(gap['p50'])} | {fmt(gap['p95'])} | {fmt(gap['max'])} "
                f"| {fmt(new['p50'])} | {fmt(new['p95'])} | {fmt(new['max'])} | {writes} | {failed} |"
            )
        lines.append("")
        failed_lines = [
            f"- {kind}: {f['status'] or 'no answer'} {f['error']} ({f['sentAfter']} s after the fault)"
            for kind, trials in with_writes.items()
            for t in trials
            for f in t.get("failedWrites", [])
        ]
        if failed_lines:
            lines += ["Failed writes:", "", *failed_lines[:60], ""]
    if "kill" in with_writes:
        trials = with_writes["kill"]
        gap = _s([t["writeUnavailableSeconds"] for t in trials if t.get("writeUnavailableSeconds") is not None])
        new = _s([t["newLeaderSeconds"] for t in trials])
        if gap["p95"] is not None and new["p95"] is not None:
            limit = new["p95"] + 0.5
            ok = gap["p95"] <= limit
            verdicts.append(
                Verdict(
                    "SIGKILL: write unavailability p95 through the gateway",
                    f"≤ election p95 {new['p95']:.3f} s + 0.5 s = {limit:.3f} s",
                    f"{gap['p95']:.3f} s",
                    ok,
                    "" if ok else f"over by {gap['p95'] - limit:.3f} s",
                )
            )
    if "stop" in with_writes:
        trials = with_writes["stop"]
        failed = sum(len(t.get("failedWrites", [])) for t in trials)
        writes = sum(t.get("writes", 0) for t in trials)
        verdicts.append(
            Verdict(
                f"graceful stop: failed writes through the gateway ({len(trials)} stops)",
                "0",
                f"{failed} of {writes}",
                failed == 0,
                "" if failed == 0 else f"{failed} failed",
            )
        )
    for kind, check in report.get("exactlyOnce", {}).items():
        trials = with_writes.get(kind, [])
        failed = sum(len(t.get("failedWrites", [])) for t in trials)
        ok = bool(check["ok"]) and failed == 0
        verdicts.append(
            Verdict(
                f"{kind}: writes through the gateway, client without key or retries ({len(trials)} trials)",
                "0 failed, each acknowledged write in the journal once",
                f"{failed} failed of {check.get('writes', 0)}; journal {'checked' if check['ok'] else 'FAILED'}",
                ok,
                "" if ok else (check.get("error") or f"{failed} failed"),
            )
        )
    if "stop" in with_writes:
        gap = _s(
            [t["writeUnavailableSeconds"] for t in with_writes["stop"] if t.get("writeUnavailableSeconds") is not None]
        )
        if gap["p95"] is not None:
            verdicts.append(
                Verdict(
                    "graceful stop: gap between successful writes p95",
                    "≤ 0.2 s",
                    f"{gap['p95']:.3f} s",
                    gap["p95"] <= 0.2,
                    "" if gap["p95"] <= 0.2 else f"over by {gap['p95'] - 0.2:.3f} s",
                )
            )
    if "journal" in report:
        journal = report["journal"]
        lines += [
            "## Journal writes under load",
            "",
            f"{journal['clients']} closed-loop clients for {journal['seconds']:g} s per target, each write one",
            "ZooKeeper transaction (fence check, head compare-and-set, entry, idempotency key).",
            "",
            "| target | writes/s | p50 | p99 | failed | statuses |",
            "|---|---|---|---|---|---|",
        ]
        for label, run in journal["runs"].items():
            p50, p99 = run["latencyMs"]["p50"], run["latencyMs"]["p99"]
            lines.append(
                f"| {label} | {run['writesPerSecond']:.0f} | {_ms(p50)} | {_ms(p99)} | {run['failed']} "
                f"| {run['statuses']} |"
            )
        lines.append("")
    return verdicts, lines


def _ms(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f} ms"
