"""gunicorn's configuration for fieldsync in production, behind nginx (deploy/nginx.conf).

The command (README, "Production"; systemd: deploy/systemd/fieldsync@.service):

    gunicorn --config deploy/gunicorn.conf.py --bind 127.0.0.1:8001 --workers 4

One such command per app server; nginx spreads requests over them. The settings
are `server.serve.gunicorn_settings`, the same `fieldsync serve` runs:

- `gthread` workers with in-flight + waiting + 4 threads (FIELDSYNC_MAX_IN_FLIGHT,
  FIELDSYNC_MAX_WAITING; server/overload.py): more requests answer 503 with Retry-After
  at once instead of queueing.
- `timeout` 60 s (nginx waits 90 s for an answer), `keepalive` 75 s (nginx drops an idle
  upstream connection after 60 s, so it never reuses one gunicorn is closing).
- `forwarded_allow_ips` empty: gunicorn itself believes no `X-Forwarded-*` header; the
  app does, from the proxies FIELDSYNC_TRUSTED_PROXIES names (server/proxies.py). Behind
  nginx on the same host: `FIELDSYNC_TRUSTED_PROXIES=127.0.0.1`.
- no gunicorn access log: the app writes its own, as JSON lines without query strings
  or tokens (server/telemetry.py, FIELDSYNC_ACCESS_LOG).

Workers: about 2 per core the host gives the service (the work is CPU: JSON, merges,
route solving). The environment (DATABASE_URL, FIELDSYNC_SECRET_KEY…) is the service's:
see docs/operations.md. Metrics: with several workers, prometheus_client needs
PROMETHEUS_MULTIPROC_DIR (an empty directory per app server, made before start; systemd's
`RuntimeDirectory=`); see docs/operations.md, "Monitor".
"""

from server.serve import WSGI_APP, settings_from_environment

wsgi_app = WSGI_APP
globals().update(settings_from_environment())
