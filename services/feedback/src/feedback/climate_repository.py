"""MongoDB access for the climate pulse: instruments, rotations, answer tokens and anonymous answers.

Answers and tokens never meet. A token (a keyed hash) is a document of its own with nothing but its
``_id``; a rotation's answers live in one document, in a list where each new answer is put at a
random place (a compare-and-set on ``rev``: FerretDB ignores ``$push``'s ``$position``), with a random
id and the day only. So neither time, ObjectId, insertion order nor position links an answer to a
token or to the moment a student answered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from feedback.concern_repository import CONCERNS
from medsupport_shared.mongo import ensure_indexes
from medsupport_shared.outbox import OUTBOX_FIELD

Document = dict[str, Any]
INSTRUMENTS = "climate_instruments"
ROTATIONS = "rotations"
TOKENS = "climate_tokens"
ANSWERS = "climate_answers"
CLIMATE_ALERTS = "climate_alerts"
CLIMATE_OUTBOX_COLLECTIONS = (ROTATIONS, CLIMATE_ALERTS)


class AlreadyAnswered(Exception):
    pass


class ClimateRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.instruments = db[INSTRUMENTS]
        self.rotations = db[ROTATIONS]
        self.tokens = db[TOKENS]
        self.answers = db[ANSWERS]
        self.alerts = db[CLIMATE_ALERTS]
        self.concerns = db[CONCERNS]

    async def ensure_indexes(self) -> None:
        await ensure_indexes(
            self.rotations,
            [IndexModel([("ended_at", 1), ("closes_at", 1)]), IndexModel("student_ids"), IndexModel("site")],
        )

    # ------------------------------------------------------------ instruments

    async def save_instrument(self, *, code: str, data: Document) -> None:
        await self.instruments.replace_one({"_id": code}, {"_id": code, "data": data}, upsert=True)

    async def instrument(self, *, code: str) -> Document | None:
        found = await self.instruments.find_one({"_id": code})
        return None if found is None else dict(found["data"])

    async def instruments_loaded(self) -> list[Document]:
        return [doc["data"] async for doc in self.instruments.find({}).sort("_id", 1)]

    async def instrument_in_use(self, *, code: str) -> bool:
        return await self.rotations.count_documents({"instrument_code": code, "answered": True}, limit=1) > 0

    # ------------------------------------------------------------ rotations

    async def rotation(self, *, rotation_id: str) -> Document | None:
        return await self.rotations.find_one({"_id": rotation_id}, {OUTBOX_FIELD: 0})

    async def save_rotation(self, *, rotation_id: str, fields: Document) -> Document:
        """Upsert the institution's facts; invitations and answers already recorded are kept."""
        found = await self.rotations.find_one_and_update(
            {"_id": rotation_id},
            {"$set": fields, "$inc": {"rev": 1}, "$setOnInsert": {"invited_ids": [], "answered": False}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )  # no projection: FerretDB's findAndModify does not take one
        saved = dict(found or {})
        saved.pop(OUTBOX_FIELD, None)
        return saved

    async def due_for_invitations(self, *, now: datetime, limit: int = 100) -> list[Document]:
        """Rotations whose pulse is open; the caller invites whoever on the roster is not invited yet."""
        cursor = self.rotations.find({"ended_at": {"$lte": now}, "closes_at": {"$gt": now}}, {OUTBOX_FIELD: 0})
        return [doc async for doc in cursor.limit(limit)]

    async def record_invitations(
        self, *, rotation_id: str, rev: int, student_ids: list[str], entries: list[Document]
    ) -> bool:
        """Mark students invited with their events in the same write, unless the rotation changed since read."""
        result = await self.rotations.update_one(
            {"_id": rotation_id, "rev": rev},
            {
                "$push": {"invited_ids": {"$each": student_ids}, OUTBOX_FIELD: {"$each": entries}},
                "$inc": {"rev": 1},
            },
        )
        return result.modified_count == 1

    async def open_rotations_of(self, *, student_id: str, now: datetime) -> list[Document]:
        cursor = self.rotations.find(
            {"student_ids": student_id, "ended_at": {"$lte": now}, "closes_at": {"$gt": now}},
            {OUTBOX_FIELD: 0, "student_ids": 0, "invited_ids": 0},
        )
        return [doc async for doc in cursor.sort("closes_at", 1).limit(200)]

    async def released_rotations(self, *, now: datetime) -> list[Document]:
        cursor = self.rotations.find(
            {"grades_final": True, "closes_at": {"$lte": now}, "answered": True},
            {OUTBOX_FIELD: 0, "student_ids": 0, "invited_ids": 0},
        )
        return [doc async for doc in cursor]

    async def forget_student(self, *, student_id: str) -> int:
        """Erasure: the student leaves every roster and invitation list (answers never named them)."""
        result = await self.rotations.update_many(
            {"$or": [{"student_ids": student_id}, {"invited_ids": student_id}]},
            {"$pull": {"student_ids": student_id, "invited_ids": student_id}, "$inc": {"rev": 1}},
        )
        return result.modified_count

    async def concern_facts(self, *, sites: list[str], categories: list[str]) -> list[Document]:
        """Site, category and report time of concerns about these sites (no text, no reporter)."""
        cursor = self.concerns.find(
            {"site": {"$in": sites}, "category": {"$in": categories}},
            {"_id": 0, "site": 1, "category": 1, "created_at": 1},
        )
        return [doc async for doc in cursor]

    async def concern_facts_since(self, *, since: datetime, categories: list[str]) -> list[Document]:
        cursor = self.concerns.find(
            {"site": {"$type": "string"}, "category": {"$in": categories}, "created_at": {"$gte": since}},
            {"_id": 0, "site": 1, "category": 1, "created_at": 1},
        )
        return [doc async for doc in cursor]

    async def directors_by_site(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        async for doc in self.rotations.find({"director_id": {"$type": "string"}}, {"site": 1, "director_id": 1}):
            found.setdefault(doc["site"], set()).add(doc["director_id"])
        return found

    async def record_alert(self, *, alert_id: str, document: Document, entries: list[Document]) -> bool:
        """Once per alert id (site, period, reason), with its event in the same write."""
        try:
            await self.alerts.insert_one({"_id": alert_id, **document, OUTBOX_FIELD: entries})
        except DuplicateKeyError:
            return False
        return True

    # ------------------------------------------------------------ answers

    async def claim_token(self, *, token: str) -> None:
        try:
            await self.tokens.insert_one({"_id": token})
        except DuplicateKeyError as exc:
            raise AlreadyAnswered from exc

    async def token_exists(self, *, token: str) -> bool:
        return await self.tokens.count_documents({"_id": token}, limit=1) > 0

    async def release_token(self, *, token: str) -> None:
        await self.tokens.delete_one({"_id": token})

    async def answers_of(self, *, rotation_id: str) -> tuple[list[Document], int]:
        found = await self.answers.find_one({"_id": rotation_id})
        if found is None:
            return [], 0
        return list(found["responses"]), int(found["rev"])

    async def replace_answers(self, *, rotation_id: str, responses: list[Document], rev: int) -> bool:
        """Compare-and-set of the whole list (``rev`` 0: the first answer creates the document)."""
        if rev == 0:
            try:
                await self.answers.insert_one({"_id": rotation_id, "responses": responses, "rev": 1})
            except DuplicateKeyError:
                return False
        else:
            result = await self.answers.update_one(
                {"_id": rotation_id, "rev": rev}, {"$set": {"responses": responses, "rev": rev + 1}}
            )
            if result.modified_count != 1:
                return False
        await self.rotations.update_one({"_id": rotation_id}, {"$set": {"answered": True}})
        return True

    async def answers_by_rotation(self, *, rotation_ids: list[str]) -> dict[str, list[Document]]:
        cursor = self.answers.find({"_id": {"$in": rotation_ids}})
        return {doc["_id"]: list(doc["responses"]) async for doc in cursor}
