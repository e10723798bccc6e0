"""Compression both ways (issue 18): answers in the coding the client accepts, the same bytes
once decoded; request bodies in gzip or zstd, idempotent like plain ones, never decoded past
the body limit."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import uuid

import brotli
import pytest

from server.compression import zstd
from server.web import routes as web
from tests.support.databases import dispose
from tests.support.factories import add_customer_with_children
from tests.support.live_server import unavailable
from tests.support.sync_calls import PULL, PUSH, mutation

WATERMELON = "/api/v1/sync/watermelon"
DECODE = {
    "zstd": zstd.decompress,
    "br": brotli.decompress,
    "gzip": gzip.decompress,
    "identity": lambda data: data,
}
ENCODE = {"gzip": gzip.compress, "zstd": zstd.compress}


def decoded(response) -> bytes:
    return DECODE[response.headers.get("Content-Encoding", "identity")](response.data)


@pytest.fixture
def busy_world(app, world):
    """The small world with enough customers that every list is worth compressing."""
    from domain.models import Territory, User
    from server.extensions import db

    with app.app_context():
        territory = db.session.get(Territory, world.territories["A"])
        rep = db.session.get(User, world.users["rep.a"])
        for number in range(30):
            add_customer_with_children(db.session, territory, rep, f"Tạp hóa số {number}")
        db.session.commit()
    return world


def _answers(client, path, headers, query=None):
    """The same GET with each coding accepted, and once with none."""
    return {
        coding: client.get(
            path, query_string=query or {}, headers={**headers, "Accept-Encoding": coding}
        )
        for coding in ("identity", "zstd", "br", "gzip")
    }


@pytest.mark.parametrize(
    ("who", "path", "query"),
    [
        ("rep.a", PULL, {"limit": 5000}),
        ("rep.a", "/api/v1/customers", {"limit": 100}),
        ("north.manager", "/api/v1/geo/customers", None),
    ],
)
def test_compressed_answers_are_the_same_bytes_once_decoded(
    client, busy_world, login, who, path, query
):
    answers = _answers(client, path, login(busy_world.email(who)), query)
    plain = answers["identity"]
    assert plain.status_code == 200, plain.json
    assert "Content-Encoding" not in plain.headers
    assert len(plain.data) > 5000
    for coding in ("zstd", "br", "gzip"):
        answer = answers[coding]
        assert answer.status_code == 200
        assert answer.headers["Content-Encoding"] == coding
        assert "Accept-Encoding" in answer.headers["Vary"]
        assert int(answer.headers["Content-Length"]) == len(answer.data) < len(plain.data) / 3
        assert _without_cursor(decoded(answer)) == _without_cursor(plain.data)


def _without_cursor(body: bytes) -> bytes:
    """A pull's bytes with its cursor blanked: on PostgreSQL the cursor holds the horizon of
    running transactions, which moves from one request to the next."""
    cursor = json.loads(body).get("cursor")
    return body.replace(f'"cursor":"{cursor}"'.encode(), b'"cursor":""') if cursor else body


def test_kpis_compressed_are_the_same_once_decoded(client, busy_world, login):
    answers = _answers(client, "/api/v1/kpis", login(busy_world.email("north.manager")))
    plain = json.loads(answers["identity"].data)
    del plain["period"]["as_of"]  # the time of each answer
    for coding in ("zstd", "br", "gzip"):
        assert answers[coding].headers["Content-Encoding"] == coding
        body = json.loads(decoded(answers[coding]))
        del body["period"]["as_of"]
        assert body == plain


def test_watermelondb_pull_compressed_is_the_same_once_decoded(client, busy_world, login):
    headers = login(busy_world.email("rep.a"))
    query = {"last_pulled_at": "null", "schema_version": 1}
    answers = _answers(client, WATERMELON, headers, query)
    plain = json.loads(answers["identity"].data)
    for coding in ("zstd", "br", "gzip"):
        assert answers[coding].headers["Content-Encoding"] == coding
        body = json.loads(decoded(answers[coding]))
        assert body["changes"] == plain["changes"]  # `timestamp` is the time of each pull


def test_the_streamed_pull_is_compressed_as_it_streams(client, busy_world, login):
    """The NDJSON first sync (ADR 0025) is the largest answer a phone gets on a slow link."""
    headers = login(busy_world.email("rep.a"))

    def pages(coding: str) -> list:
        """Each answer read to its end before the next request: a stream holds its request."""
        answer = client.get(
            PULL + "/stream",
            query_string={"limit": 20},
            headers={**headers, "Accept-Encoding": coding},
        )
        assert answer.headers.get("Content-Encoding", "identity") == coding
        return [json.loads(line)["changes"] for line in decoded(answer).splitlines()]

    plain = pages("identity")
    assert len(plain) > 1  # several pages, one line each
    for coding in ("zstd", "br", "gzip"):
        assert pages(coding) == plain


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("gzip, deflate, br, zstd", "zstd"),
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
        ("identity", None),
        ("gzip;q=0", None),
        ("gzip;q=0, br;q=0, zstd;q=0", None),
        ("zstd;q=0, *", "br"),
        ("br;q=0.3, gzip;q=0.9", "gzip"),
        ("identity;q=1, gzip;q=0.2", None),
        ("*;q=0", None),
        ("", None),
    ],
)
def test_each_coding_is_negotiated(client, busy_world, login, accept_encoding, coding):
    headers = {**login(busy_world.email("rep.a")), "Accept-Encoding": accept_encoding}
    answer = client.get(PULL, query_string={"limit": 5000}, headers=headers)
    assert answer.status_code == 200
    assert answer.headers.get("Content-Encoding") == coding
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert json.loads(decoded(answer))["changes"]


def test_small_answers_and_errors_go_as_they_are(client, world, login):
    headers = {**login(world.email("rep.a")), "Accept-Encoding": "zstd, br, gzip"}
    refused = client.get("/api/v1/customers", headers={"Accept-Encoding": "gzip"})
    assert refused.status_code == 401 and "Content-Encoding" not in refused.headers
    assert refused.json["error"]["code"] == "unauthenticated"
    assert "Accept-Encoding" in refused.headers["Vary"]
    cursor = json.loads(decoded(client.get(PULL, query_string={"limit": 5000}, headers=headers)))
    assert cursor["has_more"] is False
    empty = client.get(PULL, query_string={"cursor": cursor["cursor"]}, headers=headers)
    assert empty.status_code == 200 and empty.json["changes"] == []
    assert len(empty.data) < 500 and "Content-Encoding" not in empty.headers


def test_pages_scripts_are_compressed_images_are_not(client):
    page = client.get("/map", headers={"Accept-Encoding": "br"})
    assert page.headers["Content-Encoding"] == "br" and b"<html" in decoded(page)
    if not web.vendor_installed():
        unavailable("web/node_modules is not installed (npm ci --prefix web)")
    image = client.get(
        "/static/vendor/leaflet/images/layers-2x.png", headers={"Accept-Encoding": "gzip"}
    )
    assert image.status_code == 200 and "Content-Encoding" not in image.headers


def test_a_compressed_static_file_is_streamed_and_still_revalidates(client):
    """A file is sent compressed as it is read; the browser's `If-None-Match` (the ETag of
    the compressed file) still gets a 304, not the whole file again."""
    path = "/api/docs/static/swagger-ui-bundle.js"
    plain = client.get(path)
    first = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    assert decoded(first) == plain.data
    etag = first.headers["ETag"]
    assert etag.endswith(':gzip"') and etag != plain.headers["ETag"]
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_compression_can_be_switched_off(app, world):
    from server import create_app

    quiet = create_app({**app.config, "COMPRESSION_ENABLED": False})
    try:
        client = quiet.test_client()
        answer = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200 and "Content-Encoding" not in answer.headers
        # Request bodies are still decoded: read as JSON, a wrong password (not a 400).
        login = {"email": world.email("rep.a"), "password": "wrong-pass", "device_id": "d"}
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        body = gzip.compress(json.dumps(login).encode())
        still_decoded = client.post("/api/v1/auth/login", data=body, headers=headers)
        assert still_decoded.json["error"]["code"] == "invalid_credentials"
    finally:
        dispose(quiet)


# -- request bodies ------------------------------------------------------------------------


def _post(client, path, body: bytes, coding: str, headers) -> object:
    return client.post(
        path,
        data=body,
        headers={**headers, "Content-Type": "application/json", "Content-Encoding": coding},
    )


@pytest.mark.parametrize("coding", ["gzip", "zstd", "x-gzip"])
def test_a_compressed_push_is_applied_and_idempotent_like_a_plain_one(client, world, login, coding):
    headers = login(world.email("rep.a"))
    created = str(uuid.uuid4())
    mutations = [
        mutation("customers", "create", created, {"name": "Quán cà phê Mây", "status": "lead"}),
        mutation(
            "customers",
            "update",
            world.records["A"]["customers"],
            {"phone": "+84 28 3822 0000"},
            base_version=1,
        ),
    ]
    body = json.dumps({"schema_version": 1, "mutations": mutations}).encode()
    packed = ENCODE["gzip" if coding == "x-gzip" else coding](body)
    first = _post(client, PUSH, packed, coding, headers)
    assert first.status_code == 200, first.json
    assert [r["status"] for r in first.json["results"]] == ["applied", "applied"]
    again = _post(client, PUSH, packed, coding, headers)  # the answer was lost: sent again
    plain = client.post(PUSH, data=body, headers={**headers, "Content-Type": "application/json"})
    for retry in (again, plain):  # the stored answers, not applied twice
        assert retry.status_code == 200
        answer = retry.json
        assert all(result.pop("replayed") for result in answer["results"])
        assert answer == first.json
    record = client.get(f"/api/v1/customers/{created}", headers=headers)
    assert record.json["name"] == "Quán cà phê Mây" and record.json["version"] == 1


def test_a_compressed_watermelondb_push_is_applied(client, world, login):
    headers = login(world.email("rep.a"))
    created = str(uuid.uuid4())
    pulled = client.get(WATERMELON, query_string={"last_pulled_at": "null"}, headers=headers)
    changes = {
        "customers": {
            "created": [{"id": created, "name": "Tiệm bánh Hoa", "status": "lead"}],
            "updated": [],
            "deleted": [],
        }
    }
    body = {"changes": changes, "lastPulledAt": pulled.json["timestamp"]}
    packed = gzip.compress(json.dumps(body).encode())
    answer = _post(client, WATERMELON, packed, "gzip", headers)
    assert answer.status_code == 200, answer.json
    assert client.get(f"/api/v1/customers/{created}", headers=headers).status_code == 200


def _bomb(coding: str, gigabytes: int = 1) -> bytes:
    """Gzip members (zstd frames) of 16 MiB of spaces each: `gigabytes` GiB once decoded."""
    block = b"[" + b" " * (16 * 1024 * 1024 - 2) + b"]"
    one = ENCODE[coding](block)
    return one * (64 * gigabytes)


@pytest.mark.parametrize("coding", ["gzip", "zstd"])
def test_a_bomb_is_refused_with_413_and_never_inflated(client, world, login, coding):
    headers = login(world.email("rep.a"))
    bomb = _bomb(coding)
    tracemalloc.start()
    try:
        answer = _post(client, PUSH, bomb, coding, headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 413
    assert answer.json["error"]["code"] == "payload_too_large"
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    # What a plain body of the limit costs (its bytes, then parsed), not the gigabyte.
    assert peak < 4 * limit + len(bomb), f"peak {peak:,} bytes"


def test_a_body_may_decode_to_the_limit_and_not_a_byte_more(client, world, login, monkeypatch):
    headers = login(world.email("rep.a"))
    monkeypatch.setitem(client.application.config, "MAX_CONTENT_LENGTH", 10_000)
    body = {"schema_version": 1, "mutations": [], "pad": ""}
    size = len(json.dumps(body).encode())
    at_limit = json.dumps({**body, "pad": "x" * (10_000 - size)}).encode()
    assert len(at_limit) == 10_000
    fits = _post(client, PUSH, gzip.compress(at_limit), "gzip", headers)
    assert fits.status_code == 422 and "pad" in fits.json["error"]["fields"]  # read whole
    over = _post(client, PUSH, gzip.compress(at_limit[:-1] + b" }"), "gzip", headers)
    assert over.status_code == 413 and over.json["error"]["code"] == "payload_too_large"
    # The compressed body is held to the limit as well.
    noise = uuid.uuid4().bytes * 1000
    assert _post(client, PUSH, noise, "gzip", headers).status_code == 413


def test_an_unknown_coding_is_415_and_a_corrupt_body_400(client, world, login):
    headers = {**login(world.email("rep.a")), "Accept-Language": "vi"}
    body = json.dumps({"schema_version": 1, "mutations": []}).encode()
    unknown = _post(client, PUSH, brotli.compress(body), "br", headers)
    assert unknown.status_code == 415
    assert unknown.json["error"]["code"] == "unsupported_encoding"
    assert unknown.json["error"]["message"] == "Hãy nén nội dung yêu cầu bằng gzip hoặc zstd."
    corrupt = _post(client, PUSH, b"\x1f\x8b" + body, "gzip", headers)
    assert corrupt.status_code == 400
    assert corrupt.json["error"]["code"] == "malformed_encoding"
    cut = _post(client, PUSH, gzip.compress(body)[:-8], "gzip", headers)
    assert cut.status_code == 400 and cut.json["error"]["code"] == "malformed_encoding"
    identity = _post(client, PUSH, body, "identity", headers)
    assert identity.status_code == 200
