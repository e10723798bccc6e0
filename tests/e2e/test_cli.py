"""The `fieldsync` command line, run as a user would run it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import yaml

from tests.support import ROOT
from tests.support.databases import own_database
from tests.support.live_server import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    fieldsync_cli,
    fieldsync_serving,
)


@pytest.fixture
def env(tmp_path) -> Iterator[dict[str, str]]:
    """The command's environment: a database of its own of the kind under test."""
    with own_database(tmp_path, "cli") as url:
        yield {**os.environ, "FIELDSYNC_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url}


def test_init_db_is_idempotent_and_create_user_can_sign_in(env):
    assert fieldsync_cli(env, "init-db").returncode == 0
    again = fieldsync_cli(env, "init-db")
    assert again.returncode == 0, again.stderr
    created = fieldsync_cli(
        env,
        "create-user",
        "--email",
        "Boss@Example.com",
        "--password",
        "s3cret-pass",
        "--role",
        "manager",
        "--name",
        "Trần Thị Mai",
        "--team",
        "Sài Gòn",
    )
    assert created.returncode == 0, created.stderr
    assert "manager boss@example.com" in created.stdout

    duplicate = fieldsync_cli(
        env,
        "create-user",
        "--email",
        "boss@example.com",
        "--password",
        "another-pass",
        "--role",
        "rep",
        "--team",
        "Sài Gòn",
    )
    assert duplicate.returncode != 0
    assert "already exists" in duplicate.stderr

    too_short = fieldsync_cli(
        env, "create-user", "--email", "x@example.com", "--password", "short", "--role", "rep"
    )
    assert too_short.returncode != 0
    assert "password" in too_short.stderr


def test_prune_reports_what_it_dropped(env):
    assert fieldsync_cli(env, "init-db").returncode == 0
    pruned = fieldsync_cli(env, "prune")
    assert pruned.returncode == 0, pruned.stderr
    assert "log_rows: 0, tombstones: 0, mutations: 0" in pruned.stdout


def test_openapi_command_prints_the_committed_contract(env):
    printed = fieldsync_cli(env, "openapi")
    assert printed.returncode == 0, printed.stderr
    assert yaml.safe_load(printed.stdout) == yaml.safe_load((ROOT / "openapi.yaml").read_text())


def test_serve_answers_health_and_login(env):
    with fieldsync_serving(env, workers=3) as served:
        served.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, "cli")
    one_worker = "SQLite: serving with one worker process."
    printed = served.output + served.errors
    if env["DATABASE_URL"].startswith("sqlite"):
        assert one_worker in printed
    else:  # PostgreSQL: the three workers asked for
        assert one_worker not in printed and printed.count("Booting worker") == 3
