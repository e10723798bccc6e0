"""The `last_pulled_at` number: `position * 1000 + generation` (ADR 0011).

WatermelonDB keeps one number between syncs, our engine an opaque cursor:
a change-log horizon (ADR 0005) plus the scope it was served for. The
horizon fits a number; the scope does not, so each user's scopes are numbered
in a short history in `sync_state`, and a later pull, even a retried one with
an old timestamp, still learns which scope the device had and what it lost or
gained since.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.models import SyncState, User

from ..cursor import MAX_SEQ, Position, ScopeSpec
from ..positions import is_postgres
from ..window import Window

#: Room for the scope generation in a timestamp.
GENERATIONS = 1000
#: Entries kept: a day's pulls add one (the history window's edge), so over 90 days of them.
HISTORY = 120


def encode_timestamp(session: Session, position: Position, generation: int) -> int:
    number = position[0] if is_postgres(session) else position[1]
    return number * GENERATIONS + generation


def decode_timestamp(session: Session, timestamp: int) -> tuple[Position, int]:
    number, generation = divmod(timestamp, GENERATIONS)
    position = (number, MAX_SEQ) if is_postgres(session) else (0, number)
    return position, generation


def fits_timestamp(session: Session, position: Position) -> bool:
    """Can one number carry this position (a horizon, not the middle of a page)?"""
    return position[1] == MAX_SEQ if is_postgres(session) else position[0] == 0


def _history_key(user: User) -> str:
    return f"wm:{user.id.hex}"


#: A stored entry's scope when it is the previous entry's (most entries: a new window).
_SAME = "="

Generation = tuple[int, ScopeSpec, Window]


def _history(session: Session, user: User) -> list[Generation]:
    """(generation, scope, window) of each entry, oldest first. An entry of before
    windows has none: its devices hold every visit and order (`Window.ALL`)."""
    state = session.get(SyncState, _history_key(user))
    entries: list[Generation] = []
    for entry in state.value.get("h", []) if state else []:
        spec = entries[-1][1] if entry[1] == _SAME else ScopeSpec.from_json(entry[1])
        window = Window.from_json(entry[2]) if len(entry) > 2 else Window.ALL
        entries.append((entry[0], spec, window))
    return entries


def _stored(history: list[Generation]) -> list[list]:
    stored, previous = [], None
    for generation, spec, window in history:
        same = previous is not None and spec == previous
        stored.append([generation, _SAME if same else spec.to_json(), window.to_json()])
        previous = spec
    return stored


def scope_generation(
    session: Session, user: User, spec: ScopeSpec, window: Window = Window.ALL
) -> int:
    """The number of (scope, history window) in the user's history, added when new: the
    window's edge moves daily, so a user who pulls every day adds one entry a day."""
    for _ in range(3):
        history = _history(session, user)
        if history and history[-1][1:] == (spec, window):
            return history[-1][0]
        generation = history[-1][0] % (GENERATIONS - 1) + 1 if history else 1
        history = [h for h in history if h[0] != generation][-(HISTORY - 1) :]
        history.append((generation, spec, window))
        try:
            with session.begin_nested():
                state = session.get(SyncState, _history_key(user))
                value = {**(state.value if state else {}), "h": _stored(history)}
                if state is None:
                    session.add(SyncState(key=_history_key(user), value=value))
                else:
                    state.value = value
                session.flush()
            return generation
        except IntegrityError:  # another pull of this user added it first
            session.expire_all()
    raise RuntimeError("could not record the scope generation")


def scope_of_generation(
    session: Session, user: User, generation: int
) -> tuple[ScopeSpec, Window] | None:
    for number, spec, window in _history(session, user):
        if number == generation:
            return spec, window
    return None


#: Timestamps whose reach is kept per user: a device pulls again with its latest one.
REACHES = 20


def reach_of(session: Session, user: User, timestamp: int) -> Position | None:
    """The reach remembered for a timestamp this user was given (`remember_reach`)."""
    state = session.get(SyncState, _history_key(user))
    for entry in state.value.get("r", []) if state else []:
        if entry[0] == timestamp:
            return (entry[1], entry[2])
    return None


def remember_reach(session: Session, user: User, timestamp: int, reach: Position) -> None:
    """Note that the device given `timestamp` may hold records logged up to `reach`.

    A timestamp carries a position only, below what the pull sent when a transaction
    held the horizon back (`Cursor.reach`); the next pull's removals need both. Only
    such pulls write, and only this small list in the user's history row.
    """
    state = session.get(SyncState, _history_key(user), with_for_update=True, populate_existing=True)
    if state is None:  # written by `scope_generation` before every pull
        return
    kept = [e for e in state.value.get("r", []) if e[0] != timestamp][-(REACHES - 1) :]
    state.value = {**state.value, "r": [*kept, [timestamp, *reach]]}
