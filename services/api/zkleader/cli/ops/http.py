"""Reading the instances' HTTP API: an answer, or one line saying why there is none.

Standard library only (urllib), so the command works in the API image, which
carries nothing it does not need. Nothing here raises for an instance that is
down, slow or answering garbage: callers get a :class:`Reply` with ``error``.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Reply:
    """One HTTP exchange. ``status`` is None when no HTTP answer came back;
    ``body`` is the parsed JSON (or the text when it is not JSON)."""

    url: str
    status: int | None
    body: Any
    error: str | None = None

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def message(self) -> str:
        """The server's own error text (``{"error": ...}``), else the status."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), str):
            return str(self.body["error"])
        return f"HTTP {self.status}"


def request(
    url: str,
    *,
    method: str = "GET",
    timeout: float = 2.0,
    headers: Mapping[str, str] | None = None,
    payload: Any = None,
) -> Reply:
    """Send one request; never raises for network trouble or a bad body."""
    data = None if payload is None else json.dumps(payload).encode()
    all_headers = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Reply(url, response.status, _parse(response.read()))
    except urllib.error.HTTPError as exc:
        with exc:
            return Reply(url, exc.code, _parse(exc.read()))
    except urllib.error.URLError as exc:
        return Reply(url, None, None, _reason(exc.reason, timeout))
    except TimeoutError:
        return Reply(url, None, None, f"no answer within {timeout:g} s")
    except (OSError, ValueError) as exc:  # reset mid-answer, malformed URL, ...
        return Reply(url, None, None, _reason(exc, timeout))


def get(base_url: str, path: str, timeout: float = 2.0) -> Reply:
    return request(base_url.rstrip("/") + path, timeout=timeout)


def each(func: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``func`` over ``items`` at the same time (so one slow instance costs one
    timeout, not one each), results in the order of ``items``."""
    items = list(items)
    if len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(16, len(items))) as pool:
        return list(pool.map(func, items))


def _parse(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _reason(reason: object, timeout: float) -> str:
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"unknown host ({reason.strerror})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__
