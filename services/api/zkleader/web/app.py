"""Flask application factory. Knows the election only through ``ElectionView``."""

from __future__ import annotations

from typing import Protocol

from flask import Flask

from ..election import Participant, Status, Term
from .cluster import ClusterCollector, ClusterSource, build_cluster_blueprint
from .errors import register_error_handlers
from .metrics import ElectionCollector, make_registry
from .page import build_page_blueprint
from .routes import build_blueprint


class ElectionView(Protocol):
    """What the web layer may ask about this instance's participant.

    ``status`` and ``history`` answer from memory and never wait on ZooKeeper;
    ``participants`` and ``resign`` may. Whether the instance may act as
    leader is ``status().is_leader_at(now)``, decided at read time.
    """

    def status(self) -> Status: ...

    def history(self) -> list[Term]: ...

    def participants(self) -> list[Participant]: ...

    def resign(self) -> bool: ...


def create_app(view: ElectionView, *, admin_token: str | None, cluster: ClusterSource | None = None) -> Flask:
    app = Flask("zkleader", static_folder=None)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    registry = make_registry(ElectionCollector(view))
    registry.register(ClusterCollector(cluster))  # issue 13
    app.register_blueprint(build_blueprint(view, admin_token, registry))
    app.register_blueprint(build_cluster_blueprint(view, cluster))  # issue 13: /cluster, /cluster/terms
    app.register_blueprint(build_page_blueprint())  # issue 13: the live page at /
    register_error_handlers(app)
    return app
