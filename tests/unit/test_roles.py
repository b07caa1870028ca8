"""/primary and /replica: the status code alone tells a load balancer the role."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from flask.testing import FlaskClient

from zkleader.election import ElectionState
from zkleader.web import create_app

from .test_web import TOKEN, FakeView, following, leading

METHODS = ("GET", "HEAD", "OPTIONS")


@pytest.fixture
def view() -> FakeView:
    return FakeView(current=leading())


@pytest.fixture
def client(view: FakeView) -> FlaskClient:
    return create_app(view, admin_token=TOKEN).test_client()


@pytest.mark.parametrize("method", METHODS)
def test_primary_is_200_on_the_leader_and_replica_503(client: FlaskClient, method: str) -> None:
    assert client.open("/primary", method=method).status_code == 200
    assert client.open("/replica", method=method).status_code == 503


@pytest.mark.parametrize("method", METHODS)
def test_replica_is_200_on_an_enrolled_follower_and_primary_503(
    client: FlaskClient, view: FakeView, method: str
) -> None:
    view.current = following()
    assert client.open("/primary", method=method).status_code == 503
    assert client.open("/replica", method=method).status_code == 200


def test_the_body_is_the_leader_body(client: FlaskClient, view: FakeView) -> None:
    assert client.get("/primary").get_json() == client.get("/leader").get_json()
    view.current = following()
    assert client.get("/replica").get_json() == client.get("/leader").get_json()
    assert client.get("/primary").get_json() == client.get("/leader").get_json()


def test_an_expired_lease_is_not_primary_at_request_time(client: FlaskClient, view: FakeView) -> None:
    view.current = replace(leading(), lease_deadline=time.monotonic() + 0.05)
    assert client.get("/primary").status_code == 200
    time.sleep(0.06)
    assert client.get("/primary").status_code == 503
    assert client.get("/replica").status_code == 503  # still in leader state: not a follower either
    assert client.get("/leader").status_code == 200  # /leader itself always answers 200


@pytest.mark.parametrize("state", ["connecting", "suspended", "stopped"])
def test_neither_role_while_not_connected(client: FlaskClient, view: FakeView, state: str) -> None:
    view.current = replace(following(), state=ElectionState(state), leader=None, epoch=None, enrolled=False)
    for method in METHODS:
        assert client.open("/primary", method=method).status_code == 503
        assert client.open("/replica", method=method).status_code == 503


def test_a_follower_not_enrolled_is_no_replica(client: FlaskClient, view: FakeView) -> None:
    view.current = replace(following(), enrolled=False)
    assert client.get("/replica").status_code == 503


def test_other_methods_are_refused(client: FlaskClient) -> None:
    response = client.post("/primary")
    assert response.status_code == 405 and response.get_json()["status"] == 405


@pytest.mark.parametrize("method", METHODS)
def test_a_draining_leader_answers_404_on_primary_and_a_draining_follower_503(view: FakeView, method: str) -> None:
    """404 while a leader drains before a graceful stop: HAProxy's
    `disable-on-404` sends it nothing new but lets what it sent finish."""
    client = create_app(view, admin_token=TOKEN, stepping_down=lambda: True).test_client()
    assert client.open("/primary", method=method).status_code == 404
    assert client.get("/leader").get_json()["isLeader"] is True  # still leading meanwhile
    view.current = following()
    assert client.open("/primary", method=method).status_code == 503
