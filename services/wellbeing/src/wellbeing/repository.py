"""MongoDB access for check-ins, flags, consents, reminders and the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from medsupport_shared.documents import parse_document, parse_documents
from medsupport_shared.mongo import ensure_indexes, paginate
from medsupport_shared.outbox import OUTBOX_FIELD, with_outbox
from wellbeing.domain.flag_rules import Assessment, queue_key
from wellbeing.domain.flags import Flag, WorryingCheckin

Document = dict[str, Any]
CHECKINS, FLAGS, CONSENTS, AUDIT, REMINDERS = "checkins", "flags", "consents", "audit", "reminders"
LATEST_SCORES = "latest_scores"  # the student's newest stored score per instrument, keyed "<student>|<instrument>"
_SCORE_FIELDS = ("instrument", "score", "percentage", "band", "recorded_at")
OUTBOX_COLLECTIONS = (CHECKINS, FLAGS, REMINDERS)
_FLAG_FIELDS = (
    "student_id",
    "status",
    "cohort",
    "severity",
    "reasons",
    "priority",
    "instrument",
    "raised_at",
    "updated_at",
    "queue_key",
    "checkin_ids",
    "version",
)
_MERGED_FIELDS = ("severity", "reasons", "priority", "queue_key", "instrument", "updated_at")
_RESOLVED_FIELDS = ("status", "resolved_at", "resolved_by", "outcome", "resolution_note", "updated_at")


def _flag_fields(flag: Flag, names: tuple[str, ...]) -> Document:
    values = {name: getattr(flag, name) for name in names}
    return {name: list(value) if isinstance(value, tuple) else value for name, value in values.items()}


def flag_document(flag: Flag) -> Document:
    """A new flag as stored; ``open_key`` (unique) holds the student's id while the flag is open, so a
    student has at most one open flag."""
    return {"_id": flag.id, "open_key": flag.student_id, **_flag_fields(flag, _FLAG_FIELDS)}


def flag_from_document(doc: Document) -> Flag | None:
    return parse_document(doc, Flag, collection=FLAGS, prepare=_with_id)


def worrying_checkin(doc: Document) -> WorryingCheckin:
    """What a flag takes from a stored check-in."""
    return WorryingCheckin(
        checkin_id=doc["_id"],
        student_id=doc["student_id"],
        cohort=doc.get("cohort"),
        instrument=doc["instrument"],
        assessment=Assessment(severity=doc["severity"], reasons=tuple(doc["reasons"]), priority=doc["priority"]),
        share_with_mentor=doc.get("share_with_mentor", False),
    )


def _with_id(doc: Document) -> Document:
    return {**doc, "id": doc["_id"]}


class WellbeingRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.checkins = db[CHECKINS]
        self.flags = db[FLAGS]
        self.consents = db[CONSENTS]
        self.audit = db[AUDIT]
        self.reminders = db[REMINDERS]
        self.latest_scores = db[LATEST_SCORES]

    async def ensure_indexes(self) -> None:
        await ensure_indexes(
            self.checkins,
            [
                IndexModel([("student_id", ASCENDING), ("instrument", ASCENDING), ("recorded_at", DESCENDING)]),
                IndexModel([("student_id", ASCENDING), ("created_at", DESCENDING)]),
                IndexModel([("cohort", ASCENDING), ("recorded_at", ASCENDING)]),
                IndexModel("flag_pending"),
            ],
        )
        await ensure_indexes(
            self.flags,
            [
                IndexModel("open_key", unique=True, sparse=True),  # one open flag per student
                IndexModel([("status", ASCENDING), ("queue_key", ASCENDING), ("_id", ASCENDING)]),  # the queue
                IndexModel("student_id"),
            ],
        )
        await ensure_indexes(
            self.audit,
            [
                IndexModel([("student_id", ASCENDING), ("at", DESCENDING)]),
                IndexModel("created_at"),
                IndexModel("student_ref", sparse=True),
                IndexModel("at"),
            ],
        )
        await ensure_indexes(self.reminders, [IndexModel("next_due_at")])
        await ensure_indexes(self.latest_scores, [IndexModel("student_id")])

    # ---------------------------------------------------------------- consent and reminders

    async def consent(self, *, student_id: str) -> Document | None:
        return await self.consents.find_one({"_id": student_id})

    async def save_consent(self, *, student_id: str, consent: Document) -> Document:
        saved = await self.consents.find_one_and_update(
            {"_id": student_id}, {"$set": consent}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert saved is not None
        return saved

    async def reminder(self, *, student_id: str) -> Document | None:
        return await self.reminders.find_one({"_id": student_id}, {OUTBOX_FIELD: 0})

    async def save_reminder(self, *, student_id: str, cadence_days: int | None, next_due_at: datetime | None) -> None:
        await self.reminders.update_one(
            {"_id": student_id}, {"$set": {"cadence_days": cadence_days, "next_due_at": next_due_at}}, upsert=True
        )

    async def postpone_reminder(self, *, student_id: str, now: datetime) -> None:
        reminder = await self.reminder(student_id=student_id)
        if reminder and reminder.get("cadence_days"):
            await self.reminders.update_one(
                {"_id": student_id},
                {"$set": {"next_due_at": now + timedelta(days=reminder["cadence_days"])}},
            )

    async def due_reminders(self, *, now: datetime, limit: int = 500) -> list[Document]:
        found = self.reminders.find({"next_due_at": {"$lte": now}}, {OUTBOX_FIELD: 0}).limit(limit)
        return await found.to_list(None)

    async def advance_reminder(self, *, reminder: Document, next_due_at: datetime, entries: list[Document]) -> bool:
        """Exactly once per due time: the update matches only the due time we read."""
        result = await self.reminders.update_one(
            {"_id": reminder["_id"], "next_due_at": reminder["next_due_at"]},
            {"$set": {"next_due_at": next_due_at}, "$push": {OUTBOX_FIELD: {"$each": entries}}},
        )
        return result.modified_count == 1

    # ---------------------------------------------------------------- check-ins

    async def insert_checkin(self, *, checkin: Document, entries: list[Document]) -> bool:
        await self.checkins.insert_one(with_outbox(checkin, *entries))
        return True

    async def latest_score(self, *, student_id: str, instrument: str) -> Document | None:
        """The newest stored score, read by ``_id``; falls back to the check-ins (written before the
        pointer existed, or by a process that stopped between the two writes)."""
        found = await self.latest_scores.find_one({"_id": f"{student_id}|{instrument}"})
        if found is not None:
            return found
        return await self.checkins.find_one(
            {"student_id": student_id, "instrument": instrument, "stored": True},
            {field: 1 for field in _SCORE_FIELDS},
            sort=[("recorded_at", DESCENDING)],
        )

    async def remember_latest_score(self, *, checkin: Document) -> None:
        """Point at this check-in's score unless a newer one is already there (a concurrent check-in)."""
        key = f"{checkin['student_id']}|{checkin['instrument']}"
        score = {field: checkin.get(field) for field in _SCORE_FIELDS} | {"student_id": checkin["student_id"]}
        try:
            await self.latest_scores.update_one(
                {"_id": key, "recorded_at": {"$lte": checkin["recorded_at"]}}, {"$set": score}, upsert=True
            )
        except DuplicateKeyError:
            pass  # a newer score holds the key

    async def checkin(self, *, checkin_id: str) -> Document | None:
        return await self.checkins.find_one({"_id": checkin_id, "stored": True}, {OUTBOX_FIELD: 0})

    async def page_checkins(
        self, *, student_id: str, limit: int | None, cursor: str | None, instrument: str | None = None
    ) -> tuple[list[Document], str | None]:
        query: Document = {"student_id": student_id, "stored": True}
        if instrument:
            query["instrument"] = instrument
        return await paginate(self.checkins, query, limit=limit, cursor=cursor, projection={OUTBOX_FIELD: 0})

    async def checkins_for_trend(self, *, student_id: str, instrument: str | None) -> list[Document]:
        query: Document = {"student_id": student_id, "stored": True}
        if instrument:
            query["instrument"] = instrument
        projection = {"instrument": 1, "score": 1, "percentage": 1, "band": 1, "severity": 1, "recorded_at": 1}
        return await self.checkins.find(query, projection).sort("recorded_at", ASCENDING).to_list(None)

    async def pending_flag_checkins(self, *, older_than: datetime) -> list[WorryingCheckin]:
        found = self.checkins.find({"flag_pending": True, "recorded_at": {"$lte": older_than}}, {OUTBOX_FIELD: 0})
        return [worrying_checkin(d) for d in await found.limit(200).to_list(None)]

    async def mark_flag_applied(self, *, checkin_id: str, flag_id: str) -> None:
        await self.checkins.update_one({"_id": checkin_id}, {"$set": {"flag_pending": False, "flag_id": flag_id}})

    async def purge_published_receipts(self, *, older_than: datetime) -> int:
        """Check-ins kept without consent exist only until their events and flag are out."""
        result = await self.checkins.delete_many(
            {
                "stored": False,
                "flag_pending": False,
                f"{OUTBOX_FIELD}.0": {"$exists": False},
                "recorded_at": {"$lte": older_than},
            }
        )
        return result.deleted_count

    async def cohort_checkins(self, *, cohort: str, since: datetime | None) -> list[Document]:
        query: Document = {"cohort": cohort, "stored": True}
        if since is not None:
            query["recorded_at"] = {"$gte": since}
        projection = {"student_id": 1, "instrument": 1, "band": 1, "score": 1, "recorded_at": 1}
        return await self.checkins.find(query, projection).to_list(None)

    # ---------------------------------------------------------------- flags

    async def open_flag(self, *, student_id: str) -> Flag | None:
        doc = await self.flags.find_one({"open_key": student_id}, {OUTBOX_FIELD: 0})
        return flag_from_document(doc) if doc else None

    async def insert_flag(self, *, flag: Flag, entries: list[Document]) -> bool:
        """False when the student has an open flag already (or this one exists)."""
        try:
            await self.flags.insert_one(with_outbox(flag_document(flag), *entries))
        except DuplicateKeyError:
            return False
        return True

    async def update_open_flag(self, *, before: Flag, after: Flag, checkin_id: str, entries: list[Document]) -> bool:
        """Optimistic concurrency on ``version``: False when someone else changed the flag first."""
        result = await self.flags.update_one(
            {"_id": before.id, "version": before.version, "status": "open"},
            {
                "$set": _flag_fields(after, _MERGED_FIELDS),
                "$inc": {"version": 1},
                "$push": {"checkin_ids": checkin_id, OUTBOX_FIELD: {"$each": entries}},
            },
        )
        return result.modified_count == 1

    async def resolve_flag(self, *, before: Flag, after: Flag, entries: list[Document]) -> bool:
        result = await self.flags.update_one(
            {"_id": before.id, "version": before.version, "status": "open"},
            {
                "$set": _flag_fields(after, _RESOLVED_FIELDS),
                "$unset": {"open_key": ""},
                "$inc": {"version": 1},
                "$push": {OUTBOX_FIELD: {"$each": entries}},
            },
        )
        return result.modified_count == 1

    async def flag(self, *, flag_id: str) -> Flag | None:
        doc = await self.flags.find_one({"_id": flag_id}, {OUTBOX_FIELD: 0})
        return flag_from_document(doc) if doc else None

    async def page_flags(self, *, status: str, limit: int | None, cursor: str | None) -> tuple[list[Flag], str | None]:
        """The counselling queue in its order (``queue_key``: urgent, priority, oldest), sorted and paged
        by the database, so no flag drops out of a long queue."""
        docs, next_cursor = await paginate(
            self.flags,
            {"status": status},
            limit=limit,
            cursor=cursor,
            sort_field="queue_key",
            descending=False,
            projection={OUTBOX_FIELD: 0},
        )
        return parse_documents(docs, Flag, collection=FLAGS, prepare=_with_id), next_cursor

    async def count_open_flags(self) -> dict[str, int]:
        return {
            severity: await self.flags.count_documents({"status": "open", "severity": severity})
            for severity in ("elevated", "urgent")
        }

    async def backfill_queue_keys(self) -> int:
        """Flags stored before ``queue_key`` existed get theirs (at start; idempotent)."""
        done = 0
        async for flag in self.flags.find(
            {"queue_key": {"$exists": False}}, {"severity": 1, "priority": 1, "raised_at": 1}
        ):
            key = queue_key(flag["severity"], flag.get("priority", 0), flag["raised_at"])
            result = await self.flags.update_one(
                {"_id": flag["_id"], "queue_key": {"$exists": False}}, {"$set": {"queue_key": key}}
            )
            done += result.modified_count
        return done

    # ---------------------------------------------------------------- audit and erasure

    async def record_audit(self, *, entry: Document) -> None:
        await self.audit.insert_one(entry)

    async def record_audits(self, *, entries: list[Document]) -> None:
        await self.audit.insert_many(entries)

    async def page_audit(
        self, *, student_id: str | None, student_ref: str | None, limit: int | None, cursor: str | None
    ) -> tuple[list[Document], str | None]:
        """The trail, or one student's: entries naming them and, after their erasure, their pseudonym."""
        query: Document = {"$or": [{"student_id": student_id}, {"student_ref": student_ref}]} if student_id else {}
        return await paginate(self.audit, query, limit=limit, cursor=cursor)

    async def erase_student(self, *, student_id: str, student_ref: str, fact: Document) -> dict[str, int]:
        """Delete what is held about the student but an open urgent flag (kept, marked, for its safety
        follow-up until a counsellor resolves it); staff reads stay in the trail under a pseudonym."""
        kept = {"student_id": student_id, "status": "open", "severity": "urgent"}
        await self.flags.update_many(kept, {"$set": {"erasure_pending": True}})
        counts = {
            "checkins": (await self.checkins.delete_many({"student_id": student_id})).deleted_count,
            "latest_scores": (await self.latest_scores.delete_many({"student_id": student_id})).deleted_count,
            "flags": (
                await self.flags.delete_many({"student_id": student_id, "erasure_pending": {"$ne": True}})
            ).deleted_count,
            "consents": (await self.consents.delete_many({"_id": student_id})).deleted_count,
            "reminders": (await self.reminders.delete_many({"_id": student_id})).deleted_count,
            "audit_pseudonymised": await self.pseudonymise_audit(student_id=student_id, student_ref=student_ref),
        }
        await self.audit.update_one({"_id": fact["_id"]}, {"$setOnInsert": fact}, upsert=True)
        return counts

    async def pseudonymise_audit(self, *, student_id: str, student_ref: str) -> int:
        result = await self.audit.update_many(
            {"student_id": student_id, "action": {"$ne": "erased"}},
            {"$set": {"student_ref": student_ref}, "$unset": {"student_id": ""}},
        )
        return result.modified_count

    async def pseudonymise_actor(self, *, actor_id: str, actor_ref: str) -> int:
        """A student who raised a concern about a peer is the actor of that audit entry: after their erasure
        the entry names their pseudonym (who referred whom stays answerable, by the pseudonym)."""
        result = await self.audit.update_many(
            {"actor_id": actor_id, "action": "referral.raised"}, {"$set": {"actor_id": actor_ref}}
        )
        return result.modified_count

    async def resolved_flags_pending_erasure(self) -> list[tuple[str, str]]:
        """(flag id, student id) of the flags kept past their student's erasure that a counsellor has resolved
        since, with their events out (ids only: a flag that no longer fits the model is erased all the same)."""
        query = {"erasure_pending": True, "status": "resolved"}
        docs = await self.flags.find(query, {"student_id": 1, OUTBOX_FIELD: 1}).to_list(None)
        return [(d["_id"], d["student_id"]) for d in docs if not d.get(OUTBOX_FIELD)]

    async def delete_flag(self, *, flag_id: str) -> bool:
        result = await self.flags.delete_one({"_id": flag_id, "status": "resolved"})
        return result.deleted_count == 1

    async def delete_audit_before(self, *, cutoff: datetime) -> int:
        return (await self.audit.delete_many({"at": {"$lt": cutoff}})).deleted_count

    async def students_past_retention(self, *, cutoff: datetime) -> list[str]:
        """Students whose latest stored check-in is older than ``cutoff``."""
        latest: dict[str, datetime] = {}
        async for doc in self.checkins.find({"stored": True}, {"student_id": 1, "recorded_at": 1}):
            when = doc["recorded_at"]
            if doc["student_id"] not in latest or when > latest[doc["student_id"]]:
                latest[doc["student_id"]] = when
        return sorted(s for s, when in latest.items() if when < cutoff)

    async def delete_checkins(self, *, student_id: str) -> int:
        await self.latest_scores.delete_many({"student_id": student_id})
        return (await self.checkins.delete_many({"student_id": student_id, "stored": True})).deleted_count
