"""The reference Python client over real HTTP: compressed pushes out, compressed pulls in.

A live server on its own copy of the demo data; a middleware in front of the app notes
what each request and answer came in, before the app decodes the body.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fieldsync_client import SyncClient, http_transport
from fieldsync_client.transport import ACCEPT_ENCODING
from server.demo import DOMAIN, PASSWORD
from tests.support.live_server import LiveServer, live_demo_server


@pytest.fixture(scope="module")
def server(demo) -> Iterator[LiveServer]:
    with live_demo_server(demo, "pyclient") as live:
        yield live


def _recording(live: LiveServer) -> list[dict]:
    seen: list[dict] = []
    inner = live.app.wsgi_app

    def wsgi(environ, start_response):
        entry = {
            "path": environ["PATH_INFO"],
            "sent": environ.get("HTTP_CONTENT_ENCODING"),
            "accepts": environ.get("HTTP_ACCEPT_ENCODING"),
        }
        seen.append(entry)

        def start(status, headers, *rest):
            entry["answer"] = dict(headers).get("Content-Encoding")
            return start_response(status, headers, *rest)

        return inner(environ, start)

    live.app.wsgi_app = wsgi
    return seen


def test_pushes_go_gzip_and_pulls_come_compressed(server, tmp_path):
    seen = _recording(server)
    phone = SyncClient(
        http_transport(server.url),
        email=f"rep2@{DOMAIN}",
        password=PASSWORD,
        path=str(tmp_path / "phone.db"),
        page_size=5000,
    )
    phone.sync()
    pulls = [s for s in seen if s["path"] == "/api/v1/sync/pull"]
    assert pulls and all(s["accepts"] == ACCEPT_ENCODING for s in pulls)
    assert pulls[0]["answer"] == ACCEPT_ENCODING.split(", ")[0]  # zstd where Python has it
    customers = len(phone.all("customers"))
    assert customers > 100

    created = [
        phone.create("customers", {"name": f"Tạp hóa nén {n}", "status": "lead"}) for n in range(30)
    ]
    small = phone.create("tasks", {"customer_id": created[0], "title": "Gọi lại"})
    phone.push_batch = 30  # the creates in one push, the task in a second, small one
    phone.sync()
    pushes = [s for s in seen if s["path"] == "/api/v1/sync/push"]
    assert [p["sent"] for p in pushes] == ["gzip", None]
    assert phone.outbox() == []
    assert len(phone.all("customers")) == customers + 30
    assert phone.get("tasks", small)["version"] == 1  # applied and pulled back
