"""Requests that need the participant itself, from any worker of the container.

The participant's process listens on a Unix socket in the state directory; a
request is one JSON line (``{"op": "participants"}`` or ``{"op": "resign"}``)
and so is the answer (``{"ok": true, "result": ...}`` or ``{"ok": false,
"error": "..."}``).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import threading
from collections.abc import Callable
from typing import Any

Handler = Callable[[str], Any]


class ControlUnavailable(RuntimeError):
    """No participant answers in this container (starting, or taking over)."""


class ControlServer:
    def __init__(self, path: str, handle: Handler) -> None:
        self._path = path

        class _RequestHandler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    op = json.loads(self.rfile.readline())["op"]
                    reply = {"ok": True, "result": handle(op)}
                except Exception as exc:  # noqa: BLE001 - reported to the caller
                    reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                self.wfile.write(json.dumps(reply).encode() + b"\n")

        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # left by a process that died
        self._server = socketserver.ThreadingUnixStreamServer(path, _RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="control", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def request(path: str, op: str, timeout: float) -> Any:
    """Ask the participant; raises :class:`ControlUnavailable` or ``RuntimeError``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(path)
            conn.sendall(json.dumps({"op": op}).encode() + b"\n")
            data = conn.makefile("rb").readline()
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise ControlUnavailable("no election participant is running in this container") from exc
    except TimeoutError as exc:
        raise ControlUnavailable("the election participant did not answer in time") from exc
    reply = json.loads(data)
    if not reply["ok"]:
        raise RuntimeError(reply["error"])
    return reply["result"]
