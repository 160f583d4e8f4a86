"""MongoDB access for referrals: typed ``Referral`` in and out, the sealed note and description beside it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from medsupport_shared.mongo import ensure_indexes, paginate
from medsupport_shared.outbox import OUTBOX_FIELD, with_outbox
from wellbeing.domain.referrals import Referral

Document = dict[str, Any]
REFERRALS = "referrals"
_ENTITY_FIELDS = (
    "kind",
    "student_id",
    "category",
    "urgency",
    "status",
    "created_at",
    "deadline_at",
    "version",
    "cohort",
    "referrer_id",
    "first_contact_at",
    "appointment_at",
    "closed_at",
    "outcome",
    "escalated_at",
    "contact",
)


def to_document(referral: Referral) -> Document:
    doc: Document = {"_id": referral.id, **{name: getattr(referral, name) for name in _ENTITY_FIELDS}}
    doc["offered_times"] = list(referral.offered_times)
    doc["open"] = referral.open
    return doc


def from_document(doc: Document) -> Referral:
    return Referral(
        id=doc["_id"],
        kind=doc["kind"],
        student_id=doc["student_id"],
        category=doc["category"],
        urgency=doc["urgency"],
        status=doc["status"],
        created_at=doc["created_at"],
        deadline_at=doc["deadline_at"],
        version=doc["version"],
        cohort=doc.get("cohort"),
        referrer_id=doc.get("referrer_id"),
        first_contact_at=doc.get("first_contact_at"),
        offered_times=tuple(doc.get("offered_times", ())),
        appointment_at=doc.get("appointment_at"),
        closed_at=doc.get("closed_at"),
        outcome=doc.get("outcome"),
        escalated_at=doc.get("escalated_at"),
        contact=doc.get("contact") or {},
    )


class ReferralRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.referrals = db[REFERRALS]

    async def ensure_indexes(self) -> None:
        await ensure_indexes(
            self.referrals,
            [
                IndexModel([("open", ASCENDING), ("deadline_at", ASCENDING), ("_id", ASCENDING)]),  # queue and sweep
                IndexModel([("student_id", ASCENDING), ("created_at", ASCENDING)]),
                IndexModel([("referrer_id", ASCENDING), ("created_at", ASCENDING)], sparse=True),
                IndexModel("created_at"),
            ],
        )

    async def insert(self, *, referral: Referral, sealed: Document, entries: list[Document]) -> bool:
        """``sealed``: the encrypted note or description, stored beside the entity."""
        await self.referrals.insert_one(with_outbox({**to_document(referral), **sealed}, *entries))
        return True

    async def get(self, *, referral_id: str) -> tuple[Referral, Document] | None:
        doc = await self.referrals.find_one({"_id": referral_id}, {OUTBOX_FIELD: 0})
        return (from_document(doc), doc) if doc else None

    async def save_step(
        self, *, before: Referral, after: Referral, staff_note: str | None, entries: list[Document]
    ) -> bool:
        """Optimistic concurrency on ``version``: False when someone else triaged it first."""
        changes = to_document(after)
        changes.pop("_id")
        update: Document = {"$set": changes, "$push": {OUTBOX_FIELD: {"$each": entries}}}
        if staff_note is not None:
            update["$push"]["staff_notes"] = staff_note
        result = await self.referrals.update_one({"_id": before.id, "version": before.version}, update)
        return result.modified_count == 1

    async def page_queue(
        self, *, open_only: bool, limit: int | None, cursor: str | None
    ) -> tuple[list[tuple[Referral, Document]], str | None]:
        """Open referrals by deadline (the most pressing first), or every referral."""
        docs, next_cursor = await paginate(
            self.referrals,
            {"open": True} if open_only else {},
            limit=limit,
            cursor=cursor,
            sort_field="deadline_at",
            descending=False,
            projection={OUTBOX_FIELD: 0},
        )
        return [(from_document(d), d) for d in docs], next_cursor

    async def of_student(self, *, student_id: str) -> list[Referral]:
        found = self.referrals.find({"student_id": student_id}, {OUTBOX_FIELD: 0}).sort("created_at", ASCENDING)
        return [from_document(d) async for d in found]

    async def raised_by(
        self, *, referrer_id: str, limit: int | None, cursor: str | None
    ) -> tuple[list[Referral], str | None]:
        docs, next_cursor = await paginate(
            self.referrals, {"referrer_id": referrer_id}, limit=limit, cursor=cursor, projection={OUTBOX_FIELD: 0}
        )
        return [from_document(d) for d in docs], next_cursor

    async def untriaged_past_deadline(self, *, now: datetime, limit: int = 200) -> list[Referral]:
        query = {"open": True, "first_contact_at": None, "escalated_at": None, "deadline_at": {"$lte": now}}
        found = self.referrals.find(query, {OUTBOX_FIELD: 0}).sort("deadline_at", ASCENDING).limit(limit)
        return [from_document(d) async for d in found]

    async def mark_escalated(self, *, referral: Referral, at: datetime, entries: list[Document]) -> bool:
        """Exactly once per referral: only the sweep that finds it unescalated and untriaged writes."""
        result = await self.referrals.update_one(
            {"_id": referral.id, "escalated_at": None, "first_contact_at": None},
            {"$set": {"escalated_at": at}, "$push": {OUTBOX_FIELD: {"$each": entries}}},
        )
        return result.modified_count == 1

    async def created_between(self, *, start: datetime, end: datetime) -> list[Referral]:
        found = self.referrals.find({"created_at": {"$gte": start, "$lt": end}}, {OUTBOX_FIELD: 0})
        return [from_document(d) async for d in found]

    async def erase_student(self, *, student_id: str, referrer_ref: str) -> dict[str, int]:
        """Referrals about the student go; concerns the student raised about others stay (the other student's
        follow-up) with the referrer replaced by a keyed pseudonym."""
        relabelled = await self.referrals.update_many(
            {"referrer_id": student_id}, {"$set": {"referrer_id": referrer_ref}}
        )
        deleted = await self.referrals.delete_many({"student_id": student_id})
        return {"referrals": deleted.deleted_count, "referrals_pseudonymised": relabelled.modified_count}
