"""The client's address: X-Forwarded-* only from trusted proxies; bad settings stop the start."""

from __future__ import annotations

import ipaddress

import pytest

from server import proxies
from server.config import ConfigError, build_config
from server.overload import Limits
from server.serve import _Gunicorn, gunicorn_options


def seen(trust: str, peer: str, headers: dict[str, str] | None = None) -> tuple[str, str]:
    """(REMOTE_ADDR, scheme) the app behind `proxies.install` sees for this request."""
    environ = {"REMOTE_ADDR": peer, "wsgi.url_scheme": "http", "HTTP_HOST": "api.example"}
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    got = {}

    def app(env, start_response):
        got.update(address=env["REMOTE_ADDR"], scheme=env["wsgi.url_scheme"])
        return []

    proxies.install(app, proxies.parse(trust))(environ, lambda *_: None)
    return got["address"], got["scheme"]


FORGED = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize("trust", ["", "0", "10.0.0.0/8"])
def test_headers_from_an_untrusted_peer_are_ignored(trust):
    assert seen(trust, "203.0.113.9", FORGED) == ("203.0.113.9", "http")


def test_a_trusted_proxy_names_the_client_walking_right_to_left():
    trust = "10.0.0.0/8, 192.0.2.10"
    # The client's own header part ("1.2.3.4") is left of the first untrusted address.
    chain = {"X-Forwarded-For": "1.2.3.4, 198.51.100.7, 192.0.2.10", "X-Forwarded-Proto": "https"}
    assert seen(trust, "10.1.2.3", chain) == ("198.51.100.7", "https")
    # Every hop trusted: the leftmost is the client.
    assert seen(trust, "10.1.2.3", {"X-Forwarded-For": "10.9.9.9, 192.0.2.10"})[0] == "10.9.9.9"
    # An unreadable entry ends the walk at the last trusted hop.
    assert seen(trust, "10.1.2.3", {"X-Forwarded-For": "junk, 192.0.2.10"})[0] == "192.0.2.10"
    # A trusted peer without the header is the client itself.
    assert seen(trust, "10.1.2.3") == ("10.1.2.3", "http")


def test_addresses_as_proxies_write_them():
    trust = "10.0.0.0/8, fd00::/8"
    assert seen(trust, "::ffff:10.0.0.5", {"X-Forwarded-For": "198.51.100.7:5123"})[0] == (
        "198.51.100.7"
    )
    assert seen(trust, "fd00::1", {"X-Forwarded-For": "[2001:db8::7]:443"})[0] == "2001:db8::7"


def test_hops_mode_takes_the_nth_address_from_the_right():
    headers = {"X-Forwarded-For": "198.51.100.66, 198.51.100.7", "X-Forwarded-Proto": "https"}
    assert seen("1", "10.0.0.1", headers) == ("198.51.100.7", "https")
    assert seen("2", "10.0.0.1", headers)[0] == "198.51.100.66"


def test_settings_parse():
    assert proxies.parse(None) == proxies.parse("") == proxies.parse(" ") == proxies.Trust()
    assert proxies.parse("2") == proxies.parse(2) == proxies.Trust(hops=2)
    assert proxies.parse("10.0.0.1/8,::1").networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )


@pytest.mark.parametrize(
    "value", ["yes", "-1", "10.0.0.0/33", "0.0.0.0/0", "::/0", "1.5", "10.0.0.1,x"]
)
def test_invalid_settings_are_refused_at_start_up(tmp_path, monkeypatch, value):
    monkeypatch.setenv("FIELDSYNC_TRUSTED_PROXIES", value)
    with pytest.raises(ConfigError, match="FIELDSYNC_TRUSTED_PROXIES"):
        build_config(str(tmp_path), {"SECRET_KEY": "k" * 40})


def test_gunicorn_leaves_forwarded_headers_to_the_middleware():
    options = gunicorn_options("127.0.0.1", 8000, 1, Limits())
    assert _Gunicorn(options).cfg.forwarded_allow_ips == []
