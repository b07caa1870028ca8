"""gunicorn settings and lifecycle hooks for one API instance.

Workers and threads may be raised freely: the election participant runs in
exactly one worker (see ``zkleader.runtime``), started after the fork.
"""

import os

from zkleader.config import load_settings_or_exit
from zkleader.logs import configure_logging, logging_config

# Fail fast, before any worker starts, on bad configuration.
_settings = load_settings_or_exit()
configure_logging(_settings.instance_id, _settings.log_level)

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = _settings.gunicorn_workers
threads = _settings.gunicorn_threads
worker_class = "gthread"
preload_app = False  # the kazoo client must never exist before a fork
graceful_timeout = 8
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = _settings.log_level.lower()
logconfig_dict = logging_config(_settings.instance_id, _settings.log_level)  # JSON lines, master included
control_socket_disable = True  # gunicorn 23+'s admin socket: unused, and it wants a home directory


def post_worker_init(worker):
    from zkleader.runtime import stopping
    from zkleader.runtime import worker as runtime

    # SIGTERM: drain, stop listening, hand over; requests in flight finish.
    stopping.install(worker, _settings.drain_seconds, then=runtime.stop)
    # A stopping worker never takes the participant over (its drain keeps `alive` true).
    runtime.start(_settings, worker_alive=lambda: worker.alive and not stopping.draining())


def worker_exit(server, worker):
    from zkleader.runtime import worker as runtime

    runtime.stop()  # at once if the handover above did not run; else waits for it
