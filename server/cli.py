"""The `fieldsync` command."""

from __future__ import annotations

import sys

import click
import yaml
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from domain.models import User
from domain.schemas import ROLES

from .app import create_app
from .extensions import db


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=True)
def main() -> None:
    """fieldsync: offline-first backend for field-sales apps."""


@main.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the schema, or upgrade it to the latest migration; then store the pull
    JSON of records that have none (after a migration that cleared it)."""
    from sync import stored_json

    upgrade(directory=current_app.extensions["migrate"].directory)
    filled = stored_json.fill_missing(db.session)
    if filled:
        click.echo(f"Stored the pull JSON of {filled} records.")
    click.echo(f"Database ready at {db.engine.url.render_as_string(hide_password=True)}")


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default=None, help="Display name (default: the email's local part).")
@click.option(
    "--team",
    default=None,
    help="Team name or id; created if the name is new. Every rep needs one.",
)
@with_appcontext
def create_user(email: str, password: str, role: str, name: str | None, team: str | None):
    """Create a user (the first admin, typically). The password must follow the policy
    (at least 10 characters, not a common password); a rep needs --team."""
    from .auth.accounts import create_user_account

    try:
        user = create_user_account(
            db.session, email=email, password=password, role=role, name=name, team=team
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} ({user.id})")


@main.command("seed-demo")
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same data).")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if there is data.")
@with_appcontext
def seed_demo(seed: int, if_empty: bool) -> None:
    """Load the Ho Chi Minh City demo distributor (empty database only)."""
    from .demo import seed_demo_data

    if db.session.query(User.id).first() is not None:
        if if_empty:
            click.echo("The database already has data; demo data not loaded again.")
            return
        raise click.ClickException("The database already has users; seed an empty database.")
    logins = seed_demo_data(db.session, seed=seed)
    db.session.commit()
    click.echo("Demo data loaded. Sign in with:")
    for email, password, role in logins:
        click.echo(f"  {role:8} {email:32} {password}")


@main.command("prune")
@with_appcontext
def prune_command() -> None:
    """Drop change-log rows, tombstones and mutation ids past their retention."""
    from sync import prune

    counts = prune(db.session)
    db.session.commit()
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))


@main.command("openapi")
@with_appcontext
def openapi() -> None:
    """Print the OpenAPI document the service serves, as YAML (for openapi.yaml)."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    sys.stdout.write(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))


@main.command("geocode")
@click.option("--limit", type=int, default=None, help="At most this many customers.")
@click.option(
    "--delay",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds between requests (the public Nominatim allows one per second).",
)
@with_appcontext
def geocode(limit: int | None, delay: float) -> None:
    """Find coordinates for customers that have an address but no location."""
    from sqlalchemy import select

    from domain.models import Customer
    from domain.times import utc_now

    from .config import section
    from .route_plans.geocoding import geocode_missing
    from .route_plans.settings import RoutingSettings

    settings = section(RoutingSettings, current_app.config)
    if not settings.geocoder_url:
        raise click.ClickException("Set FIELDSYNC_GEOCODER_URL (e.g. a Nominatim server) first.")
    missing = db.session.scalars(
        select(Customer).where(
            Customer.lat.is_(None), Customer.address.is_not(None), Customer.deleted_at.is_(None)
        )
    ).all()
    report = geocode_missing(
        db.session, missing, settings, now=utc_now(), limit=limit, delay_s=delay
    )
    db.session.commit()
    click.echo(f"Located {report.located}, not found {report.not_found} of {len(missing)}.")
    if report.error:
        raise click.ClickException(f"Stopped early: {report.error}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int, workers: int) -> None:
    """Run the service with gunicorn (one worker on SQLite)."""
    from .config import section
    from .overload import Limits
    from .serve import run_gunicorn

    if db.engine.dialect.name == "sqlite" and workers > 1:
        click.echo("SQLite: serving with one worker process.")
        workers = 1
    config = current_app.config
    run_gunicorn(host, port, workers, section(Limits, config))


if __name__ == "__main__":
    main()
