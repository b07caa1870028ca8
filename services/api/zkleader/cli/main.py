"""``zkleader``: list, history, journal, resign, switchover, watch and failover.

Every subcommand but ``failover`` talks to the instances over HTTP only
(``--url``, ``$ZKLEADER_URLS``, default the three published ports), so it
works on the host and inside a container alike. Exit codes: see
:mod:`zkleader.cli.exits`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any, TypeVar

import click
from rich.live import Live

from . import failover as failover_command
from .exits import Exit
from .members import Member, read_members, resolve_urls
from .ops import http
from .ops.leader import read_views, wait_for_leader
from .output import Output, clock, fail
from .render import journal_table, members_table, terms_table

F = TypeVar("F", bound=Callable[..., Any])
TOKEN_ENV = "ZKLEADER_ADMIN_TOKEN"


def _version() -> str:
    try:
        return metadata.version("zkleader")
    except metadata.PackageNotFoundError:  # run from the source tree (python -m zkleader)
        return "source"


def http_options(func: F) -> F:
    """--url, --timeout and --json, shared by the subcommands that speak HTTP."""
    func = click.option(
        "--url",
        "urls",
        multiple=True,
        metavar="URL",
        help="An instance's base URL (repeatable; commas allowed). "
        "Default: $ZKLEADER_URLS, else http://127.0.0.1:5001, :5002 and :5003.",
    )(func)
    func = click.option(
        "--timeout",
        type=click.FloatRange(min=0.05),
        default=2.0,
        show_default=True,
        help="Seconds to wait for each instance's answer.",
    )(func)
    func = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(_version(), prog_name="zkleader")
def cli() -> None:
    """Operate a zkleader cluster: who leads, its history, the journal, a resign,
    a switchover, a live view and a failover drill.

    Exit codes: 0 done; 1 the operation failed or was refused; 2 usage error
    or nothing to work on; 3 an instance could not be reached; 4 the instances
    do not offer it (HTTP 404); 130 interrupted.
    """


@cli.command("list")
@http_options
def list_members(urls: tuple[str, ...], timeout: float, as_json: bool) -> None:
    """A table: instance, address, role, state, epoch, sequence, lease left."""
    out = Output()
    members, problem = read_members(resolve_urls(urls), timeout)
    if as_json:
        out.json([m.to_json() for m in members])
    else:
        out.out.print(members_table(members))
    _report_unreachable(out, members)
    if problem:
        out.error(problem)
    sys.exit(int(Exit.UNREACHABLE if any(not m.reachable for m in members) else Exit.OK))


@cli.command()
@http_options
@click.option("--last", type=click.IntRange(min=1), default=None, help="Only the last N terms.")
def history(urls: tuple[str, ...], timeout: float, as_json: bool, last: int | None) -> None:
    """Every instance's leadership terms, merged by the time they began."""
    out = Output()
    members, _ = read_members(resolve_urls(urls), timeout, with_sequences=False)
    _report_unreachable(out, members)
    reachable = [m for m in members if m.reachable]
    replies = http.each(lambda m: http.get(m.url, "/leader/history", timeout), reachable)
    terms: list[dict[str, Any]] = []
    failed = False
    for member, reply in zip(reachable, replies, strict=True):
        if not reply.ok or not isinstance(reply.body, list):
            out.error(f"{member.label} ({member.url}): GET /leader/history {reply.error or reply.message()}")
            failed = True
            continue
        terms += [{"instance": member.label, **t} for t in reply.body if isinstance(t, dict) and "electedAt" in t]
    terms.sort(key=lambda t: (float(t["electedAt"]), str(t["instance"])))
    if last is not None:
        terms = terms[-last:]
    if as_json:
        out.json(terms)
    else:
        out.out.print(terms_table(terms))
    if failed or len(reachable) < len(members):
        sys.exit(int(Exit.UNREACHABLE))


JOURNAL_PAGE = 1000  # the largest page GET /journal serves


@cli.command()
@http_options
@click.option("--after", type=click.IntRange(min=0), default=None, help="Entries after this sequence number.")
@click.option(
    "--limit", type=click.IntRange(1, JOURNAL_PAGE), default=20, show_default=True, help="At most this many entries."
)
def journal(urls: tuple[str, ...], timeout: float, as_json: bool, after: int | None, limit: int) -> None:
    """The journal's tail (or, with --after, the entries after SEQ), from the
    first instance that answers."""
    out = Output()
    unreachable = []
    for url in resolve_urls(urls):
        entries = _read_journal(url, timeout, after, limit)
        if isinstance(entries, str):
            unreachable.append(f"{url} does not answer: {entries}")
            continue
        for line in unreachable:
            out.error(line)
        if as_json:
            out.json(entries)
        else:
            out.out.print(journal_table(entries))
        sys.exit(int(Exit.OK))
    for line in unreachable[:-1]:
        out.error(line)
    fail(unreachable[-1], Exit.UNREACHABLE)


def _read_journal(url: str, timeout: float, after: int | None, limit: int) -> list[dict[str, Any]] | str:
    """Entries, or why this instance gave none (a string). Exits on an answer
    that no other instance would improve (404, a malformed page)."""
    if after is not None:
        page = _journal_page(url, timeout, after, limit)
        return page
    # The tail: page through from the start, keeping the last ``limit``.
    tail: list[dict[str, Any]] = []
    cursor: int | None = None
    while True:
        page = _journal_page(url, timeout, cursor, JOURNAL_PAGE)
        if isinstance(page, str):
            return page
        tail = (tail + page)[-limit:]
        last = page[-1].get("seq") if page else None
        if len(page) < JOURNAL_PAGE or not isinstance(last, int) or (cursor is not None and last <= cursor):
            return tail
        cursor = last


def _journal_page(url: str, timeout: float, after: int | None, limit: int) -> list[dict[str, Any]] | str:
    query = f"limit={limit}" if after is None else f"after={after}&limit={limit}"
    reply = http.get(url, f"/journal?{query}", timeout)
    if not reply.answered:
        return reply.error or "no answer"
    if reply.status == 404:
        fail(f"{url} has no journal (GET /journal answered 404): this version does not offer it", Exit.UNSUPPORTED)
    if not reply.ok:
        fail(f"{url}: GET /journal answered {reply.message()}", Exit.FAILED)
    body = reply.body
    entries = body.get("entries") if isinstance(body, dict) else body
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        fail(f"{url}: GET /journal gave no list of entries", Exit.FAILED)
    return entries


@cli.command()
@http_options
@click.option(
    "--token", envvar=TOKEN_ENV, show_envvar=True, default=None, help="The instances' ADMIN_TOKEN (bearer token)."
)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the successor and show it.")
@click.option(
    "--wait-timeout", type=click.FloatRange(min=0), default=30.0, show_default=True, help="Bound for --wait, seconds."
)
def resign(
    urls: tuple[str, ...], timeout: float, as_json: bool, token: str | None, wait: bool, wait_timeout: float
) -> None:
    """End the current leader's term (POST /leader/resign on the leader).

    The leader gives up its place; another instance is elected."""
    out = Output()
    if not token:
        raise click.UsageError(f"no admin token: give --token or set {TOKEN_ENV}")
    members, _ = read_members(resolve_urls(urls), timeout, with_sequences=False)
    _report_unreachable(out, members)
    leaders = [m for m in members if m.is_leader]
    if len(leaders) != 1:
        code = Exit.UNREACHABLE if any(not m.reachable for m in members) else Exit.FAILED
        fail(f"no single instance leads now ({len(leaders)} say they do): nothing to resign", code)
    leader = leaders[0]
    asked_at = time.time()
    reply = http.request(
        f"{leader.url}/leader/resign", method="POST", timeout=timeout, headers={"Authorization": f"Bearer {token}"}
    )
    if not reply.answered:
        fail(f"{leader.label} ({leader.url}) does not answer: {reply.error}", Exit.UNREACHABLE)
    if reply.status == 404:
        fail(f"{leader.label} refuses: {reply.message()} (HTTP 404)", Exit.UNSUPPORTED)
    if reply.status != 202:
        fail(f"{leader.label} refuses to resign: {reply.message()} (HTTP {reply.status})", Exit.FAILED)
    result: dict[str, Any] = {"resigned": leader.label, "epoch": leader.epoch}
    if not as_json:
        out.out.print(f"{leader.label} resigned (epoch {leader.epoch})", markup=False)
    if wait:
        named = {m.instance: m.url for m in members if m.reachable and m.instance}
        found = wait_for_leader(
            lambda: read_views(named, timeout=min(timeout, 1.0)),
            timeout=wait_timeout,
            min_epoch=(leader.epoch or 0) + 1,
        )
        if found is None:
            if as_json:
                out.json(result | {"newLeader": None})
            fail(f"no new leader that every instance agrees on within {wait_timeout:g} s", Exit.FAILED)
        result |= {
            "newLeader": found.leader.name,
            "newEpoch": found.leader.epoch,
            "seenAfterSeconds": round(found.seen_at - asked_at, 3),
        }
        if not as_json:
            out.out.print(
                f"new leader: {found.leader.name}, epoch {found.leader.epoch} "
                f"(seen {found.seen_at - asked_at:.3f} s after the request)",
                markup=False,
            )
    if as_json:
        out.json(result)


SWITCHOVER_WAIT = 60.0
"""Seconds to wait for the answer: the instance itself bounds the hand-over
(``switchover_wait``, 8 s at the default session timeout)."""


@cli.command()
@http_options
@click.option("--candidate", required=True, metavar="NAME", help="The instance that should lead (e.g. api3).")
@click.option(
    "--token", envvar=TOKEN_ENV, show_envvar=True, default=None, help="The instances' ADMIN_TOKEN (bearer token)."
)
def switchover(urls: tuple[str, ...], timeout: float, as_json: bool, candidate: str, token: str | None) -> None:
    """Hand leadership to CANDIDATE (POST /leader/switchover on the first
    instance that answers). Returns once the candidate leads and the old
    leader follows, or says why not.

    Exit codes: 0 the candidate leads; 1 refused (not an eligible member: 412,
    one already running: 409, a wrong token: 401/403) or not completed (503);
    3 no instance answers; 4 switchover disabled (no ADMIN_TOKEN: 404)."""
    out = Output()
    if not token:
        raise click.UsageError(f"no admin token: give --token or set {TOKEN_ENV}")
    unreachable: list[str] = []
    for url in resolve_urls(urls):
        reply = http.request(
            f"{url}/leader/switchover",
            method="POST",
            timeout=max(timeout, SWITCHOVER_WAIT),
            headers={"Authorization": f"Bearer {token}"},
            payload={"candidate": candidate},
        )
        if not reply.answered:
            unreachable.append(f"{url} does not answer: {reply.error}")
            continue
        for line in unreachable:
            out.error(line)
        body = reply.body if isinstance(reply.body, dict) else {}
        if reply.status == 202:
            if as_json:
                out.json(body)
            else:
                previous = body.get("previous") or {}
                out.out.print(
                    f"{body.get('leader')} leads now (epoch {body.get('epoch')}); "
                    f"{previous.get('instance')} (epoch {previous.get('epoch')}) is a {previous.get('state')}; "
                    f"took {body.get('seconds')} s",
                    markup=False,
                )
            sys.exit(int(Exit.OK))
        if as_json:
            out.json(body or {"status": reply.status, "error": reply.message()})
        code = Exit.UNSUPPORTED if reply.status == 404 else Exit.FAILED
        fail(f"{url} refuses the switchover to {candidate}: {reply.message()} (HTTP {reply.status})", code)
    for line in unreachable[:-1]:
        out.error(line)
    fail(unreachable[-1] if unreachable else "no instance to ask", Exit.UNREACHABLE)


@cli.command()
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="URL",
    help="An instance's base URL (repeatable). Default: $ZKLEADER_URLS, else the three published ports.",
)
@click.option(
    "--interval", type=click.FloatRange(min=0.05), default=0.2, show_default=True, help="Seconds between polls."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds to wait for each answer (a slow instance never delays the others).",
)
@click.option("--duration", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per change, on stdout.")
def watch(urls: tuple[str, ...], interval: float, timeout: float, duration: float | None, as_json: bool) -> None:
    """A live view of every instance, redrawn within 0.5 s of a change.

    On a terminal the table is redrawn in place (Ctrl-C ends it); otherwise
    (a pipe, a file, --json) one line per change is written."""
    from .watching import Watcher

    out = Output()
    watcher = Watcher(resolve_urls(urls), interval, timeout)
    deadline = None if duration is None else time.monotonic() + duration
    last: tuple[Any, ...] | None = None
    try:
        watcher.start()
        if out.out.is_terminal and not as_json:
            with Live(members_table(watcher.members()), console=out.out, auto_refresh=False) as live:
                while deadline is None or time.monotonic() < deadline:
                    members = watcher.wait_for_update(0.1)
                    title = f"zkleader watch  {clock(time.time())}"
                    live.update(members_table(members, title=title, reasons=True), refresh=True)
        else:
            while deadline is None or time.monotonic() < deadline:
                members = watcher.wait_for_update(0.1)
                now = tuple(m.signature() for m in members)
                if now != last and watcher.complete():
                    last = now
                    _print_change(out, members, as_json)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()


def _print_change(out: Output, members: list[Member], as_json: bool) -> None:
    at = time.time()
    if as_json:
        out.json({"at": round(at, 3), "members": [m.to_json() for m in members]})
        return
    cells = []
    for m in members:
        if not m.reachable:
            cells.append(f"{m.label}: unreachable")
        else:
            follows = f" of {m.leader}" if m.state == "follower" and m.leader else ""
            cells.append(f"{m.label}: {m.role} ({m.state}{follows}) epoch {m.epoch}")
    out.out.print(f"{clock(at)}  " + "  |  ".join(cells), markup=False)
    sys.stdout.flush()


def _report_unreachable(out: Output, members: list[Member]) -> None:
    for m in members:
        if not m.reachable:
            out.error(f"{m.url} {m.error}")


cli.add_command(failover_command.failover)


def main() -> None:
    """Console-script entry point: no traceback for what an operator can meet."""
    try:
        result = cli.main(prog_name="zkleader", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        sys.exit(int(Exit.INTERRUPTED))
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as problem:  # usage errors: exit 2, as click's own
        problem.show()
        sys.exit(problem.exit_code)
    except Exception as exc:
        if os.environ.get("ZKLEADER_DEBUG"):
            raise
        fail(f"unexpected error: {type(exc).__name__}: {exc} (ZKLEADER_DEBUG=1 shows the traceback)", Exit.FAILED)
    sys.exit(result if isinstance(result, int) else int(Exit.OK))
