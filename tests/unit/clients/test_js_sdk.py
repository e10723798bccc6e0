"""The JavaScript SDK's own tests and type check: Node, no server, no database.

Under `unit/`, so `./scripts/test` runs them once (not again in the PostgreSQL run);
marked `e2e`, so the inner loop leaves them out. Needs Node.js 20+ and
`clients/js/node_modules` (scripts/_venv.sh); without them they skip, except in CI.
"""

from __future__ import annotations

import json

import pytest

from tests.support.node import SDK, check_node_tests, output, run_node, run_sdk_tests, sdk_node

pytestmark = pytest.mark.e2e


def test_unit_tests():
    """`npm test` without a server: the storage contract, the client, money and fold."""
    check_node_tests(run_sdk_tests("test/"), "node --test test/", skipped_ok=True)


def test_types_check():
    """`npm run typecheck`: the SDK's JSDoc types hold under `tsc --strict` (the typings an
    app written in TypeScript gets), with the TypeScript of its own lock file."""
    command = json.loads((SDK / "package.json").read_text())["scripts"]["typecheck"]
    tsc, *flags = command.split()
    assert tsc == "tsc", command
    result = run_node(sdk_node(), ["node_modules/typescript/bin/tsc", *flags], SDK)
    if result.returncode != 0:
        pytest.fail(f"{command} exited {result.returncode}\n{output(result)}", pytrace=False)
