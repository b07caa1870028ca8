"""The control socket: parameters, and "never sent" told apart from "no answer"."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from zkleader.runtime import control


@pytest.fixture
def socket_path(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "control.sock")


def serve(path: str, handle: control.Handler) -> control.ControlServer:
    server = control.ControlServer(path, handle)
    server.start()
    return server


def test_parameters_reach_the_handler_and_the_result_comes_back(socket_path: str) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def handle(op: str, params: dict[str, Any]) -> Any:
        seen.append((op, params))
        return {"echo": params}

    server = serve(socket_path, handle)
    try:
        assert control.request(socket_path, "journal.append", 2.0, {"message": "m", "key": None}) == {
            "echo": {"message": "m", "key": None}
        }
        assert control.request(socket_path, "participants", 2.0) == {"echo": {}}
    finally:
        server.close()
    assert seen == [("journal.append", {"message": "m", "key": None}), ("participants", {})]


def test_a_handler_error_is_a_runtime_error(socket_path: str) -> None:
    def handle(op: str, params: dict[str, Any]) -> Any:
        raise ValueError(f"unknown operation {op!r}")

    server = serve(socket_path, handle)
    try:
        with pytest.raises(RuntimeError, match="unknown operation 'nope'"):
            control.request(socket_path, "nope", 2.0)
    finally:
        server.close()


def test_no_participant_means_nothing_was_sent(socket_path: str) -> None:
    with pytest.raises(control.ControlUnavailable) as caught:
        control.request(socket_path, "journal.append", 1.0, {"message": "m"})
    assert not isinstance(caught.value, control.ControlNoReply)


def test_a_request_without_an_answer_is_no_reply(socket_path: str) -> None:
    release = threading.Event()

    def handle(op: str, params: dict[str, Any]) -> Any:
        release.wait(5)
        return None

    server = serve(socket_path, handle)
    try:
        with pytest.raises(control.ControlNoReply):
            control.request(socket_path, "journal.append", 0.2, {"message": "m"})
    finally:
        release.set()
        server.close()


def test_the_shared_journal_maps_control_failures_to_outcomes(tmp_path: Path) -> None:
    from zkleader.journal import AppendOutcome
    from zkleader.runtime.journal_view import SharedJournal
    from zkleader.runtime.paths import RuntimePaths

    paths = RuntimePaths(str(tmp_path))
    journal = SharedJournal(paths, session_timeout=0.1)  # control timeout 0.3 s
    assert journal.append("m", None).outcome is AppendOutcome.UNAVAILABLE  # nothing listens: nothing sent

    release = threading.Event()
    server = serve(paths.control_socket, lambda op, params: release.wait(5))
    try:
        assert journal.append("m", "k").outcome is AppendOutcome.UNKNOWN  # sent, no answer
    finally:
        release.set()
        server.close()


def test_a_request_never_taken_by_a_closing_participant_means_nothing_was_sent(socket_path: str) -> None:
    """A participant that closes its socket with our connection still in its
    backlog never read the request: that is "nothing sent" (a 503 a balancer
    may retry elsewhere), not "no answer" (a 504, outcome unknown)."""
    import socket

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(1)  # never accepts
    outcome: list[BaseException] = []

    def ask() -> None:
        try:
            control.request(socket_path, "journal.append", 2.0, {"message": "m"})
        except BaseException as exc:  # noqa: BLE001 - inspected below
            outcome.append(exc)

    asker = threading.Thread(target=ask)
    asker.start()
    threading.Event().wait(0.2)  # connected, waiting in the backlog
    listener.close()
    asker.join(5)
    assert len(outcome) == 1
    assert isinstance(outcome[0], control.ControlUnavailable)
    assert not isinstance(outcome[0], control.ControlNoReply), outcome[0]


def test_a_full_backlog_is_waited_out_then_reported_as_nothing_sent(socket_path: str) -> None:
    """A Unix socket whose backlog is full refuses ``connect`` at once with
    EAGAIN (a burst of appends from every worker): that is "busy, nothing
    sent", retried within the timeout, never an unhandled error (a 500)."""
    import socket
    import time

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(0)  # never accepts
    queued = []
    try:
        for _ in range(8):  # fill the backlog
            filler = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            filler.setblocking(False)
            try:
                filler.connect(socket_path)
            except BlockingIOError:
                filler.close()
                break
            queued.append(filler)
        started = time.monotonic()
        with pytest.raises(control.ControlUnavailable) as caught:
            control.request(socket_path, "journal.append", 0.3, {"message": "m"})
        assert not isinstance(caught.value, control.ControlNoReply)
        assert time.monotonic() - started >= 0.25, "gave up before its timeout"
    finally:
        for filler in queued:
            filler.close()
        listener.close()


def test_a_caller_that_goes_away_is_logged_not_printed(socket_path: str, capfd: pytest.CaptureFixture[str]) -> None:
    """socketserver prints a handler's exception to stderr, a multi-line
    traceback among the JSON log lines; a caller that gave up (its timeout)
    is logged as one line instead."""
    import socket
    import time

    server = serve(socket_path, lambda op, params: None)
    try:
        for _ in range(3):
            gone = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            gone.connect(socket_path)
            gone.close()
        time.sleep(0.3)
        assert control.request(socket_path, "participants", 2.0) is None  # still serving
    finally:
        server.close()
    assert "Traceback" not in capfd.readouterr().err
