"""MongoDB access for workshops and their seats. A seat is a document with a unique ``_id``
(``<session>:seat:<n>``) and a unique (session, student) pair: taking one is an insert, atomic on FerretDB
as on MongoDB, so a session never holds more sign-ups than seats nor one student twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from medsupport_shared.mongo import ensure_indexes, paginate
from medsupport_shared.outbox import OUTBOX_FIELD
from wellbeing.domain.workshops import Seat, Session, Workshop

Document = dict[str, Any]
WORKSHOPS, SEATS = "workshops", "workshop_seats"


def from_document(doc: Document) -> Workshop:
    sessions = tuple(
        Session(id=s["id"], starts_at=s["starts_at"], ends_at=s["ends_at"], seats=s["seats"], location=s["location"])
        for s in doc.get("sessions", [])
    )
    return Workshop(id=doc["_id"], title=doc["title"], description=doc.get("description", ""), sessions=sessions)


def seat_document(seat: Seat) -> Document:
    return {
        "_id": seat.id,
        "workshop_id": seat.workshop_id,
        "session_id": seat.session_id,
        "student_id": seat.student_id,
        "starts_at": seat.starts_at,
        "remind_at": seat.remind_at,
        "reminded": seat.reminded,
        "signed_up_at": seat.signed_up_at,
    }


def seat_from_document(doc: Document) -> Seat:
    return Seat(
        id=doc["_id"],
        workshop_id=doc["workshop_id"],
        session_id=doc["session_id"],
        student_id=doc["student_id"],
        starts_at=doc["starts_at"],
        remind_at=doc["remind_at"],
        signed_up_at=doc["signed_up_at"],
        reminded=bool(doc.get("reminded")),
    )


class WorkshopRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.workshops, self.seats = db[WORKSHOPS], db[SEATS]

    async def ensure_indexes(self) -> None:
        await ensure_indexes(self.workshops, [IndexModel("created_at")])
        await ensure_indexes(
            self.seats,
            [
                IndexModel([("session_id", ASCENDING), ("student_id", ASCENDING)], unique=True),
                IndexModel([("reminded", ASCENDING), ("remind_at", ASCENDING)]),
                IndexModel("student_id"),
            ],
        )

    async def insert(self, *, workshop: Workshop, created_at: datetime) -> None:
        sessions = [
            {"id": s.id, "starts_at": s.starts_at, "ends_at": s.ends_at, "seats": s.seats, "location": s.location}
            for s in workshop.sessions
        ]
        doc = {"_id": workshop.id, "title": workshop.title, "description": workshop.description}
        await self.workshops.insert_one({**doc, "sessions": sessions, "created_at": created_at})

    async def get(self, *, workshop_id: str) -> Workshop | None:
        doc = await self.workshops.find_one({"_id": workshop_id})
        return from_document(doc) if doc else None

    async def page(self, *, limit: int | None, cursor: str | None) -> tuple[list[Workshop], str | None]:
        docs, next_cursor = await paginate(self.workshops, {}, limit=limit, cursor=cursor)
        return [from_document(d) for d in docs], next_cursor

    async def seats_taken(self, *, session_ids: list[str]) -> dict[str, int]:
        taken: dict[str, int] = dict.fromkeys(session_ids, 0)
        async for seat in self.seats.find({"session_id": {"$in": session_ids}}, {"session_id": 1}):
            taken[seat["session_id"]] += 1
        return taken

    async def seat_of(self, *, session_id: str, student_id: str) -> Seat | None:
        doc = await self.seats.find_one({"session_id": session_id, "student_id": student_id}, {OUTBOX_FIELD: 0})
        return seat_from_document(doc) if doc else None

    async def take_seat(self, *, seat: Seat) -> bool:
        """False when the seat (or this student's seat in the session) is already taken."""
        try:
            await self.seats.insert_one(seat_document(seat))
        except DuplicateKeyError:
            return False
        return True

    async def release_seat(self, *, session_id: str, student_id: str) -> bool:
        result = await self.seats.delete_one({"session_id": session_id, "student_id": student_id})
        return result.deleted_count == 1

    async def seats_to_remind(self, *, now: datetime, limit: int = 500) -> list[Seat]:
        query = {"reminded": False, "remind_at": {"$lte": now}, "starts_at": {"$gt": now}}
        return [seat_from_document(d) async for d in self.seats.find(query, {OUTBOX_FIELD: 0}).limit(limit)]

    async def mark_reminded(self, *, seat_id: str, entries: list[Document]) -> bool:
        """Exactly once per seat: only the sweep that finds it unreminded writes the reminder."""
        result = await self.seats.update_one(
            {"_id": seat_id, "reminded": False},
            {"$set": {"reminded": True}, "$push": {OUTBOX_FIELD: {"$each": entries}}},
        )
        return result.modified_count == 1

    async def erase_student(self, *, student_id: str) -> int:
        return (await self.seats.delete_many({"student_id": student_id})).deleted_count
