"""MongoDB access for the resource catalogue and workshops (sessions, and seats held by unique slot ids)."""

from __future__ import annotations

from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from medsupport_shared.mongo import ensure_indexes, paginate
from wellbeing.domain.resources import Resource

Document = dict[str, Any]
RESOURCES = "resources"


def to_document(resource: Resource) -> Document:
    return {
        "_id": resource.id,
        "name": resource.name,
        "kind": resource.kind,
        "needs": list(resource.needs),
        "audiences": list(resource.audiences),
        "description": resource.description,
        "phone": resource.phone,
        "url": resource.url,
        "hours": resource.hours,
    }


def from_document(doc: Document) -> Resource:
    return Resource(
        id=doc["_id"],
        name=doc["name"],
        kind=doc["kind"],
        needs=tuple(doc.get("needs", ())),
        audiences=tuple(doc.get("audiences", ())),
        description=doc.get("description", ""),
        phone=doc.get("phone"),
        url=doc.get("url"),
        hours=doc.get("hours"),
    )


class ResourceRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.resources = db[RESOURCES]

    async def ensure_indexes(self) -> None:
        await ensure_indexes(self.resources, [IndexModel("needs"), IndexModel("name")])

    async def save(self, *, resource: Resource) -> None:
        await self.resources.replace_one({"_id": resource.id}, to_document(resource), upsert=True)

    async def get(self, *, resource_id: str) -> Resource | None:
        doc = await self.resources.find_one({"_id": resource_id})
        return from_document(doc) if doc else None

    async def delete(self, *, resource_id: str) -> bool:
        return (await self.resources.delete_one({"_id": resource_id})).deleted_count == 1

    async def page(
        self, *, need: str | None, kind: str | None, limit: int | None, cursor: str | None
    ) -> tuple[list[Resource], str | None]:
        query: Document = {}
        if need:
            query["needs"] = need
        if kind:
            query["kind"] = kind
        docs, next_cursor = await paginate(
            self.resources, query, limit=limit, cursor=cursor, sort_field="name", descending=False
        )
        return [from_document(d) for d in docs], next_cursor

    async def matching_needs(self, *, needs: set[str], limit: int = 50) -> list[Resource]:
        found = self.resources.find({"needs": {"$in": sorted(needs)}}).sort("name", 1).limit(limit)
        return [from_document(d) async for d in found]
