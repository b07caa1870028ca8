"""``zkleader failover``: watch a leader failover by hand, against a running compose stack.

1. show what every API instance says (GET /leader),
2. kill the leader (``docker compose kill``, or ``stop`` with --graceful),
3. poll every instance while the survivors elect a successor,
4. print the new leader, its epoch and the failover time, measured from the
   kill to the successor's own electedAt (GET /leader/history) and until
   polling saw a single leader,
5. start the killed instance again and watch it rejoin as a follower.

The trial itself is :func:`zkleader.cli.ops.trial.failover_trial`; this module
only finds the instances through compose and prints what happens.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape

from .exits import Exit
from .ops import http
from .ops.compose import Compose, ComposeError, docker_ready, find_project_directory, finished_at
from .ops.leader import Found, Leader, View, Views, read_views
from .ops.trial import Trial, TrialEvents, TrialFailed, failover_trial
from .output import Output, clock

MARGIN = 5.0  # added to 3 x the session timeout for the default bound
DEFAULT_SESSION_TIMEOUT = 4.0  # compose.yaml's ZK_SESSION_TIMEOUT, when /metrics does not say
SETTLE_TIMEOUT = 30.0
SESSION_TIMEOUT_METRIC = "zkleader_session_timeout_seconds"


def gauge_value(exposition: str, name: str) -> float | None:
    """The value of the unlabelled gauge ``name`` in a Prometheus text exposition; None if absent or garbled.

    Just the one line the drill needs (``name value [timestamp]``), so that the
    command does not depend on prometheus-client (the ``[server]`` extra's).
    """
    for line in exposition.splitlines():
        match = re.fullmatch(rf"{re.escape(name)}(?:\{{\}})?\s+(\S+)(?:\s+-?\d+)?\s*", line)
        if match:
            try:
                return float(match.group(1))
            except ValueError:
                return None
    return None


F = TypeVar("F", bound=Callable[..., Any])


def _seconds_option(flag: str, envvar: str, default: float | None, text: str) -> Callable[[F], F]:
    """A non-negative number of seconds, also read from ``envvar``; its default shown when it has one."""
    return click.option(
        flag,
        type=click.FloatRange(min=0),
        envvar=envvar,
        default=default,
        show_default=default is not None,
        help=text,
    )


@click.command()
@click.option(
    "-p",
    "--project",
    envvar="COMPOSE_PROJECT_NAME",
    default="zkleader",
    show_default=True,
    help="Compose project (default $COMPOSE_PROJECT_NAME, else zkleader).",
)
@click.option(
    "--graceful",
    is_flag=True,
    help="`docker compose stop` (SIGTERM: the leader hands over at once) instead of "
    "`docker compose kill` (SIGKILL: the survivors wait for the leader's session to expire).",
)
@_seconds_option(
    "--timeout",
    "FAILOVER_TIMEOUT",
    None,
    "Give up when no single leader appears within this many seconds "
    "(default $FAILOVER_TIMEOUT, else 3 x the session timeout + 5 s).",
)
@_seconds_option("--interval", "FAILOVER_POLL_INTERVAL", 0.2, "Poll interval in seconds ($FAILOVER_POLL_INTERVAL).")
@_seconds_option(
    "--rejoin-timeout",
    "FAILOVER_REJOIN_TIMEOUT",
    60.0,
    "Bound for the restarted instance to rejoin ($FAILOVER_REJOIN_TIMEOUT).",
)
@click.option(
    "--project-directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The directory of compose.yaml (default: the nearest one from the current directory upwards).",
)
@click.option("--json", "as_json", is_flag=True, help="Only a JSON summary on stdout (no progress).")
def failover(
    project: str,
    graceful: bool,
    timeout: float | None,
    interval: float,
    rejoin_timeout: float,
    project_directory: Path | None,
    as_json: bool,
) -> None:
    """Fail the leader over and watch the successor take over and the old one rejoin.

    Needs docker compose and a running stack. Exit status: 0 done; 1 no single
    leader within the bound (or the killed instance did not rejoin); 2 usage
    error or the stack is not ready.
    """
    out = Output()

    def stop(message: str, code: Exit = Exit.USAGE) -> None:
        out.err.print(f"zkleader failover: {message}", markup=False)
        sys.exit(int(code))

    directory = project_directory or find_project_directory(Path.cwd())
    if directory is None or not (directory / "compose.yaml").is_file():
        stop(f"no compose.yaml in {directory or Path.cwd()} or above; give --project-directory")
    assert directory is not None
    problem = docker_ready()
    if problem:
        stop(problem)
    compose = Compose(project, directory.resolve())
    mode = "stop" if graceful else "kill"
    show = _Printer(out, compose, mode, interval, timeout, quiet=as_json)

    try:
        services = sorted(s for s in compose.services() if s.startswith("api"))
    except ComposeError as exc:
        stop(f"cannot read {directory / 'compose.yaml'}: {exc}")
    if not services:
        stop(f"no api services in {directory / 'compose.yaml'}")
    for service in services:
        port = compose.published_port(service)
        if port is None:
            show.say(f"note: {service} is not running in project {project}; leaving it out")
        else:
            show.urls[service] = f"http://127.0.0.1:{port}"
    if len(show.urls) < 2:
        stop(
            f"project {project} needs at least two running API instances (have {len(show.urls)}); "
            f"start the stack with\n  docker compose -p {project} up --build -d --wait"
        )

    try:
        trial = failover_trial(
            list(show.urls),
            show.read,
            lambda name: compose.run(mode, name, timeout=120),
            lambda name: compose.run("start", name, timeout=120),
            timeout=show.bound,
            rejoin_timeout=rejoin_timeout,
            interval=interval,
            settle_timeout=SETTLE_TIMEOUT,
            events=show,
        )
    except TrialFailed as exc:
        show.left_stopped()
        if as_json:
            out.json({"ok": False, "project": project, "mode": mode, "error": str(exc)})
        out.err.print(f"\n[red]FAILED: {escape(str(exc))}[/red]")
        sys.exit(int(Exit.FAILED))
    except KeyboardInterrupt:
        show.left_stopped()
        sys.exit(int(Exit.INTERRUPTED))
    if as_json:
        out.json({"ok": True, "project": project, "mode": mode, **show.summary(trial)})


class _Printer(TrialEvents):
    """Prints the trial as failover.sh always has, and works out its figures."""

    def __init__(
        self, out: Output, compose: Compose, mode: str, interval: float, timeout: float | None, quiet: bool
    ) -> None:
        self.out, self.compose, self.mode, self.interval = out, compose, mode, interval
        self.explicit_timeout, self.quiet = timeout, quiet
        self.urls: dict[str, str] = {}
        self.session_timeout = DEFAULT_SESSION_TIMEOUT
        self.container = ""
        self.stopped = False
        self.figures: dict[str, Any] = {}

    # ------------------------------------------------------------ plumbing

    def say(self, text: str = "", *, markup: bool = False) -> None:
        if not self.quiet:
            self.out.out.print(text, markup=markup, highlight=False)

    def heading(self, text: str) -> None:
        self.say(f"\n[bold]{text}[/bold]", markup=True)

    def read(self, names: list[str]) -> Views:
        return read_views({name: self.urls[name] for name in names}, timeout=1.0)

    def bound(self, leader: Leader) -> float:
        self.session_timeout = self._session_timeout(leader.name)
        return self.explicit_timeout if self.explicit_timeout is not None else 3 * self.session_timeout + MARGIN

    def _session_timeout(self, name: str) -> float:
        reply = http.get(self.urls[name], "/metrics", 2.0)
        found = gauge_value(reply.body, SESSION_TIMEOUT_METRIC) if reply.ok and isinstance(reply.body, str) else None
        return DEFAULT_SESSION_TIMEOUT if found is None else found

    def left_stopped(self) -> None:
        if self.stopped:
            old = self.figures.get("oldLeader", "?")
            self.out.err.print(
                f"{old} is left stopped; start it again with: docker compose -p {self.compose.project} start {old}",
                markup=False,
            )

    # -------------------------------------------------------------- events

    def initial(self, views: Views, leader: Leader | None) -> None:
        what = "docker compose kill (SIGKILL)" if self.mode == "kill" else "docker compose stop (graceful)"
        self.heading(f"zkleader failover: project {escape(self.compose.project)}, {what}")
        self.table(views)
        if leader is None:
            self.say(f"no single leader that every instance agrees on yet; waiting up to {SETTLE_TIMEOUT:g} s")

    def settled(self, found: Found) -> None:
        self.table(found.views)

    def faulting(self, leader: Leader, survivors: list[str], timeout: float) -> None:
        self.figures.update(oldLeader=leader.name, oldEpoch=leader.epoch, sessionTimeout=self.session_timeout)
        self.figures["timeout"] = timeout
        self.say(
            f"session timeout {self.session_timeout} s (negotiated, from {leader.name}'s /metrics); "
            f"giving up after {timeout:g} s"
        )
        self.container = self.compose.container(leader.name)
        self.heading(f"{self.mode} {leader.name} (epoch {leader.epoch}); survivors: {' '.join(survivors)}")
        self.stopped = True

    def issued(self, leader: Leader, at: float) -> None:
        self.say(f"{clock(at)}  docker compose {self.mode} {leader.name} issued; polling every {self.interval:g} s")

    def polled(self, reference: float, started: float, views: Views) -> None:
        cells = "  ".join(f"{name}: {_describe(view)}" for name, view in views.items())
        self.say(f"  {f'+{started - reference:.2f}s':>7}  {cells}", markup=True)

    def elected(self, trial: Trial) -> None:
        reference, label = trial.fault_at, f"docker compose {self.mode} {trial.old_leader} issued"
        # For a kill, when the container actually died (Docker's own record); for a
        # graceful stop, when it was issued (the handover happens before the exit).
        died = finished_at(self.container) if self.mode == "kill" and self.container else None
        if died is not None:
            reference, label = died, f"{trial.old_leader} died (docker inspect: State.FinishedAt)"
        elected_at = self._elected_at(trial.new_leader, trial.new_epoch)
        self.figures.update(
            newLeader=trial.new_leader,
            newEpoch=trial.new_epoch,
            faultIssuedAt=round(trial.fault_at, 6),
            referenceAt=round(reference, 6),
            reference="State.FinishedAt" if died is not None else "issued",
            electedAt=elected_at,
            failoverSeconds=None if elected_at is None else round(elected_at - reference, 3),
            pollSawSeconds=round(trial.seen_at - reference, 3),
        )
        self.heading(
            f"[green]new leader: {trial.new_leader}, epoch {trial.new_epoch}[/green] "
            f"(was {trial.old_leader}, epoch {trial.old_epoch})"
        )
        self.say(f"  {clock(reference)}  {label}")
        if elected_at is None:
            self.say(f"  (no term with epoch {trial.new_epoch} in {trial.new_leader}'s GET /leader/history)")
        else:
            self.say(f"  {clock(elected_at)}  {trial.new_leader} elected (electedAt in its GET /leader/history)")
            self.say(f"  failover time:     {elected_at - reference:.3f} s until {trial.new_leader}'s electedAt")
        self.say(f"  seen by polling:   {trial.seen_at - reference:.3f} s until the first poll that showed it")

    def _elected_at(self, name: str, epoch: int) -> float | None:
        reply = http.get(self.urls[name], "/leader/history", 2.0)
        terms = reply.body if reply.ok and isinstance(reply.body, list) else []
        times = [t.get("electedAt") for t in terms if isinstance(t, dict) and t.get("epoch") == epoch]
        return float(times[-1]) if times and isinstance(times[-1], int | float) else None

    def restoring(self, trial: Trial) -> None:
        self.heading(f"start {trial.old_leader} again; it should rejoin as a follower of {trial.new_leader}")

    def restored(self, trial: Trial) -> None:
        self.stopped = False
        # The published port may change on restart when it is not fixed.
        port = self.compose.published_port(trial.old_leader)
        if port is not None:
            self.urls[trial.old_leader] = f"http://127.0.0.1:{port}"

    def rejoined(self, trial: Trial, found: Found) -> None:
        self.figures["rejoinSeconds"] = round(found.seen_at - trial.restored_at, 3)
        self.heading(f"after the rejoin ({found.seen_at - trial.restored_at:.3f} s after docker compose start)")
        self.table(found.views)
        if found.leader.name == trial.new_leader and found.leader.epoch == trial.new_epoch:
            self.say(
                f"[green]ok[/green]: {trial.new_leader} leads with epoch {trial.new_epoch}, "
                f"{trial.old_leader} is back as a follower",
                markup=True,
            )

    def summary(self, trial: Trial) -> dict[str, Any]:
        return self.figures

    # --------------------------------------------------------------- table

    def table(self, views: Views) -> None:
        self.say(f"  {'instance':<9}{'port':<6}{'isLeader':<10}{'state':<12}{'epoch':<14}leader")
        for name, view in views.items():
            port = self.urls[name].rsplit(":", 1)[-1]
            if view is None:
                self.say(f"  {name:<9}{port:<6}[red]no answer[/red]", markup=True)
                continue
            leader = (view.get("leader") or {}).get("instance") or "-"
            flag = str(bool(view.get("isLeader"))).lower()
            line = f"  {name:<9}{port:<6}{flag:<10}{view.get('state', '?')!s:<12}{view.get('epoch')!s:<14}{leader}"
            self.say(f"[bold green]{escape(line)}[/bold green]" if view.get("isLeader") else escape(line), markup=True)


def _describe(view: View | None) -> str:
    """What one GET /leader answer says, in a few words (rich markup)."""
    if view is None:
        return "[red]no answer[/red]"
    state, epoch = view.get("state"), view.get("epoch")
    if view.get("isLeader"):
        return f"[bold green]LEADER epoch {epoch}[/bold green]"
    if state == "leader":
        return "[yellow]leader, lease not valid (isLeader false)[/yellow]"
    if state == "follower":
        leader = (view.get("leader") or {}).get("instance", "?")
        return escape(f"follower of {leader}" + (f" epoch {epoch}" if epoch is not None else ""))
    return f"[yellow]{escape(str(state or '?'))}[/yellow]"
