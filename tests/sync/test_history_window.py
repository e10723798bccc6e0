"""A phone holds what a rep works with, not all history (ADR 0024).

Visits and orders older than the window (90 days for reps here, 30 for
managers, none for admins) are left out of a first sync and of a fill, unless
open or among the last three closed ones of their customer; as they age out,
or a newer one pushes them out of the last three, a later pull removes them;
a record that becomes open again comes back. REST still lists everything.
Each case is checked against a reference computed here, in Python, from the
rows, so the SQL of the pull is not its own judge.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from domain.models import ConflictEntry, Customer, Order, Territory, User, Visit
from server.extensions import db
from sync import settings
from sync.changes import create_record
from sync.window import CLOSED_ORDER_STATUSES
from tests.support.sync_calls import ids_of, mutation, pull_all, results
from tests.support.windows import use_window, windowed_view

#: "Today" for the server, well after the test world's records (2026-11-02).
TODAY = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
WATERMELON = "/api/v1/sync/watermelon"


class Clock:
    """The server's clock for pulls and pushes."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: float) -> None:
        self.now += timedelta(days=days)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(TODAY)
    monkeypatch.setattr("server.sync.routes.utc_now", clock)
    monkeypatch.setattr("server.watermelon.routes.utc_now", clock)
    return clock


@pytest.fixture(autouse=True)
def windowed():
    """Reps 90 days, managers 30, admins everything; the last 3 per customer."""
    with use_window(rep=90, manager=30, admin=0, last_n=3) as configured:
        yield configured


def _visit(session, customer_id, rep_id, when, status="completed", **extra) -> uuid.UUID:
    values = {"customer_id": customer_id, "rep_id": rep_id, "planned_at": when, "status": status}
    return create_record(session, Visit, {**values, **extra}, now=when).id


def _order(session, customer_id, rep_id, when, status="submitted") -> uuid.UUID:
    values = {"customer_id": customer_id, "rep_id": rep_id, "status": status, "lines": []}
    if status in CLOSED_ORDER_STATUSES:
        values["submitted_at"] = when
    return create_record(session, Order, values, now=when).id


def _history_customer(session, world, territory="A", rep="rep.a") -> dict[str, dict]:
    """A customer with a year of visits and orders, some open, some old."""
    customer = create_record(
        session,
        Customer,
        {"name": f"Old shop {territory}", "territory_id": world.territories[territory]},
        now=TODAY - 400 * DAY,
    )
    rep_id = world.users[rep]
    ago = {days: TODAY - days * DAY for days in (5, 60, 100, 120, 150, 200, 300, 350)}
    visits = {
        "recent": _visit(session, customer.id, rep_id, ago[5]),
        "in_window": _visit(session, customer.id, rep_id, ago[60], "missed"),
        "old_1": _visit(session, customer.id, rep_id, ago[100]),
        "old_2": _visit(session, customer.id, rep_id, ago[120], "cancelled"),
        "old_3": _visit(session, customer.id, rep_id, ago[150]),
        "old_4": _visit(session, customer.id, rep_id, ago[200]),
        "old_planned": _visit(session, customer.id, rep_id, ago[300], "planned"),
        "old_in_progress": _visit(session, customer.id, rep_id, ago[350], "in_progress"),
    }
    orders = {
        "recent": _order(session, customer.id, rep_id, ago[5]),
        "old_1": _order(session, customer.id, rep_id, ago[100]),
        "old_2": _order(session, customer.id, rep_id, ago[150], "cancelled"),
        "old_3": _order(session, customer.id, rep_id, ago[200]),
        "old_4": _order(session, customer.id, rep_id, ago[300]),
        "old_draft": _order(session, customer.id, rep_id, ago[350], "draft"),
    }
    session.commit()
    return {
        "customer": {"id": customer.id},
        "visits": {k: str(v) for k, v in visits.items()},
        "orders": {k: str(v) for k, v in orders.items()},
    }


@pytest.fixture
def history(app, world, windowed):
    with app.app_context():
        return _history_customer(db.session, world)


def _expected(session, user_key: str, now: datetime) -> dict[str, set[str]]:
    user = session.scalar(select(User).where(User.email == f"{user_key}@example.com"))
    view = windowed_view(session, user, now)
    session.rollback()
    return view


class Phone:
    """What a device holds of visits and orders, kept by applying pulls."""

    def __init__(self, client, headers):
        self.client, self.headers = client, headers
        self.cursor = None
        self.held: dict[str, set[str]] = {"visits": set(), "orders": set()}

    def pull(self) -> list[dict]:
        changes, self.cursor, _ = pull_all(self.client, self.headers, self.cursor)
        for change in changes:
            if change["table"] not in self.held:
                continue
            if change["op"] == "put":
                self.held[change["table"]].add(change["record"]["id"])
            else:
                self.held[change["table"]].discard(change["id"])
        return changes


def _check(app, phone: Phone, user_key: str, clock: Clock) -> None:
    with app.app_context():
        expected = _expected(db.session, user_key, clock.now)
    assert phone.held == expected


# -- a first sync ------------------------------------------------------------------------


def test_a_first_sync_sends_open_recent_and_the_last_three(
    app, client, login, world, history, clock
):
    phone = Phone(client, login("rep.a@example.com"))
    phone.pull()
    v, o = history["visits"], history["orders"]
    # Recent, in the window, open whatever their age, and the last three closed:
    # recent, in_window (missed: closed, in the window) and old_1.
    assert phone.held["visits"] >= {
        v["recent"],
        v["in_window"],
        v["old_1"],
        v["old_planned"],
        v["old_in_progress"],
    }
    assert not phone.held["visits"] & {v["old_2"], v["old_3"], v["old_4"]}
    assert phone.held["orders"] >= {o["recent"], o["old_1"], o["old_2"], o["old_draft"]}
    assert not phone.held["orders"] & {o["old_3"], o["old_4"]}
    _check(app, phone, "rep.a", clock)
    # The world's own open visit and draft order (dated 2026-11-02) are held too.
    assert str(world.records["A"]["visits"]) in phone.held["visits"]
    assert str(world.records["A"]["orders"]) in phone.held["orders"]


def test_rest_still_lists_the_whole_history(client, login, history, clock):
    headers = login("rep.a@example.com")
    customer = history["customer"]["id"]
    listed = client.get(f"/api/v1/visits?customer_id={customer}&limit=100", headers=headers)
    assert listed.status_code == 200, listed.json
    assert {i["id"] for i in listed.json["items"]} == set(history["visits"].values())
    old = history["visits"]["old_4"]
    assert client.get(f"/api/v1/visits/{old}", headers=headers).status_code == 200


def test_windows_per_role(app, client, login, history, clock, windowed):
    v = history["visits"]
    manager = Phone(client, login("north.manager@example.com"))
    manager.pull()  # 30 days: "in_window" (60 days ago) is held only as one of the last 3
    assert v["in_window"] in manager.held["visits"]
    _check(app, manager, "north.manager", clock)
    admin = Phone(client, login("admin@example.com"))
    admin.pull()  # no window
    assert set(v.values()) <= admin.held["visits"]
    _check(app, admin, "admin", clock)
    settings.configure(replace(windowed, window_days_manager=0))
    whole = Phone(client, login("north.manager@example.com", device_id="tablet"))
    whole.pull()
    assert set(v.values()) <= whole.held["visits"]


# -- ageing out ---------------------------------------------------------------------------


def test_records_ageing_out_are_removed_on_a_later_pull(app, client, login, history, clock):
    phone = Phone(client, login("rep.a@example.com"))
    phone.pull()
    v = history["visits"]
    # Three more recent ones push every old closed visit out of the last three.
    more = dict(zip((10, 20, 30), _three_recent_visits(app, history), strict=True))
    changes = phone.pull()
    assert ids_of(changes, "visits") == set(more.values())
    assert ids_of(changes, "visits", "remove") == {v["old_1"]}
    _check(app, phone, "rep.a", clock)
    assert phone.pull() == []  # the same day: nothing more

    clock.advance(45)  # "in_window" (then 60 days old) is 105 days old now
    changes = phone.pull()
    assert ids_of(changes, "visits", "remove") == {v["in_window"]}
    assert ids_of(changes, "visits") == set()
    _check(app, phone, "rep.a", clock)
    clock.advance(0.2)
    assert phone.pull() == []  # the same day again: an idle pull stays idle

    clock.advance(100)  # everything closed is old: the last three stay, open ones stay
    changes = phone.pull()
    assert ids_of(changes, "visits", "remove") == {more[30]}
    assert phone.held["visits"] & set(v.values()) == {
        v["recent"],
        v["old_planned"],
        v["old_in_progress"],
    }
    assert {more[10], more[20]} <= phone.held["visits"]
    _check(app, phone, "rep.a", clock)


def test_a_newer_record_pushes_the_oldest_out_and_a_delete_lets_it_back(
    app, client, login, history, clock
):
    headers = login("rep.a@example.com")
    phone = Phone(client, headers)
    phone.pull()
    v, o = history["visits"], history["orders"]
    customer = str(history["customer"]["id"])
    new_visit, new_order = str(uuid.uuid4()), str(uuid.uuid4())
    done = results(
        client,
        headers,
        mutation(
            "visits",
            "create",
            new_visit,
            {"customer_id": customer, "planned_at": "2027-05-31T09:00:00Z", "status": "completed"},
        ),
        mutation(
            "orders",
            "create",
            new_order,
            {"customer_id": customer, "status": "submitted", "lines": []},
        ),
    )
    assert [r["status"] for r in done] == ["applied", "applied"]
    changes = phone.pull()
    assert ids_of(changes, "visits", "remove") == {v["old_1"]}
    assert ids_of(changes, "orders", "remove") == {o["old_2"]}
    _check(app, phone, "rep.a", clock)

    results(client, headers, mutation("visits", "delete", new_visit))
    changes = phone.pull()
    assert ids_of(changes, "visits", "delete") == {new_visit}
    assert ids_of(changes, "visits") == {v["old_1"]}  # back among the last three
    _check(app, phone, "rep.a", clock)


def test_a_record_open_again_comes_back(app, client, login, history, clock):
    phone = Phone(client, login("rep.a@example.com"))
    phone.pull()
    old = history["visits"]["old_4"]
    assert old not in phone.held["visits"]
    manager = login("north.manager@example.com")
    response = client.patch(f"/api/v1/visits/{old}", json={"status": "planned"}, headers=manager)
    assert response.status_code == 200, response.json
    changes = phone.pull()
    assert ids_of(changes, "visits") == {old}
    _check(app, phone, "rep.a", clock)
    # Closed again, and old: it leaves again (and nothing else moves).
    response = client.patch(f"/api/v1/visits/{old}", json={"status": "missed"}, headers=manager)
    assert response.status_code == 200, response.json
    changes = phone.pull()
    assert ids_of(changes, "visits", "remove") == {old}
    _check(app, phone, "rep.a", clock)


def test_an_edit_outside_the_window_is_merged_and_removed_again(app, client, login, history, clock):
    """A phone's queued edit of a record that aged out meanwhile is merged like any other;
    the push answer carries the record, and the next pull removes it again."""
    headers = login("rep.a@example.com")
    phone = Phone(client, headers)
    phone.pull()
    old = history["visits"]["old_3"]
    with app.app_context():
        version = db.session.get(Visit, uuid.UUID(old)).version
    done = results(
        client,
        headers,
        mutation("visits", "update", old, {"notes": "called back"}, base_version=version),
    )
    assert done[0]["status"] == "applied" and done[0]["record"]["notes"] == "called back"
    changes = phone.pull()
    assert ids_of(changes, "visits", "remove") == {old}
    assert ids_of(changes, "visits") == set()
    with app.app_context():
        assert db.session.get(Visit, uuid.UUID(old)).notes == "called back"


def test_a_visit_recorded_today_for_an_old_date_is_judged_by_its_date(
    app, client, login, history, clock
):
    """A paper visit of 200 days ago typed in today is old history: the push answers it,
    the next pull removes it. One dated today stays."""
    headers = login("rep.a@example.com")
    phone = Phone(client, headers)
    phone.pull()
    customer = str(history["customer"]["id"])
    late, today = str(uuid.uuid4()), str(uuid.uuid4())
    old_day, this_morning = TODAY - 200 * DAY, TODAY - timedelta(hours=2)
    done = results(
        client,
        headers,
        *(
            mutation(
                "visits",
                "create",
                record_id,
                {"customer_id": customer, "status": "completed", "check_in_at": when.isoformat()},
            )
            for record_id, when in ((late, old_day), (today, this_morning))
        ),
    )
    assert [r["status"] for r in done] == ["applied", "applied"]
    changes = phone.pull()
    assert late in ids_of(changes, "visits", "remove")
    assert today in ids_of(changes, "visits")
    _check(app, phone, "rep.a", clock)


# -- fills, scope changes, settings ----------------------------------------------------


def test_a_fill_of_a_gained_territory_follows_the_window(app, client, login, world, clock):
    with app.app_context():
        gained = _history_customer(db.session, world, territory="B", rep="rep.b")
    phone = Phone(client, login("rep.a@example.com"))
    phone.pull()
    assert not phone.held["visits"] & set(gained["visits"].values())
    admin = login("admin@example.com")
    with app.app_context():
        territory = db.session.get(Territory, world.territories["B"])
        team = territory.team_id
    # rep.a joins territory B's team and territory (a rep's territories are their team's).
    for path, body in (
        (f"users/{world.users['rep.a']}", {"team_id": str(team)}),
        (f"territories/{world.territories['B']}", {"rep_ids": [str(world.users["rep.a"])]}),
    ):
        response = client.patch(f"/api/v1/{path}", json=body, headers=admin)
        assert response.status_code == 200, response.json
    phone.pull()
    v = gained["visits"]
    assert {v["recent"], v["old_planned"], v["old_1"]} <= phone.held["visits"]
    assert not phone.held["visits"] & {v["old_3"], v["old_4"]}
    _check(app, phone, "rep.a", clock)


def test_a_customer_moved_in_brings_only_its_windowed_records(app, client, login, world, clock):
    with app.app_context():
        moved = _history_customer(db.session, world, territory="B", rep="rep.b")
    phone = Phone(client, login("rep.a@example.com"))
    phone.pull()
    response = client.patch(
        f"/api/v1/customers/{moved['customer']['id']}",
        json={"territory_id": str(world.territories["A"])},
        headers=login("admin@example.com"),
    )
    assert response.status_code == 200, response.json
    phone.pull()
    assert moved["visits"]["old_1"] in phone.held["visits"]
    assert moved["visits"]["old_4"] not in phone.held["visits"]
    _check(app, phone, "rep.a", clock)


def test_a_longer_window_or_none_sends_what_it_now_holds(
    app, client, login, history, clock, windowed
):
    phone = Phone(client, login("rep.a@example.com"))
    phone.pull()
    v = history["visits"]
    settings.configure(replace(windowed, window_days_rep=160))
    changes = phone.pull()
    assert ids_of(changes, "visits") >= {v["old_2"], v["old_3"]}
    assert v["old_4"] not in phone.held["visits"]
    _check(app, phone, "rep.a", clock)
    settings.configure(replace(windowed, window_days_rep=0))
    phone.pull()
    assert set(v.values()) <= phone.held["visits"]
    _check(app, phone, "rep.a", clock)
    # A window again (a cursor of before windows is like this): what it leaves out goes.
    settings.configure(windowed)
    changes = phone.pull()
    assert ids_of(changes, "visits", "remove") == {v["old_2"], v["old_3"], v["old_4"]}
    _check(app, phone, "rep.a", clock)


def test_fewer_last_records_and_a_new_day_at_once(app, client, login, history, clock, windowed):
    """Another n and a moved edge in one pull: what only the old edge held is judged too."""
    phone = Phone(client, login("rep.a@example.com"))
    more = dict(zip((10, 20, 30), _three_recent_visits(app, history), strict=True))
    phone.pull()
    assert history["visits"]["in_window"] in phone.held["visits"]  # 60 days old: by date
    settings.configure(replace(windowed, window_last_n=2))
    clock.advance(45)  # "in_window" is 105 days old, and not among the last 2
    changes = phone.pull()
    assert history["visits"]["in_window"] in ids_of(changes, "visits", "remove")
    assert more[30] in phone.held["visits"]  # 75 days old: still by date
    _check(app, phone, "rep.a", clock)


def test_pages_of_one_walk_keep_the_window(app, client, login, history, clock):
    """A first sync in pages of 2: the same records as in one page."""
    headers = login("rep.a@example.com")
    small, _, pages = pull_all(client, headers, limit=2)
    assert pages > 5
    whole, _, _ = pull_all(client, headers)
    for table in ("visits", "orders"):
        assert ids_of(small, table) == ids_of(whole, table)


# -- WatermelonDB -------------------------------------------------------------------------


def _watermelon(client, headers, last_pulled_at=None) -> dict:
    query = {"last_pulled_at": last_pulled_at} if last_pulled_at else {}
    response = client.get(WATERMELON, query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _created(body, table) -> set[str]:
    return {r["id"] for r in body["changes"][table]["created"]}


def _three_recent_visits(app, history) -> list[str]:
    """Three closed visits 10, 20 and 30 days ago: "in_window" is then held only by date."""
    with app.app_context():
        customer = history["customer"]["id"]
        rep = db.session.scalar(select(User.id).where(User.email == "rep.a@example.com"))
        made = [str(_visit(db.session, customer, rep, TODAY - d * DAY)) for d in (10, 20, 30)]
        db.session.commit()
    return made


def test_watermelondb_follows_the_same_window(app, client, login, history, clock):
    _three_recent_visits(app, history)
    headers = login("rep.a@example.com")
    first = _watermelon(client, headers)
    phone = Phone(client, headers)
    phone.pull()
    assert _created(first, "visits") == phone.held["visits"]
    assert _created(first, "orders") == phone.held["orders"]

    clock.advance(45)  # "in_window" ages out
    later = _watermelon(client, headers, first["timestamp"])
    assert later["changes"]["visits"]["deleted"] == [history["visits"]["in_window"]]
    assert "experimentalStrategy" not in later
    # The same timestamp again (a lost answer) gives the same; the new one, nothing.
    again = _watermelon(client, headers, first["timestamp"])
    assert again["changes"]["visits"]["deleted"] == [history["visits"]["in_window"]]
    idle = _watermelon(client, headers, later["timestamp"])
    assert all(not any(bucket.values()) for bucket in idle["changes"].values())


def test_a_window_row_is_no_version_for_watermelondb_pushes(app, client, login, world, clock):
    """A `window` row (a sibling pushed the record out of the last three) changes no
    version: an edit made on the phone before it pulls again is no conflict."""
    with app.app_context():
        customer = create_record(
            db.session,
            Customer,
            {"name": "Rarely visited", "territory_id": world.territories["A"]},
            now=TODAY - 400 * DAY,
        ).id
        rep = world.users["rep.a"]
        old = [
            _visit(db.session, customer, rep, TODAY - d * DAY, notes="first")
            for d in (200, 210, 220)
        ]
        db.session.commit()
    headers = login("rep.a@example.com")
    first = _watermelon(client, headers)
    raw = next(r for r in first["changes"]["visits"]["created"] if r["id"] == str(old[2]))
    with app.app_context():  # a newer visit: old[2] leaves the last three
        _visit(db.session, customer, rep, TODAY - 150 * DAY)
        db.session.commit()
    edited = {**raw, "notes": "second", "updated_at": int(clock.now.timestamp() * 1000)}
    response = client.post(
        WATERMELON,
        json={
            "changes": {"visits": {"created": [], "updated": [edited], "deleted": []}},
            "lastPulledAt": first["timestamp"],
        },
        headers=headers,
    )
    assert response.status_code == 200, response.json
    with app.app_context():
        assert db.session.get(Visit, old[2]).notes == "second"
        lost = db.session.scalars(select(ConflictEntry).where(ConflictEntry.record_id == old[2]))
        assert lost.all() == []
