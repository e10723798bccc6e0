"""Sign-in throttling: wrong passwords stop a guesser, never lock the owner out.

A limit on an account alone lets anyone lock its owner out (ten wrong passwords
for `admin@…` from anywhere, and the admin gets 429). So the hard limits key on
the caller, and the account's own counter only slows:

- **Per account and client address** (`failures_per_account_address`, default
  5/minute, 20/hour, 100/day): failed sign-ins of one account from one address.
  Over any window the next attempt from there gets 429 with `Retry-After` (the
  wait until that window frees a slot), so waits grow from a minute to a day.
  A success clears it: the owner's typos do not add up over weeks.
- **Per client address** (`failures_per_address`, 30/minute, 300/hour,
  1,000/day): failed sign-ins from one address across accounts (credential
  stuffing), also 429.
- **Per account** (`slow_after_per_account`, 20/minute, 100/hour, 500/day):
  failed sign-ins of one account from every address. Beyond it the account is
  under attack from many addresses: every attempt on it, the owner's included,
  waits `slow_delay_ms` (1,000 ms, at most 5,000) before its password is
  checked, and the right password still signs in. Never 429, and never shown
  in a header: it is other people's attempts.

Only failures count (a wrong password, an unknown email), checked before the
password and recorded after it, so an attempt refused with 429 costs no
password check and adds nothing. Concurrent attempts may overshoot a limit by
as many as are in flight at once (bounded by the overload gate). Emails are
folded as the login lookup folds them (`domain.models.fold_email`) and hashed
in keys; IPv6 addresses count per /64 (one host's usual allocation, which it
could otherwise rotate through).

Counts live in a `limits` storage (`FIELDSYNC_RATELIMIT_STORAGE_URI`):
`redis://…` is shared by every worker and host; `memory://`, the default, by
one process only (N workers: N times the limits). This module knows no Flask.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from domain.models import fold_email

log = logging.getLogger(__name__)

#: `app.extensions` key of the app's `LoginThrottle`.
EXTENSION = "fieldsync.login_throttle"
#: The longest slow-down a setting may ask for: a delayed answer holds a worker thread.
MAX_SLOW_DELAY_MS = 5000


@dataclass(frozen=True)
class ThrottleSettings:
    #: Config keys: `LOGIN_FAILURES_PER_ACCOUNT_ADDRESS`… (server/config.py).
    CONFIG_PREFIX: ClassVar[str] = "LOGIN_"

    failures_per_account_address: str = "5 per minute; 20 per hour; 100 per day"
    failures_per_address: str = "30 per minute; 300 per hour; 1000 per day"
    slow_after_per_account: str = "20 per minute; 100 per hour; 500 per day"
    slow_delay_ms: int = 1000
    #: Keeps the counts of deployments (or tests) sharing one Redis apart.
    key_prefix: str = "fieldsync"

    def __post_init__(self) -> None:
        for name in (
            "failures_per_account_address",
            "failures_per_address",
            "slow_after_per_account",
        ):
            windows(getattr(self, name))
        if (
            not isinstance(self.slow_delay_ms, int)
            or not 0 <= self.slow_delay_ms <= MAX_SLOW_DELAY_MS
        ):
            raise ValueError(f"slow_delay_ms must be 0 to {MAX_SLOW_DELAY_MS}.")
        if not self.key_prefix or "/" in self.key_prefix:
            raise ValueError("key_prefix must be a non-empty name without '/'.")


def windows(text: str) -> tuple[RateLimitItem, ...]:
    """`"5 per minute; 20 per hour"` as `limits` items; ValueError if unreadable."""
    items = tuple(parse_many(text))
    if any(item.amount < 1 for item in items):
        raise ValueError(f"{text!r}: every window must allow at least one attempt.")
    return items


@dataclass(frozen=True)
class Attempt:
    """Whose sign-in, from where, as storage keys."""

    account: str
    address: str


@dataclass(frozen=True)
class Verdict:
    #: Seconds to wait: the attempt is refused (429). 0: it may go on.
    retry_after: int = 0
    #: Seconds the attempt waits before its password is checked (account under attack).
    delay_s: float = 0.0


def address_key(address: str | None) -> str:
    """The counted address: IPv4 as is (also IPv4-mapped IPv6), IPv6 by its /64."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def account_key(email: str) -> str:
    """The folded email, hashed: no address book in the counter storage."""
    return hashlib.sha256(fold_email(email).encode()).hexdigest()[:32]


class LoginThrottle:
    """Checks and counts failed sign-ins in a storage shared by the workers."""

    def __init__(
        self,
        storage: Storage,
        settings: ThrottleSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.storage = storage
        self.settings = settings
        self.sleep = sleep
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_account_address = windows(settings.failures_per_account_address)
        self._per_address = windows(settings.failures_per_address)
        self._per_account = windows(settings.slow_after_per_account)

    def attempt(self, email: str, address: str | None) -> Attempt:
        return Attempt(account_key(email), address_key(address))

    def check(self, attempt: Attempt) -> Verdict:
        """Before the password: refused (the caller's own limits) or slowed (the account's)."""
        now = time.time()
        waits = []
        for items, keys in self._refusing(attempt):
            for item in items:
                if not self._limiter.test(item, *keys):
                    reset = self._limiter.get_window_stats(item, *keys).reset_time
                    waits.append(math.ceil(reset - now))
        if waits:
            return Verdict(retry_after=max(1, *waits))
        slowed = any(
            not self._limiter.test(item, *self._account_keys(attempt)) for item in self._per_account
        )
        return Verdict(delay_s=self.settings.slow_delay_ms / 1000 if slowed else 0.0)

    def wait(self, verdict: Verdict) -> None:
        if verdict.delay_s > 0:
            self.sleep(verdict.delay_s)

    def failed(self, attempt: Attempt) -> None:
        """A wrong password or an unknown email: one more failure in every counter."""
        counters = (*self._refusing(attempt), (self._per_account, self._account_keys(attempt)))
        for items, keys in counters:
            for item in items:
                self._limiter.hit(item, *keys)

    def succeeded(self, attempt: Attempt) -> None:
        """The owner signed in from here: this address's failures on the account are forgiven."""
        for item in self._per_account_address:
            self._limiter.clear(item, *self._account_address_keys(attempt))

    def reset(self) -> None:
        """Forget every count (tests). Only the per-process memory storage: a shared
        storage's reset would delete other services' keys too."""
        if isinstance(self.storage, MemoryStorage):
            self.storage.reset()

    def _refusing(self, attempt: Attempt) -> tuple[tuple[tuple[RateLimitItem, ...], tuple], ...]:
        return (
            (self._per_account_address, self._account_address_keys(attempt)),
            (self._per_address, (self.settings.key_prefix, "login-address", attempt.address)),
        )

    def _account_address_keys(self, attempt: Attempt) -> tuple[str, ...]:
        prefix = self.settings.key_prefix
        return (prefix, "login-account-address", attempt.account, attempt.address)

    def _account_keys(self, attempt: Attempt) -> tuple[str, ...]:
        return (self.settings.key_prefix, "login-account", attempt.account)


def build(storage_uri: str, settings: ThrottleSettings, *, production: bool) -> LoginThrottle:
    """The app's throttle on `storage_uri`; warns when production counts per process."""
    if storage_uri.startswith("memory") and production:
        log.warning(
            "FIELDSYNC_RATELIMIT_STORAGE_URI is %s: sign-in limits are counted per worker "
            "process (N workers: N times the limits, and a restart forgets them). "
            "Use redis://… to share them.",
            storage_uri,
        )
    return LoginThrottle(storage_from_string(storage_uri, wrap_exceptions=True), settings)
