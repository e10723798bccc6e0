"""Sign-in throttling through HTTP: nobody locks the owner out, addresses are real,
and the counts are shared through Redis (issue 15; server/auth/throttle.py,
server/proxies.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from limits.storage import MemoryStorage

from server.auth.throttle import EXTENSION, LoginThrottle, ThrottleSettings
from tests.support.databases import another_app
from tests.support.factories import PASSWORD
from tests.support.redis_server import REDIS_URL
from tests.support.redis_server import redis_prefix as shared_redis_prefix

LOGIN = "/api/v1/auth/login"
ADMIN = "admin@example.com"
GENEROUS = "10000 per minute"


def sign_in(client, email=ADMIN, password=PASSWORD, ip="10.0.0.1", forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        LOGIN,
        json={"email": email, "password": password, "device_id": "phone"},
        environ_base={"REMOTE_ADDR": ip},
        headers=headers,
    )


def guess(client, email=ADMIN, ip="10.0.0.1", forwarded=None):
    return sign_in(client, email, "not-the-password", ip, forwarded)


def rate_limit_headers(response) -> list[str]:
    return [name for name, _ in response.headers.items() if name.lower().startswith("x-ratelimit")]


@pytest.fixture
def throttled(app, monkeypatch):
    """`throttled(**settings)` -> the app's throttle replaced by one with these settings
    (the test config's is generous), its sleeps recorded instead of slept."""

    def install(**settings) -> list[float]:
        sleeps: list[float] = []
        guard = LoginThrottle(MemoryStorage(), ThrottleSettings(**settings), sleep=sleeps.append)
        monkeypatch.setitem(app.extensions, EXTENSION, guard)
        return sleeps

    return install


def test_an_attacker_cannot_lock_the_owner_out(client, world, throttled):
    """The shipped settings: 12 wrong passwords for the admin from A, the admin from B
    signs in (before issue 15, 10 from anywhere answered the owner 429)."""
    throttled()
    codes = [guess(client, ip="203.0.113.9").status_code for _ in range(12)]
    assert codes == [401] * 5 + [429] * 7
    assert sign_in(client, ip="198.51.100.20").status_code == 200
    # The right password from A waits too: A's guesses are A's.
    assert sign_in(client, ip="203.0.113.9").status_code == 429


def test_an_account_guessed_from_many_addresses_is_slowed_but_the_owner_signs_in(
    client, world, throttled
):
    sleeps = throttled(
        failures_per_account_address=GENEROUS,
        failures_per_address=GENEROUS,
        slow_after_per_account="3 per minute",
        slow_delay_ms=20,
    )
    codes = [guess(client, ip=f"203.0.113.{i}").status_code for i in range(8)]
    assert codes == [401] * 8  # slowed from the fourth on, never refused
    assert sleeps == [0.02] * 5
    owner = sign_in(client, ip="198.51.100.20")
    assert owner.status_code == 200 and sleeps == [0.02] * 6
    assert not rate_limit_headers(owner) and "Retry-After" not in owner.headers
    # Another account is not slowed.
    assert sign_in(client, "rep.a@example.com", ip="198.51.100.20").status_code == 200
    assert len(sleeps) == 6


def test_429_carries_only_retry_after_for_the_callers_own_limit(client, world, throttled):
    throttled(
        failures_per_account_address="2 per minute",
        failures_per_address=GENEROUS,
        slow_after_per_account="1 per minute",
        slow_delay_ms=0,
    )
    answers = [guess(client, ip="203.0.113.9") for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    refused = answers[-1]
    assert refused.json["error"]["code"] == "rate_limited" and refused.json["error"]["message"]
    assert 55 <= int(refused.headers["Retry-After"]) <= 60
    for answer in answers:
        assert not rate_limit_headers(answer)
    # The account's own counter (over its ceiling) shows nowhere.
    elsewhere = guess(client, ip="198.51.100.20")
    assert elsewhere.status_code == 401 and not rate_limit_headers(elsewhere)
    assert "Retry-After" not in elsewhere.headers


def test_signing_in_forgives_that_addresses_failures(client, world, throttled):
    throttled(
        failures_per_account_address="3 per minute",
        failures_per_address=GENEROUS,
        slow_after_per_account=GENEROUS,
    )
    assert [guess(client).status_code for _ in range(2)] == [401, 401]
    assert sign_in(client).status_code == 200
    assert [guess(client).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_one_address_guessing_many_accounts_is_refused(client, world, throttled):
    throttled(
        failures_per_account_address=GENEROUS,
        failures_per_address="3 per minute",
        slow_after_per_account=GENEROUS,
    )
    for email in ("a@x.io", "b@x.io", "c@x.io"):
        assert guess(client, email, ip="192.0.2.7").status_code == 401
    assert sign_in(client, "rep.a@example.com", ip="192.0.2.7").status_code == 429
    assert sign_in(client, "rep.a@example.com", ip="192.0.2.8").status_code == 200


def test_the_email_is_counted_as_the_login_lookup_folds_it(client, world, throttled):
    throttled(
        failures_per_account_address="2 per minute",
        failures_per_address=GENEROUS,
        slow_after_per_account=GENEROUS,
    )
    assert guess(client, "  ADMIN@Example.COM").status_code == 401
    assert guess(client, "admin@example.com ").status_code == 401
    assert guess(client, "Admin@Example.com").status_code == 429


def test_a_forged_x_forwarded_for_neither_dodges_nor_frames(client, world, throttled):
    """Nobody is trusted by default: the limits key on the peer, whatever the header says."""
    throttled(
        failures_per_account_address=GENEROUS,
        failures_per_address="3 per minute",
        slow_after_per_account=GENEROUS,
    )
    codes = [
        guess(client, f"user{i}@x.io", ip="203.0.113.9", forwarded=f"198.51.100.{i}").status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
    # The addresses the attacker wrote are not blamed.
    assert sign_in(client, ip="198.51.100.1").status_code == 200


def test_behind_a_trusted_proxy_the_client_address_counts(app, world):
    limits = {
        "LOGIN_FAILURES_PER_ACCOUNT_ADDRESS": GENEROUS,
        "LOGIN_FAILURES_PER_ADDRESS": "2 per minute",
    }
    with another_app(app, TRUSTED_PROXIES="10.0.0.0/8", **limits) as proxied:
        client = proxied.test_client()
        for email in ("a@x.io", "b@x.io"):
            assert guess(client, email, ip="10.0.0.2", forwarded="192.0.2.1").status_code == 401
        assert guess(client, "c@x.io", ip="10.0.0.2", forwarded="192.0.2.1").status_code == 429
        # Another client behind the same proxy is not refused.
        assert sign_in(client, ip="10.0.0.2", forwarded="192.0.2.2").status_code == 200
        # A peer outside the trusted networks is its own client, whatever it forwards.
        for email in ("a@x.io", "b@x.io"):
            assert guess(client, email, ip="203.0.113.9", forwarded="192.0.2.3").status_code == 401
        assert sign_in(client, ip="10.0.0.2", forwarded="192.0.2.3").status_code == 200
        assert sign_in(client, ip="203.0.113.9", forwarded="192.0.2.4").status_code == 429


def test_with_a_number_of_proxy_hops_the_client_address_counts(app, world):
    limits = {
        "LOGIN_FAILURES_PER_ACCOUNT_ADDRESS": "2 per minute",
        "LOGIN_FAILURES_PER_ADDRESS": GENEROUS,
    }
    with another_app(app, TRUSTED_PROXIES="1", **limits) as proxied:
        client = proxied.test_client()
        # What the client wrote itself is left of what the one proxy appended.
        for forged in ("1.1.1.1, 192.0.2.1", "2.2.2.2, 192.0.2.1"):
            assert guess(client, ip="10.0.0.2", forwarded=forged).status_code == 401
        assert guess(client, ip="10.0.0.2", forwarded="3.3.3.3, 192.0.2.1").status_code == 429
        assert sign_in(client, ip="10.0.0.2", forwarded="192.0.2.2").status_code == 200


def test_unreachable_counters_refuse_sign_in_for_a_moment(app, world):
    """Fail closed: without its counters, sign-in answers 503, not an unthrottled 200."""
    with another_app(app, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1") as broken:
        response = sign_in(broken.test_client())
    assert response.status_code == 503 and response.json["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "2"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    with shared_redis_prefix() as prefix:
        yield prefix


def test_two_app_instances_share_counts_through_redis(app, world, redis_prefix):
    """Two workers (or hosts) with the same storage: failures on one refuse on the other."""
    settings = {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "LOGIN_KEY_PREFIX": redis_prefix,
        "LOGIN_FAILURES_PER_ACCOUNT_ADDRESS": "3 per minute",
        "LOGIN_FAILURES_PER_ADDRESS": GENEROUS,
    }
    with another_app(app, **settings) as first, another_app(app, **settings) as second:
        one, two = first.test_client(), second.test_client()
        assert [guess(c).status_code for c in (one, two, one)] == [401, 401, 401]
        assert guess(two).status_code == 429
        assert guess(one).status_code == 429
        assert sign_in(two, ip="10.0.0.2").status_code == 200
        keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"LIMITS:LIMITER/{redis_prefix}/*"))
        assert keys and not any(b"admin" in key for key in keys)
