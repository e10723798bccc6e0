"""The application factory: the one place where the service is assembled and switched on.

Everything `create_app` does is listed in it, in order: configuration, the
database and its hooks, the sync engine's settings, every feature's blueprint,
error handlers and request hooks. Importing a module switches nothing on.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from flask_smorest import Api, Blueprint
from marshmallow import RAISE
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser

from domain.schemas import ExactDecimal
from sync import SyncSettings, stored_json
from sync import settings as sync_settings

from . import cache_control, compression, fairness, overload, proxies, telemetry
from .api_docs import routes as api_docs
from .auth import routes as auth
from .auth import throttle
from .auth.guard import authenticate_request
from .config import build_config, instance_path, section
from .errors import ErrorSchema, handle_http_exception, register_error_handlers
from .extensions import configure_sqlite, db, migrate
from .geo import routes as geo
from .health import routes as health
from .input_guard import reject_nul_characters
from .json_provider import OrjsonProvider
from .kpis import routes as kpis
from .location_reviews import routes as location_reviews
from .markers import mark_blueprint, public
from .metrics import routes as metrics
from .metrics.service import EXTENSION as METRICS
from .metrics.service import Metrics
from .records import routes as records
from .reps_app import routes as reps_app
from .route_plans import routes as route_plans
from .sync import routes as sync
from .territory_design import routes as territory_design
from .watermelon import routes as watermelon
from .web import routes as web

MIGRATIONS = str(Path(__file__).parent / "migrations")

API_SPEC = {
    "API_TITLE": "fieldsync",
    "API_VERSION": "1.0.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "v1/openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/api/docs/static/",
    "API_SPEC_OPTIONS": {
        "info": {
            "description": "Offline-first backend for field-sales apps. "
            'Errors are always `{"error": {"code", "message", "fields"}}`.',
        },
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                # `/metrics`: FIELDSYNC_METRICS_TOKEN, not a user's token (ADR 0027).
                "metricsToken": {"type": "http", "scheme": "bearer"},
            }
        },
    },
}


#: The `Content-Encoding` a JSON body may have: a parameter component, named by each operation.
CONTENT_ENCODING = "ContentEncoding"


class FieldsyncFlask(Flask):
    json_provider_class = OrjsonProvider


class FieldsyncApi(Api):
    """flask-smorest with our error envelope, in the spec and on the wire."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        return handle_http_exception(error)

    def init_app(self, app, *, spec_kwargs=None):
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.spec.components.parameter(
            CONTENT_ENCODING, "header", compression.CONTENT_ENCODING_PARAMETER
        )

    def register_blueprint(self, blp, *, parameters=None, **options):
        """Document, on every operation that reads a JSON body, 400 `malformed_json`, the
        body's optional `Content-Encoding` (server/compression.py) and what it may answer:
        413 (too large, plain or once decoded) and 415 (`unsupported_encoding`); and 503
        (`overloaded`, `database_unavailable`: server/overload.py) on every operation but
        the health probes, which answer 503 themselves, and `/metrics`, never refused."""
        for methods in blp._docs.values():
            for method, doc in methods.items():
                if not doc or method == "parameters":
                    continue
                arguments = doc.get("arguments") or {}
                if any(p.get("in") == "json" for p in arguments.get("parameters", [])):
                    body_errors = arguments.setdefault("responses", {})
                    body_errors.setdefault(400, "BAD_REQUEST")
                    body_errors.setdefault(413, "REQUEST_ENTITY_TOO_LARGE")
                    body_errors.setdefault(415, "UNSUPPORTED_MEDIA_TYPE")
                    if CONTENT_ENCODING not in arguments["parameters"]:
                        arguments["parameters"].append(CONTENT_ENCODING)
                if blp.name not in ("health", "metrics"):
                    responses = doc.setdefault("response", {}).setdefault("responses", {})
                    responses.setdefault(503, ["SERVICE_UNAVAILABLE"])
        super().register_blueprint(blp, parameters=parameters, **options)


def _schema_name(schema) -> str:
    """Patch bodies get their own component (`CustomerPatch`), everything else its class."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and schema.partial:
        return f"{name}Patch"
    return name


def api_features() -> list[Blueprint]:
    """Every feature of the API, in the order of the API document."""
    return [
        health.blp,
        metrics.blp,
        auth.blp,
        *records.blueprints(),
        sync.blp,
        watermelon.blp,
        route_plans.blp,
        geo.blp,
        kpis.blp,
        territory_design.blp,
        location_reviews.blp,
    ]


#: Pages outside the API document: Swagger UI's files, the managers' pages, the reps' app.
PAGES = (api_docs.blp, web.blp, reps_app.blp)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = FieldsyncFlask(
        __name__, instance_path=instance_path(), instance_relative_config=True, static_folder=None
    )
    app.config.update(build_config(app.instance_path, config))
    app.config.update({k: v for k, v in API_SPEC.items() if k not in app.config})

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    # Each record's pull JSON, kept on every flush of every session (the app's and plain
    # SQLAlchemy sessions alike: a script or test writing through its own is covered too).
    stored_json.install(Session)
    migrate.init_app(app, db, directory=MIGRATIONS)
    sync_settings.configure(section(SyncSettings, app.config))
    # Sign-in failure counts, shared by the workers through RATELIMIT_STORAGE_URI.
    production = app.config["FIELDSYNC_ENV"] == "production"
    login_throttle = throttle.build(
        app.config["RATELIMIT_STORAGE_URI"],
        section(throttle.ThrottleSettings, app.config),
        production=production,
    )
    app.extensions[throttle.EXTENSION] = login_throttle
    app.extensions[METRICS] = Metrics()

    # Unknown query parameters are refused (422), like unknown body fields: a misspelt filter
    # (`?stauts=active`) must not quietly answer as if there were none. Set on flask-smorest's
    # one shared parser, which every blueprint's `arguments` reads at request time.
    Blueprint.ARGUMENTS_PARSER.DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
    }
    api = FieldsyncApi(
        app,
        spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=_schema_name)},
    )
    api.register_field(ExactDecimal, "string", "decimal")  # money travels as "33.75"
    for blueprint in api_features():
        api.register_blueprint(blueprint)
    for blueprint in PAGES:
        app.register_blueprint(blueprint)
    mark_blueprint(app, "api-docs", public)  # flask-smorest's document and viewer

    register_error_handlers(app)
    overload.install(app, section(overload.Limits, app.config))  # 503 + Retry-After
    # Answers compressed as the client accepts (zstd, br, gzip); compressed bodies decoded,
    # never past MAX_CONTENT_LENGTH (a "zip bomb" is 413 at once).
    compression.install(app, section(compression.CompressionSettings, app.config))
    app.before_request(reject_nul_characters)
    app.before_request(authenticate_request)
    # Per-user slots of `@heavy` views (429 too_many_concurrent), in the throttle's Redis.
    heavy = section(fairness.HeavySettings, app.config)
    slots = fairness.build(
        login_throttle.storage, heavy, login_throttle.settings.key_prefix, production=production
    )
    fairness.install(app, slots, heavy)
    app.after_request(cache_control.no_store_when_private)  # tokens and personal data
    # The client's address: the peer, or whom a trusted proxy names (TRUSTED_PROXIES).
    app.wsgi_app = proxies.install(app.wsgi_app, proxies.parse(app.config["TRUSTED_PROXIES"]))
    # Outermost: every request's JSON access-log line and metrics, whatever answered it.
    access_log = app.config["ACCESS_LOG"]
    telemetry.install(
        app, telemetry.AccessLog(access_log) if access_log else None, app.extensions[METRICS]
    )
    # What start-up made (modules, NumPy/SciPy/shapely internals, the app) lives as long
    # as the process: keep it out of the collector's full passes, which otherwise
    # re-scan it while a large response is built (10,000-customer GeoJSON: 630 -> 240 ms).
    gc.freeze()
    return app
