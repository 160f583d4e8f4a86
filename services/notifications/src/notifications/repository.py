"""MongoDB access: people (staff and student recipients), rotas, routing rules, alerts, deliveries."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection, Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from medsupport_shared.documents import parse_document, parse_documents
from medsupport_shared.mongo import ensure_indexes, paginate
from medsupport_shared.outbox import OUTBOX_FIELD, with_outbox
from notifications.domain.alerts import Alert
from notifications.domain.deliveries import Delivery
from notifications.domain.grouping import Fold
from notifications.routing import DEFAULT_RULES, RouteRule
from notifications.safety import roles_of

Document = dict[str, Any]
PEOPLE, ROTAS, ROUTES, ALERTS, DELIVERIES = "people", "rotas", "routes", "alerts", "deliveries"
CHECKINS = "checkins"  # check-in severities stored by older versions; no longer written, removed by the retention sweep
ROLE_GRANTS = "role_grants"  # who granted or revoked a health-data role, to whom, when (kept: an audit trail)
MENTORS = "mentors"  # each student's current mentor, learned from mentor.assigned / mentorship.ended
ALERT_READS = "alert_reads"  # staff reads of wellbeing alerts: the audit trail, kept AUDIT_RETENTION_DAYS
LEASES = "delivery_leases"
STREAM_TICKETS = "stream_tickets"
OUTBOX_COLLECTIONS = (ALERTS, DELIVERIES)
NO_OUTBOX = {OUTBOX_FIELD: 0}
# Routing reads the rules for every event; reading them at most this often per process keeps them off the
# hot path. A change made through this process is seen at once, one made elsewhere (another replica, by
# hand) within this many seconds; the urgent-flag safety floor does not depend on the rules at all.
RULES_FRESH_SECONDS = 1.0
# People read while one event is routed (and by the first delivery attempts it starts), each read once: routing
# looks the same recipient up for the plan, the privacy check and each channel.
_PEOPLE_READ: ContextVar[dict[str, Document | None] | None] = ContextVar("people_read", default=None)


def _with_id(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {**doc, "id": doc.get("_id")}


def _parse_alert(doc: Document) -> Alert | None:
    return parse_document(doc, Alert, collection=ALERTS, log_id=True)  # alert ids are digests: nothing personal


def _parse_alerts(docs: list[Document]) -> list[Alert]:
    return parse_documents(docs, Alert, collection=ALERTS, log_id=True)


def _stop_timer(alert: Alert) -> Document:
    return {"escalation.next_at": None} if alert.escalation else {}


class NotificationsRepository:
    def __init__(self, db: AsyncDatabase[Document], *, fixed_people: dict[str, Document] | None = None) -> None:
        """``fixed_people``: recipients that come from the settings (the safety floor's last-resort contact),
        found by ``person`` like directory entries but held in memory, so no API call or edit removes them."""
        self._fixed_people = dict(fixed_people or {})
        self.people, self.rotas, self.routes = db[PEOPLE], db[ROTAS], db[ROUTES]
        self.alerts, self.deliveries, self.checkins = db[ALERTS], db[DELIVERIES], db[CHECKINS]
        self.mentors = db[MENTORS]
        self.role_grants = db[ROLE_GRANTS]
        self.leases = db[LEASES]
        self.alert_reads = db[ALERT_READS]
        self.stream_tickets = db[STREAM_TICKETS]
        self._routing_rules: tuple[float, list[RouteRule]] | None = None
        self._rules_generation = 0  # counts rule writes ended here (``_changing_rules``)

    async def ensure_indexes(self) -> None:
        await ensure_indexes(self.people, [IndexModel("roles")])
        await ensure_indexes(
            self.alerts,
            [
                IndexModel([("recipient_id", ASCENDING), ("created_at", DESCENDING)]),
                IndexModel([("recipient_id", ASCENDING), ("updated_at", ASCENDING)]),
                IndexModel("group_key"),
                IndexModel("root_id"),
                IndexModel("subject_id"),
                IndexModel([("status", ASCENDING), ("escalation.next_at", ASCENDING)]),
            ],
        )
        await ensure_indexes(
            self.deliveries,
            [IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]), IndexModel("alert_id")],
        )
        await ensure_indexes(self.alerts, [IndexModel("updated_at")])
        await ensure_indexes(self.alert_reads, [IndexModel("at"), IndexModel("alert_ids")])

    async def seed_default_rules(self) -> int:
        """At first start only: rules an admin deleted or changed stay as the admin left them."""
        if await self.routes.count_documents({}, limit=1):
            return 0
        seeded = 0
        with self._changing_rules():
            for rule in DEFAULT_RULES:
                try:
                    await self.routes.insert_one({"_id": rule.id, **rule.model_dump(mode="json", exclude={"id"})})
                    seeded += 1
                except DuplicateKeyError:
                    pass
        return seeded

    # ---------------------------------------------------------------- directory, rotas, rules

    async def person(self, *, person_id: str) -> Document | None:
        if person_id in self._fixed_people:
            return self._fixed_people[person_id]
        read = _PEOPLE_READ.get()
        if read is not None and person_id in read:
            return read[person_id]
        found = await self.people.find_one({"_id": person_id})
        if read is not None:
            read[person_id] = found
        return found

    @contextlib.contextmanager
    def people_read_once(self) -> Iterator[None]:
        """Within the block (and tasks it starts), ``person`` reads each person from the database once."""
        token = _PEOPLE_READ.set({})
        try:
            yield
        finally:
            _PEOPLE_READ.reset(token)

    async def save_person(self, *, person_id: str, fields: Document) -> None:
        await self.people.update_one({"_id": person_id}, {"$set": fields}, upsert=True)

    async def people_by_id(self, *, person_ids: list[str]) -> dict[str, Document]:
        found = await self.people.find({"_id": {"$in": person_ids}}).to_list(None)
        return {doc["_id"]: doc for doc in found}

    async def write_people(self, *, new: dict[str, Document], changed: dict[str, Document]) -> None:
        """New people in one batch insert, changed ones in one batch of updates (FerretDB inserts a batch
        far faster than it upserts one by one). A racing import that inserted one first is updated instead."""
        if new:
            try:
                await self.people.insert_many([{"_id": pid, **fields} for pid, fields in new.items()], ordered=False)
            except BulkWriteError as exc:
                if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                    raise
                raced = {e["op"]["_id"] for e in exc.details["writeErrors"]}
                changed = {**changed, **{pid: new[pid] for pid in raced}}
        if changed:
            await self.people.bulk_write(
                [UpdateOne({"_id": pid}, {"$set": fields}) for pid, fields in changed.items()], ordered=False
            )

    async def staff_with_role(self, *, role: str) -> list[Document]:
        """Directory staff only: roles a user's token once carried are never a routing target."""
        return await self.people.find({"roles": role, "kind": "staff"}).sort("_id", ASCENDING).to_list(None)

    async def page_people(self, *, limit: int | None, cursor: str | None) -> tuple[list[Document], str | None]:
        return await paginate(
            self.people, {"kind": "staff"}, limit=limit, cursor=cursor, sort_field="_id", descending=False
        )

    async def staff_ids(self) -> set[str]:
        return {d["_id"] async for d in self.people.find({"kind": "staff"}, {"_id": 1})}

    async def staff_roles(self) -> dict[str, frozenset[str]]:
        found = self.people.find({"kind": "staff"}, {"_id": 1, "roles": 1})
        return {d["_id"]: roles_of(d) async for d in found}

    async def record_role_change(self, *, change: Document) -> None:
        await self.role_grants.insert_one(change)

    async def page_role_changes(self, *, limit: int | None, cursor: str | None) -> tuple[list[Document], str | None]:
        return await paginate(self.role_grants, {}, limit=limit, cursor=cursor, sort_field="at")

    async def record_alert_read(self, *, read: Document) -> None:
        await self.alert_reads.insert_one(read)

    async def page_alert_reads(
        self, *, alert_id: str | None, limit: int | None, cursor: str | None
    ) -> tuple[list[Document], str | None]:
        query = {} if alert_id is None else {"alert_ids": alert_id}
        return await paginate(self.alert_reads, query, limit=limit, cursor=cursor, sort_field="at")

    async def expire_alert_reads(self, *, before: datetime) -> int:
        return (await self.alert_reads.delete_many({"at": {"$lt": before}})).deleted_count

    async def rota(self, *, team: str) -> Document | None:
        return await self.rotas.find_one({"_id": team})

    async def save_rota(self, *, team: str, rota: Document) -> None:
        await self.rotas.replace_one({"_id": team}, {"_id": team, **rota}, upsert=True)

    async def rota_teams(self) -> set[str]:
        return {d["_id"] async for d in self.rotas.find({}, {"_id": 1})}

    async def rules(self) -> list[RouteRule]:
        """Every stored rule that fits the model; one that does not is skipped (logged, counted), so that it
        never fails the routing of every event nor the listing."""
        docs = await self.routes.find({}).sort("_id", 1).to_list(None)
        return parse_documents(docs, RouteRule, collection=ROUTES, prepare=_with_id, log_id=True)

    async def rules_for_routing(self) -> list[RouteRule]:
        """``rules()``, read at most once every ``RULES_FRESH_SECONDS`` (see there)."""
        cached = self._routing_rules
        if cached is not None and time.monotonic() - cached[0] < RULES_FRESH_SECONDS:
            return cached[1]
        generation, read_at = self._rules_generation, time.monotonic()
        rules = await self.rules()
        if generation == self._rules_generation:  # no rule write here ended while it was being read
            self._routing_rules = (read_at, rules)
        return rules

    @contextlib.contextmanager
    def _changing_rules(self) -> Iterator[None]:
        """Around a rule write: once it ends (or fails), the kept rules go, and a read that overlapped it is
        not kept either."""
        try:
            yield
        finally:
            self._rules_generation += 1
            self._routing_rules = None

    async def insert_rule(self, *, rule: RouteRule) -> bool:
        with self._changing_rules():
            try:
                await self.routes.insert_one({"_id": rule.id, **rule.model_dump(mode="json", exclude={"id"})})
            except DuplicateKeyError:
                return False
        return True

    async def replace_rule(self, *, rule: RouteRule) -> None:
        with self._changing_rules():
            await self.routes.replace_one(
                {"_id": rule.id}, {"_id": rule.id, **rule.model_dump(mode="json", exclude={"id"})}, upsert=True
            )

    async def delete_rule(self, *, rule_id: str) -> bool:
        with self._changing_rules():
            return (await self.routes.delete_one({"_id": rule_id})).deleted_count == 1

    # ---------------------------------------------------------------- alerts

    async def alert(self, *, alert_id: str) -> Alert | None:
        """The alert, or None when there is none or it no longer fits the model (logged and skipped)."""
        found = await self.alerts.find_one({"_id": alert_id}, NO_OUTBOX)
        return None if found is None else _parse_alert(found)

    async def alert_document(self, *, alert_id: str) -> Document | None:
        """The stored alert as it is, for views and for what channels send (built from the document)."""
        return await self.alerts.find_one({"_id": alert_id}, NO_OUTBOX)

    async def insert_alert(self, *, alert: Alert | Document, entries: list[Document]) -> bool:
        """False when an alert with its id exists (a redelivery). A plain document is stored as it is."""
        document = alert.to_document() if isinstance(alert, Alert) else alert
        try:
            await self.alerts.insert_one(with_outbox(document, *entries))
        except DuplicateKeyError:
            return False
        return True

    async def open_group_alert(self, *, group_key: str, since: datetime) -> Alert | None:
        found = await self.alerts.find_one(
            {"group_key": group_key, "status": "open", "created_at": {"$gte": since}},
            NO_OUTBOX,
            sort=[("created_at", DESCENDING)],
        )
        return None if found is None else _parse_alert(found)

    async def fold_alert(self, *, alert: Alert, fold: Fold) -> bool:
        """Write a fold (False when the alert changed since ``alert`` was read)."""
        push = None if fold.new_event_id is None else {"event_ids": fold.new_event_id}
        return await self._update_alert(alert, fold.changes, push=push)

    async def acknowledge_alert(self, *, alert: Alert, by: str, at: datetime, entries: list[Document]) -> bool:
        changes = {"status": "acknowledged", "acknowledged_at": at, "acknowledged_by": by, "updated_at": at}
        return await self._update_alert(alert, changes | _stop_timer(alert), entries=entries)

    async def resolve_alert(self, *, alert: Alert, at: datetime) -> bool:
        return await self._update_alert(alert, {"status": "resolved", "updated_at": at} | _stop_timer(alert))

    async def escalate_alert(
        self, *, alert: Alert, level: int, next_at: datetime | None, at: datetime, entries: list[Document]
    ) -> bool:
        changes = {"escalation.level": level, "escalation.next_at": next_at, "updated_at": at}
        return await self._update_alert(alert, changes, entries=entries)

    async def _update_alert(
        self, alert: Alert, changes: Document, *, push: Document | None = None, entries: list[Document] | None = None
    ) -> bool:
        update: Document = {"$set": changes, "$inc": {"version": 1}}
        pushes = dict(push or {})
        if entries:
            pushes[OUTBOX_FIELD] = {"$each": entries}
        if pushes:
            update["$push"] = pushes
        result = await self.alerts.update_one({"_id": alert.id, "version": alert.version}, update)
        return result.modified_count == 1

    async def page_inbox(
        self,
        *,
        recipient_id: str,
        status: str | None,
        limit: int | None,
        cursor: str | None,
        urgent: bool | None = None,
    ) -> tuple[list[Document], str | None]:
        query: Document = {"recipient_id": recipient_id}
        if status:
            query["status"] = status
        if urgent is not None:
            query["urgent"] = urgent
        return await paginate(self.alerts, query, limit=limit, cursor=cursor, projection=NO_OUTBOX)

    async def inbox_changes(
        self, *, recipient_id: str, after: datetime, coarse_from: datetime | None = None
    ) -> list[Document]:
        """Alerts changed after ``after``; with ``coarse_from``, also the alerts whose times are kept to the hour
        only (about an anonymous report) changed from that hour on, which ``after`` alone would miss."""
        changed: Document = {"updated_at": {"$gt": after}}
        if coarse_from is not None:
            changed = {"$or": [changed, {"coarse_times": True, "updated_at": {"$gte": coarse_from}}]}
        found = self.alerts.find({"recipient_id": recipient_id, **changed}, NO_OUTBOX)
        return await found.sort([("updated_at", ASCENDING), ("_id", ASCENDING)]).limit(200).to_list(None)

    async def due_escalations(self, *, now: datetime) -> list[Alert]:
        """Open alerts whose next escalation step is due (one that fits no more is logged and skipped)."""
        found = self.alerts.find({"status": "open", "escalation.next_at": {"$lte": now}}, NO_OUTBOX)
        return _parse_alerts(await found.limit(200).to_list(None))

    async def chain(self, *, root_id: str) -> list[Document]:
        """The stored alerts of an escalation chain as they are (for the chain's view)."""
        return await self.alerts.find({"root_id": root_id}, NO_OUTBOX).to_list(None)

    async def chain_alerts(self, *, root_id: str) -> list[Alert]:
        return _parse_alerts(await self.chain(root_id=root_id))

    async def chain_starts_since(self, *, since: datetime, severities: Collection[str]) -> list[Document]:
        """The first alert (level 0) of each chain created since ``since``, with only what timing needs."""
        query = {"level": 0, "created_at": {"$gte": since}, "severity": {"$in": list(severities)}}
        fields = {"severity": 1, "created_at": 1, "acknowledged_at": 1, "status": 1}
        return await self.alerts.find(query, fields).to_list(None)

    async def open_alerts_about(self, *, subject_id: str, families: tuple[str, ...]) -> list[Alert]:
        """Open alerts about a student, redacted notices included (they keep the student hidden)."""
        about = [{"subject_id": subject_id}, {"redacted_subject_id": subject_id}]
        query = {"$or": about, "family": {"$in": list(families)}, "status": "open"}
        return _parse_alerts(await self.alerts.find(query, NO_OUTBOX).to_list(None))

    async def mark_first_delivery(self, *, alert_id: str, at: datetime) -> bool:
        result = await self.alerts.update_one(
            {"_id": alert_id, "first_delivered_at": {"$exists": False}}, {"$set": {"first_delivered_at": at}}
        )
        return result.modified_count == 1

    async def count_open_urgent(self) -> int:
        return await self.alerts.count_documents({"status": "open", "urgent": True})

    # ---------------------------------------------------------------- deliveries

    async def insert_deliveries(self, *, deliveries: list[Document]) -> list[Delivery]:
        """The deliveries inserted (one whose id exists, planned by an earlier attempt, is left alone)."""
        created = []
        for delivery in deliveries:
            try:
                await self.deliveries.insert_one(delivery)
                created.append(Delivery.model_validate(delivery))
            except DuplicateKeyError:
                continue
        return created

    async def deliveries_of(self, *, alert_id: str) -> list[Document]:
        found = self.deliveries.find({"alert_id": alert_id}, NO_OUTBOX).sort("created_at", ASCENDING)
        return await found.to_list(None)

    async def due_deliveries(
        self, *, now: datetime, limit: int = 100, exclude: Collection[str] = (), urgent: bool | None = None
    ) -> list[Delivery]:
        """Due deliveries (only urgent or only routine ones if ``urgent`` says so), leaving out ``exclude``
        (those this instance is already on)."""
        query: Document = {
            "$or": [
                {"status": "pending", "next_attempt_at": {"$lte": now}},
                {"status": "sending", "lease_until": {"$lte": now}},
            ]
        }
        if urgent is not None:
            query["severity"] = "urgent" if urgent else {"$ne": "urgent"}
        if exclude:
            query["_id"] = {"$nin": list(exclude)}
        found = await self.deliveries.find(query, NO_OUTBOX).limit(limit).to_list(None)
        return parse_documents(found, Delivery, collection=DELIVERIES, log_id=True)

    async def claim_delivery(self, *, delivery: Delivery | Document, lease_until: datetime, now: datetime) -> bool:
        """One worker per attempt, held by a unique key (a conditional update alone is not atomic on
        FerretDB): the lease document ``<delivery id>:<attempt number>`` can be inserted once. A lease
        whose claimer lost the database before marking the delivery ``sending`` is taken over once it
        has expired (deleting it by its old expiry lets exactly one worker do so). A plain document is read
        for its id and attempt count."""
        delivery_id, attempt_count = (
            (delivery.id, delivery.attempt_count)
            if isinstance(delivery, Delivery)
            else (delivery["_id"], delivery["attempt_count"])
        )
        lease_id = f"{delivery_id}:{attempt_count}"
        lease = {"_id": lease_id, "delivery_id": delivery_id, "until": lease_until}
        try:
            await self.leases.insert_one(lease)
        except DuplicateKeyError:
            orphan = await self.leases.find_one({"_id": lease_id, "until": {"$lte": now}})
            if orphan is None or (await self.leases.delete_one(orphan)).deleted_count != 1:
                return False
            try:
                await self.leases.insert_one(lease)
            except DuplicateKeyError:
                return False
        result = await self.deliveries.update_one(
            {"_id": delivery_id, "attempt_count": attempt_count, "status": {"$in": ["pending", "sending"]}},
            {"$set": {"status": "sending", "lease_until": lease_until}},
        )
        return result.modified_count == 1

    async def expire_lease(self, *, delivery: Delivery, now: datetime) -> Delivery | None:
        """A worker died mid-attempt: count the attempt as failed and make the delivery due again."""
        result = await self.deliveries.update_one(
            {"_id": delivery.id, "status": "sending", "attempt_count": delivery.attempt_count},
            {
                "$set": {"status": "pending", "next_attempt_at": now, "lease_until": None},
                "$inc": {"attempt_count": 1},
                "$push": {"attempts": {"at": now, "outcome": "failed", "error": "worker lost (lease expired)"}},
            },
        )
        if result.modified_count != 1:
            return None
        found = await self.deliveries.find_one({"_id": delivery.id}, NO_OUTBOX)
        return None if found is None else parse_document(found, Delivery, collection=DELIVERIES, log_id=True)

    async def finish_delivery(
        self, *, delivery_id: str, changes: Document, attempt: Document, entries: list[Document]
    ) -> None:
        update: Document = {"$set": changes, "$inc": {"attempt_count": 1}, "$push": {"attempts": attempt}}
        if entries:
            update["$push"][OUTBOX_FIELD] = {"$each": entries}
        await self.deliveries.update_one({"_id": delivery_id, "status": "sending"}, update)

    # ---------------------------------------------------------------- inbox stream tickets

    async def insert_stream_ticket(self, *, ticket: Document, now: datetime) -> None:
        await self.stream_tickets.delete_many({"expires_at": {"$lte": now}})  # they live for seconds
        await self.stream_tickets.insert_one(ticket)

    async def use_stream_ticket(self, *, ticket_id: str, now: datetime) -> Document | None:
        """The ticket, once: whoever deletes it uses it (a delete is atomic on every backend)."""
        found = await self.stream_tickets.find_one({"_id": ticket_id, "expires_at": {"$gt": now}})
        if found is None or (await self.stream_tickets.delete_one({"_id": ticket_id})).deleted_count != 1:
            return None
        return found

    # ---------------------------------------------------------------- check-ins seen, erasure

    async def expire_alerts(self, *, before: datetime, limit: int = 500) -> dict[str, int]:
        """Alerts last changed before ``before`` that are closed, or routine, with their deliveries and leases;
        an open urgent alert is kept until a human acknowledges it or its flag is resolved."""
        query = {"updated_at": {"$lt": before}, "$or": [{"status": {"$ne": "open"}}, {"urgent": {"$ne": True}}]}
        alerts = [a["_id"] async for a in self.alerts.find(query, {"_id": 1}).limit(limit)]
        if not alerts:
            return {"alerts": 0, "deliveries": 0, "leases": 0}
        deliveries = [d["_id"] async for d in self.deliveries.find({"alert_id": {"$in": alerts}}, {"_id": 1})]
        return {
            "leases": (await self.leases.delete_many({"delivery_id": {"$in": deliveries}})).deleted_count,
            "deliveries": (await self.deliveries.delete_many({"_id": {"$in": deliveries}})).deleted_count,
            "alerts": (await self.alerts.delete_many({"_id": {"$in": alerts}})).deleted_count,
        }

    async def drop_legacy_checkins(self) -> int:
        return (await self.checkins.delete_many({})).deleted_count

    async def remember_mentor(self, *, student_id: str, mentor_id: str, assignment_id: str) -> None:
        await self.mentors.update_one(
            {"_id": student_id}, {"$set": {"mentor_id": mentor_id, "assignment_id": assignment_id}}, upsert=True
        )

    async def forget_mentor(self, *, student_id: str, assignment_id: str) -> None:
        await self.mentors.delete_one({"_id": student_id, "assignment_id": assignment_id})

    async def mentor_of(self, *, student_id: str) -> Document | None:
        return await self.mentors.find_one({"_id": student_id})

    async def erase_student(self, *, student_id: str) -> dict[str, int]:
        """Delete what is held about the student, but the urgent flag alerts still open: an urgent flag's
        chase goes on until the flag is resolved (then ``flag.resolved`` erases them too)."""
        about = {"$or": [{"subject_id": student_id}, {"redacted_subject_id": student_id}, {"recipient_id": student_id}]}
        chasing = {"subject_id": student_id, "family": "flag", "status": "open", "urgent": True}
        await self.alerts.update_many(chasing, {"$set": {"erasure_pending": True}})
        alerts = [
            a["_id"]
            async for a in self.alerts.find(about, {"family": 1, "status": 1, "urgent": 1, "subject_id": 1})
            if not all(a.get(k) == v for k, v in chasing.items())
        ]
        deliveries = [d["_id"] async for d in self.deliveries.find({"alert_id": {"$in": alerts}}, {"_id": 1})]
        return {
            "leases": (await self.leases.delete_many({"delivery_id": {"$in": deliveries}})).deleted_count,
            "deliveries": (await self.deliveries.delete_many({"_id": {"$in": deliveries}})).deleted_count,
            "alerts": (await self.alerts.delete_many({"_id": {"$in": alerts}})).deleted_count,
            "checkins": (await self.checkins.delete_many({"student_id": student_id})).deleted_count,
            "people": (await self.people.delete_many({"_id": student_id, "kind": "student"})).deleted_count,
            "mentors": (await self.mentors.delete_many({"_id": student_id})).deleted_count,
        }
