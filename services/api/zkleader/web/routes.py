"""The HTTP contract. Read endpoints answer from memory, never from ZooKeeper."""

from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ..election import ElectionState, Status
from .errors import error_response

if TYPE_CHECKING:
    from .app import ElectionView


def build_blueprint(view: ElectionView, admin_token: str | None, registry: CollectorRegistry) -> Blueprint:
    bp = Blueprint("election", __name__)

    @bp.get("/leader")
    def leader() -> ResponseReturnValue:
        return jsonify(leader_body(view.status()))

    # Role endpoints for load balancers (Patroni's /primary and /replica): the
    # status code alone says the role, decided at request time (lease included),
    # so HAProxy's `http-check expect status 200` routes to the leader only.
    # OPTIONS is answered by the view, not by Flask's automatic OPTIONS (always 200).
    def primary() -> ResponseReturnValue:
        status = view.status()
        body = leader_body(status)
        return jsonify(body), 200 if body["isLeader"] else 503

    def replica() -> ResponseReturnValue:
        status = view.status()
        enrolled_follower = status.state is ElectionState.FOLLOWER and status.enrolled
        return jsonify(leader_body(status)), 200 if enrolled_follower else 503

    for rule, endpoint in (("/primary", primary), ("/replica", replica)):
        bp.add_url_rule(rule, view_func=endpoint, methods=["GET", "OPTIONS"], provide_automatic_options=False)

    @bp.get("/leader/history")
    def history() -> ResponseReturnValue:
        return jsonify([term.to_json() for term in view.history()])

    @bp.get("/cluster")
    def cluster() -> ResponseReturnValue:
        try:
            members = view.participants()
        except Exception as exc:  # noqa: BLE001 - ZooKeeper or the participant is unavailable
            return error_response(503, f"cannot list participants: {exc}")
        return jsonify(
            {
                "participants": [
                    {
                        "instance": m.instance,
                        "address": m.address,
                        "sequence": m.sequence,
                        "isLeader": m.is_leader,
                    }
                    for m in members
                ]
            }
        )

    @bp.get("/health/live")
    def live() -> ResponseReturnValue:
        return jsonify({"status": "ok"})

    @bp.get("/health/ready")
    def ready() -> ResponseReturnValue:
        status = view.status()
        if status.enrolled and status.state in (ElectionState.LEADER, ElectionState.FOLLOWER):
            return jsonify({"ready": True, "state": status.state.value})
        reason = status.reason or f"state is {status.state.value}"
        return jsonify({"ready": False, "state": status.state.value, "reason": reason}), 503

    @bp.get("/metrics")
    def metrics() -> ResponseReturnValue:
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    @bp.post("/leader/resign")
    def resign() -> ResponseReturnValue:
        if admin_token is None:
            return error_response(404, "resign is disabled: no ADMIN_TOKEN is configured")
        supplied = request.headers.get("Authorization", "")
        if not supplied.startswith("Bearer "):
            response = error_response(401, "a bearer token is required")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        if not hmac.compare_digest(supplied[len("Bearer ") :].encode(), admin_token.encode()):
            return error_response(403, "wrong token")
        try:
            handed_over = view.resign()
        except Exception as exc:  # noqa: BLE001
            return error_response(503, f"cannot resign now: {exc}")
        if not handed_over:
            return error_response(409, "this instance does not lead")
        return jsonify({"resigned": True, "instance": view.status().instance}), 202

    return bp


def leader_body(status: Status) -> dict[str, Any]:
    """``GET /leader``'s JSON; ``isLeader`` is decided now, from the lease."""
    return {
        "isLeader": status.is_leader_at(time.monotonic()),
        "instance": status.instance,
        "state": status.state.value,
        "epoch": status.epoch,
        "leader": None
        if status.leader is None
        else {"instance": status.leader.instance, "address": status.leader.address},
    }
