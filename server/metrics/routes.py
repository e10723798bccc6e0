"""`/metrics`: Prometheus's text format, for a scraper holding the metrics token.

Off (404, like any unknown path) until `FIELDSYNC_METRICS_TOKEN` is set; then answered only
to `Authorization: Bearer <that token>`. Never counted against the overload gate: an
operator needs the numbers most when the service is busiest. ADR 0027.
"""

from __future__ import annotations

import hmac

from flask import Response, current_app, request
from flask_smorest import Blueprint
from werkzeug.exceptions import NotFound

from ..auth.tokens import bearer_token
from ..errors import ApiError
from ..markers import public, unmetered
from .service import EXTENSION

blp = Blueprint(
    "metrics",
    __name__,
    description="Counters and latencies for monitoring (Prometheus), behind a token.",
)


@blp.route("/metrics")
@blp.response(200, {"type": "string"}, content_type="text/plain")
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
@blp.doc(security=[{"metricsToken": []}])
@public
@unmetered
def metrics():
    """Prometheus metrics: requests by route, sync sizes, outbox retries, refusals.

    Request rates and latencies by route template and status, sync pull and push sizes,
    outbox retries and refusals (429, 503), summed over every worker. `404` while
    `FIELDSYNC_METRICS_TOKEN` is unset; `401` without that token (not a user's token).
    """
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        raise NotFound()  # the same answer as any unknown path
    given = bearer_token(request.headers.get("Authorization", ""))
    if given is None or not hmac.compare_digest(given.encode(), token.encode()):
        raise ApiError(401, "unauthenticated", "Send the metrics token: Authorization: Bearer …")
    body, content_type = current_app.extensions[EXTENSION].exposition()
    return Response(body, content_type=content_type)
