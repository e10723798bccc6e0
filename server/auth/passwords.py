"""Password hashes: the one function every writer of a password calls.

The method comes from the config (`PASSWORD_HASH_METHOD`, scrypt; see
server/config.py): the test suite signs in thousands of times and uses a cheap
hash, production never does. Checking reads the method from the stored hash,
so accounts hashed either way keep working.
"""

from __future__ import annotations

from functools import cache

from flask import current_app, has_app_context
from werkzeug.security import check_password_hash, generate_password_hash

from ..config import PASSWORD_HASH_METHOD


def _method() -> str:
    if has_app_context():
        return current_app.config["PASSWORD_HASH_METHOD"]
    return PASSWORD_HASH_METHOD


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_method())


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not a real password", method=method)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Costs the same whether or not the account exists (no user enumeration by timing)."""
    matches = check_password_hash(stored_hash or _dummy_hash(_method()), password)
    return matches and stored_hash is not None
