"""The password policy: what a new password must be, wherever it is set.

Checked when an account is created and when its password is reset (REST
`POST` and `PATCH /api/v1/users`, the CLI's `create-user`), through the user
schemas; signing in never checks it, so an older password keeps working until
it is changed. A password never syncs.

- at least `MIN_LENGTH` characters (and at most `MAX_LENGTH`);
- not only white space;
- not one of the 30,000 most common passwords, in any case: the list that the
  `zxcvbn` package ships (its `passwords` frequency list), compared after NFKC
  and case folding, so `PASSWORD123` and fullwidth forms are refused too.
"""

from __future__ import annotations

import unicodedata
from functools import cache

MIN_LENGTH = 10
MAX_LENGTH = 200

LENGTH_MESSAGE = f"Use {MIN_LENGTH} to {MAX_LENGTH} characters."
BLANK_MESSAGE = "A password cannot be only spaces."
COMMON_MESSAGE = "This password is too common: choose one that is harder to guess."
#: For the OpenAPI document.
POLICY = (
    f"At least {MIN_LENGTH} characters, not only white space, and not a common password "
    "(case does not matter)."
)


@cache
def common_passwords() -> frozenset[str]:
    """The common-password list, folded; loaded on first use (the module is large)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(_fold(password) for password in FREQUENCY_LISTS["passwords"])


def _fold(password: str) -> str:
    return unicodedata.normalize("NFKC", password).casefold().strip()


def password_problem(password: str) -> str | None:
    """Why this password may not be set, or None."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return LENGTH_MESSAGE
    if not password.strip():
        return BLANK_MESSAGE
    if _fold(password) in common_passwords():
        return COMMON_MESSAGE
    return None
