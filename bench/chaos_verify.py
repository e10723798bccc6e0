"""The chaos bench's three zeros, checked against the database after the run.

(i) **Acknowledged mutations missing from the data and the conflict log.** For every
mutation a phone got a result for: its idempotency row (`sync_mutations`) exists with that
result; a `rejected` one has its `rejected` entry in the conflict log; a delete left a
tombstone; for a create or update, every field it sent is (a) still the record's value,
stamped (`field_meta`) with the version the result reported, or (b) stamped with a later
version (a later write replaced it, and the merge rules logged it if that was a conflict),
or (c) logged in the conflict log as this mutation's loss (`loser: device`). A field whose
stamp is older than the acknowledged version, or whose value differs at that version, was
acknowledged and lost. Every loss the result reported must be in the log too.

(ii) **Mutations applied twice.** Every value a phone writes is unique and every write that
changes a field bumps the record's version and appends one change-log row, so a mutation
run again after a later change is visible: per record, the version must equal 1 (the seed or
the create) plus the writes acknowledged on it (1 per update that kept at least one of its
fields, 1 per delete), and the change log must hold exactly `version` rows. A result
replayed after a lost answer must equal the first answer, which the proxy kept
(`dropped.jsonl`); no conflict-log entry appears twice for one mutation and field; no
created contact exists twice (by its unique name). Each check can fail: a replay that
re-executed the batch would add versions, log rows and conflict entries, and change results.

(iii) **Changes a device failed to pull.** After the run every phone pulls once more from
its stored cursor (incremental, not from scratch); its local store must then equal the
server's view of its scope, record by record: the same ids, versions and JSON.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

#: Tables the phones write.
WRITTEN = ("customers", "contacts", "tasks")


@dataclass
class Verdict:
    missing: int = 0  # (i)
    applied_twice: int = 0  # (ii)
    not_pulled: int = 0  # (iii)
    unacknowledged: int = 0  # queued mutations without a result (a phone gave up)
    conflict_entries: int = 0
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def note(self, kind: str, text: str) -> None:
        if len(self.examples[kind]) < 5:
            self.examples[kind].append(text)


def _plain(value):
    return json.loads(json.dumps(value, default=str))


def _comparable(result: dict) -> dict:
    """A result without the replay flag: what the first and a replayed answer share."""
    return {k: v for k, v in result.items() if k != "replayed"}


def verify(url: str, devices: list, dropped_file: Path) -> Verdict:
    from domain.models import (
        RECORD_MODELS,
        ChangeLogEntry,
        ConflictEntry,
        Contact,
        SyncMutation,
        User,
    )
    from server import create_app
    from server.extensions import db
    from sync.records_json import record_json
    from sync.scopes import Scope

    from .common import SECRET

    verdict = Verdict()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        session = db.session
        records: dict[tuple[str, str], object] = {}
        for table in WRITTEN:
            model = RECORD_MODELS[table]
            for record in session.scalars(select(model)):
                records[(table, str(record.id))] = record
        log_rows = dict(
            session.execute(
                select(ChangeLogEntry.record_id, func.count()).group_by(ChangeLogEntry.record_id)
            ).all()
        )
        stored = dict(session.execute(select(SyncMutation.id, SyncMutation.result)).all())
        conflicts = session.scalars(select(ConflictEntry)).all()
        verdict.conflict_entries = len(conflicts)
        by_mutation: dict[str, list] = defaultdict(list)
        for entry in conflicts:
            if entry.mutation_id is not None:
                by_mutation[str(entry.mutation_id)].append(entry)

        # (ii) the same conflict entry twice for one mutation
        seen = Counter((str(e.mutation_id), e.kind, e.field, e.loser, e.code) for e in conflicts)
        for key, count in seen.items():
            if count > 1:
                verdict.applied_twice += count - 1
                verdict.note("applied_twice", f"conflict entry {key} x{count}")

        # (ii) results replayed after a lost answer equal the first answer
        first: dict[str, dict] = {}
        if dropped_file.exists():
            for line in dropped_file.read_text().splitlines():
                for result in json.loads(line)["results"]:
                    if result.get("replayed"):
                        continue
                    earlier = first.setdefault(result["id"], _comparable(result))
                    if earlier != _comparable(result):
                        verdict.applied_twice += 1
                        verdict.note("applied_twice", f"mutation {result['id']} answered twice")
        for device in devices:
            for mutation_id, result in device.results.items():
                original = first.get(mutation_id)
                if original is not None and original != _comparable(result):
                    verdict.applied_twice += 1
                    verdict.note(
                        "applied_twice",
                        f"mutation {mutation_id}: replay {result} != first {original}",
                    )

        # (i) per acknowledged mutation; and the writes expected per record for (ii)
        expected_bumps: Counter[tuple[str, str]] = Counter()
        flagged: Counter[tuple[str, str]] = Counter()
        for device in devices:
            for m in device.queued:
                result = device.results.get(m["id"])
                if result is None:
                    verdict.unacknowledged += 1
                    continue
                key = (m["table"], m["record_id"])
                status = result["status"]
                problem = _missing(m, result, records.get(key), stored, by_mutation)
                if problem:
                    verdict.missing += 1
                    flagged[key] += 1
                    verdict.note("missing", f"{m['op']} {key} ({m['id']}): {problem}")
                if status == "rejected":
                    continue
                lost = {c["field"] for c in result.get("conflicts", [])}
                if m["op"] == "delete" or (m["op"] == "update" and set(m["fields"]) - lost):
                    expected_bumps[key] += 1

        # (ii)/(i) per record written: its version and change-log rows against the writes
        # acknowledged on it. Every record starts at version 1 (seeded or created by a phone).
        for (table, record_id), record in records.items():
            key = (table, record_id)
            expected = 1 + expected_bumps[key]
            rows = log_rows.get(uuid.UUID(record_id), 0)
            extra = max(record.version - expected, rows - expected, 0)
            if extra:  # a write no acknowledged mutation accounts for
                verdict.applied_twice += extra
                verdict.note(
                    "applied_twice",
                    f"{table}/{record_id}: version {record.version}, "
                    f"{rows} change-log rows, {expected} writes acknowledged",
                )
            short = max(expected - record.version, expected - rows, 0)
            if short:
                # Acknowledged writes the record does not show; counted once with the
                # mutations already found missing on it.
                verdict.missing += max(0, short - flagged[key])
                verdict.note(
                    "missing",
                    f"{table}/{record_id}: version {record.version}, "
                    f"{rows} change-log rows, {expected} writes acknowledged"
                    + (
                        " (two writes made the same version: a lost update)"
                        if rows > record.version
                        else ""
                    ),
                )

        # (ii) a created contact twice
        names = Counter(session.scalars(select(Contact.name).where(Contact.name.like("contact %"))))
        for name, count in names.items():
            if count > 1:
                verdict.applied_twice += count - 1
                verdict.note("applied_twice", f"contact {name!r} x{count}")

        # (iii) each phone's store equals the server's view of its scope
        users = {u.email: u for u in session.scalars(select(User))}
        for device in devices:
            if device.error:  # gave up: reported as such, not pulled again
                continue
            user = users[device.person.email]
            scope = Scope.for_user(session, user)
            server: dict[tuple[str, str], tuple[int, dict]] = {}
            for table, model in RECORD_MODELS.items():
                query = select(model).where(scope.where(model), model.deleted_at.is_(None))
                for record in session.scalars(query):
                    server[(table, str(record.id))] = (
                        record.version,
                        _plain(record_json(record, scope)),
                    )
            local = {
                (table, record_id): (version, json.loads(data))
                for table, record_id, version, data in device.client.db.execute(
                    "SELECT tbl, id, version, data FROM records"
                )
            }
            for key in server.keys() | local.keys():
                if server.get(key) != local.get(key):
                    verdict.not_pulled += 1
                    verdict.note(
                        "not_pulled",
                        f"{device.person.email} {key}: server "
                        f"{_brief(server.get(key))}, phone {_brief(local.get(key))}",
                    )
        session.rollback()
        db.session.remove()
        db.engine.dispose()
    return verdict


def _brief(entry) -> str:
    return "absent" if entry is None else f"v{entry[0]}"


def _missing(m: dict, result: dict, record, stored: dict, by_mutation: dict) -> str | None:
    """Why this acknowledged mutation is not in the data nor in the conflict log, or None."""
    mutation_id = uuid.UUID(m["id"])
    if mutation_id not in stored:
        return "no idempotency row"
    if stored[mutation_id].get("status") != result["status"]:
        return f"stored result {stored[mutation_id].get('status')} != {result['status']}"
    entries = by_mutation.get(m["id"], [])
    if result["status"] == "rejected":
        return None if any(e.kind == "rejected" for e in entries) else "rejection not logged"
    if record is None:
        return "record absent"
    if m["op"] == "delete":
        return None if record.deleted_at is not None else "not deleted"
    version = (result.get("record") or {}).get("version", 1 if m["op"] == "create" else None)
    lost_logged = {e.field for e in entries if e.kind == "field_lost" and e.loser == "device"}
    for conflict in result.get("conflicts", []):
        if conflict["field"] not in lost_logged:
            return f"lost field {conflict['field']} not in the conflict log"
    meta = record.field_meta or {}
    for name, value in m["fields"].items():
        if name in lost_logged:
            continue
        stamp = (meta.get(name) or {}).get("v", 0)
        if version is None or stamp < version:
            return f"{name} stamped v{stamp}, acknowledged at v{version}"
        if stamp == version and _plain(getattr(record, name)) != value:
            return f"{name} is {getattr(record, name)!r}, acknowledged {value!r}"
    return None


# -- the checks can fail: a self-test -----------------------------------------------------


def self_test(url: str, devices: list, dropped_file: Path, before: Verdict) -> dict[str, bool]:
    """Break the data three ways, one per zero, and check that the verifier sees each.

    (iii) one phone loses a record from its store, as if a pull had skipped it;
    (ii) an acknowledged update whose field a later edit replaced is pushed again after
    its idempotency row is forgotten: the engine runs it as new work;
    (i) an acknowledged value still current is overwritten behind the engine's back, as
    if the committed write had been lost.
    """
    from sqlalchemy import delete, update

    from domain.models import RECORD_MODELS, SyncMutation, User
    from server import create_app
    from server.extensions import db
    from sync import Pusher, PushRequestSchema

    from .common import SECRET

    caught: dict[str, bool] = {}
    reps = [d for d in devices if d.person.role == "rep" and d.error is None]
    phone = reps[0]
    phone.client.db.execute(
        "DELETE FROM records WHERE rowid = (SELECT rowid FROM records WHERE tbl = 'customers'"
        " LIMIT 1)"
    )
    after = verify(url, devices, dropped_file)
    caught["not_pulled"] = after.not_pulled > before.not_pulled

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        session = db.session
        replayed = lost = None
        for device in reps:
            for m in device.queued:
                result = device.results.get(m["id"])
                if m["op"] != "update" or m["table"] != "customers" or result is None:
                    continue
                record = session.get(RECORD_MODELS["customers"], uuid.UUID(m["record_id"]))
                current = record.notes == m["fields"]["notes"]
                if replayed is None and not current:
                    replayed = (device, m)
                elif (
                    lost is None
                    and current
                    and result["status"] == "applied"
                    and (replayed is None or replayed[1]["record_id"] != m["record_id"])
                ):
                    lost = m
            if replayed and lost:
                break
        device, m = replayed
        session.execute(delete(SyncMutation).where(SyncMutation.id == uuid.UUID(m["id"])))
        user = session.scalar(select(User).where(User.email == device.person.email))
        mutations = PushRequestSchema().load({"mutations": [m]})["mutations"]
        Pusher(session, user, device_id=device.client.device_id, now=datetime.now(UTC)).push(
            mutations, None
        )
        session.commit()
        db.session.remove()
        db.engine.dispose()
    again = verify(url, devices, dropped_file)
    caught["applied_twice"] = again.applied_twice > after.applied_twice

    with app.app_context():
        model = RECORD_MODELS["customers"]
        db.session.execute(
            update(model).where(model.id == uuid.UUID(lost["record_id"])).values(notes="lost")
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    last = verify(url, devices, dropped_file)
    caught["acknowledged_missing"] = last.missing > again.missing
    return caught
