"""Login throttling: a back-off per name and per address that grows, is capped, and always opens again."""

import pytest

from backend.access.login_guard import BackoffPolicy, LoginGuard

ACCOUNT = BackoffPolicy(free_failures=3, first_delay=2.0, max_delay=10.0, forget_after=100.0)
ADDRESS = BackoffPolicy(free_failures=5, first_delay=2.0, max_delay=10.0, forget_after=100.0)


def _guard() -> LoginGuard:
    return LoginGuard(account=ACCOUNT, address=ADDRESS)


def test_the_free_failures_cost_nothing_then_each_failure_closes_the_name_longer() -> None:
    guard = _guard()
    for _ in range(3):
        guard.failed(username="alice", address="10.0.0.1", now=0.0)
        assert guard.wait(username="alice", address="10.0.0.1", now=0.0) == 0
    guard.failed(username="alice", address="10.0.0.1", now=0.0)
    assert guard.wait(username="alice", address="10.0.0.2", now=0.0) == 2.0  # any address: the name is closed
    assert guard.wait(username="alice", address="10.0.0.2", now=2.0) == 0
    guard.failed(username="alice", address="10.0.0.2", now=2.0)
    assert guard.wait(username="alice", address="10.0.0.3", now=2.0) == 4.0  # doubled
    for _ in range(10):
        guard.failed(username="alice", address="10.0.0.3", now=50.0)
    assert guard.wait(username="alice", address="10.0.0.3", now=50.0) == 10.0  # capped: never a lock
    assert guard.wait(username="alice", address="10.0.0.3", now=60.0) == 0
    assert guard.wait(username="bob", address="10.0.0.9", now=50.0) == 0  # other names are not affected


def test_one_address_guessing_many_names_is_closed_too() -> None:
    guard = _guard()
    for number in range(6):
        guard.failed(username=f"user{number}", address="10.0.0.1", now=0.0)
    assert guard.wait(username="someone-new", address="10.0.0.1", now=0.0) == 2.0
    assert guard.wait(username="someone-new", address="10.0.0.2", now=0.0) == 0


def test_a_success_clears_the_name_but_not_the_address() -> None:
    guard = _guard()
    for _ in range(3):
        guard.failed(username="alice", address="10.0.0.1", now=0.0)
    guard.succeeded(username="alice")
    guard.failed(username="alice", address="10.0.0.1", now=0.0)
    assert guard.wait(username="alice", address="10.0.0.9", now=0.0) == 0  # counting starts again
    guard.failed(username="bob", address="10.0.0.1", now=0.0)
    guard.failed(username="bob", address="10.0.0.1", now=0.0)
    assert guard.wait(username="carol", address="10.0.0.1", now=0.0) == 2.0  # the address kept its count


def test_failures_are_forgotten_after_a_quiet_while() -> None:
    guard = _guard()
    for _ in range(4):
        guard.failed(username="alice", address="10.0.0.1", now=0.0)
    guard.failed(username="alice", address="10.0.0.1", now=100.0)  # a fresh start: one failure
    assert guard.wait(username="alice", address="10.0.0.1", now=100.0) == 0


def test_the_table_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("backend.access.login_guard.MAX_KEYS", 50)
    guard = _guard()
    for number in range(500):
        address = f"10.0.{number // 250}.{number % 250}"
        guard.failed(username=f"name{number}", address=address, now=float(number))
    assert len(guard._accounts.records) <= 50 and len(guard._addresses.records) <= 50
