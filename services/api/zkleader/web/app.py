"""Flask application factory. Knows the election only through ``ElectionView``."""

from __future__ import annotations

from typing import Protocol

from flask import Flask

from ..election import Participant, Status, Term
from .errors import register_error_handlers
from .journal import JournalView, build_journal_blueprint
from .metrics import ElectionCollector, make_registry
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


def create_app(view: ElectionView, *, admin_token: str | None, journal: JournalView | None = None) -> Flask:
    """``journal``: the fenced journal's routes (``/journal``), when given."""
    app = Flask("zkleader")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    registry = make_registry(ElectionCollector(view))
    app.register_blueprint(build_blueprint(view, admin_token, registry))
    if journal is not None:
        app.register_blueprint(build_journal_blueprint(journal))
    register_error_handlers(app)
    return app
