"""Issue 6's targets, judged against what the run measured; the report's prose."""

from __future__ import annotations

from typing import Any

from .report import Verdict, fmt
from .stats import summary as _summary

TICK = 0.5


def summary(values: list[float]) -> dict[str, float]:
    """Like :func:`stats.summary`, with millisecond resolution and NaN for no samples."""
    raw = _summary(values, digits=4)
    return {k: (int(v or 0) if k == "n" else float("nan") if v is None else float(v)) for k, v in raw.items()}


def judge(report: dict[str, Any]) -> tuple[list[Verdict], list[str]]:
    verdicts: list[Verdict] = []
    sections: list[str] = []
    timeout = report["settings"].get("negotiatedSessionTimeout")
    failover = report.get("failover", {})

    if failover:
        sections += ["## Failover on the compose stack", ""]
        sections += [
            "Times are from the fault (the harness's clock just before `docker compose kill|stop` or",
            "`docker network disconnect`) to the successor's own `electedAt`; the leaderless window is",
            "from the old leader's recorded end of term to that election.",
            "",
            "| fault | trials | new leader p50 | p95 | max | leaderless p50 | p95 | max |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for kind, trials in failover.items():
            new = summary([t["newLeaderSeconds"] for t in trials])
            gap = summary([t["leaderlessSeconds"] for t in trials if "leaderlessSeconds" in t])
            sections.append(
                f"| {kind} | {new['n']} | {fmt(new['p50'])} | {fmt(new['p95'])} | {fmt(new['max'])} "
                f"| {fmt(gap['p50'])} | {fmt(gap['p95'])} | {fmt(gap['max'])} |"
            )
        sections.append("")
    if "kill" in failover and timeout:
        p95 = summary([t["newLeaderSeconds"] for t in failover["kill"]])["p95"]
        ratios = summary([t["ratioToSessionTimeout"] for t in failover["kill"]])
        limit = 1.1 * timeout + TICK
        verdicts.append(
            Verdict(
                "SIGKILL failover p95",
                f"≤ 1.1 x {timeout:g} s + {TICK:g} s = {limit:.2f} s",
                f"{p95:.3f} s (ratio to session timeout p50 {ratios['p50']:.3f}, p95 {ratios['p95']:.3f})",
                p95 <= limit,
                "" if p95 <= limit else f"over by {p95 - limit:.3f} s",
            )
        )
        verdicts.append(Verdict("session timeout", "≤ 4 s", f"{timeout:g} s negotiated", timeout <= 4.0, ""))
    if "stop" in failover:
        stop_gap = summary([t["leaderlessSeconds"] for t in failover["stop"]])["p95"]
        stop_new = summary([t["newLeaderSeconds"] for t in failover["stop"]])["p95"]
        verdicts.append(
            Verdict(
                "graceful handoff p95 (old leader's end of term → successor elected)",
                "< 50 ms",
                f"{stop_gap * 1000:.1f} ms",
                stop_gap < 0.05,
                "" if stop_gap < 0.05 else f"over by {(stop_gap - 0.05) * 1000:.1f} ms",
            )
        )
        verdicts.append(
            Verdict(
                "`docker compose stop` → new leader p95",
                "< 1 s",
                f"{stop_new:.3f} s",
                stop_new < 1.0,
                "" if stop_new < 1.0 else f"over by {stop_new - 1.0:.3f} s",
            )
        )
    from .gateway_verdicts import gateway_verdicts

    gateway, gateway_lines = gateway_verdicts(report)
    verdicts += gateway
    sections += gateway_lines
    if "soak" in report:
        soak = report["soak"]
        ok = soak["leadershipChanges"] == 0 and soak["seconds"] >= 600
        verdicts.append(
            Verdict(
                "idle soak without spurious failover",
                "0 changes in 10 min",
                f"{soak['leadershipChanges']} changes in {soak['seconds']:.0f} s",
                ok,
                "" if ok else ("soak shorter than 10 min" if soak["leadershipChanges"] == 0 else "spurious changes"),
            )
        )
    if "coldStart" in report:
        cold = summary(report["coldStart"])
        sections += [
            "## Cold start",
            "",
            f"From `docker compose up -d` (images built, volumes fresh) to the first election: "
            f"p50 {fmt(cold['p50'])}, max {fmt(cold['max'])} over {cold['n']} runs.",
            "",
        ]
    if "load" in report:
        verdicts += _load_verdicts(report["load"])
        sections += _load_section(report["load"])
    if "recipes" in report:
        from .recipe_verdicts import recipe_section, recipe_verdicts

        verdicts += recipe_verdicts(report["recipes"])
        sections += recipe_section(report["recipes"])
    if report.get("skipped"):
        sections += ["## Skipped", "", *(f"- {s}" for s in report["skipped"]), ""]
    return verdicts, sections


def _load_verdicts(load: dict[str, Any]) -> list[Verdict]:
    result = []
    for c, pair in load["runs"].items():
        for phase, label in (("idle", "idle"), ("duringFailover", "during a failover")):
            run = pair[phase]
            rps, p99 = run["requestsPerSecond"], run["latencyMs"].get("p99", float("nan"))
            errors = run["non2xx"]
            ok = rps >= 1500 and p99 < 10 and not errors
            notes = []
            if rps < 1500:
                notes.append(f"{1500 - rps:.0f} req/s short")
            if not p99 < 10:
                notes.append(f"p99 over by {p99 - 10:.2f} ms")
            if errors:
                notes.append(f"{errors} non-2xx answers")
            result.append(
                Verdict(
                    f"/leader {label}, wrk {c} connections",
                    "≥ 1500 req/s, p99 < 10 ms",
                    f"{rps:.0f} req/s, p99 {p99:.2f} ms",
                    ok,
                    "; ".join(notes),
                )
            )
    return result


def _load_section(load: dict[str, Any]) -> list[str]:
    lines = [
        "## /leader under load",
        "",
        "wrk (closed loop) from the host through the published port (Docker's userland proxy),",
        "against a follower; in the second run of each pair the leader is killed a quarter into the run",
        "and another instance takes over. Everything shares the machine's 2 cores: wrk, the proxy,",
        "three API instances and three ZooKeeper JVMs.",
        "",
        "| connections | run | req/s | p50 | p90 | p99 | non-2xx |",
        "|---|---|---|---|---|---|---|",
    ]
    for c, pair in load["runs"].items():
        for name, r in (("idle", pair["idle"]), ("during failover", pair["duringFailover"])):
            lines.append(
                f"| {c} | {name} | {r['requestsPerSecond']:.0f} | {r['latencyMs'].get('p50')} ms | "
                f"{r['latencyMs'].get('p90')} ms | {r['latencyMs'].get('p99')} ms | {r['non2xx']} |"
            )
    return [*lines, ""]
