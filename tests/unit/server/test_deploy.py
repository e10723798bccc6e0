"""The production files agree with the service and with each other (ADR 0026).

nginx's limits must match the service's (a body nginx lets through that the service
refuses, or the reverse, is an answer in the wrong shape), its keep-alive must end
before gunicorn's, and the gunicorn command the docs show must run the settings
`fieldsync serve` runs. The stack itself runs in tests/e2e/test_production_stack.py.
"""

from __future__ import annotations

import re

from gunicorn.config import Config

from server.config import DEFAULTS
from server.overload import Limits
from server.serve import KEEPALIVE_S, TIMEOUT_S, WSGI_APP, gunicorn_settings
from tests.support import ROOT

DEPLOY = ROOT / "deploy"
NGINX = (DEPLOY / "nginx.conf").read_text()
GUNICORN_COMMAND = "gunicorn --config deploy/gunicorn.conf.py --bind 127.0.0.1:8001"


def _seconds(directive: str) -> int:
    return int(re.search(rf"^\s*{directive} (\d+)s;", NGINX, re.MULTILINE)[1])


def _size(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([km]?)", text).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit]


def test_nginx_refuses_bodies_exactly_where_the_service_does():
    limits = re.findall(r"^\s*client_max_body_size (\w+);", NGINX, re.MULTILINE)
    assert [_size(limit) for limit in limits] == [DEFAULTS["MAX_CONTENT_LENGTH"]]


def test_nginx_gives_up_on_idle_connections_before_gunicorn_does():
    # The phones' side: a slow link keeps its connection between pages (ADR 0025).
    assert _seconds("keepalive_timeout") >= KEEPALIVE_S
    upstream = re.search(r"upstream fieldsync \{(.*?)\n    \}", NGINX, re.DOTALL)[1]
    assert int(re.search(r"keepalive_timeout (\d+)s;", upstream)[1]) < KEEPALIVE_S
    assert _seconds("proxy_read_timeout") > TIMEOUT_S


def test_nginx_buffers_both_ways_and_leaves_compression_to_the_service():
    for directive in ("proxy_request_buffering on;", "proxy_buffering on;", "gzip off;"):
        assert directive in NGINX
    assert "proxy_request_buffering off" not in NGINX
    assert "$proxy_add_x_forwarded_for" not in NGINX  # never what the client wrote


def test_the_documented_gunicorn_command_runs_fieldsync_serves_settings(monkeypatch):
    monkeypatch.setenv("FIELDSYNC_MAX_IN_FLIGHT", "6")
    config = Config()
    namespace: dict = {"__file__": str(DEPLOY / "gunicorn.conf.py")}
    exec((DEPLOY / "gunicorn.conf.py").read_text(), namespace)
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)
    expected = gunicorn_settings(Limits(max_in_flight=6))
    assert config.wsgi_app == WSGI_APP
    assert config.threads == expected["threads"] == 6 + 4 + 4
    assert config.worker_class_str == "gthread"
    assert (config.timeout, config.keepalive) == (TIMEOUT_S, KEEPALIVE_S)
    assert config.forwarded_allow_ips == []


def test_the_docs_systemd_and_serve_cluster_show_the_same_commands():
    readme = (ROOT / "README.md").read_text()
    operations = (ROOT / "docs" / "operations.md").read_text()
    unit = (DEPLOY / "systemd" / "fieldsync@.service").read_text()
    cluster = (ROOT / "scripts" / "serve-cluster").read_text()
    for text in (readme, operations):
        assert GUNICORN_COMMAND in text
        assert "deploy/render-nginx-conf > /etc/nginx/nginx.conf" in text
    assert "gunicorn --config /opt/fieldsync/deploy/gunicorn.conf.py --bind 127.0.0.1:%i" in unit
    assert '"--config", str(DEPLOY / "gunicorn.conf.py")' in cluster
    assert 'DEPLOY / "render-nginx-conf"' in cluster
