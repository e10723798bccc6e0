"""Concurrent writers and continuous pullers: every change delivered, parents first.

Commit order is not sequence order: writer transactions take log sequence
numbers as they write but become visible when they commit, in another order.
Four writer *processes* write 2,000 changes each (customers and contacts, some
under other writers' customers, created then updated) in transactions of
random length that overlap and commit out of sequence order, some of them
rolled back; two puller *processes* pull continuously as the admin. Every
puller must end with every committed record in its latest state: 0 missed,
0 stale, nothing rolled back, no record going back to an older version, no
child before its parent.

A second test leaves a writer's transaction open ("idle in transaction"):
pulls stall behind it (never skip past it) until PostgreSQL's
`idle_in_transaction_session_timeout` ends it, then deliver everything.

Both need PostgreSQL (`TEST_DATABASE_URL`); CI runs the suite on both databases.
Run with `-s` to see the counts (they are also printed past pytest's capture).
The last test (writes between the pages of a first sync) runs on both.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import random
import threading
import time
import traceback
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from domain.models import ChangeLogEntry, ConflictEntry, Contact, Customer, User
from server.config import build_config
from server.extensions import db
from sync.changes import create_record, update_record
from sync.cursor import MAX_SEQ
from sync.pull import Puller
from tests.support.sync_calls import engine_phone_push

WRITERS = 4
CHANGES_PER_WRITER = 2000
PULLERS = 2
#: Share of transactions rolled back (their changes do not count toward the 2,000).
ROLLBACK_RATE = 0.08


@pytest.fixture
def pg_url(app) -> str:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
    return url


@pytest.fixture
def report(request):
    """Print past pytest's output capture: the counts show with or without `-s`."""
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def _report(line: str) -> None:
        if capture is not None and capture.is_globally_capturing():
            with capture.global_and_fixture_disabled():
                print(line, flush=True)
        else:
            print(line, flush=True)

    return _report


# -- writer processes ---------------------------------------------------------------------


def _writer(url: str, writer: int, territory_id: str, seed: int) -> dict:
    """Write CHANGES_PER_WRITER committed changes; return what was committed or rolled back."""
    rng = random.Random(seed)
    engine = create_engine(url, pool_size=1)
    customers: list[uuid.UUID] = []
    contacts: list[uuid.UUID] = []
    rolled_back: list[str] = []
    committed = transactions = aborted = 0
    try:
        with Session(engine) as session:
            while committed < CHANGES_PER_WRITER:
                abort = rng.random() < ROLLBACK_RATE
                size = rng.randint(1, 50)
                if not abort:
                    size = min(size, CHANGES_PER_WRITER - committed)
                new_customers: list[uuid.UUID] = []
                new_contacts: list[uuid.UUID] = []
                for step in range(size):
                    now = datetime.now(UTC)
                    label = f"w{writer}-t{transactions}-{step}"
                    dice = rng.random()
                    if len(customers) + len(new_customers) < 20 or dice < 0.25:
                        record = create_record(
                            session,
                            Customer,
                            {"name": label, "territory_id": uuid.UUID(territory_id)},
                            now=now,
                        )
                        new_customers.append(record.id)
                    elif dice < 0.40:
                        if dice < 0.33:
                            parent = rng.choice(customers + new_customers)
                        else:  # anyone's, committed meanwhile by a later transaction maybe
                            parent = session.scalar(
                                select(Customer.id).order_by(func.random()).limit(1)
                            )
                        record = create_record(
                            session, Contact, {"customer_id": parent, "name": label}, now=now
                        )
                        new_contacts.append(record.id)
                    elif dice < 0.55 and (contacts or new_contacts):
                        record = session.get(Contact, rng.choice(contacts + new_contacts))
                        update_record(session, record, {"name": label}, now=now)
                    else:
                        record = session.get(Customer, rng.choice(customers + new_customers))
                        update_record(session, record, {"notes": label}, now=now)
                    session.flush()  # the log row is written now, with its sequence number
                    if rng.random() < 0.25:
                        time.sleep(rng.random() * 0.004)  # stay open, overlap the others
                transactions += 1
                if abort:
                    session.rollback()
                    aborted += 1
                    rolled_back += [str(i) for i in new_customers + new_contacts]
                else:
                    session.commit()
                    committed += size
                    customers += new_customers
                    contacts += new_contacts
    finally:
        engine.dispose()
    return {
        "committed": committed,
        "transactions": transactions,
        "aborted": aborted,
        "rolled_back": rolled_back,
    }


# -- puller processes ---------------------------------------------------------------------


def _puller(url: str, admin_id: str, seed: int, stop, target, results) -> None:
    """Pull as the admin until the writers are done and the cursor is past their last change.

    `target` is the highest txid the writers committed (set with `stop`): a
    pull that returns nothing is not enough, since another transaction in the
    cluster may hold the horizon back for a while.
    """
    rng = random.Random(seed)
    engine = create_engine(url, pool_size=1)
    view: dict[tuple[str, str], tuple[int, dict]] = {}
    parents: set[str] = set()
    out = {
        "pulls": 0,
        "received": 0,
        "regressions": [],
        "orphans": [],
        "unexpected": [],
        "error": None,
        "timed_out": False,
    }
    cursor = None
    started = time.monotonic()
    stopped_at = None
    try:
        while True:
            with Session(engine) as session:
                admin = session.get(User, uuid.UUID(admin_id))
                page = Puller(session, admin).read(cursor, rng.choice((25, 100, 500)))
                session.rollback()
            out["pulls"] += 1
            out["received"] += len(page.changes)
            for change in page.changes:
                if change["op"] != "put":
                    out["unexpected"].append(change)
                    continue
                table, record = change["table"], change["record"]
                key = (table, record["id"])
                if key in view and view[key][0] > record["version"]:
                    out["regressions"].append((key, view[key][0], record["version"]))
                if table == "customers":
                    parents.add(record["id"])
                elif table == "contacts" and record["customer_id"] not in parents:
                    out["orphans"].append((key, out["pulls"], bool(cursor and cursor.walks)))
                view[key] = (record["version"], record)
            cursor = page.next
            if stop.is_set():
                stopped_at = stopped_at or time.monotonic()
                position = cursor.position
                if not page.has_more and position >= (target.value, MAX_SEQ):
                    break
                if time.monotonic() - stopped_at > 60:
                    out["timed_out"] = True
                    break
            elif time.monotonic() - started > 180:
                out["timed_out"] = True
                break
            if not page.changes:
                time.sleep(0.005)
    except Exception:
        out["error"] = traceback.format_exc()
    finally:
        engine.dispose()
    out["view"] = {
        key: (version, record.get("name"), record.get("notes"))
        for key, (version, record) in view.items()
    }
    results.put(out)


def test_four_writers_two_pullers_every_change_arrives_in_its_latest_state(
    app, world, pg_url, report
):
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    target = context.Value("q", 0)
    results = context.Queue()
    admin_id = str(world.users["admin"])
    pullers = [
        context.Process(
            target=_puller, args=(pg_url, admin_id, 500 + n, stop, target, results), daemon=True
        )
        for n in range(PULLERS)
    ]
    started = time.perf_counter()
    try:
        for process in pullers:
            process.start()
        with context.Pool(WRITERS) as pool:
            written = pool.starmap(
                _writer,
                [(pg_url, w, str(world.territories["A"]), 1000 + w) for w in range(WRITERS)],
            )
        writing = time.perf_counter() - started
        with app.app_context():
            target.value = db.session.scalar(select(func.max(ChangeLogEntry.txid)))
            db.session.rollback()
        stop.set()
        outcomes = []
        for _ in pullers:
            try:
                outcomes.append(results.get(timeout=120))
            except queue.Empty:
                pytest.fail("a puller did not report within 120 s")
        for process in pullers:
            process.join(30)
    finally:
        stop.set()
        for process in pullers:
            if process.is_alive():
                process.kill()
                process.join(10)
    elapsed = time.perf_counter() - started

    with app.app_context():
        final = {
            ("customers", str(i)): (v, name, notes)
            for i, v, name, notes in db.session.execute(
                select(Customer.id, Customer.version, Customer.name, Customer.notes)
            )
        }
        final |= {
            ("contacts", str(i)): (v, name, None)
            for i, v, name in db.session.execute(select(Contact.id, Contact.version, Contact.name))
        }
        log_rows = db.session.scalar(select(func.count()).select_from(ChangeLogEntry))
    committed = sum(w["committed"] for w in written)
    rolled_back = {i for w in written for i in w["rolled_back"]}
    report(
        f"\nconcurrency: {WRITERS} writers committed {committed} changes in "
        f"{sum(w['transactions'] for w in written)} transactions "
        f"({sum(w['aborted'] for w in written)} more rolled back, {len(rolled_back)} records "
        f"never committed) in {writing:.1f}s; {len(final)} records, {log_rows} log rows"
    )
    assert committed == WRITERS * CHANGES_PER_WRITER

    for number, outcome in enumerate(outcomes):
        assert outcome["error"] is None, outcome["error"]
        view = outcome["view"]
        missed = [k for k in final if k not in view]
        stale = [k for k in final if k in view and view[k][0] != final[k][0]]
        wrong = [
            k for k in final if k in view and view[k][0] == final[k][0] and view[k] != final[k]
        ]
        synced = {k: v for k, v in view.items() if k[0] in ("customers", "contacts")}
        phantom = [k for k in synced if k not in final or k[1] in rolled_back]
        report(
            f"puller {number}: {outcome['pulls']} pulls, {outcome['received']} changes received, "
            f"{len(synced)} customers and contacts held in {elapsed:.1f}s: missed={len(missed)} "
            f"stale={len(stale)} wrong={len(wrong)} phantom={len(phantom)} "
            f"regressions={len(outcome['regressions'])} orphans={len(outcome['orphans'])}"
        )
        assert not outcome["timed_out"], "the puller never caught up with the last commit"
        assert missed == [] and stale == [] and wrong == [] and phantom == []
        assert outcome["regressions"] == [] and outcome["orphans"] == [], outcome["orphans"]
        assert outcome["unexpected"] == []


# -- a transaction left open ----------------------------------------------------------------


def _pull_to_end(app, admin_id, cursor):
    """One client sync: pull until `has_more` is false; return puts by id, and the cursor."""
    records = {}
    with app.app_context(), Session(db.engine) as session:
        admin = session.get(User, admin_id)
        while True:
            page = Puller(session, admin).read(cursor, 500)
            session.rollback()
            cursor = page.next
            for change in page.changes:
                if change["op"] == "put":
                    records[change["record"]["id"]] = change["record"]
            if not page.has_more:
                return records, cursor


#: Long enough that the writes and the first pulls below finish before PostgreSQL ends
#: the idle transaction, even on a loaded CI machine (1 s was not, once).
IDLE_TIMEOUT_S = 3


def _idle_engine(kind: str, url: str, tmp_path):
    """An engine whose connections PostgreSQL ends after IDLE_TIMEOUT_S idle in a transaction."""
    if kind == "set":
        return create_engine(url), f"SET idle_in_transaction_session_timeout = '{IDLE_TIMEOUT_S}s'"
    config = build_config(
        str(tmp_path),
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "x" * 40,
            "PG_IDLE_IN_TRANSACTION_TIMEOUT_MS": IDLE_TIMEOUT_S * 1000,
        },
    )
    return create_engine(url, **config["SQLALCHEMY_ENGINE_OPTIONS"]), None


@pytest.mark.parametrize("kind", ["set", "service-config"])
def test_a_transaction_left_idle_stalls_pulls_until_postgres_ends_it(
    app, world, pg_url, report, tmp_path, kind
):
    admin_id = world.users["admin"]
    territory = world.territories["A"]
    _, cursor = _pull_to_end(app, admin_id, None)

    engine, setup = _idle_engine(kind, pg_url, tmp_path)
    connection = engine.connect()
    try:
        if setup:
            connection.execute(text(setup))
            connection.commit()
        timeout = connection.execute(text("SHOW idle_in_transaction_session_timeout")).scalar()
        connection.commit()
        assert timeout == f"{IDLE_TIMEOUT_S}s"
        idle = Session(bind=connection)
        create_record(
            idle,
            Customer,
            {"name": "never committed", "territory_id": territory},
            now=datetime.now(UTC),
        )
        idle.flush()  # written: the transaction holds a txid, and now idles
        idle_txid = idle.scalar(text("SELECT pg_current_xact_id()::text::bigint"))
        idle_since = time.monotonic()

        later: list[str] = []
        with app.app_context():
            for n in range(3):  # committed after it, one transaction each
                with Session(db.engine) as other:
                    record = create_record(
                        other,
                        Customer,
                        {"name": f"committed later {n}", "territory_id": territory},
                        now=datetime.now(UTC),
                    )
                    other.commit()
                    later.append(str(record.id))
            with Session(db.engine) as other:
                customer = other.get(Customer, world.records["A"]["customers"])
                update_record(other, customer, {"notes": "later"}, now=datetime.now(UTC))
                other.commit()
                later.append(str(customer.id))

        stalled, stalled_cursor = _pull_to_end(app, admin_id, cursor)
        assert set(later).isdisjoint(stalled), "a pull went past a running transaction"
        assert stalled_cursor.position < (idle_txid, 0)
        time.sleep(0.3)
        still, _ = _pull_to_end(app, admin_id, stalled_cursor)
        assert set(later).isdisjoint(still), "a pull went past a running transaction"

        delivered: dict = {}
        polls = 0
        deadline = time.monotonic() + 20
        while not set(later) <= delivered.keys() and time.monotonic() < deadline:
            time.sleep(0.2)
            polls += 1
            got, stalled_cursor = _pull_to_end(app, admin_id, stalled_cursor)
            delivered |= got
        stall = time.monotonic() - idle_since
        report(
            f"\nidle transaction ({kind}): pulls stalled {stall:.1f}s with "
            f"idle_in_transaction_session_timeout={timeout}, {polls} polls, "
            f"then delivered {len(set(later) & delivered.keys())}/{len(later)} later changes"
        )
        assert set(later) <= delivered.keys(), "pulls stayed stalled after the timeout"
        assert stall >= IDLE_TIMEOUT_S
        assert delivered[str(world.records["A"]["customers"])]["notes"] == "later"
        assert "never committed" not in {r["name"] for r in delivered.values()}
        with pytest.raises(DBAPIError):  # PostgreSQL really ended that session
            idle.execute(text("SELECT 1"))
    finally:
        with contextlib.suppress(DBAPIError):
            connection.close()
        engine.dispose()
    with app.app_context():
        names = db.session.scalars(select(Customer.name)).all()
        assert "never committed" not in names


# -- writes between the pages of a first sync (both databases) ------------------------------


def test_a_customer_written_during_a_paged_first_sync_arrives_before_its_children(app, world):
    """The first sync walks tables in id order over several requests; a customer
    created meanwhile, with an id the walk has passed, comes later from the log,
    while its new contact is still ahead of the walk: the contact must not come first."""
    rep_id, territory = world.users["rep.a"], world.territories["A"]
    with app.app_context(), Session(db.engine) as session:
        for n in range(30):
            create_record(
                session,
                Customer,
                {"name": f"c{n}", "territory_id": territory},
                now=datetime.now(UTC),
            )
        session.commit()
        rep = session.get(User, rep_id)
        first = Puller(session, rep).pull(None, 20)
        session.rollback()
        assert first.changes[-1]["table"] == "customers" and first.has_more  # mid-customers
        late = uuid.UUID(int=1)  # the smallest id: the walk has passed it
        create_record(
            session,
            Customer,
            {"id": late, "name": "late", "territory_id": territory},
            now=datetime.now(UTC),
        )
        contact = create_record(
            session, Contact, {"customer_id": late, "name": "late contact"}, now=datetime.now(UTC)
        )
        session.commit()
        contact_id = str(contact.id)
        cursor, arrivals = first.cursor, []
        while True:
            page = Puller(session, rep).pull(cursor, 20)
            session.rollback()
            cursor = page.cursor
            arrivals += [change["record"]["id"] for change in page.changes if change["op"] == "put"]
            if not page.has_more:
                break
    assert str(late) in arrivals and contact_id in arrivals
    assert arrivals.index(str(late)) < arrivals.index(contact_id)


def test_two_pushes_on_one_record_at_once_lose_nothing(pg_url, app, world):
    """Found by bench/chaos: two pushes that read a record before either committed both
    merged against the same version, and the second overwrote the first unseen (both
    phones were told their value was applied). The second now waits for the first and
    merges against what it wrote: the later edit wins, the other value is logged."""
    cid = world.records["A"]["customers"]
    now = datetime.now(UTC)
    second: dict = {}

    def tablet() -> None:
        with app.app_context(), Session(db.engine) as session:
            second["result"] = engine_phone_push(
                session,
                world,
                "north.manager",
                "tablet",
                changed_at=now - timedelta(minutes=1),
                now=now,
            )
            session.commit()

    with app.app_context():
        with Session(db.engine) as session:
            first = engine_phone_push(
                session, world, "rep.a", "phone", changed_at=now - timedelta(minutes=2), now=now
            )
            thread = threading.Thread(target=tablet)
            thread.start()
            thread.join(timeout=1.5)
            assert thread.is_alive(), "the second push did not wait for the first"
            session.commit()
        thread.join(timeout=30)
        assert first["status"] == "applied" and first["record"]["version"] == 2
        assert second["result"]["status"] == "applied"  # the later edit wins: no loss
        assert second["result"]["record"]["version"] == 3
        with Session(db.engine) as check:
            assert check.get(Customer, cid).phone == "tablet"
            lost = check.scalars(select(ConflictEntry).where(ConflictEntry.record_id == cid)).all()
            assert [(e.loser, e.lost_values) for e in lost] == [("server", {"phone": "phone"})]
