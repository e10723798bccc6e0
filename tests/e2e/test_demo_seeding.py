"""`fieldsync seed-demo` on an empty database: the logins it prints, and the same data every
time (the data itself is checked in api/test_demo.py, on the session's demo template)."""

from __future__ import annotations

from sqlalchemy import text

from server.cli import seed_demo
from server.demo import DOMAIN
from server.extensions import db


def _fingerprint(session) -> list[tuple]:
    rows = session.execute(
        text(
            "SELECT id, name, version FROM customers UNION ALL SELECT id, title, version FROM tasks"
        )
    ).all()
    return sorted((str(r[0]), r[1], r[2]) for r in rows)


def test_seed_demo_prints_the_logins_and_gives_the_same_data_every_time(app, demo_app):
    result = app.test_cli_runner().invoke(seed_demo, [])
    assert result.exit_code == 0, result.output
    for who in ("admin", "manager1", "manager2", *(f"rep{i}" for i in range(1, 9))):
        assert f"{who}@{DOMAIN}" in result.output
    with app.app_context():
        seeded_now = _fingerprint(db.session)
    with demo_app.app_context():  # seeded earlier in the session, by seed_demo_data
        assert _fingerprint(db.session) == seeded_now
