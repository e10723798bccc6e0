"""Accounts (issue 15): no ghost reps, no look-alike emails, no email probing, the password
policy; through REST, sync push and the CLI's account service."""

from __future__ import annotations

import re
import uuid

import pytest

from sync.rules import WriteRules
from tests.support.sync_calls import mutation, results

NO_TEAM = "Every rep belongs to a team: choose one."
TAKEN = "This email cannot be used: it belongs to another account, current or deleted."
LENGTH = "Use 10 to 200 characters."
BLANK = "A password cannot be only spaces."
COMMON = "This password is too common: choose one that is harder to guess."
UUID_TEXT = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)


def new_user(world, **values):
    return {
        "email": "new.rep@example.com",
        "name": "New Rep",
        "role": "rep",
        "password": "a-good-password",
        "team_id": str(world.teams["North"]),
        **values,
    }


# -- every rep belongs to a team ---------------------------------------------------------


@pytest.mark.parametrize("actor", ["admin", "north.manager"])
@pytest.mark.parametrize("team", ["missing", None])
def test_a_rep_without_a_team_is_refused_for_admins_and_managers(client, world, login, actor, team):
    body = new_user(world)
    if team == "missing":
        del body["team_id"]
    else:
        body["team_id"] = None
    answer = client.post("/api/v1/users", json=body, headers=login(f"{actor}@example.com"))
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["code"] == "validation_failed"
    assert answer.json["error"]["fields"] == {"team_id": [NO_TEAM]}


def test_managers_create_reps_only_in_a_team_of_theirs(client, world, login):
    manager = login("north.manager@example.com")
    no_team = new_user(world)
    del no_team["team_id"]
    for body in (
        no_team,  # a rep that no manager would see
        new_user(world, team_id=None),
        new_user(world, team_id=str(world.teams["South"])),
        new_user(world, team_id=str(uuid.uuid4())),
    ):
        refused = client.post("/api/v1/users", json=body, headers=manager)
        assert refused.status_code == 422, (body, refused.json)
        assert list(refused.json["error"]["fields"]) == ["team_id"]
    created = client.post("/api/v1/users", json=new_user(world), headers=manager)
    assert created.status_code == 201, created.json
    seen = client.get("/api/v1/users", query_string={"q": "new rep"}, headers=manager).json
    assert [u["id"] for u in seen["items"]] == [created.json["id"]]


def test_managers_and_admins_need_no_team(client, world, login):
    admin = login("admin@example.com")
    for role in ("manager", "admin"):
        body = new_user(world, email=f"new.{role}@example.com", role=role)
        del body["team_id"]
        assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201


@pytest.mark.parametrize("actor", ["admin", "north.manager"])
def test_a_rep_cannot_be_moved_to_no_team(client, world, login, actor):
    rep = f"/api/v1/users/{world.users['rep.a']}"
    moved = client.patch(rep, json={"team_id": None}, headers=login(f"{actor}@example.com"))
    assert moved.status_code == 422, moved.json
    assert moved.json["error"]["fields"] == {"team_id": [NO_TEAM]}
    assert client.get(rep, headers=login("admin@example.com")).json["team_id"] == str(
        world.teams["North"]
    )


def test_a_manager_without_a_team_becomes_a_rep_only_with_one(client, world, login):
    admin = login("admin@example.com")
    body = new_user(world, email="lead@example.com", role="manager")
    del body["team_id"]
    lead = client.post("/api/v1/users", json=body, headers=admin).json["id"]
    refused = client.patch(f"/api/v1/users/{lead}", json={"role": "rep"}, headers=admin)
    assert refused.status_code == 422 and refused.json["error"]["fields"] == {"team_id": [NO_TEAM]}
    team = str(world.teams["South"])
    moved = client.patch(
        f"/api/v1/users/{lead}", json={"role": "rep", "team_id": team}, headers=admin
    )
    assert moved.status_code == 200 and moved.json["team_id"] == team


def test_a_push_cannot_make_a_ghost_rep_either(client, world, login):
    admin = login("admin@example.com")
    created, moved = results(
        client,
        admin,
        mutation("users", "create", uuid.uuid4(), {"email": "g@example.com", "name": "G"}),
        mutation("users", "update", world.users["rep.a"], {"team_id": None}, 1),
    )
    for result in (created, moved):
        assert result["status"] == "rejected"
        assert result["error"]["code"] == "validation_failed"
        assert result["error"]["fields"] == {"team_id": [NO_TEAM]}


def test_the_cli_account_service_needs_a_team_for_a_rep_and_a_good_password(session, world):
    from server.auth.accounts import create_user_account

    with pytest.raises(ValueError, match="Every rep belongs to a team"):
        create_user_account(session, email="r@example.com", password="a-good-password", role="rep")
    with pytest.raises(ValueError, match="password: This password is too common"):
        create_user_account(
            session, email="r@example.com", password="Password1234", role="admin", team=None
        )
    rep = create_user_account(
        session, email="R@Example.com", password="a-good-password", role="rep", team="North"
    )
    assert (rep.email, rep.team_id) == ("r@example.com", world.teams["North"])


# -- one account per folded email ----------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "ａｄｍｉｎ@example.com",
        "ＡＤＭＩＮ@ＥＸＡＭＰＬＥ.ＣＯＭ",
        "admın@example.com",
        "ADMİN@example.com",
        "admin@ｅｘａｍｐｌｅ.com",
    ],
)
def test_a_look_alike_of_an_existing_email_is_refused(client, world, login, variant):
    answer = client.post(
        "/api/v1/users", json=new_user(world, email=variant), headers=login("admin@example.com")
    )
    assert answer.status_code == 409, answer.json
    assert answer.json["error"]["code"] == "email_taken"


def test_a_kelvin_sign_is_a_k(client, world, login):
    admin = login("admin@example.com")
    first = client.post(
        "/api/v1/users", json=new_user(world, email="kim@example.com"), headers=admin
    )
    assert first.status_code == 201
    again = client.post(
        "/api/v1/users", json=new_user(world, email="\u212aIM@example.com"), headers=admin
    )
    assert again.status_code == 409 and again.json["error"]["code"] == "email_taken"


def test_the_folded_email_is_stored_and_signs_in_from_any_look_alike(client, world, login):
    admin = login("admin@example.com")
    body = new_user(world, email="ＮＧＵＹＥＮ.ＡＮ@Example.com")
    created = client.post("/api/v1/users", json=body, headers=admin)
    assert created.status_code == 201, created.json
    assert created.json["email"] == "nguyen.an@example.com"
    for email in (
        "nguyen.an@example.com",
        "ＮＧＵＹＥＮ.ＡＮ@Example.com",
        " NGUYEN.AN@EXAMPLE.COM",
    ):
        login(email, password="a-good-password")


def test_sign_in_folds_the_email_like_the_stored_one(client, world):
    answer = client.post(
        "/api/v1/auth/login",
        json={
            "email": "ＲＥＰ.Ａ@ｅｘａｍｐｌｅ.ｃｏｍ",
            "password": "test-pass-2026",
            "device_id": "d",
        },
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["user"]["id"] == str(world.users["rep.a"])


def test_an_email_that_changes_form_when_folded_must_still_be_an_email(client, world, login):
    answer = client.post(
        "/api/v1/users",
        json=new_user(world, email="⑴@example.com"),  # folds to "(1)@example.com"
        headers=login("admin@example.com"),
    )
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["fields"] == {"email": ["Not a valid email address."]}


def test_the_unique_index_holds_the_folded_email_when_the_check_is_raced(
    client, world, login, monkeypatch
):
    """Two creates racing past the check: the database's unique index on the folded
    column refuses the second, with the check's own answer."""
    admin = login("admin@example.com")
    checked = client.post(
        "/api/v1/users", json=new_user(world, email="ａｄｍｉｎ@example.com"), headers=admin
    )
    monkeypatch.setattr(WriteRules, "_check_email_free", lambda self, email, record: None)
    raced = client.post(
        "/api/v1/users", json=new_user(world, email="ａｄｍｉｎ@example.com"), headers=admin
    )
    assert raced.status_code == checked.status_code == 409
    assert raced.json == checked.json


# -- a taken email tells nothing about accounts the caller cannot see -----------------------


def test_a_taken_email_gets_one_answer_wherever_the_account_is(client, world, login):
    admin = login("admin@example.com")
    assert client.delete(f"/api/v1/users/{world.users['rep.b']}", headers=admin).status_code == 204
    manager = login("north.manager@example.com")
    holders = {
        "own team": "rep.a2@example.com",
        "other team": "south.manager@example.com",
        "deleted, other team": "rep.b@example.com",
        "admin": "ADMIN@example.com",
    }
    answers = {}
    for where, email in holders.items():
        created = client.post("/api/v1/users", json=new_user(world, email=email), headers=manager)
        patched = client.patch(
            f"/api/v1/users/{world.users['rep.a']}", json={"email": email}, headers=manager
        )
        answers[where] = (created.status_code, created.json, patched.status_code, patched.json)
    body = {"error": {"code": "email_taken", "message": TAKEN, "fields": {"email": [TAKEN]}}}
    assert set(map(repr, answers.values())) == {repr((409, body, 409, body))}
    assert not UUID_TEXT.search(repr(answers)) and "South" not in repr(answers)
    # The account's own email, in any form, is no conflict.
    own = client.patch(
        f"/api/v1/users/{world.users['rep.a']}",
        json={"email": "REP.A@example.com"},
        headers=manager,
    )
    assert own.status_code == 200 and own.json["email"] == "rep.a@example.com"


def test_the_email_is_checked_only_once_the_account_could_be_made(client, world, login):
    """Whoever may not make this account learns nothing about the email."""
    taken, free = "south.manager@example.com", "nobody@example.com"
    cases = [
        ("rep.a", {}),  # reps write no users
        ("north.manager", {"role": "manager"}),  # managers make reps only
        ("north.manager", {"team_id": str(world.teams["South"])}),  # in their teams only
    ]
    for actor, extra in cases:
        headers = login(f"{actor}@example.com")
        answers = [
            client.post(
                "/api/v1/users", json=new_user(world, email=email, **extra), headers=headers
            )
            for email in (taken, free)
        ]
        assert answers[0].status_code in (403, 422), answers[0].json
        assert (answers[0].status_code, answers[0].json) == (
            answers[1].status_code,
            answers[1].json,
        ), (actor, extra)


def test_lists_and_searches_show_no_other_teams_accounts(client, world, login):
    admin = login("admin@example.com")
    client.delete(f"/api/v1/users/{world.users['rep.b']}", headers=admin)
    manager = login("north.manager@example.com")
    for query in (
        {"q": "rep.b"},
        {"q": "south"},
        {"q": "rep.b@example.com", "include_deleted": "true"},
        {"team_id": str(world.teams["South"])},
        {"team_id": str(world.teams["South"]), "include_deleted": "true"},
    ):
        listed = client.get("/api/v1/users", query_string=query, headers=manager)
        assert listed.status_code == 200 and listed.json["items"] == [], query
    for key in ("rep.b", "south.manager"):
        assert client.get(f"/api/v1/users/{world.users[key]}", headers=manager).status_code == 404


# -- the password policy ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-1", LENGTH),
        (" " * 12, BLANK),
        ("password123", COMMON),
        ("PASSWORD123", COMMON),
        ("Qwertyuiop", COMMON),
    ],
)
def test_a_weak_password_is_refused_on_create_and_on_reset(client, world, login, password, message):
    admin = login("admin@example.com")
    created = client.post("/api/v1/users", json=new_user(world, password=password), headers=admin)
    reset = client.patch(
        f"/api/v1/users/{world.users['rep.a']}", json={"password": password}, headers=admin
    )
    for answer in (created, reset):
        assert answer.status_code == 422, answer.json
        assert answer.json["error"]["code"] == "validation_failed"
        assert answer.json["error"]["fields"] == {"password": [message]}


def test_a_good_password_is_set_and_signs_in(client, world, login):
    admin = login("admin@example.com")
    reset = client.patch(
        f"/api/v1/users/{world.users['rep.a']}",
        json={"password": "mưa Sài Gòn 2026"},
        headers=admin,
    )
    assert reset.status_code == 200, reset.json
    login("rep.a@example.com", password="mưa Sài Gòn 2026")
