"""Operations hygiene: nothing private is cached, `/readyz` knows a database it cannot
write, and the access log says what an operator needs and nothing personal."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import event, make_url

from server import create_app
from server.extensions import db
from tests.support.databases import TEST_CONFIG, dispose, on_postgres, recorded_statements
from tests.support.sync_calls import PULL

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
PASSWORD = "test-pass-2026"


def sign_in(client, email: str, **headers):
    body = {"email": email, "password": PASSWORD, "device_id": "hygiene-phone"}
    response = client.post(LOGIN, json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response


def test_tokens_and_private_answers_are_never_stored_by_a_cache(client, world):
    login = sign_in(client, world.email("rep.a"))
    assert login.headers["Cache-Control"] == "no-store"
    refreshed = client.post(REFRESH, json={"refresh_token": login.json["refresh_token"]})
    assert refreshed.status_code == 200
    assert refreshed.headers["Cache-Control"] == "no-store"
    headers = {"Authorization": f"Bearer {refreshed.json['access_token']}"}
    for path in ("/api/v1/customers", f"{PULL}?schema_version=1", "/api/v1/geo/territories"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    # Errors and public JSON too: a 401 or a probe is not worth keeping either.
    assert client.get("/api/v1/customers").headers["Cache-Control"] == "no-store"
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"


def test_public_files_stay_cacheable(client):
    for path in ("/static/app/common.js", "/api/docs/static/swagger-ui-bundle.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" not in response.headers.get("Cache-Control", ""), path
    assert client.get("/map").headers["Cache-Control"] == "no-cache"  # the page's own choice


def test_readyz_is_ready_on_a_writable_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready"


@pytest.fixture
def read_only_app(app):
    """The database under test, opened read-only: SQLite's `mode=ro`, or PostgreSQL
    sessions with `default_transaction_read_only` (a standby, a locked-down role)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if on_postgres():
        other = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with other.app_context():

            @event.listens_for(db.engine, "connect")
            def read_only(connection, _record):
                with connection.cursor() as cursor:
                    cursor.execute("SET default_transaction_read_only = on")
                connection.commit()

    else:
        path = make_url(url).database
        read_only_url = f"sqlite:///file:{path}?mode=ro&uri=true"
        other = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": read_only_url})
    yield other
    dispose(other)


def test_readyz_is_not_ready_when_the_database_cannot_be_written(read_only_app):
    response = read_only_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_read_only"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def logged_app(app, tmp_path):
    """An app instance writing its access log to a file."""
    path = tmp_path / "access.log"
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    other = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "ACCESS_LOG": str(path)})
    yield other, path
    dispose(other)


def test_access_log_lines_say_what_happened_without_tokens_or_personal_data(logged_app, world):
    app, path = logged_app
    client = app.test_client()
    email = world.email("rep.a")
    login = sign_in(client, email, **{"X-Request-ID": "req-from-the-proxy-1"})
    token = login.json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    pull = client.get(PULL, query_string={"schema_version": 1, "limit": 7}, headers=headers)
    assert pull.status_code == 200 and pull.json["changes"]  # the body sent: the line written
    assert len(pull.headers["X-Request-ID"]) == 32  # made here: the client sent none
    customer = world.records["A"]["customers"]
    assert client.get(f"/api/v1/customers/{customer}", headers=headers).json["id"] == str(customer)
    text = path.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["route"] for line in lines] == [
        LOGIN,
        PULL,
        "/api/v1/customers/<uuid:record_id>",
    ]
    signed_in, pulled, fetched = lines
    assert signed_in["request_id"] == "req-from-the-proxy-1"
    assert login.headers["X-Request-ID"] == "req-from-the-proxy-1"
    assert signed_in["method"] == "POST" and signed_in["status"] == 200
    assert signed_in["user"] is None  # not signed in yet when the request came
    assert pulled["user"] == str(world.users["rep.a"])
    assert pulled["path"] == PULL  # without its query string
    assert pulled["request_id"] == pull.headers["X-Request-ID"]
    assert pulled["bytes"] == len(pull.data)
    assert pulled["duration_ms"] >= 0 and pulled["time"].endswith("+00:00")
    assert fetched["path"] == f"/api/v1/customers/{customer}"
    for secret in (
        token,
        login.json["refresh_token"],
        email,
        PASSWORD,
        "limit",
        "schema_version",
        "Bearer",
    ):
        assert secret not in text


def test_a_request_id_that_is_not_a_plain_token_is_replaced(client):
    response = client.get(
        "/healthz", headers={"X-Request-ID": 'x", "status": 500, "user": "' + "a" * 80}
    )
    assert uuid.UUID(response.headers["X-Request-ID"])


def test_naming_the_user_in_the_log_reads_nothing_more_from_the_database(logged_app, world):
    """The log line names the user after the view has committed, when the user's row is
    expired: reading `g.user.id` then was one more SELECT on every request (a third of
    an empty pull's CPU)."""
    app, _ = logged_app
    client = app.test_client()
    token = sign_in(client, world.email("rep.a")).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    cursor = client.get(PULL, query_string={"limit": 5000}, headers=headers).json["cursor"]
    with recorded_statements(app) as statements:
        assert (
            client.get(PULL, query_string={"cursor": cursor}, headers=headers).json["changes"] == []
        )
    users_read = [s for s in statements if "users" in s]
    assert len(users_read) == 1, users_read  # the token's check, joined with its session
