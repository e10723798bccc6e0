"""A write that commits while a pull runs, between its horizon and its reads.

The pull's position is the horizon read first (ADR 0005); its later statements see the
write, so the device holds records logged above its position. Removals of a scope the
device loses must still name them. A hook commits the write at that moment, so this
runs alike on SQLite (each statement reads the latest commit) and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from domain.models import Territory, User
from server.extensions import db
from tests.support.factories import add_customer_with_children
from tests.support.sync_calls import ids_of, pull_all


@contextmanager
def after_the_horizon(app, write: Callable[[Session], None]) -> Iterator[None]:
    """Run `write` in a transaction of its own, committed right after the next pull
    reads its horizon (`sync.positions.horizon_and_pruned`)."""
    done = []

    def hook(conn, cursor, statement, parameters, context, executemany):
        horizon = "pg_snapshot_xmin" in statement or (
            "sync_state" in statement and "max(sync_changes.seq)" in statement
        )
        if done or not horizon:
            return
        done.append(True)
        with Session(db.engine) as other:
            write(other)
            other.commit()

    with app.app_context():
        event.listen(db.engine, "after_cursor_execute", hook)
        try:
            yield
        finally:
            event.remove(db.engine, "after_cursor_execute", hook)
    assert done, "the pull read no horizon"


def test_a_record_written_during_a_first_sync_leaves_with_the_territory(app, client, world, login):
    rep_a = login("rep.a@example.com")
    made: dict = {}

    def write(session: Session) -> None:
        territory = session.get(Territory, world.territories["A"])
        rep = session.get(User, world.users["rep.a"])
        made.update(add_customer_with_children(session, territory, rep, "During the pull"))

    with after_the_horizon(app, write):
        changes, cursor, _ = pull_all(client, rep_a)
    assert str(made["customers"]) in ids_of(changes, "customers")  # sent as it is now
    response = client.patch(
        f"/api/v1/territories/{world.territories['A']}",
        json={"rep_ids": []},
        headers=login("admin@example.com"),
    )
    assert response.status_code == 200, response.json
    changes, _, _ = pull_all(client, rep_a, cursor)
    removed = {(c["table"], c["id"]) for c in changes if c["op"] == "remove"}
    assert {(table, str(i)) for table, i in made.items()} <= removed
