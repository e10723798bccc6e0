"""The vectors the JavaScript SDK is tested with, against the server's own functions.

`clients/vectors/order_totals.json` holds order lines and their totals;
`clients/js/test/money.test.js` checks `orderTotal()` against the same file, so the
SDK and `domain.orders.order_total` agree to the cent. `clients/vectors/fold.json`
does the same for search folding (`domain.text.fold`, `clients/js/test/fold.test.js`).
"""

from __future__ import annotations

import json

import pytest

from domain.orders import order_total
from domain.text import fold
from tests.support import ROOT

VECTORS = ROOT / "clients" / "vectors"
TOTALS = json.loads((VECTORS / "order_totals.json").read_text(encoding="utf-8"))["cases"]
FOLDS = json.loads((VECTORS / "fold.json").read_text(encoding="utf-8"))["cases"]


def test_there_are_enough_order_vectors():
    assert len(TOTALS) >= 20
    assert len({case["name"] for case in TOTALS}) == len(TOTALS)


@pytest.mark.parametrize("case", TOTALS, ids=[case["name"] for case in TOTALS])
def test_order_total_vector(case):
    assert str(order_total(case["lines"])) == case["total"]


@pytest.mark.parametrize("case", FOLDS, ids=[case["text"] or "empty" for case in FOLDS])
def test_fold_vector(case):
    assert fold(case["text"]) == case["folded"]
