"""Sending a write on to the leader, telling "never sent" from "sent, no answer".

Only a failure before the request went out may be retried; after that the
write may have happened, and the caller must say the outcome is unknown.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

FORWARDED_HEADER = "Zkleader-Forwarded"
"""Set on a forwarded write, naming the instance that forwarded it: the
receiver appends or refuses, but never holds or forwards it again."""


@dataclass(frozen=True)
class Forwarded:
    """``status`` None: not sent (safe to retry); ``lost``: sent, no answer."""

    status: int | None
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    lost: bool = False
    error: str | None = None


def forward(
    address: str,
    body: bytes,
    headers: dict[str, str],
    *,
    connect_timeout: float,
    timeout: float,
) -> Forwarded:
    """POST ``body`` to ``address``/journal (``address``: the leader's advertised URL)."""
    url = urlsplit(address)
    if url.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(url.netloc, timeout=connect_timeout)
    else:
        conn = http.client.HTTPConnection(url.netloc, timeout=connect_timeout)
    try:
        try:
            conn.connect()
        except OSError as exc:
            return Forwarded(None, error=f"{type(exc).__name__}: {exc}")
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        try:
            conn.request("POST", "/journal", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            return Forwarded(None, lost=True, error=f"{type(exc).__name__}: {exc}")
        try:
            decoded = json.loads(payload)
        except ValueError:
            decoded = {"error": payload[:200].decode(errors="replace")}
        kept = {k: v for k, v in response.getheaders() if k.lower() == "idempotent-replayed"}
        return Forwarded(response.status, decoded if isinstance(decoded, dict) else {}, kept)
    finally:
        conn.close()
