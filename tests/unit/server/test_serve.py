"""`fieldsync serve`'s gunicorn settings that phones depend on."""

from __future__ import annotations

from server.overload import Limits
from server.serve import _Gunicorn, gunicorn_options


def test_an_idle_phone_connection_outlives_a_page_read_on_a_slow_link():
    """At 256 kbit/s a phone reads a page of 5,000 records for seconds before it asks for the
    next: with gunicorn's default keep-alive (2 s) every page paid a new handshake (ADR 0025,
    `./bench/run link`)."""
    options = gunicorn_options("127.0.0.1", 8000, 1, Limits())
    assert _Gunicorn(options).cfg.keepalive >= 60
