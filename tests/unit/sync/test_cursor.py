"""The cursor's text form: everything it carries comes back, for its holder only."""

from __future__ import annotations

import uuid

import pytest

from sync.cursor import Cursor, Holder, ScopeSpec, Walk
from sync.errors import InvalidCursor

A, B, T = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def test_a_cursor_comes_back_whole_for_its_holder_only():
    holder = Holder(uuid.uuid4(), "phone")
    cursor = Cursor(
        (12, 34),
        ScopeSpec(frozenset({A}), frozenset({B}), frozenset({T})),
        (Walk("remove", 3, A, ScopeSpec(frozenset({A}))), Walk("fill")),
        prior=ScopeSpec(everything=True),
    )
    text = cursor.encode(holder)
    assert Cursor.decode(text, holder) == cursor
    for stranger in (Holder(uuid.uuid4(), "phone"), Holder(holder.user_id, "tablet")):
        with pytest.raises(InvalidCursor):
            Cursor.decode(text, stranger)


def test_scopes_stored_before_teams_existed_read_as_without_teams():
    assert ScopeSpec.from_json({"t": [A.hex], "m": []}) == ScopeSpec(frozenset({A}))
