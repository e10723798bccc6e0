"""The streamed pull (`GET /sync/pull/stream`): the plain pull's pages, in one answer.

On a slow link each page is a round trip (ADR 0025); the stream saves them, and must send
exactly what paging sends, each line a page a phone can apply and resume from.
"""

from __future__ import annotations

import orjson
import pytest

from sync import settings
from tests.support.sync_calls import PULL, pull_all, sync_settings

STREAM = "/api/v1/sync/pull/stream"


def stream(client, headers, **query):
    response = client.get(STREAM, query_string=query, headers=headers)
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/x-ndjson"
    return [orjson.loads(line) for line in response.data.splitlines()]


def keys(changes):
    return sorted((c["table"], c.get("id") or c["record"]["id"], c["op"]) for c in changes)


def test_a_stream_sends_what_paging_sends_a_page_a_line(client, world, login):
    headers = login("admin@example.com")
    paged, _, pages = pull_all(client, headers, limit=3)
    lines = stream(client, headers, limit=3)
    assert len(lines) == pages > 5
    assert [line["has_more"] for line in lines] == [True] * (pages - 1) + [False]
    assert keys(c for line in lines for c in line["changes"]) == keys(paged)
    # The last line's cursor is an ordinary cursor: nothing new since.
    after = client.get(PULL, query_string={"cursor": lines[-1]["cursor"]}, headers=headers)
    assert after.status_code == 200 and after.json["changes"] == []


def test_a_phone_cut_off_mid_stream_resumes_from_the_last_line_it_applied(client, world, login):
    headers = login("rep.a@example.com")
    lines = stream(client, headers, limit=2)
    assert len(lines) > 2
    applied = lines[:2]  # the connection dropped after two lines
    rest = stream(client, headers, limit=2, cursor=applied[-1]["cursor"])
    whole = [c for line in lines for c in line["changes"]]
    assert keys(c for line in applied + rest for c in line["changes"]) == keys(whole)


def test_a_stream_stops_after_the_servers_bound_and_says_has_more(client, world, login):
    headers = login("admin@example.com")
    with sync_settings(pull_stream_max_pages=2):
        lines = stream(client, headers, limit=3)
    assert len(lines) == 2 and lines[-1]["has_more"]
    following = stream(client, headers, limit=3, cursor=lines[-1]["cursor"])
    assert following[0]["changes"]


def test_a_stream_sends_pages_of_1000_unless_asked_otherwise(client, world, login):
    headers = login("admin@example.com")
    with sync_settings(pull_stream_default_limit=3):
        lines = stream(client, headers)
    assert len(lines) > 5 and all(len(line["changes"]) <= 3 + 4 for line in lines)
    assert settings.current().pull_stream_default_limit == 1000


@pytest.mark.parametrize(
    ("query", "status"),
    [({"cursor": "garbage"}, 400), ({"limit": 5001}, 422), ({"schema_version": 9}, 426)],
)
def test_a_bad_stream_request_is_an_error_with_a_body_not_a_broken_stream(
    client, world, login, query, status
):
    response = client.get(STREAM, query_string=query, headers=login("rep.a@example.com"))
    assert response.status_code == status
    assert response.json["error"]["code"]


def test_a_stream_needs_a_signed_in_device(client, world):
    assert client.get(STREAM).status_code == 401
