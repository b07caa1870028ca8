"""Requests that need the participant itself, from any worker of the container.

The participant's process listens on a Unix socket in the state directory; a
request is one JSON line (``{"op": "participants"}``, ``{"op": "resign"}``, or
with parameters ``{"op": "journal.append", "params": {...}}``) and so is the
answer (``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``).

The participant first writes one byte, :data:`TAKEN`, when it takes a
connection, and the caller sends its request only after reading it. A
participant that closes (a graceful stop) with a connection still in its
backlog therefore never received that request, and the caller knows it:
"nothing was sent" (safe to retry anywhere) is told apart from "sent, but no
answer" (the outcome is unknown).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("zkleader.runtime")

TAKEN = b"+"
Handler = Callable[[str, dict[str, Any]], Any]
"""``(op, params) -> result``; runs on one of the server's threads."""


class ControlUnavailable(RuntimeError):
    """No participant answers in this container (starting, or taking over)."""


class ControlNoReply(ControlUnavailable):
    """The request was sent but no answer came: it may have been carried out."""


class _Server(socketserver.ThreadingUnixStreamServer):
    # Every worker thread of every gunicorn worker may append at once; the
    # default backlog of 5 turns a burst into refused connections.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """socketserver would print the traceback to stderr, among the JSON log lines."""
        log.warning("a control request failed", exc_info=True)


class ControlServer:
    def __init__(self, path: str, handle: Handler) -> None:
        self._path = path

        class _RequestHandler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    self.wfile.write(TAKEN)
                    line = self.rfile.readline()
                except OSError:
                    return  # the caller gave up before its request was taken: nothing done
                if not line:
                    return  # the caller went away without asking
                op = "?"
                try:
                    message = json.loads(line)
                    op = str(message["op"])
                    reply = {"ok": True, "result": handle(op, message.get("params") or {})}
                except Exception as exc:  # noqa: BLE001 - reported to the caller
                    reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                try:
                    self.wfile.write(json.dumps(reply).encode() + b"\n")
                except OSError as exc:
                    log.warning("the caller of %r went away before its answer: %s", op, exc)

        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # left by a process that died
        self._server = _Server(path, _RequestHandler)
        self._server.daemon_threads = True
        # shutdown() waits for the loop to notice (every poll_interval): keep the handover quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="control", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop serving and close the socket; returns at once when never started.

        ``shutdown()`` waits for ``serve_forever`` to stop, forever if it never
        ran (a participant whose start failed earlier); once the thread has
        started it returns within a poll, even if the loop had not begun yet."""
        if self._thread.ident is not None:
            self._server.shutdown()
        self._server.server_close()


def request(path: str, op: str, timeout: float, params: dict[str, Any] | None = None) -> Any:
    """Ask the participant; raises :class:`ControlUnavailable` when nothing was
    sent, :class:`ControlNoReply` when the request went out unanswered, or
    ``RuntimeError`` with the participant's error."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        _connect(conn, path, deadline)
        reader = conn.makefile("rb")
        try:
            taken = reader.read(1)
        except (TimeoutError, ConnectionError) as exc:
            raise ControlUnavailable("the election participant did not take the request") from exc
        if taken != TAKEN:
            raise ControlUnavailable("the election participant closed without taking the request (stopping)")
        message = {"op": op} if params is None else {"op": op, "params": params}
        try:
            conn.sendall(json.dumps(message).encode() + b"\n")
            data = reader.readline()
        except (TimeoutError, ConnectionError) as exc:
            raise ControlNoReply("the election participant did not answer in time") from exc
    if not data:
        raise ControlNoReply("the election participant closed the connection without answering")
    reply = json.loads(data)
    if not reply["ok"]:
        raise RuntimeError(reply["error"])
    return reply["result"]


def _connect(conn: socket.socket, path: str, deadline: float) -> None:
    """Connect, waiting out a full backlog: a Unix socket refuses at once with
    EAGAIN then (nothing was sent), so try again until ``deadline``."""
    pause = 0.001
    while True:
        try:
            conn.connect(path)
            return
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise ControlUnavailable("no election participant is running in this container") from exc
        except TimeoutError as exc:
            raise ControlUnavailable("the election participant did not accept the request in time") from exc
        except BlockingIOError as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ControlUnavailable("the election participant is too busy to take the request") from exc
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.05)
