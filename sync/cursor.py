"""The pull cursor: opaque to clients, a small signed JSON document to the server.

It holds the change-log position already delivered, the scope it was
delivered for (so a scope change is noticed whatever the position) and any
unfinished table walk: the first full sync, the delivery of newly gained
territories, or the removal of lost ones (ADR 0005). It is signed with a key
derived from the service secret and bound to the user and device it was
issued to, so a client can neither edit it nor use another's (ADR 0015).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
import zlib
from dataclasses import dataclass, field, replace
from functools import cache

from . import settings
from .errors import InvalidCursor
from .window import Window

#: The cursor format: 2 is signed and bound to its holder (ADR 0015).
VERSION = "2"
#: The most a cursor's payload may unpack to (a scope of many territories is a few KB).
MAX_INFLATED = 1024 * 1024

#: Largest sequence number: `(txid, MAX_SEQ)` means "all of transaction txid".
MAX_SEQ = 2**63 - 1


Position = tuple[int, int]


@dataclass(frozen=True)
class ScopeSpec:
    """What a scope covers: territories, the users whose own customers it sees, and teams
    (whose members and managers it sees); `everything` for an admin."""

    territories: frozenset[uuid.UUID] = frozenset()
    members: frozenset[uuid.UUID] = frozenset()
    teams: frozenset[uuid.UUID] = frozenset()
    everything: bool = False

    def __or__(self, other: ScopeSpec | None) -> ScopeSpec:
        if other is None:
            return self
        if self.everything or other.everything:
            return ScopeSpec(everything=True)
        return ScopeSpec(
            self.territories | other.territories,
            self.members | other.members,
            self.teams | other.teams,
        )

    def __sub__(self, other: ScopeSpec) -> ScopeSpec:
        """What `self` covers and `other` does not (for walks between two scopes)."""
        return ScopeSpec(
            self.territories - other.territories,
            self.members - other.members,
            self.teams - other.teams,
        )

    @property
    def empty(self) -> bool:
        return not (self.everything or self.territories or self.members or self.teams)

    def places(self, territory_id: uuid.UUID | None, owner_id: uuid.UUID | None) -> bool:
        """Does it cover a customer placed in this territory, or owned by this user?"""
        return self.everything or territory_id in self.territories or owner_id in self.members

    def to_json(self) -> dict | None:
        if self.everything:
            return None
        return {
            "t": sorted(i.hex for i in self.territories),
            "m": sorted(i.hex for i in self.members),
            "g": sorted(i.hex for i in self.teams),
        }

    @classmethod
    def from_json(cls, data: dict | None) -> ScopeSpec:
        if data is None:
            return cls(everything=True)
        # "g" (teams) came later: scopes stored before it (WatermelonDB history) have none.
        return cls(_ids(data["t"]), _ids(data["m"]), _ids(data.get("g", [])))


@dataclass(frozen=True)
class Walk:
    """A table-by-table walk: `fill` sends puts, `remove` sends removes, `window` sends
    what crossed the history window since the device's window was `since` (ADR 0024).

    `limit_to` restricts the customers walked (None: the whole scope).
    """

    kind: str
    table: int = 0
    after: uuid.UUID | None = None
    limit_to: ScopeSpec | None = None
    since: Window | None = None

    def to_json(self) -> dict:
        body = {
            "k": self.kind,
            "i": self.table,
            "a": self.after.hex if self.after else None,
            "f": self.limit_to.to_json() if self.limit_to else False,
        }
        if self.since is not None:
            body["h"] = self.since.to_json()
        return body

    @classmethod
    def from_json(cls, data: dict) -> Walk:
        if data["k"] not in ("fill", "remove", "window"):
            raise ValueError("unknown walk")
        limit = data["f"]
        return cls(
            data["k"],
            int(data["i"]),
            uuid.UUID(data["a"]) if data["a"] else None,
            None if limit is False else ScopeSpec.from_json(limit),
            Window.from_json(data["h"]) if "h" in data else None,
        )

    def advanced(self, table: int, after: uuid.UUID | None = None) -> Walk:
        """The same walk, further on."""
        return Walk(self.kind, table, after, self.limit_to, self.since)


@dataclass(frozen=True)
class Holder:
    """Whom a cursor was issued to: it is valid for this user on this device only."""

    user_id: uuid.UUID
    device_id: str | None


@dataclass(frozen=True)
class Cursor:
    position: Position
    scope: ScopeSpec
    walks: tuple[Walk, ...] = field(default_factory=tuple)
    #: The scope the device held before its scope last changed, until the log after that
    #: change is read: records that moved out of it since `position` must still be removed.
    prior: ScopeSpec | None = None
    #: The history window the device holds (ADR 0024); a cursor of before windows: all.
    window: Window = Window.ALL
    #: When above `position`: the last position whose changes the device may already
    #: hold. Pulls send records as they are now, which on PostgreSQL includes changes
    #: above the horizon (a transaction open elsewhere holds it back), so a removal walk
    #: must name what was placed up to here, not only up to `position`.
    reach: Position | None = None

    @property
    def held_through(self) -> Position:
        """The last position whose records the device may hold."""
        return max(self.position, self.reach) if self.reach else self.position

    def reaching(self, seen: Position | None) -> Cursor:
        """This cursor, remembering that the device may hold records up to `seen`;
        forgotten once the position passes it."""
        top = max(self.reach or self.position, seen or self.position)
        return replace(self, reach=top if top > self.position else None)

    def encode(self, holder: Holder) -> str:
        """The cursor as the client sees it: `2.<key id>.<payload>.<mac>`."""
        body = {
            "p": list(self.position),
            "s": self.scope.to_json(),
            "w": [w.to_json() for w in self.walks],
        }
        if self.prior is not None:
            body["o"] = self.prior.to_json()
        if self.window.edge is not None:
            body["h"] = self.window.to_json()
        if self.reach is not None:
            body["r"] = list(self.reach)
        raw = zlib.compress(json.dumps(body, separators=(",", ":")).encode())
        payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        key_id, key = signing_keys()[0]
        return f"{VERSION}.{key_id}.{payload}.{_mac(key, key_id, payload, holder)}"

    @classmethod
    def decode(cls, text: str, holder: Holder) -> Cursor:
        """The cursor `encode` gave this holder; `InvalidCursor` for anything else, and
        `LegacyCursor` for an unsigned cursor of an earlier server version."""
        parts = text.split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            raise LegacyCursor() if _unsigned(text) else _invalid()
        _, key_id, payload, mac = parts
        key = dict(signing_keys()).get(key_id)
        if key is None or not hmac.compare_digest(mac, _mac(key, key_id, payload, holder)):
            raise _invalid()
        try:
            body = json.loads(_inflate(base64.urlsafe_b64decode(payload + "==")))
            position, reach = _position(body["p"]), body.get("r")
            prior = body.get("o", False)
            return cls(
                position,
                ScopeSpec.from_json(body["s"]),
                tuple(Walk.from_json(w) for w in body["w"]),
                None if prior is False else ScopeSpec.from_json(prior),
                Window.from_json(body.get("h")),
                None if reach is None else _position(reach),
            )
        except (binascii.Error, zlib.error, ValueError, KeyError, TypeError, RecursionError) as exc:
            raise _invalid() from exc  # signed by us, yet unreadable: never, but never a 500


def _position(value: list) -> Position:
    txid, seq = (int(x) for x in value)
    if not (0 <= txid <= MAX_SEQ and 0 <= seq <= MAX_SEQ):
        raise ValueError("position out of range")
    return (txid, seq)


class LegacyCursor(Exception):
    """An unsigned cursor from before cursors were signed: answered with a full re-sync."""


def derive_key(secret: str) -> bytes:
    """The cursor key of a service secret: separate from the token key it is derived from."""
    return hmac.new(secret.encode(), b"fieldsync pull cursor v2", hashlib.sha256).digest()


@cache
def _keys(secrets: tuple[str, ...]) -> tuple[tuple[str, bytes], ...]:
    keys = [derive_key(secret) for secret in secrets]
    return tuple((hashlib.sha256(key).hexdigest()[:8], key) for key in keys)


def signing_keys() -> tuple[tuple[str, bytes], ...]:
    """(key id, key) for the current secret, then for each previous one (still accepted)."""
    return _keys(settings.current().cursor_secrets)


def _mac(key: bytes, key_id: str, payload: str, holder: Holder) -> str:
    bound = f"{key_id}.{payload}|{holder.user_id.hex}|{holder.device_id or ''}".encode()
    digest = hmac.new(key, bound, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _unsigned(text: str) -> bool:
    """An unsigned cursor of the earlier format (`{"v": 1, …}`, compressed)?"""
    try:
        body = json.loads(_inflate(base64.urlsafe_b64decode(text + "==")))
    except (binascii.Error, zlib.error, ValueError, RecursionError):
        return False
    return isinstance(body, dict) and body.get("v") == 1


def _inflate(data: bytes) -> bytes:
    """zlib's output, bounded: a short cursor must not unpack into megabytes."""
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_INFLATED)
    if inflater.unconsumed_tail:
        raise ValueError("cursor too large")
    return out


def _invalid() -> InvalidCursor:
    return InvalidCursor(
        "This cursor was not issued to you by this server; pull again without one."
    )


def _ids(values: list[str]) -> frozenset[uuid.UUID]:
    return frozenset(uuid.UUID(v) for v in values)
