"""Fault tests: lost responses and a server killed mid-push lose and duplicate nothing.

1. The response to a push is lost after the server committed it; the phone's
   reference client retries the same mutation ids: the server replays the
   stored results (`replayed: true`) and applies nothing twice.
2. A real `fieldsync serve` (gunicorn) is killed with SIGKILL while it applies a
   500-mutation push (the kill is aimed at the open write transaction), then
   restarted; the client's retry completes: every record once, every mutation
   once, the outbox empty. On SQLite always, and on PostgreSQL when the suite
   runs there (`TEST_DATABASE_URL`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from bench.common import wait_http
from domain.models import ChangeLogEntry, Contact, Customer, SyncMutation
from fieldsync_client import SyncClient, http_transport
from server.extensions import db
from tests.support import ROOT
from tests.support.live_server import fieldsync_cli, free_port
from tests.support.phones import flask_transport, phone

# -- 1. a response lost after the commit ----------------------------------------------------


def _counted(app, model, ids) -> dict[str, int]:
    """How many rows each id has (a duplicate would show as 2)."""
    with app.app_context():
        wanted = [uuid.UUID(str(i)) for i in ids]
        rows = db.session.execute(
            select(model.id, func.count()).where(model.id.in_(wanted)).group_by(model.id)
        ).all()
        db.session.rollback()
    return {str(i): n for i, n in rows}


def _log_rows(app, record_ids) -> dict[tuple[str, str], int]:
    """Change-log rows per (record, kind): one `create` per created record, and so on."""
    with app.app_context():
        rows = db.session.execute(
            select(ChangeLogEntry.record_id, ChangeLogEntry.kind, func.count())
            .where(ChangeLogEntry.record_id.in_(record_ids))
            .group_by(ChangeLogEntry.record_id, ChangeLogEntry.kind)
        ).all()
        db.session.rollback()
    return {(str(i), kind): n for i, kind, n in rows}


@pytest.mark.parametrize(
    ("push_batch", "lost_pushes"),
    [
        pytest.param(200, [1], id="the-push"),
        pytest.param(200, [1, 2], id="the-push-and-its-first-retry"),
        pytest.param(8, [2], id="the-second-batch"),
    ],
)
def test_a_push_whose_response_is_lost_is_retried_without_duplicates(
    app, client, world, push_batch, lost_pushes
):
    lost: set[int] = set()  # call numbers of the transport; filled once the pull is done
    transport = flask_transport(client, lose_responses=lost)
    pushes: list[int] = []

    def counting(method, path, **kwargs):
        if path.endswith("/sync/push"):
            pushes.append(transport.calls["n"] + 1)
        return transport(method, path, **kwargs)

    device = phone(client, "rep.a@example.com", transport=counting, push_batch=push_batch)
    device.pull()
    customer_a = str(world.records["A"]["customers"])
    before = device.get("customers", customer_a)["version"]
    start = transport.calls["n"]
    # Push calls are numbered from here: batch k is call start+k while nothing is lost.
    lost |= {start + n for n in lost_pushes}

    customers = [
        device.create(
            "customers",
            {"name": f"Cửa hàng {n}", "territory_id": str(world.territories["A"])},
        )
        for n in range(12)
    ]
    contacts = [
        device.create("contacts", {"customer_id": customers[n], "name": f"Chị {n}"})
        for n in range(6)
    ]
    device.update("customers", customer_a, {"notes": "sent once, answered twice"})
    mutation_ids = [m["id"] for m in device.outbox()]

    results = device.push()

    assert device.outbox() == []
    assert len(pushes) == -(-len(mutation_ids) // push_batch) + len(lost_pushes)
    assert [r["id"] for r in results] == mutation_ids
    assert {r["status"] for r in results} == {"applied"}
    lost_batch = lost_pushes[0] - 1  # the batch whose answer was lost
    replayed = [r.get("replayed", False) for r in results]
    first, last = lost_batch * push_batch, (lost_batch + 1) * push_batch
    assert all(replayed[first:last]), "the retried batch was not served from its stored results"
    assert not any(replayed[:first] + replayed[last:])

    created = customers + contacts
    stored = _counted(app, Customer, customers) | _counted(app, Contact, contacts)
    assert stored == dict.fromkeys(created, 1)
    assert _counted(app, SyncMutation, mutation_ids) == dict.fromkeys(mutation_ids, 1)
    log = _log_rows(app, [uuid.UUID(i) for i in [*created, customer_a]])
    assert {k: n for k, n in log.items() if k[0] in created} == {(i, "create"): 1 for i in created}
    assert log[(customer_a, "update")] == 1  # the world wrote "create"; one update since
    with app.app_context():
        a = db.session.get(Customer, world.records["A"]["customers"])
        assert (a.version, a.notes) == (before + 1, "sent once, answered twice")
        versions = db.session.scalars(
            select(Customer.version).where(Customer.id.in_([uuid.UUID(i) for i in customers]))
        )
        assert set(versions) == {1}
    # The phone holds what the server holds.
    assert {device.get("customers", i)["version"] for i in customers} == {1}
    assert device.get("customers", customer_a)["version"] == before + 1


# -- 2. the server killed with SIGKILL in the middle of a push batch ----------------------------

BATCH = 500
SECRET = "faults-test-secret-key-that-is-long-enough-0123456789"


def _environment(tmp_path: Path, database_url: str) -> dict:
    return {
        **os.environ,
        "FIELDSYNC_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": database_url,
        "FIELDSYNC_SECRET_KEY": SECRET,
        "FIELDSYNC_ACCESS_LOG": "",
    }


def _cli(env: dict, *args: str) -> str:
    done = fieldsync_cli(env, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


class _Server:
    """`fieldsync serve` in its own process group, so SIGKILL reaches master and worker."""

    def __init__(self, env: dict, port: int, log_dir: Path):
        self.env, self.port, self.log_dir = env, port, log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log_dir / f"server-{self.starts}.log", "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "server.cli",
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    "1",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_http(self.port, "/readyz", 30, self.process)
        except RuntimeError as error:
            pytest.fail(f"{error}:\n{self.logs()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.log_dir.glob("*.log"))


def _writing(database_url: str, engine) -> bool:
    """Is some other connection inside a write transaction right now?"""
    if database_url.startswith("sqlite"):
        probe = sqlite3.connect(
            database_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None
        )
        try:
            probe.execute("BEGIN IMMEDIATE")  # takes the write lock, or fails: someone has it
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            return True
        finally:
            probe.close()
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
                )
            )
        )


@pytest.fixture
def database_url(app, tmp_path) -> str:
    """The database under test: the suite's PostgreSQL database (emptied after the test),
    or in the SQLite run a SQLite file of its own."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return url if url.startswith("postgresql") else f"sqlite:///{tmp_path / 'faults.db'}"


def test_sigkill_in_the_middle_of_a_push_batch_then_restart_retry_is_exactly_once(
    tmp_path, database_url
):
    env = _environment(tmp_path, database_url)
    _cli(env, "init-db")
    _cli(
        env,
        "create-user",
        "--email",
        "rep@example.com",
        "--password",
        "test-pass-2026",
        "--role",
        "rep",
        "--team",
        "Faults",
    )
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    server = _Server(env, free_port(), tmp_path)
    sent: list[float] = []
    answered: list[float] = []
    outcome: dict = {}
    try:
        server.start()
        transport = http_transport(f"http://127.0.0.1:{server.port}", timeout=60)

        def counting(method, path, **kwargs):
            if not path.endswith("/sync/push"):
                return transport(method, path, **kwargs)
            sent.append(time.monotonic())
            answer = transport(method, path, **kwargs)
            answered.append(time.monotonic() - sent[-1])  # a whole push, when it got through
            return answer

        device = SyncClient(
            counting,
            email="rep@example.com",
            password="test-pass-2026",
            path=str(tmp_path / "phone.db"),
            retries=60,
            backoff_s=0.05,
            sleep=lambda s: time.sleep(min(s, 0.5)),
            push_batch=BATCH,
        )
        device.login()
        ids = [
            device.create("customers", {"name": f"Cửa hàng {n}", "notes": "ghi chú " * 250})
            for n in range(BATCH)
        ]
        mutation_ids = [m["id"] for m in device.outbox()]

        def push() -> None:
            try:
                outcome["results"] = device.push()
            except Exception as exc:
                outcome["error"] = exc

        pusher = threading.Thread(target=push, daemon=True)
        pusher.start()
        # Aim at the batch's open write transaction: the claim of the device and of
        # the mutation ids comes first, then 500 creates, then the commit.
        deadline = time.monotonic() + 30
        while not _writing(database_url, engine):
            assert pusher.is_alive(), "the push finished before the kill: nothing was tested"
            assert time.monotonic() < deadline, "the push never started writing"
            time.sleep(0.002)
        time.sleep(0.02)
        still_writing = _writing(database_url, engine)
        server.kill()
        killed_after = time.monotonic() - sent[0]
        assert still_writing, "the push committed before the kill: make the batch slower"
        assert pusher.is_alive()
        with engine.connect() as conn:  # the killed transaction left nothing behind
            assert conn.scalar(select(func.count()).select_from(Customer)) == 0
            assert conn.scalar(select(func.count()).select_from(SyncMutation)) == 0
        attempts_while_down = len(sent)
        server.start()
        pusher.join(120)
        assert not pusher.is_alive(), "the client's retry did not finish"
        assert "error" not in outcome, outcome.get("error")
        pulled = device.pull()
    finally:
        server.kill()
        engine.dispose()

    results = outcome["results"]
    print(
        f"\nSIGKILL {killed_after:.2f}s into a {BATCH}-mutation push "
        f"({database_url.split(':')[0].split('+')[0]}; a whole push takes {answered[-1]:.2f}s); "
        f"{len(sent)} push attempts ({attempts_while_down} before the restart), "
        f"{len(results)} results, {pulled} changes pulled after"
    )
    assert len(sent) >= 2
    assert device.outbox() == []
    assert [r["id"] for r in results] == mutation_ids
    assert {r["status"] for r in results} == {"applied"}
    assert not any(r.get("replayed") for r in results)  # the killed attempt never committed
    with engine.connect() as conn:
        stored = conn.execute(select(Customer.id, Customer.version)).all()
        mutations = conn.execute(select(SyncMutation.id, SyncMutation.result)).all()
        creates = conn.execute(
            select(ChangeLogEntry.record_id, func.count())
            .where(ChangeLogEntry.table_name == "customers")
            .group_by(ChangeLogEntry.record_id)
        ).all()
    engine.dispose()
    assert len(stored) == BATCH
    assert {str(i) for i, _ in stored} == set(ids)  # each record exactly once
    assert {v for _, v in stored} == {1}  # and not written twice
    assert sorted(str(i) for i, _ in mutations) == sorted(mutation_ids)
    assert all(r["status"] == "applied" for _, r in mutations)
    assert {n for _, n in creates} == {1} and len(creates) == BATCH  # one log row each
    local = device.all("customers")
    assert set(local) == set(ids) and {r["version"] for r in local.values()} == {1}


def test_the_client_waits_at_least_the_servers_retry_after(client, world):
    """A 503 `overloaded` says when to come back: the client waits that long (its own
    backoff with jitter otherwise), then sends the same request again."""
    inner = flask_transport(client)
    answers = iter([(503, {"error": {"code": "overloaded"}}, {"Retry-After": "7"})])
    waits: list[float] = []

    def busy_once(method, path, **kwargs):
        if path == "/api/v1/sync/pull":
            return next(answers, None) or inner(method, path, **kwargs)
        return inner(method, path, **kwargs)

    device = SyncClient(
        busy_once, email="rep.a@example.com", password="test-pass-2026", sleep=waits.append
    )
    device.sync()
    assert waits == [7.0]
    assert set(device.all("customers")) == {str(world.records["A"]["customers"])}
