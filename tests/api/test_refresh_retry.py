"""A refresh whose answer was lost does not sign the phone out (issue 15, ADR 0018).

A spent refresh token presented again within `REFRESH_RETRY_WINDOW_SECONDS`, while
its successor is unused, gets that same successor again; after the successor was
used, or after the window, it is reuse and ends the session (RFC 9700 §4.14.2).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import DeviceSession, RefreshToken
from domain.times import utc_now
from server.auth.sessions import rotate_refresh_token
from server.errors import ApiError
from server.extensions import db
from tests.support.factories import PASSWORD

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
CUSTOMERS = "/api/v1/customers"


def sign_in(client, device_id="phone"):
    response = client.post(
        LOGIN,
        json={"email": "rep.a@example.com", "password": PASSWORD, "device_id": device_id},
    )
    assert response.status_code == 200, response.json
    return response.json


def refresh(client, token: str):
    return client.post(REFRESH, json={"refresh_token": token})


def works(client, pair) -> bool:
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    return client.get(CUSTOMERS, headers=headers).status_code == 200


def test_a_retry_of_a_lost_refresh_answer_gets_the_same_successor_that_works(client, world, app):
    first = sign_in(client)
    lost = refresh(client, first["refresh_token"])  # the answer never reached the phone
    assert lost.status_code == 200
    retry = refresh(client, first["refresh_token"])
    assert retry.status_code == 200, retry.json
    assert retry.json["refresh_token"] == lost.json["refresh_token"]
    assert 0 < retry.json["refresh_expires_in"] <= lost.json["refresh_expires_in"]
    assert works(client, retry.json)
    # The pair is a normal one: its refresh token rotates on.
    after = refresh(client, retry.json["refresh_token"])
    assert after.status_code == 200 and works(client, after.json)
    # Only hashes are stored: no refresh token can be read back from the database.
    with app.app_context():
        stored = db.session.scalars(select(RefreshToken.secret_hash)).all()
    for token in (first["refresh_token"], retry.json["refresh_token"]):
        assert all(token.split(".", 1)[1] not in value for value in stored)


def test_a_retry_after_the_successor_was_used_ends_the_session(client, world):
    first = sign_in(client)
    lost = refresh(client, first["refresh_token"]).json
    retried = refresh(client, first["refresh_token"]).json
    assert retried["refresh_token"] == lost["refresh_token"]
    third = refresh(client, retried["refresh_token"]).json  # the successor is used now
    reuse = refresh(client, first["refresh_token"])
    assert reuse.status_code == 401 and reuse.json["error"]["code"] == "refresh_token_reused"
    response = client.get(CUSTOMERS, headers={"Authorization": f"Bearer {third['access_token']}"})
    assert response.status_code == 401 and response.json["error"]["code"] == "session_revoked"
    assert refresh(client, third["refresh_token"]).status_code == 401


def _session_of(token: str) -> DeviceSession:
    token_row = db.session.get(RefreshToken, uuid.UUID(hex=token.split(".")[0]))
    return db.session.get(DeviceSession, token_row.session_id)


@pytest.mark.parametrize("window", [60, 5])
def test_a_retry_is_answered_only_within_the_window_after_the_first_spend(
    client, world, app, monkeypatch, window
):
    monkeypatch.setitem(app.config, "REFRESH_RETRY_WINDOW_SECONDS", window)
    first = sign_in(client)["refresh_token"]
    spent_at = utc_now()
    with app.app_context():
        config = app.config
        successor = rotate_refresh_token(db.session, config, first, spent_at)
        db.session.commit()
        just_in_time = spent_at + timedelta(seconds=window - 1)
        again = rotate_refresh_token(db.session, config, first, just_in_time)
        db.session.commit()
        assert again["refresh_token"] == successor["refresh_token"]
        assert _session_of(first).ended_at is None
        with pytest.raises(ApiError) as refused:
            rotate_refresh_token(db.session, config, first, spent_at + timedelta(seconds=window))
        assert refused.value.error_code == "refresh_token_reused"
        db.session.expire_all()
        assert _session_of(first).end_reason == "refresh_reuse"


def test_two_refreshes_racing_with_one_token_get_the_same_successor(client, world, app):
    """The second waits for the first's row lock, then answers its successor: one chain."""
    first = sign_in(client)["refresh_token"]
    answers: dict[str, object] = {}
    with app.app_context():
        engine, config = db.engine, dict(app.config)

    def racer() -> None:
        with Session(engine) as racing:
            try:
                answers["racer"] = rotate_refresh_token(racing, config, first, utc_now())
                racing.commit()
            except ApiError as error:
                answers["racer"] = error

    with Session(engine) as winning:
        answers["winner"] = rotate_refresh_token(winning, config, first, utc_now())
        thread = threading.Thread(target=racer)
        thread.start()
        time.sleep(0.3)  # the racer now waits for the winner's lock on the token
        winning.commit()
        thread.join(15)
    assert not thread.is_alive()
    winner, racer_answer = answers["winner"], answers["racer"]
    assert isinstance(racer_answer, dict), racer_answer
    assert racer_answer["refresh_token"] == winner["refresh_token"]
    with Session(engine) as check:
        unused = check.scalars(select(RefreshToken).where(RefreshToken.used_at.is_(None))).all()
        assert len(unused) == 1  # never two live branches
        assert f"{unused[0].id.hex}." in winner["refresh_token"]
        assert check.scalars(select(DeviceSession.ended_at)).all() == [None]
    assert works(client, racer_answer)
