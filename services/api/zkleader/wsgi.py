"""The WSGI entry point gunicorn loads in each worker (``zkleader.wsgi:app``)."""

from __future__ import annotations

from .config import load_settings_or_exit
from .logs import configure_logging
from .runtime.journal_view import SharedJournal
from .runtime.paths import RuntimePaths
from .runtime.peers import PeersFile, report_path
from .runtime.stopping import draining
from .runtime.view import SharedView
from .web import create_app

settings = load_settings_or_exit()
configure_logging(settings.instance_id, settings.log_level)
app = create_app(
    SharedView(
        RuntimePaths(settings.state_dir), settings.instance_id, settings.session_timeout, role=settings.election_role
    ),
    admin_token=settings.admin_token,
    cluster=PeersFile(report_path(settings.state_dir)),
    journal=SharedJournal(RuntimePaths(settings.state_dir), settings.session_timeout),
    stepping_down=draining,
)
