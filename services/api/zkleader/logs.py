"""One JSON object per log line, each carrying the instance id."""

from __future__ import annotations

import json
import logging
import logging.config
import time
from typing import Any

# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, instance: str) -> None:
        super().__init__()
        self._instance = instance

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "instance": self._instance,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def logging_config(instance: str, level: str) -> dict[str, Any]:
    """A ``dictConfig`` that sends every logger (ours, kazoo's, gunicorn's) to
    JSON on stdout; gunicorn takes it as ``logconfig_dict`` so that even its
    master's lines are JSON."""
    quiet = "WARNING" if logging.getLevelName(level) < logging.WARNING else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter, "instance": instance}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            # kazoo logs every reconnect attempt at INFO; keep its warnings.
            "kazoo": {"level": quiet},
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": level, "handlers": [], "propagate": True},
        },
    }


def configure_logging(instance: str, level: str) -> None:
    """Outside gunicorn (or again inside a worker): the same configuration."""
    logging.config.dictConfig(logging_config(instance, level))
