"""`fieldsync seed-demo`: a realistic, deterministic Ho Chi Minh City distributor."""

from __future__ import annotations

import itertools
import unicodedata

from sqlalchemy import func, select

from domain.models import Contact, Customer, Order, Product, Territory, User, Visit
from domain.orders import order_total
from server.cli import seed_demo
from server.demo import DOMAIN, PASSWORD
from server.extensions import db


def _inside(lon: float, lat: float, ring: list[list[float]]) -> bool:
    """Ray casting, independent of how the seeder places points."""
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _script(name: str) -> str:
    return unicodedata.name(name[0]).split()[0]


def _pull_customers(client, headers) -> set[str]:
    seen, cursor = set(), None
    while True:
        query = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/customers", query_string=query, headers=headers).json
        seen |= {c["id"] for c in page["items"]}
        cursor = page.get("next_cursor")
        if not cursor:
            return seen


def test_seed_demo_loads_a_realistic_distributor(demo_app):
    """The demo data as the session's template holds it (seeded once; e2e/test_demo_seeding.py
    runs the command itself and checks it gives exactly this)."""
    app, client = demo_app, demo_app.test_client()
    again = app.test_cli_runner().invoke(seed_demo, ["--if-empty"])
    assert again.exit_code == 0 and "already has data" in again.output

    with app.app_context():
        session = db.session
        roles = dict(session.execute(select(User.role, func.count()).group_by(User.role)).all())
        assert roles == {"admin": 1, "manager": 2, "rep": 8}
        assert session.scalar(select(func.count()).select_from(Product)) == 40
        territories = session.scalars(select(Territory)).all()
        assert len(territories) == 4 and all(len(t.reps) == 2 for t in territories)
        rings = {t.id: t.geometry["coordinates"][0] for t in territories}
        customers = session.scalars(select(Customer)).all()
        assert len(customers) == 1200
        located = [c for c in customers if c.lat is not None]
        assert all(_inside(c.lon, c.lat, rings[c.territory_id]) for c in located)
        assert 0.01 <= 1 - len(located) / len(customers) <= 0.04
        assert all(c.address for c in customers if c.lat is None)  # can be geocoded
        assert {c.tier for c in customers} == {"A", "B", "C"}
        assert len({c.visit_every_days for c in customers}) >= 3
        assert len({str(c.opening_hours) for c in customers}) >= 3
        scripts = [_script(c.name) for c in customers]
        for script in ("ARABIC", "CYRILLIC"):
            assert scripts.count(script) >= 20
        persian = [c.name for c in customers if any(ch in c.name for ch in "گکیپچژ")]
        assert len(persian) >= 20
        assert any("ạ" in c.name or "ử" in c.name or "ố" in c.name for c in customers)
        assert session.scalar(select(func.count()).select_from(Contact)) >= 1200
        visits = session.scalars(select(Visit)).all()
        assert len(visits) > 1500
        reps_of = {t.id: {r.id for r in t.reps} for t in territories}
        territory_of = {c.id: c.territory_id for c in customers}
        assert all(v.rep_id in reps_of[territory_of[v.customer_id]] for v in visits)
        orders = session.scalars(select(Order)).all()
        assert len(orders) > 300
        assert all(o.total == order_total(o.lines) and o.currency == "VND" for o in orders)
        with_visits = {v.customer_id for v in visits if v.status == "completed"}
        assert all(c.last_visit_at is not None for c in customers if c.id in with_visits)
        rep1 = session.scalar(select(User).where(User.email == f"rep1@{DOMAIN}"))
        rep1_territories = {t.id for t in rep1.territories}
        expected = {
            str(c.id)
            for c in customers
            if c.territory_id in rep1_territories or c.owner_id == rep1.id
        }

    login = client.post(
        "/api/v1/auth/login",
        json={"email": f"rep1@{DOMAIN}", "password": PASSWORD, "device_id": "demo"},
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    assert _pull_customers(client, headers) == expected
