"""The pull cursor: opaque to clients, a small JSON document to the server.

It holds the change-log position already delivered, the scope it was
delivered for (so a scope change is noticed whatever the position) and any
unfinished table walk: the first full sync, the delivery of newly gained
territories, or the removal of lost ones. See ADR 0005.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
import zlib
from dataclasses import dataclass, field

from .errors import InvalidCursor

#: Largest sequence number: `(txid, MAX_SEQ)` means "all of transaction txid".
MAX_SEQ = 2**63 - 1


Position = tuple[int, int]


@dataclass(frozen=True)
class ScopeSpec:
    """Which territories and which users' own customers a scope covers (None: all)."""

    territories: frozenset[uuid.UUID] = frozenset()
    members: frozenset[uuid.UUID] = frozenset()
    everything: bool = False

    def to_json(self) -> dict | None:
        if self.everything:
            return None
        return {
            "t": sorted(i.hex for i in self.territories),
            "m": sorted(i.hex for i in self.members),
        }

    @classmethod
    def from_json(cls, data: dict | None) -> ScopeSpec:
        if data is None:
            return cls(everything=True)
        return cls(_ids(data["t"]), _ids(data["m"]))


@dataclass(frozen=True)
class Walk:
    """A table-by-table walk: `fill` sends puts, `remove` sends removes.

    `limit_to` restricts the customers walked (None: the whole scope).
    """

    kind: str
    table: int = 0
    after: uuid.UUID | None = None
    limit_to: ScopeSpec | None = None

    def to_json(self) -> dict:
        return {
            "k": self.kind,
            "i": self.table,
            "a": self.after.hex if self.after else None,
            "f": self.limit_to.to_json() if self.limit_to else False,
        }

    @classmethod
    def from_json(cls, data: dict) -> Walk:
        if data["k"] not in ("fill", "remove"):
            raise ValueError("unknown walk")
        limit = data["f"]
        return cls(
            data["k"],
            int(data["i"]),
            uuid.UUID(data["a"]) if data["a"] else None,
            None if limit is False else ScopeSpec.from_json(limit),
        )


@dataclass(frozen=True)
class Cursor:
    position: Position
    scope: ScopeSpec
    walks: tuple[Walk, ...] = field(default_factory=tuple)

    def encode(self) -> str:
        body = {
            "v": 1,
            "p": list(self.position),
            "s": self.scope.to_json(),
            "w": [w.to_json() for w in self.walks],
        }
        raw = zlib.compress(json.dumps(body, separators=(",", ":")).encode())
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            body = json.loads(zlib.decompress(raw))
            if body["v"] != 1:
                raise ValueError("unknown cursor version")
            txid, seq = (int(x) for x in body["p"])
            return cls(
                (txid, seq),
                ScopeSpec.from_json(body["s"]),
                tuple(Walk.from_json(w) for w in body["w"]),
            )
        except (binascii.Error, zlib.error, ValueError, KeyError, TypeError) as exc:
            raise InvalidCursor(
                "This cursor was not issued by this server; pull again without one."
            ) from exc


def _ids(values: list[str]) -> frozenset[uuid.UUID]:
    return frozenset(uuid.UUID(v) for v in values)
