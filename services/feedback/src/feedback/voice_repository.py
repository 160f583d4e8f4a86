"""MongoDB access for student voice: suggestions and their votes (keyed tokens only, no voter ids).
An anonymous suggestion's document has no author field at all."""

from __future__ import annotations

from typing import Any

from pymongo import IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from feedback.domain.entities import Suggestion
from medsupport_shared.documents import parse_document, parse_documents
from medsupport_shared.mongo import ensure_indexes, paginate
from medsupport_shared.outbox import OUTBOX_FIELD, with_outbox

Document = dict[str, Any]
SUGGESTIONS = "suggestions"
VOTES = "suggestion_votes"


class AlreadyVoted(Exception):
    pass


def _suggestion(doc: Document | None) -> Suggestion | None:
    return None if doc is None else parse_document(doc, Suggestion, collection=SUGGESTIONS)


class VoiceRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.suggestions = db[SUGGESTIONS]
        self.votes = db[VOTES]

    async def ensure_indexes(self) -> None:
        await ensure_indexes(
            self.suggestions,
            [IndexModel([("programme", 1), ("created_at", -1)]), IndexModel("author_id")],
        )

    async def insert(self, *, document: Document) -> None:
        await self.suggestions.insert_one(with_outbox(document))

    async def get(self, *, suggestion_id: str) -> Suggestion | None:
        return _suggestion(await self.suggestions.find_one({"_id": suggestion_id}, {OUTBOX_FIELD: 0}))

    async def page(
        self, *, programme: str, statuses: list[str] | None, limit: int | None, cursor: str | None
    ) -> tuple[list[Suggestion], str | None]:
        query: Document = {"programme": programme}
        if statuses:
            query["status"] = {"$in": statuses}
        found, next_cursor = await paginate(
            self.suggestions, query, limit=limit, cursor=cursor, projection={OUTBOX_FIELD: 0}
        )
        return parse_documents(found, Suggestion, collection=SUGGESTIONS), next_cursor

    async def move(
        self, *, suggestion_id: str, expected_status: str, changes: Document, history: Document, entries: list[Document]
    ) -> Suggestion | None:
        return _suggestion(
            await self.suggestions.find_one_and_update(
                {"_id": suggestion_id, "status": expected_status},
                {"$set": changes, "$push": {"history": history, OUTBOX_FIELD: {"$each": entries}}},
                return_document=ReturnDocument.AFTER,
            )
        )

    async def vote(self, *, token: str, suggestion_id: str) -> Suggestion | None:
        """Claim the voter's token, then count the vote (a token without a count is a lost vote, never two)."""
        try:
            await self.votes.insert_one({"_id": token})
        except DuplicateKeyError as exc:
            raise AlreadyVoted from exc
        return _suggestion(
            await self.suggestions.find_one_and_update(
                {"_id": suggestion_id}, {"$inc": {"votes": 1}}, return_document=ReturnDocument.AFTER
            )
        )

    async def forget_author(self, *, author_id: str) -> int:
        """Erasure: a named suggestion stays for the programme, without its author."""
        result = await self.suggestions.update_many(
            {"author_id": author_id}, {"$unset": {"author_id": ""}, "$set": {"author_erased": True}}
        )
        return result.modified_count
