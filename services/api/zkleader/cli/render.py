"""Tables drawn with rich: members, terms, journal entries."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from .members import Member
from .output import timestamp


def members_table(members: list[Member], title: str | None = None, reasons: bool = False) -> Table:
    """``reasons``: say under the table why an instance is unreachable (where
    no separate error line can be printed, as in ``watch``'s live view)."""
    why = [f"{m.url} {m.error}" for m in members if not m.reachable] if reasons else []
    table = Table(
        box=box.SIMPLE_HEAD,
        title=title,
        title_justify="left",
        caption="\n".join(why) or None,
        caption_justify="left",
        caption_style="red",
        pad_edge=False,
    )
    for column in ("instance", "address", "role", "state", "epoch", "sequence", "lease left"):
        table.add_column(column, justify="right" if column in ("epoch", "sequence", "lease left") else "left")
    for m in members:
        if not m.reachable:
            # Why: one line on stderr (the table stays narrow).
            table.add_row(m.instance or "?", m.url, Text("unreachable", style="red"), "-", "", "", "")
            continue
        lease = "-" if m.lease_remaining is None else f"{m.lease_remaining:.1f} s"
        state = m.state or "?"
        if m.state == "follower" and m.leader:
            state = f"follower of {m.leader}"
        table.add_row(
            m.label,
            m.url,
            m.role or "?",
            state,
            _dash(m.epoch),
            _dash(m.sequence),
            lease,
            style="bold green" if m.is_leader else ("yellow" if m.state not in ("leader", "follower") else None),
        )
    return table


def terms_table(terms: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("elected", "ended", "instance", "epoch", "held", "reason"):
        table.add_column(column, justify="right" if column in ("epoch", "held") else "left")
    for t in terms:
        ended = t.get("endedAt")
        held = "-" if ended is None else f"{ended - t['electedAt']:.3f} s"
        table.add_row(
            timestamp(t["electedAt"]),
            timestamp(ended) if ended is not None else "leading",
            str(t["instance"]),
            _dash(t.get("epoch")),
            held,
            str(t.get("reason") or ""),
            style="bold green" if ended is None else None,
        )
    return table


def journal_table(entries: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("seq", "at", "epoch", "instance", "message"):
        table.add_column(column, justify="right" if column in ("seq", "epoch") else "left")
    for e in entries:
        at = e.get("at")
        table.add_row(
            _dash(e.get("seq")),
            timestamp(float(at)) if isinstance(at, int | float) else str(at or "-"),
            _dash(e.get("epoch")),
            str(e.get("instance") or "-"),
            Text(str(e.get("message", ""))),
        )
    return table


def _dash(value: object) -> str:
    return "-" if value is None else str(value)
