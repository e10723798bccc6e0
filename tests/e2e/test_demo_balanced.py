"""The territory balancer on the demo teams: balanced, every customer once, applied as proposed."""

from __future__ import annotations

import time

import pytest

from domain.models import Team, User
from server.demo import PASSWORD
from server.extensions import db
from server.territory_design import service
from sync.scopes import Scope

PROPOSALS = "/api/v1/territory-balancer/proposals"


APPLY = "/api/v1/territory-balancer/apply"


PREVIEW = "/api/v1/territory-assignments/preview"


def _team_customer_ids(session, team_id):
    territories = service.team_territories(session, team_id)
    return {c.id for c in service.team_customers(session, team_id, [t.id for t in territories])}


def test_demo_proposals_are_balanced_and_cover_every_customer_once(fresh_demo_app):
    app, client = fresh_demo_app, fresh_demo_app.test_client()
    with app.app_context():
        session = db.session
        admin = session.query(User).filter_by(role="admin").one()
        scope = Scope.for_user(session, admin)
        teams = session.query(Team).order_by(Team.name).all()
        assert len(teams) == 2
        for team in teams:
            started = time.perf_counter()
            result = service.propose(session, scope, team.id, None)
            elapsed = time.perf_counter() - started
            proposal, current = result["proposal"], result["current"]
            assert result["k"] == 4  # the team's reps
            ids = [c for t in proposal["territories"] for c in t["customer_ids"]]
            assert len(ids) == len(set(ids))
            assert set(ids) == _team_customer_ids(session, team.id)
            assert proposal["imbalance"] <= 1.15
            assert len(current["territories"]) == 2
            print(
                f"\n{team.name}: current imbalance {current['imbalance']} compactness "
                f"{current['compactness']}; proposal imbalance {proposal['imbalance']} "
                f"compactness {proposal['compactness']}; {elapsed:.2f} s "
                f"({proposal['seconds']:.2f} s balancing)"
            )
        manager = session.query(User).filter_by(role="manager").order_by(User.email).first()
        manager_email, team_id = manager.email, manager.team_id

    # Apply one team's proposal as returned, through the API, then preview: nothing moves.
    signed_in = client.post(
        "/api/v1/auth/login",
        json={"email": manager_email, "password": PASSWORD, "device_id": "balancer"},
    )
    headers = {"Authorization": f"Bearer {signed_in.json['access_token']}"}
    proposed = client.post(PROPOSALS, json={"team_id": str(team_id)}, headers=headers)
    assert proposed.status_code == 200, proposed.json
    current = proposed.json["current"]["territories"]
    territories = [
        {**t, "territory_id": current[i]["territory_id"] if i < len(current) else None}
        for i, t in enumerate(proposed.json["proposal"]["territories"])
    ]
    applied = client.post(
        APPLY, json={"team_id": str(team_id), "territories": territories}, headers=headers
    )
    assert applied.status_code == 200, applied.json
    assert [t["created"] for t in applied.json["territories"]] == [False, False, True, True]
    assert applied.json["moved"] > 0
    preview = client.post(PREVIEW, json={"team_id": str(team_id)}, headers=headers).json
    assert preview["moves"] == [] and preview["outside"] == []
    again = client.post(PROPOSALS, json={"team_id": str(team_id)}, headers=headers).json
    assert again["current"]["imbalance"] == pytest.approx(proposed.json["proposal"]["imbalance"])
