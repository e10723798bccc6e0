"""No 500s (issue 14, point 7): every endpoint answers poison input with a 4xx and the envelope.

Values no column can store, times UTC cannot hold, calendar edges, `1e309`,
5,000-digit numbers, 1,000-deep JSON and wrongly typed token claims all used
to reach code that raised (a 500, on SQLite or PostgreSQL or both). Each now
answers 4xx with `{"error": {"code", "message", "fields"}}`, stores nothing,
and the same on both databases.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import zlib

import pytest

from tests.support.databases import SECRET
from tests.support.poison import NEW, complete, dumps, rest_params, target_id

DEEP = "[" * 1000 + "]" * 1000
DIGITS = "9" * 5000


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    """The error envelope, with this status and code (and `field` among `fields`)."""
    assert response.status_code == status, (response.status_code, response.get_json())
    error = response.json["error"]
    assert set(error) <= {"code", "message", "fields"} and error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert any(key == field or key.startswith(f"{field}.") for key in error["fields"]), error
    return error


def send(client, method: str, url: str, text: str, headers: dict):
    return client.open(
        url, method=method, data=text, content_type="application/json", headers=headers
    )


# -- bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "actor", "table", "op", "target", "fields", "keys", "field"), rest_params()
)
def test_a_poison_value_in_a_create_or_patch_is_422_and_stores_nothing(
    client, world, login, name, actor, table, op, target, fields, keys, field
):
    headers = login(f"{actor}@example.com")
    admin = login("admin@example.com", device_id="reader")
    record_id = target_id(world, table, target)
    before = client.get(f"/api/v1/{table}/{record_id}", headers=admin)
    if target == NEW:
        body = {"id": str(record_id), **complete(world, table, fields)}
        response = send(client, "POST", f"/api/v1/{table}", dumps(body), headers)
    else:
        response = send(client, "PATCH", f"/api/v1/{table}/{record_id}", dumps(fields), headers)
    error = assert_error(response, 422, "validation_failed")
    if field is None:  # the field's name itself was the poison: named printably
        assert list(error["fields"]) == ["notes\\u0000"]
    else:
        assert any(key.split(".")[0] == field for key in error["fields"]), error
    after = client.get(f"/api/v1/{table}/{record_id}", headers=admin)
    assert (after.status_code, after.json) == (before.status_code, before.json)
    if target == NEW:
        assert after.status_code == 404


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(DEEP, "nested more than", id="1000-deep body"),
        pytest.param(
            '{"name": "x", "opening_hours": ' + DEEP + "}", "nested", id="1000-deep field"
        ),
        pytest.param('{"name": "x", "visit_every_days": ' + DIGITS + "}", "4300", id="5000 digits"),
    ],
)
def test_a_body_the_parser_cannot_read_is_400_malformed_json(client, world, login, text, message):
    headers = login("rep.a@example.com")
    before = client.get("/api/v1/customers", headers=headers).json["items"]
    error = assert_error(
        send(client, "POST", "/api/v1/customers", text, headers), 400, "malformed_json"
    )
    assert message in error["message"]
    assert client.get("/api/v1/customers", headers=headers).json["items"] == before


def _login(email: str = '"a@example.com"', password: str = '"x"', device: str = '"d"') -> str:
    return f'{{"email": {email}, "password": {password}, "device_id": {device}}}'


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_login(email='"a\\u0000@example.com"'), id="nul"),
        pytest.param(_login(password='"\\ud800xx"'), id="surrogate"),
        pytest.param(_login(device=DIGITS), id="digits"),
        pytest.param(_login(email="1e309", password="NaN"), id="1e309"),
        pytest.param(DEEP, id="deep"),
        pytest.param(_login(device='{"a": ' + DEEP + "}"), id="deep-field"),
    ],
)
def test_login_answers_poison_with_4xx_unauthenticated(client, world, body):
    response = send(client, "POST", "/api/v1/auth/login", body, {})
    assert response.status_code in (400, 422), response.get_json()
    assert_error(response, response.status_code, response.json["error"]["code"])


def test_a_valid_surrogate_pair_is_text_not_poison(client, world, login):
    """`\\ud83d\\ude00` is one character (😀) escaped, as `ensure_ascii` JSON writes it."""
    headers = login("rep.a@example.com")
    text = '{"name": "Caf\\u00e9 \\ud83d\\ude00", "notes": "ok"}'
    created = send(client, "POST", "/api/v1/customers", text, headers)
    assert created.status_code == 201, created.json
    assert created.json["name"] == "Café 😀"


# -- money: the column's real limit --------------------------------------------------


def test_money_up_to_the_column_limit_is_stored_exactly(client, world, login):
    headers = login("admin@example.com")
    body = {"sku": "MAX", "name": "Most", "unit_price": "999999999999.99"}
    created = client.post("/api/v1/products", json=body, headers=headers)
    assert created.status_code == 201, created.json
    stored = client.get(f"/api/v1/products/{created.json['id']}", headers=headers).json
    assert stored["unit_price"] == "999999999999.99"
    line = {"product_id": created.json["id"], "quantity": "1", "unit_price": "999999999999.99"}
    order = {"customer_id": str(world.records["A"]["customers"]), "lines": [line]}
    created = client.post("/api/v1/orders", json=order, headers=headers)
    assert created.status_code == 201, created.json
    assert created.json["total"] == "999999999999.99"


def test_a_quota_beyond_the_money_column_is_422(client, world, login):
    headers = login("admin@example.com")
    url = f"/api/v1/quotas/{world.users['rep.a']}/2026-11"
    body = {"revenue_target": "1000000000000.00", "visits_target": 1}
    assert_error(
        client.put(url, json=body, headers=headers), 422, "validation_failed", "revenue_target"
    )
    body = {"revenue_target": "1", "visits_target": 2**31}
    assert_error(
        client.put(url, json=body, headers=headers), 422, "validation_failed", "visits_target"
    )


# -- query parameters ----------------------------------------------------------------

EDGE_TIMES = ["0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00Z"]


QUERIES = [
    *((f"/api/v1/customers?updated_since={t}", "updated_since") for t in EDGE_TIMES),
    *((f"/api/v1/route-plans?updated_since={t}", "updated_since") for t in EDGE_TIMES),
    *((f"/api/v1/conflicts?since={t}", "since") for t in EDGE_TIMES),
    ("/api/v1/route-plans?plan_date=9999-12-31", "plan_date"),
    ("/api/v1/route-plans?plan_date=0001-01-01", "plan_date"),
    ("/api/v1/geo/route?rep_id={rep}&date=9999-12-31", "date"),
    ("/api/v1/geo/route?rep_id={rep}&date=0001-01-01", "date"),
    ("/api/v1/kpis?from=0001-01-01&to=0001-01-31", "from"),
    ("/api/v1/kpis?from=9999-12-01&to=9999-12-31", "to"),
    ("/api/v1/kpis?from=9999-12-01&to=9999-12-30", "to"),
    ("/api/v1/kpis?overdue_limit=" + DIGITS, "overdue_limit"),
    ("/api/v1/customers?limit=" + DIGITS, "limit"),
    (f"/api/v1/customers?limit={2**31}", "limit"),
    ("/api/v1/customers?limit=1e309", "limit"),
    ("/api/v1/sync/pull?limit=" + DIGITS, "limit"),
    ("/api/v1/conflicts?limit=1e309", "limit"),
    ("/api/v1/geo/customers?bbox=1e309,0,1,1", "bbox"),
    ("/api/v1/geo/customers?bbox=nan,0,1,1", "bbox"),
    ("/api/v1/sync/watermelon?last_pulled_at=" + DIGITS, "last_pulled_at"),
    ("/api/v1/customers?q=a%00b", "q"),
]


def _refused(response, status: int, code: str, field: str | None) -> bool:
    try:
        assert_error(response, status, code, field)
    except (AssertionError, KeyError, TypeError):
        return False
    return True


def test_every_poison_query_parameter_is_422(client, world, login):
    """One test for the whole table (each case would cost a world): every failure listed."""
    headers = login("north.manager@example.com")
    wrong = []
    for url, field in QUERIES:
        response = client.get(url.replace("{rep}", str(world.users["rep.a"])), headers=headers)
        if not _refused(response, 422, "validation_failed", field):
            wrong.append((url[:80], response.status_code, response.get_json()))
    assert wrong == []


def test_json_too_deep_in_a_query_parameter_is_422(client, world, login):
    """WatermelonDB's `migration` is JSON text in the query string: too deep to read is a
    validation error of that parameter, not a 500."""
    url = "/api/v1/sync/watermelon?last_pulled_at=null&migration=" + DEEP
    response = client.get(url, headers=login("rep.a@example.com"))
    assert_error(response, 422, "validation_failed")
    assert response.json["error"]["fields"]["migration"]


EDGE_PERIODS = ["2025-W53", "2026-13", "2026-00", "9999-12", "0001-01", "9999-W52", "0001-W01"]
EDGE_PLANS = [
    ("/api/v1/route-plans", {"date": "9999-12-31"}, "date"),
    ("/api/v1/route-plans", {"date": "0001-01-01"}, "date"),
    ("/api/v1/route-plans/week", {"week_start": "9999-12-27"}, "week_start"),
    ("/api/v1/route-plans/week", {"week_start": "0001-01-01"}, "week_start"),
]


def test_calendar_edges_are_422_and_the_calendar_inside_them_is_served(client, world, login):
    admin, rep = login("admin@example.com", device_id="reader"), login("rep.a@example.com")
    wrong = [
        (period, response.status_code)
        for period in EDGE_PERIODS
        if not _refused(
            response := client.get(f"/api/v1/kpis?period={period}", headers=admin),
            422,
            "validation_failed",
            "period",
        )
    ]
    wrong += [
        (path, body, response.status_code)
        for path, body, field in EDGE_PLANS
        if not _refused(
            response := client.post(path, json=body, headers=rep), 422, "validation_failed", field
        )
    ]
    wrong += [
        (period, response.status_code)
        for period in ("2026-W53", "9999-11", "0001-02")
        if (response := client.get(f"/api/v1/kpis?period={period}", headers=admin)).status_code
        != 200
    ]
    assert wrong == []


# -- access tokens -------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(claims: dict) -> str:
    """An HS256 token signed with the app's key, whatever the claims' types."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


WRONG_CLAIMS = [
    ("sub", 5),
    ("sub", ["a"]),
    ("sid", {"a": 1}),
    ("sid", 5),
    ("sid", ["x"]),
    ("exp", "soon"),
    ("exp", [1]),
    ("iat", "x"),
    ("nbf", {"a": 1}),
    ("jti", 5),
    ("iss", ["fieldsync"]),
    ("aud", 5),
]


def test_a_signed_token_with_wrongly_typed_claims_is_401(client, world, login):
    headers = login("rep.a@example.com")  # a real session, so only a claim's type is wrong
    token = headers["Authorization"].split()[1]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["exp"] > time.time()
    bearer = {"Authorization": f"Bearer {_signed(claims)}"}  # our signing, checked once
    assert client.get("/api/v1/customers", headers=bearer).status_code == 200
    wrong = []
    for claim, value in WRONG_CLAIMS:
        forged = {"Authorization": f"Bearer {_signed({**claims, claim: value})}"}
        response = client.get("/api/v1/customers", headers=forged)
        if not _refused(response, 401, "invalid_token", None):
            wrong.append((claim, value, response.status_code, response.get_json()))
    assert wrong == []


# -- answers ---------------------------------------------------------------------------


def test_an_answer_orjson_cannot_write_is_written_all_the_same(app):
    """A lone surrogate echoed back (a WatermelonDB record id, say), nesting past 255 or
    an integer past 64 bits: the standard library writes them, escaped."""
    value: list = []
    for _ in range(300):
        value = [value]
    with app.test_request_context():
        for body in ({"id": "x\ud800"}, {"deep": value}, {"n": 2**70}):
            response = app.json.response(body)
            assert json.loads(response.get_data()) == body


def test_a_forged_pull_cursor_beyond_64_bits_is_answered_not_500(client, world, login):
    """The unsigned format is never believed (a full re-sync); a signed one cannot be made."""
    body = {"v": 1, "p": [0, 10**30], "s": None, "w": []}
    cursor = base64.urlsafe_b64encode(zlib.compress(json.dumps(body).encode())).decode()
    headers = login("rep.a@example.com")
    response = client.get("/api/v1/sync/pull", query_string={"cursor": cursor}, headers=headers)
    assert response.status_code == 200 and response.json["reset"] is True
    signed = f"2.00000000.{cursor.rstrip('=')}.AAAAAAAAAAAAAAAAAAAAAA"
    response = client.get("/api/v1/sync/pull", query_string={"cursor": signed}, headers=headers)
    assert_error(response, 400, "invalid_cursor")
