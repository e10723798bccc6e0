"""A database connection lost in the middle of a request answers 503, in the caller's language."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError


def test_a_connection_lost_mid_request_answers_503_in_the_callers_language(app, monkeypatch):
    """On the suite's migrated database, where this login would otherwise answer 401."""
    calls = []

    def lost(*_args, **_kwargs):
        calls.append(1)
        raise OperationalError(
            "SELECT 1", {}, Exception("terminating connection due to administrator command")
        )

    from server.extensions import db

    with app.app_context():
        monkeypatch.setattr(db.session, "scalar", lost)
        response = app.test_client().post(
            "/api/v1/auth/login",
            json={"email": "rep@example.com", "password": "test-pass-2026", "device_id": "d"},
            headers={"Accept-Language": "vi"},
        )
    assert calls, "the lost connection was never hit"
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"
    assert response.headers["Content-Language"] == "vi"
    assert response.headers["Retry-After"]
