"""Password guessing is slowed down: a name (or an address) with too many failed sign-ins waits."""

from __future__ import annotations

from landrelease.service.throttle import FIRST_LOCKOUT_S, MAX_LOCKOUT_S, WINDOW_S, LoginThrottle
from tests.service.conftest import PASSWORD, Programme


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_lock_the_name_and_each_more_doubles_the_wait() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    name = "name:alice"
    for _ in range(4):
        throttle.failed(name)
        assert throttle.wait(name) == 0
    throttle.failed(name)
    assert throttle.wait(name) == FIRST_LOCKOUT_S
    throttle.failed(name)
    assert throttle.wait(name) == 2 * FIRST_LOCKOUT_S
    clock.now += 2 * FIRST_LOCKOUT_S
    assert throttle.wait(name) == 0
    for _ in range(20):
        throttle.failed(name)
    assert throttle.wait(name) == MAX_LOCKOUT_S
    assert throttle.wait("name:bob") == 0


def test_old_failures_are_forgotten_and_success_clears_the_name() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(4):
        throttle.failed("name:alice")
    clock.now += WINDOW_S + 1
    throttle.failed("name:alice")
    assert throttle.wait("name:alice") == 0
    for _ in range(4):
        throttle.failed("name:alice")
    throttle.succeeded("name:alice")
    throttle.failed("name:alice")
    assert throttle.wait("name:alice") == 0


def test_an_address_gets_more_room_than_a_name() -> None:
    throttle = LoginThrottle(clock=Clock())
    for i in range(29):
        throttle.failed(f"name:user{i}", "address:10.0.0.1")
    assert throttle.wait("name:new", "address:10.0.0.1") == 0
    throttle.failed("name:other", "address:10.0.0.1")
    assert throttle.wait("name:new", "address:10.0.0.1") > 0


def test_the_sixth_wrong_password_is_refused_before_it_is_checked(programme: Programme) -> None:
    client = programme.client("anonymous")
    for _ in range(5):
        assert client.post("/api/login", json={"name": "reviewer", "password": "guess"}).status_code == 401
    locked = client.post("/api/login", json={"name": "reviewer", "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= FIRST_LOCKOUT_S - 1
    assert "too many failed sign-ins" in locked.json()["error"]
    # Someone else signing in from the same address is not locked out by it.
    assert client.post("/api/login", json={"name": "viewer", "password": PASSWORD}).status_code == 200
