"""The HTTP contract. Read endpoints answer from memory, never from ZooKeeper."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from .. import ElectionState, Status, lease_clock
from .bodies import BodyError, parse_json
from .errors import error_response
from .view import ElectionView

SWITCHOVER_STATUS = {"done": 202, "not-eligible": 412, "busy": 409, "no-leader": 503, "not-completed": 503}
"""HTTP status of each switchover outcome (:class:`~zkleader.election.switchover.SwitchoverResult`)."""


def refused_admin(admin_token: str | None, what: str) -> Response | None:
    """The bearer-token check of the admin routes: 404 when no ADMIN_TOKEN is
    configured, 401 without a bearer token, 403 for a wrong one; None when allowed."""
    if admin_token is None:
        return error_response(404, f"{what} is disabled: no ADMIN_TOKEN is configured")
    supplied = request.headers.get("Authorization", "")
    if not supplied.startswith("Bearer "):
        response = error_response(401, "a bearer token is required")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    if not hmac.compare_digest(supplied[len("Bearer ") :].encode(), admin_token.encode()):
        return error_response(403, "wrong token")
    return None


def build_blueprint(
    view: ElectionView,
    admin_token: str | None,
    registry: CollectorRegistry,
    stepping_down: Callable[[], bool] = lambda: False,
) -> Blueprint:
    bp = Blueprint("election", __name__)

    @bp.get("/leader")
    def leader() -> ResponseReturnValue:
        return jsonify(leader_body(view.status(), with_lease=request.args.get("include") == "lease"))

    # Role endpoints for load balancers (Patroni's /primary and /replica): the
    # status code alone says the role, decided at request time (lease included),
    # so HAProxy's `http-check expect status 200` routes to the leader only.
    # OPTIONS is answered by the view, not by Flask's automatic OPTIONS (always 200).
    # A leader draining before a graceful stop answers 404: still leading and
    # serving what was sent, but no longer to be sent more (HAProxy's
    # `http-check disable-on-404`; see zkleader.runtime.stopping).
    def primary() -> ResponseReturnValue:
        status = view.status()
        body = leader_body(status)
        if not body["isLeader"]:
            return jsonify(body), 503
        return jsonify(body), 404 if stepping_down() else 200

    def replica() -> ResponseReturnValue:
        # An observer is never an enrolled follower: 503, as for any non-member.
        status = view.status()
        enrolled_follower = status.state is ElectionState.FOLLOWER and status.enrolled
        return jsonify(leader_body(status)), 200 if enrolled_follower else 503

    for rule, endpoint in (("/primary", primary), ("/replica", replica)):
        bp.add_url_rule(rule, view_func=endpoint, methods=["GET", "OPTIONS"], provide_automatic_options=False)

    @bp.get("/leader/history")
    def history() -> ResponseReturnValue:
        return jsonify([term.to_json() for term in view.history()])

    @bp.get("/health/live")
    def live() -> ResponseReturnValue:
        """Fails when the election worker is wedged (Patroni's liveness, client-go's
        HealthzAdaptor): a restart is then the only way out. Not being leader,
        or ZooKeeper being away, is readiness, not liveness."""
        liveness = view.liveness()
        body = {"status": "ok" if liveness.alive else "stalled", **liveness.to_json()}
        return jsonify(body), 200 if liveness.alive else 503

    @bp.get("/health/ready")
    def ready() -> ResponseReturnValue:
        status = view.status()
        if status.enrolled and status.state in (ElectionState.LEADER, ElectionState.FOLLOWER):
            return jsonify({"ready": True, "state": status.state.value})
        if status.state is ElectionState.OBSERVER:  # connected and watching: it serves
            return jsonify({"ready": True, "state": status.state.value})
        reason = status.reason or f"state is {status.state.value}"
        return jsonify({"ready": False, "state": status.state.value, "reason": reason}), 503

    @bp.get("/metrics")
    def metrics() -> ResponseReturnValue:
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    @bp.post("/leader/resign")
    def resign() -> ResponseReturnValue:
        refused = refused_admin(admin_token, "resign")
        if refused is not None:
            return refused
        try:
            handed_over = view.resign()
        except Exception as exc:  # noqa: BLE001
            return error_response(503, f"cannot resign now: {exc}")
        if not handed_over:
            return error_response(409, "this instance does not lead")
        return jsonify({"resigned": True, "instance": view.status().instance}), 202

    @bp.post("/leader/switchover")
    def switchover() -> ResponseReturnValue:
        """Hand leadership to the named candidate; answers once the instances
        report it (202), or why not (docs/switchover.md)."""
        refused = refused_admin(admin_token, "switchover")
        if refused is not None:
            return refused
        try:
            body = parse_json(request.get_data(cache=False))
        except BodyError:
            body = None
        candidate = body.get("candidate") if isinstance(body, dict) else None
        if not isinstance(candidate, str) or not candidate:
            return error_response(400, 'send {"candidate": "<instance>"} as JSON')
        try:
            result = view.switchover(candidate)
        except Exception as exc:  # noqa: BLE001
            return error_response(503, f"cannot switch over now: {exc}")
        status = SWITCHOVER_STATUS.get(result.outcome, 500)
        if status != 202:
            return error_response(status, result.message)
        return jsonify({"switchedOver": True, "candidate": candidate, **result.detail}), 202

    return bp


def leader_body(status: Status, *, with_lease: bool = False) -> dict[str, Any]:
    """``GET /leader``'s JSON; ``isLeader`` is decided now, from the lease.

    ``with_lease`` (``?include=lease``) adds ``leaseRemaining``: seconds this
    leader may still act without renewing, null when not leading. Only on
    request: a countdown would make two answers about the same leadership differ.
    """
    instant = lease_clock()  # one read decides both fields
    is_leader = status.is_leader_at(instant)
    body: dict[str, Any] = {
        "isLeader": is_leader,
        "instance": status.instance,
        "state": status.state.value,
        "role": status.role,
        "epoch": status.epoch,
        "leader": None
        if status.leader is None
        else {"instance": status.leader.instance, "address": status.leader.address},
    }
    if with_lease:
        body["leaseRemaining"] = (
            round(status.lease_deadline - instant, 3) if is_leader and status.lease_deadline is not None else None
        )
    return body
