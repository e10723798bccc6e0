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

#: Room for the scope generation in a timestamp.
GENERATIONS = 1000
HISTORY = 32


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


def _history(session: Session, user: User) -> list[list]:
    state = session.get(SyncState, _history_key(user))
    return list(state.value.get("h", [])) if state else []


def scope_generation(session: Session, user: User, spec: ScopeSpec) -> int:
    """The number of the scope `spec` in the user's history, added when new."""
    for _ in range(3):
        history = _history(session, user)
        if history and ScopeSpec.from_json(history[-1][1]) == spec:
            return history[-1][0]
        generation = history[-1][0] % (GENERATIONS - 1) + 1 if history else 1
        history = [h for h in history if h[0] != generation][-(HISTORY - 1) :]
        history.append([generation, spec.to_json()])
        try:
            with session.begin_nested():
                state = session.get(SyncState, _history_key(user))
                if state is None:
                    session.add(SyncState(key=_history_key(user), value={"h": history}))
                else:
                    state.value = {"h": history}
                session.flush()
            return generation
        except IntegrityError:  # another pull of this user added it first
            session.expire_all()
    raise RuntimeError("could not record the scope generation")


def scope_of_generation(session: Session, user: User, generation: int) -> ScopeSpec | None:
    for number, spec in _history(session, user):
        if number == generation:
            return ScopeSpec.from_json(spec)
    return None
