"""Flask application factory. Knows the election only through ``ElectionView``."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from .cluster import ClusterCollector, ClusterSource, build_cluster_blueprint
from .errors import register_error_handlers
from .journal import JournalView, build_journal_blueprint
from .metrics import ElectionCollector, make_registry
from .page import build_page_blueprint
from .routes import build_blueprint
from .view import ElectionView


def create_app(
    view: ElectionView,
    *,
    admin_token: str | None,
    cluster: ClusterSource | None = None,
    journal: JournalView | None = None,
    stepping_down: Callable[[], bool] = lambda: False,
) -> Flask:
    """``cluster``: the peer poller's reports (``/cluster``, the page);
    ``journal``: the fenced journal's routes (``/journal``), when given;
    ``stepping_down``: true once this process drains before a graceful stop
    (then a leader answers 404 on ``/primary``)."""
    app = Flask("zkleader", static_folder=None)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    registry = make_registry(ElectionCollector(view))
    registry.register(ClusterCollector(cluster))
    app.register_blueprint(build_blueprint(view, admin_token, registry, stepping_down))
    app.register_blueprint(build_cluster_blueprint(view, cluster))  # /cluster, /cluster/terms
    app.register_blueprint(build_page_blueprint())  # the live page at /
    if journal is not None:
        app.register_blueprint(build_journal_blueprint(journal))
    register_error_handlers(app)
    return app
