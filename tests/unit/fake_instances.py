"""Fake API instances on loopback HTTP servers, for the command's unit tests.

They share one :class:`FakeCluster` and answer the endpoints the ``zkleader``
command reads (``/leader``, ``/leader/history``, ``/cluster``, ``/journal``,
``POST /leader/resign``, ``POST /leader/switchover``) as the real service does.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeCluster:
    names: list[str]
    leader: str
    epoch: int = 100
    token: str | None = "secret"
    journal: list[dict[str, Any]] | None = None  # None: the endpoint does not exist (404)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hand_over(self, to: str) -> None:
        with self.lock:
            self.leader, self.epoch = to, self.epoch + 1

    def view(self, name: str) -> dict[str, Any]:
        with self.lock:
            leading = name == self.leader
            return {
                "isLeader": leading,
                "instance": name,
                "state": "leader" if leading else "follower",
                "epoch": self.epoch,
                "leader": {"instance": self.leader, "address": f"http://{self.leader}:8000"},
                "leaseRemaining": 5.5 if leading else None,
            }


def _handler(cluster: FakeCluster, name: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def send(self, status: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/leader":
                self.send(200, cluster.view(name))
            elif url.path == "/leader/history":
                self.send(200, cluster.history.get(name, []))
            elif url.path == "/cluster":
                participants = [
                    {"instance": n, "address": f"http://{n}:8000", "sequence": i + 1, "isLeader": n == cluster.leader}
                    for i, n in enumerate(cluster.names)
                ]
                self.send(200, {"participants": participants})
            elif url.path == "/journal" and cluster.journal is not None:
                after = int(query.get("after", ["0"])[0])
                limit = int(query.get("limit", ["100"])[0])
                self.send(200, [e for e in cluster.journal if e["seq"] > after][:limit])
            else:
                self.send(404, {"error": f"no such endpoint: {url.path}"})

        def do_POST(self) -> None:
            if self.path == "/leader/switchover":
                self.switchover()
            elif self.path != "/leader/resign":
                self.send(404, {"error": "no such endpoint"})
            elif cluster.token is None:
                self.send(404, {"error": "resign is disabled: no ADMIN_TOKEN is configured"})
            elif self.headers.get("Authorization") != f"Bearer {cluster.token}":
                self.send(403, {"error": "wrong token"})
            elif name != cluster.leader:
                self.send(409, {"error": "this instance does not lead"})
            else:
                successor = next(n for n in cluster.names if n != name)
                threading.Timer(0.1, cluster.hand_over, args=(successor,)).start()
                self.send(202, {"resigned": True, "instance": name})

        def switchover(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            candidate = json.loads(self.rfile.read(length) or b"{}").get("candidate")
            if cluster.token is None:
                self.send(404, {"status": 404, "error": "switchover is disabled: no ADMIN_TOKEN is configured"})
            elif self.headers.get("Authorization") != f"Bearer {cluster.token}":
                self.send(403, {"status": 403, "error": "wrong token"})
            elif candidate not in cluster.names:
                self.send(412, {"status": 412, "error": f"{candidate} is unknown: no such member"})
            elif candidate == cluster.leader:
                self.send(412, {"status": 412, "error": f"{candidate} is already the leader"})
            else:
                previous, epoch = cluster.leader, cluster.epoch
                cluster.hand_over(candidate)
                body = {
                    "switchedOver": True,
                    "candidate": candidate,
                    "leader": candidate,
                    "epoch": cluster.epoch,
                    "previous": {"instance": previous, "epoch": epoch, "state": "follower"},
                    "requestedBy": name,
                    "seconds": 0.05,
                }
                self.send(202, body)

    return Handler


@contextmanager
def serve(cluster: FakeCluster) -> Iterator[dict[str, str]]:
    """Serve every instance of ``cluster``; yields name -> base URL."""
    servers = {name: ThreadingHTTPServer(("127.0.0.1", 0), _handler(cluster, name)) for name in cluster.names}
    threads = [threading.Thread(target=s.serve_forever, args=(0.02,), daemon=True) for s in servers.values()]
    for thread in threads:
        thread.start()
    try:
        yield {name: f"http://127.0.0.1:{s.server_address[1]}" for name, s in servers.items()}
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
