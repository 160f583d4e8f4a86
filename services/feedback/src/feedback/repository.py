"""MongoDB access for feedback, feedback requests, reflections and known mentorships."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pymongo import IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from feedback.domain.entities import FeedbackItem, FeedbackRequest, Reflection
from medsupport_shared.documents import parse_document, parse_documents
from medsupport_shared.mongo import ensure_indexes, paginate
from medsupport_shared.outbox import push_outbox, with_outbox

Document = dict[str, Any]
FEEDBACK = "feedback"
REQUESTS = "feedback_requests"
REFLECTIONS = "reflections"
MENTORSHIPS = "mentorships"
OUTBOX_COLLECTIONS = (FEEDBACK, REQUESTS)


def _item(doc: Document | None) -> FeedbackItem | None:
    return None if doc is None else parse_document(doc, FeedbackItem, collection=FEEDBACK)


def _request(doc: Document | None) -> FeedbackRequest | None:
    return None if doc is None else parse_document(doc, FeedbackRequest, collection=REQUESTS)


def _reflection(doc: Document | None) -> Reflection | None:
    return None if doc is None else parse_document(doc, Reflection, collection=REFLECTIONS)


def _only(**fields: str | None) -> Document:
    """An equality filter on the fields given (None: not filtered)."""
    return {name: value for name, value in fields.items() if value is not None}


class FeedbackRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.feedback = db[FEEDBACK]
        self.requests = db[REQUESTS]
        self.reflections = db[REFLECTIONS]
        self.mentorships = db[MENTORSHIPS]

    async def ensure_indexes(self) -> None:
        await ensure_indexes(
            self.feedback,
            [IndexModel([("student_id", 1), ("created_at", -1)]), IndexModel([("author_id", 1), ("created_at", -1)])],
        )
        await ensure_indexes(self.feedback, [IndexModel("request_id"), IndexModel("context_key")])
        await ensure_indexes(
            self.requests,
            [
                IndexModel([("student_id", 1), ("created_at", -1)]),
                IndexModel([("assessor_id", 1), ("created_at", -1)]),
                IndexModel([("status", 1), ("overdue_emitted", 1), ("due_at", 1)]),
            ],
        )
        await ensure_indexes(
            self.reflections, [IndexModel([("student_id", 1), ("created_at", -1)]), IndexModel("share_keys")]
        )
        await ensure_indexes(self.mentorships, [IndexModel([("mentee_id", 1), ("mentor_id", 1)])])

    # ------------------------------------------------------------ feedback

    async def insert_feedback(self, *, document: Document, entries: list[Document]) -> bool:
        await self.feedback.insert_one(with_outbox(document, *entries))
        return True

    async def get_feedback(self, *, feedback_id: str) -> FeedbackItem | None:
        return _item(await self.feedback.find_one({"_id": feedback_id}, {"outbox": 0}))

    async def feedback_for_request(self, *, request_id: str) -> FeedbackItem | None:
        return _item(await self.feedback.find_one({"request_id": request_id}, {"outbox": 0}))

    async def list_feedback(
        self,
        *,
        student_id: str | None = None,
        author_id: str | None = None,
        context_kind: str | None = None,
        limit: int | None,
        cursor: str | None,
    ) -> tuple[list[FeedbackItem], str | None]:
        """Newest first: the feedback about ``student_id`` or written by ``author_id``, optionally of one kind."""
        query = _only(student_id=student_id, author_id=author_id, context_kind=context_kind)
        found, next_cursor = await paginate(self.feedback, query, limit=limit, cursor=cursor, projection={"outbox": 0})
        return parse_documents(found, FeedbackItem, collection=FEEDBACK), next_cursor

    async def set_response(self, *, feedback_id: str, student_id: str, changes: Document) -> FeedbackItem | None:
        return _item(
            await self.feedback.find_one_and_update(
                {"_id": feedback_id, "student_id": student_id},
                {"$set": changes},
                return_document=ReturnDocument.AFTER,
            )
        )

    # ------------------------------------------------------------ requests

    async def insert_request(self, *, document: Document, entries: list[Document]) -> bool:
        await self.requests.insert_one(with_outbox(document, *entries))
        return True

    async def get_request(self, *, request_id: str) -> FeedbackRequest | None:
        return _request(await self.requests.find_one({"_id": request_id}, {"outbox": 0}))

    async def list_requests(
        self,
        *,
        student_id: str | None = None,
        assessor_id: str | None = None,
        status: str | None = None,
        limit: int | None,
        cursor: str | None,
    ) -> tuple[list[FeedbackRequest], str | None]:
        """Newest first: the requests ``student_id`` made or addressed to ``assessor_id``, optionally in one status."""
        query = _only(student_id=student_id, assessor_id=assessor_id, status=status)
        found, next_cursor = await paginate(self.requests, query, limit=limit, cursor=cursor, projection={"outbox": 0})
        return parse_documents(found, FeedbackRequest, collection=REQUESTS), next_cursor

    async def close_request(self, *, request_id: str, changes: Document) -> bool:
        """Open -> fulfilled/cancelled; False when the request was no longer open."""
        result = await self.requests.update_one({"_id": request_id, "status": "open"}, {"$set": changes})
        return result.modified_count == 1

    async def due_requests(self, *, now: datetime, batch: int = 200) -> list[FeedbackRequest]:
        found = self.requests.find(
            {"status": "open", "overdue_emitted": False, "due_at": {"$lte": now}}, {"outbox": 0}
        ).limit(batch)
        return parse_documents(await found.to_list(None), FeedbackRequest, collection=REQUESTS)

    async def mark_overdue(self, *, request_id: str, overdue_at: datetime, entries: list[Document]) -> bool:
        """The one conditional single-document write that makes ``feedback.overdue`` exactly-once:
        the flag and the event enter the document together, or neither does."""
        result = await self.requests.update_one(
            {"_id": request_id, "status": "open", "overdue_emitted": False},
            push_outbox({"$set": {"overdue_emitted": True, "overdue_at": overdue_at}}, *entries),
        )
        return result.modified_count == 1

    async def count_open_overdue(self, *, now: datetime) -> int:
        return await self.requests.count_documents({"status": "open", "due_at": {"$lte": now}})

    # ------------------------------------------------------------ reflections

    async def insert_reflection(self, *, document: Document) -> None:
        await self.reflections.insert_one(document)

    async def get_reflection(self, *, reflection_id: str) -> Reflection | None:
        return _reflection(await self.reflections.find_one({"_id": reflection_id}))

    async def reflections_of(
        self, *, student_id: str, limit: int | None, cursor: str | None
    ) -> tuple[list[Reflection], str | None]:
        found, next_cursor = await paginate(self.reflections, {"student_id": student_id}, limit=limit, cursor=cursor)
        return parse_documents(found, Reflection, collection=REFLECTIONS), next_cursor

    async def reflections_shared_with(
        self, *, share_keys: list[str], limit: int | None, cursor: str | None
    ) -> tuple[list[Reflection], str | None]:
        """Reflections shared under any of these ``relationship:user`` keys."""
        query = {"share_keys": {"$in": share_keys}}
        found, next_cursor = await paginate(self.reflections, query, limit=limit, cursor=cursor)
        return parse_documents(found, Reflection, collection=REFLECTIONS), next_cursor

    async def update_reflection(self, *, reflection_id: str, student_id: str, changes: Document) -> Reflection | None:
        """Set ``changes`` on the student's own reflection; None when it is not theirs (or gone)."""
        return _reflection(
            await self.reflections.find_one_and_update(
                {"_id": reflection_id, "student_id": student_id},
                {"$set": changes},
                return_document=ReturnDocument.AFTER,
            )
        )

    async def count_own_feedback(self, *, student_id: str, feedback_ids: list[str]) -> int:
        return await self.feedback.count_documents({"_id": {"$in": feedback_ids}, "student_id": student_id})

    # ------------------------------------------------------------ mentorships (from mentorship events)

    async def record_mentorship(self, *, assignment_id: str, mentor_id: str, mentee_id: str, at: datetime) -> None:
        await self.mentorships.update_one(
            {"_id": assignment_id},
            {
                "$setOnInsert": {"mentor_id": mentor_id, "mentee_id": mentee_id, "assigned_at": at},
                "$set": {"active": True},
            },
            upsert=True,
        )

    async def end_mentorship(self, *, assignment_id: str, mentor_id: str, mentee_id: str) -> None:
        await self.mentorships.update_one(
            {"_id": assignment_id},
            {"$set": {"active": False, "mentor_id": mentor_id, "mentee_id": mentee_id}},
            upsert=True,
        )
        if not await self.is_current_mentor(mentee_id=mentee_id, mentor_id=mentor_id):
            key = f"mentor:{mentor_id}"
            async for reflection in self.reflections.find({"student_id": mentee_id, "share_keys": key}):
                shares = [
                    s
                    for s in reflection.get("shares", [])
                    if (s["user_id"], s["relationship"]) != (mentor_id, "mentor")
                ]
                keys = [k for k in reflection.get("share_keys", []) if k != key]
                await self.reflections.update_one(
                    {"_id": reflection["_id"]}, {"$set": {"shares": shares, "share_keys": keys}}
                )

    async def is_current_mentor(self, *, mentee_id: str, mentor_id: str) -> bool:
        found = await self.mentorships.find_one({"mentee_id": mentee_id, "mentor_id": mentor_id, "active": True})
        return found is not None

    # ------------------------------------------------------------ cohort view and erasure

    def feedback_facts(self, *, context_kind: str | None) -> AsyncIterator[Document]:
        """Who gave and received feedback in which context (no text), of every context or one kind."""
        return self.feedback.find(
            _only(context_kind=context_kind), {"context_key": 1, "student_id": 1, "author_id": 1, "author_kind": 1}
        )

    def request_facts(self, *, context_kind: str | None) -> AsyncIterator[Document]:
        return self.requests.find(
            _only(context_kind=context_kind),
            {"context_key": 1, "student_id": 1, "status": 1, "overdue_emitted": 1, "turnaround_seconds": 1},
        )

    async def erase_student(self, *, student_id: str) -> dict[str, int]:
        feedback = await self.feedback.delete_many({"student_id": student_id})
        authored = await self.feedback.update_many(
            {"author_id": student_id, "author_kind": "peer"}, {"$set": {"author_id": "erased"}}
        )
        requests = await self.requests.delete_many({"student_id": student_id})
        reflections = await self.reflections.delete_many({"student_id": student_id})
        await self.mentorships.delete_many({"mentee_id": student_id})
        return {
            "feedback": feedback.deleted_count,
            "authored": authored.modified_count,
            "requests": requests.deleted_count,
            "reflections": reflections.deleted_count,
        }
