"""The ``switchover`` control operation: designate a candidate, wait until the
instances themselves report the hand-over, and always withdraw the request.

Runs in the participant's process on a control-socket thread (never on the
election worker). The election core does the hand-over (the leader and every
lowest non-candidate step aside, :mod:`..election.switchover`); this side only
asks and confirms: the candidate answers ``/leader`` as leader with an epoch
above the old one, and the old leader answers that it no longer leads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from .. import (
    LeaderElection,
    Requested,
    SwitchoverRefused,
    SwitchoverRequester,
    SwitchoverResult,
    designation_duration,
    switchover_wait,
)
from . import peers

log = logging.getLogger("zkleader.switchover")

OPERATION = "switchover"
POLL = 0.02
"""Seconds between two looks at the candidate and the old leader."""


class SwitchoverDesk:
    """``known``: instance names seen before (to tell "not enrolled" from "unknown")."""

    def __init__(
        self,
        election: LeaderElection,
        known: Callable[[], set[str]],
        fetch: peers.Fetch = peers.fetch_leader,
    ) -> None:
        self._election = election
        self._known = known
        self._fetch = fetch

    def handle(self, params: dict[str, Any]) -> dict[str, Any]:
        """``{"candidate": name}`` -> :class:`SwitchoverResult` as JSON."""
        return self.switchover(str(params["candidate"])).to_json()

    def switchover(self, candidate: str) -> SwitchoverResult:
        timeout = self._election.status.session_timeout
        requester = SwitchoverRequester(self._election, timeout)
        me = self._election.identity.instance
        asked = time.monotonic()
        try:
            requested = requester.request(candidate, me, designation_duration(timeout), self._known)
        except SwitchoverRefused as refused:
            return SwitchoverResult(refused.kind, str(refused))
        log.info("switchover requested", extra={"candidate": candidate, "from": requested.previous_instance})
        try:
            done = self._confirm(requested, asked + switchover_wait(timeout))
        finally:
            withdrawn = requester.withdraw(requested)
        if done is not None:
            seconds = round(time.monotonic() - asked, 3)
            return SwitchoverResult("done", f"{candidate} leads", {**done, "requestedBy": me, "seconds": seconds})
        leader = self._election.status.leader
        who = f"{leader.instance} leads (epoch {leader.epoch})" if leader else "nobody leads now"
        withdrawn_note = "request withdrawn" if withdrawn else "request already gone"
        return SwitchoverResult(
            "not-completed",
            f"switchover to {candidate} did not complete within {switchover_wait(timeout):g} s "
            f"({withdrawn_note}); {who}",
        )

    def _confirm(self, requested: Requested, deadline: float) -> dict[str, Any] | None:
        """The hand-over as the two instances report it, or None at the deadline."""
        candidate = requested.designation.candidate_instance
        while time.monotonic() < deadline:
            new = self._ask(requested.candidate_address)
            if new is not None and new.get("isLeader") is True and _epoch(new) > requested.previous_epoch:
                old = self._ask(requested.previous_address)
                if old is not None and old.get("isLeader") is False:
                    return {
                        "leader": candidate,
                        "epoch": _epoch(new),
                        "previous": {
                            "instance": requested.previous_instance,
                            "epoch": requested.previous_epoch,
                            "state": old.get("state"),
                        },
                    }
            time.sleep(POLL)
        return None

    def _ask(self, address: str) -> dict[str, Any] | None:
        try:
            return self._fetch(address, 0.5)
        except Exception:  # noqa: BLE001 - not answering is "not confirmed yet"
            return None


def _epoch(view: dict[str, Any]) -> int:
    epoch = view.get("epoch")
    return epoch if isinstance(epoch, int) else -1
