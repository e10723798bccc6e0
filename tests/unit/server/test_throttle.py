"""Sign-in throttling without HTTP: whose failures refuse whom, and what only slows.

Real windows on the per-process storage; the one test of growing waits sleeps a
second, the slow-down's sleep is recorded, not slept.
"""

from __future__ import annotations

import logging
import time

import pytest
from limits.storage import MemoryStorage

from domain.models import fold_email
from server import create_app
from server.auth.throttle import (
    LoginThrottle,
    ThrottleSettings,
    account_key,
    address_key,
    build,
)
from server.config import ConfigError, build_config
from tests.support.databases import SECRET, dispose

ADMIN = "admin@example.com"
GENEROUS = "1000 per minute"


def throttle(sleeps: list | None = None, **settings) -> LoginThrottle:
    values = {
        "failures_per_account_address": GENEROUS,
        "failures_per_address": GENEROUS,
        "slow_after_per_account": GENEROUS,
        "slow_delay_ms": 20,
        **settings,
    }
    sleep = sleeps.append if sleeps is not None else time.sleep
    return LoginThrottle(MemoryStorage(), ThrottleSettings(**values), sleep=sleep)


def fail(guard: LoginThrottle, email: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        attempt = guard.attempt(email, address)
        assert not guard.check(attempt).retry_after
        guard.failed(attempt)


def test_failures_refuse_only_that_account_from_that_address():
    guard = throttle(failures_per_account_address="3 per minute")
    fail(guard, ADMIN, "192.0.2.1", times=3)
    refused = guard.check(guard.attempt(ADMIN, "192.0.2.1"))
    assert 55 <= refused.retry_after <= 60
    assert not guard.check(guard.attempt(ADMIN, "198.51.100.2")).retry_after
    assert not guard.check(guard.attempt("rep.a@example.com", "192.0.2.1")).retry_after


def test_waits_grow_from_window_to_window():
    guard = throttle(failures_per_account_address="2 per second; 3 per hour")
    fail(guard, ADMIN, "192.0.2.1", times=2)
    assert guard.check(guard.attempt(ADMIN, "192.0.2.1")).retry_after == 1
    time.sleep(1.05)  # the one-second window frees; the hour's has one failure left
    fail(guard, ADMIN, "192.0.2.1")
    assert guard.check(guard.attempt(ADMIN, "192.0.2.1")).retry_after > 3500


def test_a_success_forgives_that_address_its_failures_on_the_account():
    guard = throttle(failures_per_account_address="3 per minute")
    fail(guard, ADMIN, "192.0.2.1", times=2)
    guard.succeeded(guard.attempt(ADMIN, "192.0.2.1"))
    fail(guard, ADMIN, "192.0.2.1", times=3)
    assert guard.check(guard.attempt(ADMIN, "192.0.2.1")).retry_after


def test_one_address_guessing_many_accounts_is_refused_for_all():
    guard = throttle(failures_per_address="3 per minute")
    for email in ("a@x.io", "b@x.io", "c@x.io"):
        fail(guard, email, "203.0.113.9")
    assert guard.check(guard.attempt(ADMIN, "203.0.113.9")).retry_after
    assert not guard.check(guard.attempt(ADMIN, "203.0.113.10")).retry_after


def test_an_account_guessed_from_many_addresses_is_slowed_never_refused():
    sleeps: list[float] = []
    guard = throttle(sleeps, slow_after_per_account="3 per minute", slow_delay_ms=20)
    for i in range(3):
        fail(guard, ADMIN, f"192.0.2.{i}")
    verdict = guard.check(guard.attempt(ADMIN, "198.51.100.7"))
    assert verdict.retry_after == 0 and verdict.delay_s == 0.02
    guard.wait(verdict)
    assert sleeps == [0.02]
    for i in range(10):  # more failures still: slowed, never refused
        fail(guard, ADMIN, f"203.0.113.{i}")
    assert guard.check(guard.attempt(ADMIN, "198.51.100.7")).retry_after == 0
    assert guard.check(guard.attempt("rep.a@example.com", "198.51.100.7")).delay_s == 0


def test_the_account_is_keyed_by_the_login_lookups_folding():
    for email in ("  ADMIN@Example.COM ", "Admin@example.com", "ＡＤＭＩＮ@example.com"):
        assert account_key(email) == account_key(fold_email(email))
    assert account_key("admin@example.com") != account_key("rep.a@example.com")
    assert "admin" not in account_key("admin@example.com")  # hashed: no emails in Redis


def test_ipv6_hosts_count_by_their_64_and_mapped_ipv4_as_ipv4():
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.1") == address_key("192.0.2.1") == "192.0.2.1"
    assert address_key(None) == address_key("not an address") == "unknown"


@pytest.mark.parametrize(
    "settings",
    [
        {"failures_per_account_address": "five per minute"},
        {"failures_per_address": ""},
        {"slow_after_per_account": "0 per minute"},
        {"slow_delay_ms": 60_000},
        {"key_prefix": "a/b"},
    ],
)
def test_unreadable_settings_are_refused(settings):
    with pytest.raises(ValueError):
        ThrottleSettings(**settings)


def test_unreadable_settings_stop_the_start(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDSYNC_LOGIN_SLOW_DELAY_MS", "60000")
    with pytest.raises(ConfigError, match="slow_delay_ms"):
        build_config(str(tmp_path), {"SECRET_KEY": "k" * 40})


def test_production_on_per_process_counts_is_warned_about(tmp_path, caplog, monkeypatch):
    with caplog.at_level(logging.WARNING, logger="server.auth.throttle"):
        build("memory://", ThrottleSettings(), production=False)
        assert not caplog.records
        app = create_app(
            {
                "FIELDSYNC_ENV": "production",
                "SECRET_KEY": SECRET,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}",
            }
        )
        dispose(app)
    assert any("per worker process" in record.getMessage() for record in caplog.records)


def test_the_retired_login_limit_variables_are_named_at_start_up(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("FIELDSYNC_LOGIN_LIMIT_PER_ACCOUNT", "10 per minute")
    with caplog.at_level(logging.WARNING, logger="server.config"):
        build_config(str(tmp_path), {"SECRET_KEY": "k" * 40})
    assert "FIELDSYNC_LOGIN_FAILURES_PER_ACCOUNT_ADDRESS" in caplog.text
