"""The chaos bench's people, data and phones.

`seed()` loads teams through the one write path (`sync.changes`): per team a manager,
`team_size` reps, one territory per rep with `own_customers` customers (each with a contact
and a task) and one territory shared by the whole team with `shared_customers` customers
(each with a contact), the records that others edit too.

A `Device` is the reference client (`fieldsync_client.SyncClient`) with its own local SQLite
store, over a transport that times every request and notes what went wrong, and with a
`sleep` that caps the client's backoff and honours `Retry-After` (which the transport also
hands the client) with jitter, so a herd does not come back in step.

`queue_offline_edits()` makes a rep's mutations in the dead zone, through the client's own
`create`/`update`/`delete`: 10 % on the team's shared customers and contacts, 10 % creates
of contacts, one delete of a task, the rest updates of the rep's own customers and
tasks, each record edited several times (so a batch replayed as new work would show as
extra versions). Every written value is unique to its mutation.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from werkzeug.security import generate_password_hash

from bench.common import PASSWORD, migrated_app, record_writer
from fieldsync_client import SyncClient, TransportError, http_transport, retry_after

# -- data ----------------------------------------------------------------------------------


@dataclass
class Own:
    customer_id: str
    contact_id: str
    task_id: str


@dataclass
class Person:
    email: str
    role: str
    team: int
    number: int  # global, for unique values


@dataclass
class Plan:
    reps: list[Person]
    managers: list[Person]
    own: dict[str, list[Own]] = field(default_factory=dict)
    #: team -> [(customer id, contact id)] shared by the team's reps and manager.
    shared: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    seed_s: float = 0.0


def seed(url: str, reps: int, team_size: int, own_customers: int, shared_customers: int) -> Plan:
    from domain.models import Contact, Customer, Product, Task, Team, Territory, User
    from server.extensions import db

    started = time.perf_counter()
    app = migrated_app(url)
    # A cheap password hash: logins are not what this bench measures.
    hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    plan = Plan(reps=[], managers=[])
    with app.app_context():
        session = db.session
        add = record_writer(session, datetime.now(UTC))

        for sku in range(3):
            add(Product, sku=f"CHAOS-{sku}", name=f"Sản phẩm {sku}", unit_price="12000.00")
        teams = (reps + team_size - 1) // team_size
        for t in range(teams):
            team = add(Team, name=f"Chaos team {t}")
            manager = add(
                User,
                email=f"manager{t}@chaos.io",
                name=f"Manager {t}",
                role="manager",
                team_id=team.id,
                password_hash=hashed,
            )
            session.flush()
            team.managers = [manager]
            plan.managers.append(Person(manager.email, "manager", t, t))
            shared = add(Territory, name=f"Shared {t}", team_id=team.id)
            members = []
            for r in range(t * team_size, min(reps, (t + 1) * team_size)):
                rep = add(
                    User,
                    email=f"rep{r}@chaos.io",
                    name=f"Rep {r}",
                    role="rep",
                    team_id=team.id,
                    password_hash=hashed,
                )
                members.append(rep)
                territory = add(Territory, name=f"Rep {r}", team_id=team.id)
                session.flush()
                territory.reps = [rep]
                own = []
                for c in range(own_customers):
                    customer = add(
                        Customer,
                        name=f"Cửa hàng {r}.{c}",
                        territory_id=territory.id,
                        lat=10.7 + c / 1000,
                        lon=106.6,
                        tier="B",
                    )
                    contact = add(Contact, customer_id=customer.id, name=f"Chị {r}.{c}")
                    task = add(
                        Task, customer_id=customer.id, assignee_id=rep.id, title=f"Gọi {r}.{c}"
                    )
                    own.append(Own(str(customer.id), str(contact.id), str(task.id)))
                plan.own[rep.email] = own
                plan.reps.append(Person(rep.email, "rep", t, r))
            session.flush()
            shared.reps = members
            plan.shared[t] = []
            for c in range(shared_customers):
                customer = add(
                    Customer,
                    name=f"Siêu thị {t}.{c}",
                    territory_id=shared.id,
                    lat=10.8,
                    lon=106.7,
                    tier="A",
                )
                contact = add(Contact, customer_id=customer.id, name=f"Anh {t}.{c}")
                plan.shared[t].append((str(customer.id), str(contact.id)))
            session.commit()
        session.execute(db.text("ANALYZE"))
        session.commit()
        db.session.remove()
        db.engine.dispose()
    plan.seed_s = time.perf_counter() - started
    return plan


# -- measurements ---------------------------------------------------------------------------


def _kind(path: str) -> str:
    return path.rsplit("/", 1)[-1] if path.startswith("/api/v1/sync/") else "other"


class Metrics:
    """What every phone saw, in one place (the phones are threads)."""

    def __init__(self, total_mutations: int):
        self.lock = threading.Lock()
        self.total_mutations = total_mutations
        self.recording = False
        self.latencies: dict[str, list[float]] = defaultdict(list)  # kind -> seconds (200s)
        self.answers: Counter[str] = Counter()  # "push 200", "pull 503 overloaded", ...
        self.failures: Counter[str] = Counter()  # "push no_response", ...
        self.retries: Counter[str] = Counter()  # cause -> retries
        self.acked: set[str] = set()
        self.first_request: float | None = None
        self.retry_after_seen: list[float] = []

    def answered(self, kind: str, status: int, code: str | None, seconds: float) -> None:
        if not self.recording:
            return
        with self.lock:
            self.answers[f"{kind} {status}" + (f" {code}" if code else "")] += 1
            if status == 200:
                self.latencies[kind].append(seconds)

    def failed(self, kind: str, cause: str) -> None:
        if self.recording:
            with self.lock:
                self.failures[f"{kind} {cause}"] += 1

    def retried(self, cause: str, retry_after: float | None) -> None:
        if self.recording:
            with self.lock:
                self.retries[cause] += 1
                if retry_after is not None:
                    self.retry_after_seen.append(retry_after)

    def acknowledge(self, ids: list[str]) -> None:
        with self.lock:
            self.acked.update(ids)

    @property
    def progress(self) -> float:
        return len(self.acked) / max(1, self.total_mutations)


# -- a phone --------------------------------------------------------------------------------


def _cause(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ConnectionRefusedError):
        return "refused"
    if isinstance(reason, TimeoutError):
        return "timeout"
    return "no_response"  # closed or reset before a whole answer


class Transport:
    """The reference client's HTTP transport, plus timing, causes and `Retry-After`."""

    def __init__(self, base_url: str, metrics: Metrics, results: dict, timeout: float = 60.0):
        self.timeout = timeout
        self.base_url = base_url
        self.metrics = metrics
        self.results = results
        self.last_cause: str | None = None
        self.retry_after: float | None = None
        #: (seconds since the first request, what happened), while the metrics record.
        self.timeline: list[tuple[float, str]] = []

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, url: str) -> None:
        # The run points phones at the proxy after the initial sync: a new `http_transport`.
        self._base_url = url
        self.send = http_transport(url, self.timeout)

    def _note(self, what: str) -> None:
        if self.metrics.recording and self.metrics.first_request is not None:
            self.timeline.append((round(time.perf_counter() - self.metrics.first_request, 2), what))

    def __call__(self, method, path, *, body=None, params=None, token=None):
        kind = _kind(path)
        self.retry_after = None
        if self.metrics.recording and self.metrics.first_request is None:
            self.metrics.first_request = time.perf_counter()
        started = time.perf_counter()
        try:
            status, answer, headers = self.send(method, path, body=body, params=params, token=token)
        except TransportError as exc:
            self.last_cause = _cause(exc.__cause__ or exc)
            self.metrics.failed(kind, self.last_cause)
            self._note(f"{kind} {self.last_cause} after {time.perf_counter() - started:.2f} s")
            raise
        seconds = time.perf_counter() - started
        code = (answer.get("error") or {}).get("code") if status >= 400 else None
        self.metrics.answered(kind, status, code, seconds)
        self._note(f"{kind} {status}{' ' + code if code else ''} in {seconds:.2f} s")
        if status >= 500 or status == 429:
            self.last_cause = f"{status} {code or ''}".strip()
            self.retry_after = retry_after(headers) or None
        if status == 200 and kind == "push":
            ids = [r["id"] for r in answer["results"]]
            for result in answer["results"]:
                self.results[result["id"]] = result
            self.metrics.acknowledge(ids)
        return status, answer, headers


class Device:
    """One phone: a reference client, its transport, and what it queued and was told."""

    def __init__(
        self,
        person: Person,
        base_url: str,
        metrics: Metrics,
        *,
        seed: int,
        retries: int,
        push_batch: int,
        backoff_cap_s: float,
    ):
        self.person = person
        self.results: dict[str, dict] = {}
        self.transport = Transport(base_url, metrics, self.results)
        self.metrics = metrics
        self.random = random.Random(seed)
        self.backoff_cap_s = backoff_cap_s
        self.clock_at: datetime | None = None  # offline: the edit's time; else the real time
        self.client = SyncClient(
            self.transport,
            email=person.email,
            password=PASSWORD,
            device_id=f"chaos-{person.email}-{uuid.uuid4().hex[:8]}",
            clock=self.clock,
            retries=retries,
            backoff_s=0.25,
            sleep=self.sleep,
            push_batch=push_batch,
        )
        self.queued: list[dict] = []
        self.error: str | None = None
        self.finished_at: float | None = None

    def clock(self) -> datetime:
        return self.clock_at or datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """The client's backoff: capped, jittered, and never shorter than Retry-After."""
        retry_after = self.transport.retry_after
        if retry_after is not None:
            wait = retry_after * self.random.uniform(1.0, 1.5)
        else:
            wait = min(seconds, self.backoff_cap_s) * self.random.uniform(0.5, 1.0)
        self.metrics.retried(self.transport.last_cause or "unknown", retry_after)
        self.transport._note(f"sleep {wait:.2f} s")
        time.sleep(wait)


def queue_offline_edits(device: Device, plan: Plan, mutations: int, dead_zone_start: datetime):
    """The rep's (or manager's) edits in the dead zone, through the reference client."""
    person, client, rng = device.person, device.client, device.random
    shared = plan.shared[person.team]
    step = timedelta(seconds=3000 / max(1, mutations))
    jitter = timedelta(seconds=rng.uniform(0, 60))
    for i in range(mutations):
        device.clock_at = dead_zone_start + jitter + step * (i + 1)
        tag = f"{person.role[0]}{person.number}.{i}"
        phone = f"+84 {person.role[0]}{person.number:04d} {i:04d}"
        if person.role == "manager" or i % 10 == 9:
            customer_id, contact_id = shared[(person.number + i // 10 + i) % len(shared)]
            table, record_id = (
                ("customers", customer_id) if (i // 10 + i) % 2 else ("contacts", contact_id)
            )
            client.update(table, record_id, {"notes": f"shared {tag}", "phone": phone})
            continue
        own = plan.own[person.email]
        if mutations >= 10 and i == mutations - 2:
            client.delete("tasks", own[-1].task_id)  # never edited before
        elif i % 10 == 0:
            customer = own[(i // 10) % len(own)].customer_id
            client.create(
                "contacts", {"customer_id": customer, "name": f"contact {tag}", "phone": phone}
            )
        elif i % 2:
            client.update(
                "customers",
                own[(i + i // 10) % len(own)].customer_id,
                {"notes": f"own {tag}", "phone": phone},
            )
        else:
            task = own[(i + i // 10) % max(1, len(own) - 1)].task_id
            client.update("tasks", task, {"title": f"task {tag}", "notes": f"note {tag}"})
    device.clock_at = None
    device.queued = client.outbox()
