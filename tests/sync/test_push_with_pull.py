"""A push that carries a pull (ADR 0028): one round trip for a sync on a slow link."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from domain.models import SyncMutation
from domain.times import utc_iso
from server.extensions import db
from tests.support.phones import flask_transport, phone
from tests.support.sync_calls import PULL, PUSH, ids_of, mutation, pull_all, results


def push_pull(client, headers, *mutations, pull=None):
    body = {
        "mutations": list(mutations),
        "device_time": utc_iso(datetime.now(UTC)),
        "pull": {} if pull is None else pull,
    }
    return client.post(PUSH, json=body, headers=headers)


def other_edits(client, login, world, territory="A", n=3):
    """Edits of someone else (the team's manager) that a rep's pull must bring."""
    headers = login("north.manager@example.com", device_id="manager-phone")
    cid = str(world.records[territory]["customers"])
    for i in range(n):
        m = mutation("customers", "update", cid, {"notes": f"manager {i}"}, 1)
        assert [r["status"] for r in results(client, headers, m)] in (["applied"], ["merged"])


def mutation_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SyncMutation))


def test_the_pull_is_the_page_a_separate_pull_would_answer(client, world, login):
    rep = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, rep)
    other_edits(client, login, world)
    contact = str(world.records["A"]["contacts"])
    edit = mutation("contacts", "update", contact, {"notes": "rep's"}, 1)

    answer = push_pull(client, rep, edit, pull={"cursor": cursor})

    assert answer.status_code == 200, answer.json
    assert [r["status"] for r in answer.json["results"]] == ["applied"]
    page = answer.json["pull"]
    # What a pull with the same cursor answers now, the rep's own edit included.
    separate = client.get(PULL, query_string={"cursor": cursor}, headers=rep).json
    assert page["changes"] == separate["changes"]
    assert (page["has_more"], page["reset"]) == (separate["has_more"], separate["reset"])
    assert str(world.records["A"]["customers"]) in ids_of(page["changes"], "customers")
    assert contact in ids_of(page["changes"], "contacts")
    # Its cursor goes on where the page ends: nothing is waiting.
    after = client.get(PULL, query_string={"cursor": page["cursor"]}, headers=rep).json
    assert after["changes"] == [] and after["has_more"] is False


def test_no_cursor_pulls_from_scratch_in_pages(client, world, login):
    rep = login("rep.a@example.com")
    everything, _, _ = pull_all(client, rep)

    answer = push_pull(client, rep, pull={"limit": 1})

    assert answer.status_code == 200, answer.json
    page = answer.json["pull"]
    assert page["has_more"] is True and 1 <= len(page["changes"]) < len(everything)
    rest, _, _ = pull_all(client, rep, page["cursor"])
    assert len(page["changes"]) + len(rest) == len(everything)


def test_without_pull_the_answer_is_a_plain_push(client, world, login):
    rep = login("rep.a@example.com")
    body = {"mutations": []}
    answer = client.post(PUSH, json=body, headers=rep)
    assert answer.status_code == 200 and answer.json == {"results": []}


def test_a_bad_cursor_is_refused_before_anything_is_applied(client, world, login, app):
    rep = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, rep)
    edit = mutation("customers", "update", str(world.records["A"]["customers"]), {"notes": "x"}, 1)
    before = mutation_count(app)

    edited = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    another_device = pull_all(client, login("rep.a@example.com", device_id="other-phone"))[1]
    for bad in (edited, another_device):
        answer = push_pull(client, rep, edit, pull={"cursor": bad})
        assert answer.status_code == 400, answer.json
        assert answer.json["error"]["code"] == "invalid_cursor"
    assert mutation_count(app) == before
    # The same push, with a good cursor, then goes through.
    answer = push_pull(client, rep, edit, pull={"cursor": cursor})
    assert [r["status"] for r in answer.json["results"]] == ["applied"]


def test_a_retried_push_with_pull_applies_once(client, world, login, app):
    rep = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, rep)
    cid = str(world.records["A"]["customers"])
    edit = mutation("customers", "update", cid, {"notes": "once"}, 1)

    first = push_pull(client, rep, edit, pull={"cursor": cursor})
    # The answer was lost on the way: the phone sends the same body again.
    again = push_pull(client, rep, edit, pull={"cursor": cursor})

    assert first.json["results"][0]["status"] == "applied"
    assert again.json["results"][0]["replayed"] is True
    assert (
        again.json["results"][0]["record"]["version"]
        == first.json["results"][0]["record"]["version"]
    )
    assert again.json["pull"]["changes"] == first.json["pull"]["changes"]
    [put] = [c for c in again.json["pull"]["changes"] if c["table"] == "customers"]
    assert put["record"]["version"] == 2 and put["record"]["notes"] == "once"


def test_the_pull_keeps_to_the_scope(client, world, login):
    rep = login("rep.a@example.com")
    _, cursor, _ = pull_all(client, rep)
    other_edits(client, login, world, territory="A2")  # the same team, not rep A's territory
    south = login("south.manager@example.com", device_id="south-phone")
    m = mutation("customers", "update", str(world.records["B"]["customers"]), {"notes": "s"}, 1)
    assert [r["status"] for r in results(client, south, m)] == ["applied"]

    answer = push_pull(client, rep, pull={"cursor": cursor})

    assert answer.json["pull"]["changes"] == []
    assert answer.json["pull"]["has_more"] is False


def test_the_pull_limit_is_checked_like_a_pull(client, world, login, app):
    rep = login("rep.a@example.com")
    before = mutation_count(app)
    edit = mutation("customers", "update", str(world.records["A"]["customers"]), {"notes": "x"}, 1)
    answer = push_pull(client, rep, edit, pull={"limit": 0})
    assert answer.status_code == 422
    assert mutation_count(app) == before


def test_the_reference_client_syncs_in_one_round_trip_and_survives_a_lost_answer(
    client, world, login, app
):
    lost: set[int] = set()
    transport = flask_transport(client, lose_responses=lost)
    device = phone(client, "rep.a@example.com", transport=transport)
    device.sync()
    other_edits(client, login, world)
    contact = str(world.records["A"]["contacts"])
    device.update("contacts", contact, {"notes": "mine"})
    before = transport.calls["n"]
    lost.add(before + 1)  # the answer to the push with its pull never arrives

    device.sync()

    # The push was sent again (same mutation ids) and nothing else: no separate pull.
    assert transport.calls["n"] == before + 2
    assert device.outbox() == []
    assert device.get("contacts", contact)["notes"] == "mine"
    assert device.get("contacts", contact)["version"] == 2  # applied once
    assert device.get("customers", str(world.records["A"]["customers"]))["notes"] == "manager 2"
    with app.app_context():
        mine = select(func.count()).where(SyncMutation.user_id == world.users["rep.a"])
        assert db.session.scalar(mine) == 1


def test_the_answer_is_compressed_like_a_pull(client, world, login):
    rep = login("rep.a@example.com")
    body = {"mutations": [], "pull": {}}
    plain = client.post(PUSH, json=body, headers={**rep, "Accept-Encoding": "identity"})
    packed = client.post(PUSH, json=body, headers={**rep, "Accept-Encoding": "gzip"})
    assert packed.headers.get("Content-Encoding") == "gzip"
    assert "Content-Encoding" not in plain.headers
    decoded = json.loads(gzip.decompress(packed.data))
    assert decoded["pull"]["changes"] == plain.json["pull"]["changes"]
