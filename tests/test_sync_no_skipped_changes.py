"""PostgreSQL: with concurrent writers, pulls never skip a committed change.

Commit order is not sequence order: a naive `seq > cursor` loses changes whose
transaction commits after a later one. These tests run real writer processes
against PostgreSQL (they need `TEST_DATABASE_URL` to point at it; CI runs the
suite on both databases).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from domain.models import Customer, User
from server.extensions import db
from sync.changes import create_record, update_record
from sync.pull import Puller

WRITERS = 4
CHANGES_PER_WRITER = 2000


@pytest.fixture
def pg_url(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: run with TEST_DATABASE_URL=postgresql://…")
    return url


def _writer(url: str, writer: int, territory_id: str, seed: int) -> int:
    """Create, then keep updating, customers in transactions of random length."""
    rng = random.Random(seed)
    engine = create_engine(url)
    mine: list[uuid.UUID] = []
    done = 0
    with Session(engine) as session:
        while done < CHANGES_PER_WRITER:
            size = min(rng.randint(1, 50), CHANGES_PER_WRITER - done)
            for _ in range(size):
                now = datetime.now(UTC)
                if len(mine) < 50 or rng.random() < 0.3:
                    record = create_record(
                        session,
                        Customer,
                        {"name": f"w{writer}-{done}", "territory_id": uuid.UUID(territory_id)},
                        now=now,
                    )
                    mine.append(record.id)
                else:
                    record = session.get(Customer, rng.choice(mine))
                    update_record(session, record, {"notes": f"w{writer}-{done}"}, now=now)
                session.flush()
                done += 1
                if rng.random() < 0.2:
                    time.sleep(rng.random() / 500)  # keep transactions open and overlapping
            session.commit()
    engine.dispose()
    return done


def _puller(app, admin_id, stop: threading.Event, seen: dict, pulls: list) -> None:
    with app.app_context(), Session(db.engine) as session:
        admin = session.get(User, admin_id)
        cursor, quiet = None, 0
        while quiet < 2:
            result = Puller(session, admin).pull(cursor, 500)
            session.rollback()
            cursor = result.cursor
            pulls.append(len(result.changes))
            for change in result.changes:
                if change["table"] == "customers" and change["op"] == "put":
                    record = change["record"]
                    seen[record["id"]] = max(seen.get(record["id"], 0), record["version"])
            if stop.is_set() and not result.changes and not result.has_more:
                quiet += 1
            elif not result.changes:
                time.sleep(0.005)


def test_concurrent_writers_and_pullers_miss_nothing(app, world, pg_url, capsys):
    territory = str(world.territories["A"])
    stop = threading.Event()
    views: list[dict] = [{}, {}]
    pulls: list[list] = [[], []]
    pullers = [
        threading.Thread(target=_puller, args=(app, world.users["admin"], stop, views[i], pulls[i]))
        for i in range(2)
    ]
    for thread in pullers:
        thread.start()
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        written = pool.starmap(_writer, [(pg_url, w, territory, 1000 + w) for w in range(WRITERS)])
    stop.set()
    for thread in pullers:
        thread.join(120)
    elapsed = time.perf_counter() - started
    with app.app_context():
        final = {str(i): v for i, v in db.session.execute(select(Customer.id, Customer.version))}
    for number, view in enumerate(views):
        missed = [i for i in final if i not in view]
        stale = [i for i in final if i in view and view[i] < final[i]]
        with capsys.disabled():
            print(
                f"\npuller {number}: {sum(written)} changes by {WRITERS} writers in "
                f"{elapsed:.1f}s, {len(final)} records, {len(pulls[number])} pulls, "
                f"missed={len(missed)} stale={len(stale)}"
            )
        assert missed == [] and stale == []
    assert sum(written) == WRITERS * CHANGES_PER_WRITER


def test_a_transaction_left_open_stalls_pulls_until_the_server_ends_it(app, world, pg_url):
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        _, cursor = _pull_everything(db.session, admin, None)
        territory = world.territories["A"]
        idle = create_engine(pg_url)
        stuck = idle.connect()
        stuck.execute(text("SET idle_in_transaction_session_timeout = '1s'"))
        open_session = Session(bind=stuck)
        create_record(
            open_session,
            Customer,
            {"name": "never committed", "territory_id": territory},
            now=datetime.now(UTC),
        )
        open_session.flush()  # holds a transaction id, then idles
        with Session(db.engine) as other:
            later = create_record(
                other,
                Customer,
                {"name": "committed later", "territory_id": territory},
                now=datetime.now(UTC),
            )
            other.commit()
            later_id = str(later.id)
        stalled, cursor = _pull_everything(db.session, admin, cursor)
        assert later_id not in stalled  # behind the open transaction: wait, never skip
        time.sleep(1.5)  # the server ends the idle transaction
        with contextlib.suppress(DBAPIError):
            open_session.close()
            stuck.close()
        idle.dispose()
        delivered, _ = _pull_everything(db.session, admin, cursor)
        assert later_id in delivered
        names = {r["name"] for r in delivered.values()}
        assert "never committed" not in names


def _pull_everything(session, user, cursor):
    records = {}
    while True:
        result = Puller(session, user).pull(cursor, 500)
        session.rollback()
        cursor = result.cursor
        for change in result.changes:
            if change["table"] == "customers" and change["op"] == "put":
                records[change["record"]["id"]] = change["record"]
        if not result.has_more:
            return records, cursor
