"""In-memory stand-ins for the notifications repository and the outbox, so use cases run in unit tests without
Kafka or a database. They ADD to the integration tests on the real servers (which remain the judge of how MongoDB
behaves); each fake method does what the real one of the same name does, on dicts and lists."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from typing import Any

from medsupport_shared.documents import parse_document
from medsupport_shared.outbox import OUTBOX_FIELD, parse_entry, with_outbox
from medsupport_shared.supervision import TaskSupervisor
from notifications.context import NotificationsContext
from notifications.domain.alerts import Alert
from notifications.domain.deliveries import Delivery
from notifications.domain.grouping import Fold
from notifications.repository import ALERTS
from notifications.routing import DEFAULT_RULES, RouteRule
from notifications.settings import NotificationsSettings

Document = dict[str, Any]


class FakeRepository:
    """The repository methods the alert use cases call, on dicts; stored alerts keep their outbox entries."""

    def __init__(self, *, people: Iterable[Document] = (), rules: Iterable[RouteRule] = DEFAULT_RULES) -> None:
        self.people = {p["_id"]: p for p in people}
        self.route_rules = list(rules)
        self.rotas: dict[str, Document] = {}
        self.mentors: dict[str, Document] = {}
        self.alerts: dict[str, Document] = {}
        self.deliveries: dict[str, Document] = {}

    # ------------------------------------------------------------ directory, rotas, rules
    @contextlib.contextmanager
    def people_read_once(self) -> Iterator[None]:
        yield  # the fake reads nothing from a database

    async def person(self, *, person_id: str) -> Document | None:
        return copy.deepcopy(self.people.get(person_id))

    async def staff_with_role(self, *, role: str) -> list[Document]:
        found = [p for p in self.people.values() if role in (p.get("roles") or []) and p.get("kind") == "staff"]
        return sorted(found, key=lambda p: p["_id"])

    async def rota(self, *, team: str) -> Document | None:
        return self.rotas.get(team)

    async def rules_for_routing(self) -> list[RouteRule]:
        return await self.rules()

    async def rules(self) -> list[RouteRule]:
        return sorted(self.route_rules, key=lambda r: r.id)

    async def mentor_of(self, *, student_id: str) -> Document | None:
        return self.mentors.get(student_id)

    # ------------------------------------------------------------ alerts
    async def alert(self, *, alert_id: str) -> Alert | None:
        found = self.alerts.get(alert_id)
        return None if found is None else _parse(found)

    async def alert_document(self, *, alert_id: str) -> Document | None:
        found = self.alerts.get(alert_id)
        return None if found is None else _without_outbox(found)

    async def insert_alert(self, *, alert: Alert | Document, entries: list[Document]) -> bool:
        document = alert.to_document() if isinstance(alert, Alert) else alert
        if document["_id"] in self.alerts:
            return False
        self.alerts[document["_id"]] = copy.deepcopy(with_outbox(document, *entries))
        return True

    async def open_group_alert(self, *, group_key: str, since: datetime) -> Alert | None:
        found = [
            a
            for a in self.alerts.values()
            if a["group_key"] == group_key and a["status"] == "open" and a["created_at"] >= since
        ]
        return _parse(max(found, key=lambda a: a["created_at"])) if found else None

    async def fold_alert(self, *, alert: Alert, fold: Fold) -> bool:
        push = {} if fold.new_event_id is None else {"event_ids": fold.new_event_id}
        return self._update(alert, fold.changes, push=push)

    async def acknowledge_alert(self, *, alert: Alert, by: str, at: datetime, entries: list[Document]) -> bool:
        changes = {"status": "acknowledged", "acknowledged_at": at, "acknowledged_by": by, "updated_at": at}
        return self._update(alert, changes | _stop_timer(alert), entries=entries)

    async def resolve_alert(self, *, alert: Alert, at: datetime) -> bool:
        return self._update(alert, {"status": "resolved", "updated_at": at} | _stop_timer(alert))

    async def escalate_alert(
        self, *, alert: Alert, level: int, next_at: datetime | None, at: datetime, entries: list[Document]
    ) -> bool:
        changes = {"escalation.level": level, "escalation.next_at": next_at, "updated_at": at}
        return self._update(alert, changes, entries=entries)

    def _update(
        self, alert: Alert, changes: Document, *, push: Document | None = None, entries: list[Document] = ()
    ) -> bool:
        stored = self.alerts.get(alert.id)
        if stored is None or stored.get("version") != alert.version:
            return False
        for path, value in copy.deepcopy(changes).items():
            *parents, name = path.split(".")
            target = stored
            for parent in parents:
                target = target[parent]
            target[name] = value
        for name, value in (push or {}).items():
            stored.setdefault(name, []).append(value)
        stored.setdefault(OUTBOX_FIELD, []).extend(entries)
        stored["version"] += 1
        return True

    async def due_escalations(self, *, now: datetime) -> list[Alert]:
        due = [
            a
            for a in self.alerts.values()
            if a.get("status") == "open"
            and (a.get("escalation") or {}).get("next_at") is not None
            and a["escalation"]["next_at"] <= now
        ]
        return [parsed for a in due if (parsed := _parse(a)) is not None]

    async def chain(self, *, root_id: str) -> list[Document]:
        return [_without_outbox(a) for a in self.alerts.values() if a.get("root_id") == root_id]

    async def chain_alerts(self, *, root_id: str) -> list[Alert]:
        return [parsed for a in await self.chain(root_id=root_id) if (parsed := _parse(a)) is not None]

    async def open_alerts_about(self, *, subject_id: str, families: tuple[str, ...]) -> list[Alert]:
        about = [
            a
            for a in self.alerts.values()
            if subject_id in (a.get("subject_id"), a.get("redacted_subject_id"))
            and a.get("family") in families
            and a.get("status") == "open"
        ]
        return [parsed for a in about if (parsed := _parse(a)) is not None]

    async def count_open_urgent(self) -> int:
        return sum(1 for a in self.alerts.values() if a.get("status") == "open" and a.get("urgent") is True)

    # ------------------------------------------------------------ deliveries
    async def insert_deliveries(self, *, deliveries: list[Document]) -> list[Delivery]:
        created = [d for d in deliveries if d["_id"] not in self.deliveries]
        self.deliveries |= {d["_id"]: copy.deepcopy(d) for d in created}
        return [Delivery.model_validate(d) for d in created]

    async def due_deliveries(
        self, *, now: datetime, limit: int = 100, exclude: Collection[str] = (), urgent: bool | None = None
    ) -> list[Delivery]:
        return []  # the unit tests look at what was planned; sending is the integration tests' part

    # ------------------------------------------------------------ for the tests
    def outbox_of(self, alert_id: str) -> list[Document]:
        return list(self.alerts[alert_id].get(OUTBOX_FIELD, []))


def _parse(document: Document) -> Alert | None:
    return parse_document(_without_outbox(document), Alert, collection=ALERTS, log_id=True)


def _without_outbox(document: Document) -> Document:
    return {k: copy.deepcopy(v) for k, v in document.items() if k != OUTBOX_FIELD}


def _stop_timer(alert: Alert) -> Document:
    return {"escalation.next_at": None} if alert.escalation else {}


class FakeOutbox:
    """Publishes by remembering: ``published`` holds every event dispatched or flushed, in order."""

    def __init__(self) -> None:
        self.published: list[tuple[str, Any, Document]] = []

    def dispatch(self, collection: str, document_id: Any, entries: Iterable[Document]) -> asyncio.Future[bool]:
        self.published += [(collection, document_id, entry) for entry in entries]
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        done.set_result(True)
        return done

    async def flush(self, collection: str, document_id: Any, entries: Iterable[Document]) -> bool:
        self.dispatch(collection, document_id, entries)
        return True

    def events(self, event_type: str | None = None) -> list[Any]:
        events = [parse_entry(entry) for _, _, entry in self.published]
        return [e for e in events if event_type is None or e.type == event_type]


class NoAddress:
    """A channel that reaches nobody: deliveries are planned (and skipped), never sent."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def address(self, person: Document | None) -> str | None:
        return None

    async def send(self, *, alert: Document, delivery_id: str, address: str, url: str) -> None:
        raise AssertionError("unit tests send nothing")


def fake_context(repo: FakeRepository, **settings: Any) -> NotificationsContext:
    return NotificationsContext(
        repo=repo,  # type: ignore[arg-type]
        outbox=FakeOutbox(),  # type: ignore[arg-type]
        settings=NotificationsSettings(**settings),
        channels={kind: NoAddress(kind) for kind in ("inapp", "email", "webhook")},
        idempotency=None,  # type: ignore[arg-type]
        source="/services/notifications",
        tasks=TaskSupervisor("notifications"),
    )


def staff(person_id: str, *roles: str) -> Document:
    return {"_id": person_id, "kind": "staff", "roles": list(roles), "email": f"{person_id}@med.example.edu"}
