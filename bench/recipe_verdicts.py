"""Targets and report prose for the recipes compared side by side (bench.recipes)."""

from __future__ import annotations

from typing import Any

from .report import Verdict


def _rows(recipes: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (recipe, n, r)
        for recipe, per_n in recipes["recipes"].items()
        for n, r in sorted(per_n.items(), key=lambda item: int(item[0]))
        if "latency_ms" in r and r.get("handoffs", 0)
    ]


def recipe_verdicts(recipes: dict[str, Any]) -> list[Verdict]:
    by = {(recipe, n): r for recipe, n, r in _rows(recipes)}
    verdicts = []
    for recipe, label in (("ours-election-only", "track_leader off"), ("ours", "track_leader on, as deployed")):
        r = by.get((recipe, "100"))
        if r is None:
            continue
        total, pred = r["watches_per_handoff"]["total"], r["watches_per_handoff"]["predecessor"]
        exact = total["min"] == total["max"] == 1
        verdicts.append(
            Verdict(
                f"watch notifications per handoff at N = 100 ({label})",
                "exactly 1",
                f"{total['mean']:g} in all (min {total['min']}, max {total['max']}); predecessor {pred['mean']:g}",
                exact,
                "" if exact else "the election itself wakes 1; each follower also gets the leader-record notification",
            )
        )
    for n in sorted({n for _, n, _ in _rows(recipes)}, key=int):
        kazoo = by.get(("kazoo", n))
        for recipe in ("ours", "ours-election-only"):
            ours = by.get((recipe, n))
            if kazoo is None or ours is None:
                continue
            o, k = ours["latency_ms"], kazoo["latency_ms"]
            ok = o["p50"] <= k["p50"]
            verdicts.append(
                Verdict(
                    f"handoff latency, {recipe} vs kazoo, N = {n}",
                    "ours p50 ≤ kazoo p50",
                    f"p50 {o['p50']:.2f} vs {k['p50']:.2f} ms; p95 {o['p95']:.2f} vs {k['p95']:.2f} ms",
                    ok,
                    "" if ok else f"p50 slower by {o['p50'] - k['p50']:.2f} ms",
                )
            )
    overlaps = sum(r["overlap"]["overlapping_pairs"] for _, _, r in _rows(recipes))
    verdicts.append(Verdict("overlapping leadership beliefs, all recipes", "0", str(overlaps), overlaps == 0, ""))
    return verdicts


def recipe_section(recipes: dict[str, Any]) -> list[str]:
    lines = [
        "## Recipes side by side on one ZooKeeper",
        "",
        "Same harness, same ZooKeeper (standalone, tickTime 500 ms), same 4 s session, one process.",
        "`ours` is the service's configuration; `ours-election-only` turns off the leader record",
        "(`track_leader=False`); `kazoo` is `kazoo.recipe.election.Election`; `naive` is the seed",
        "article's recipe (string sort, no state handling, `bench/naive.py`). Handoff: from the harness",
        "closing the leader to the successor's elected callback. Watch notifications and requests are",
        "counted on every client by wrapping kazoo's dispatcher and `_call` (see `bench/recipes.py`).",
        "",
        "| recipe | N | handoffs | handoff p50 | p95 | max | watch notifications / handoff (predecessor) "
        "| requests / handoff | idle leader req/s | overlaps |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for recipe, n, r in _rows(recipes):
        lat, w = r["latency_ms"], r["watches_per_handoff"]
        lines.append(
            f"| {recipe} | {n} | {r['handoffs']} | {lat['p50']:.2f} ms | {lat['p95']:.2f} ms | {lat['max']:.2f} ms "
            f"| {w['total']['mean']:g} ({w['predecessor']['mean']:g}) "
            f"| {r['requests_per_handoff']['total']['mean']:g} | {r['idle']['leader_requests_per_s']:g} "
            f"| {r['overlap']['overlapping_pairs']} |"
        )
    lines += [
        "",
        "Our leader's idle traffic is its lease renewal (`sync` + `exists` every T/8); the others have",
        "no zombie guard and send nothing between pings.",
        "",
    ]
    return lines
