"""MongoDB access with PyMongo's native async client, indexes at start, and cursor pagination."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from medsupport_shared.errors import BadRequest

Document = dict[str, Any]
T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def create_client(url: str, *, timeout_ms: int = 3000) -> AsyncMongoClient[Document]:
    """One client per event loop; create it inside the lifespan, never at import time."""
    return AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        appname="medsupport",
    )


async def ensure_indexes(collection: AsyncCollection[Document], indexes: Sequence[IndexModel]) -> None:
    """Create indexes; options the server does not implement (e.g. TTL on FerretDB) are skipped."""
    for index in indexes:
        try:
            await collection.create_indexes([index])
        except OperationFailure as exc:
            if exc.code != 238:  # NotImplemented: FerretDB lacks some index options
                raise
            document = dict(index.document)
            document.pop("expireAfterSeconds", None)
            keys = list(document.pop("key").items())
            await collection.create_index(keys, **document)


async def ping(db: AsyncDatabase[Document]) -> bool:
    try:
        await db.command("ping")
    except (ConnectionFailure, PyMongoError):
        return False
    return True


def is_transient(exc: BaseException) -> bool:
    """True for failures that go away when the database comes back (retry, don't dead-letter)."""
    return isinstance(exc, ConnectionFailure)


# ------------------------------------------------------------------ pagination


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(limit, MAX_LIMIT))


def encode_cursor(sort_value: Any, doc_id: Any) -> str:
    value = sort_value.isoformat() if isinstance(sort_value, datetime) else sort_value
    kind = "dt" if isinstance(sort_value, datetime) else "raw"
    raw = json.dumps([kind, value, doc_id], default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, Any]:
    """The (sort value, id) a cursor names. Only a string, a whole number or a time (or no sort value) is
    accepted: anything else (an object, a list) would become a query operator such as ``$regex``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, doc_id = json.loads(raw)
        if kind == "dt":
            if not isinstance(value, str):
                raise TypeError("a time cursor holds an ISO string")
            value = datetime.fromisoformat(value)
        elif kind != "raw" or not _plain(value, allow_none=True):
            raise TypeError("unexpected cursor value")
        if not _plain(doc_id, allow_none=False):
            raise TypeError("unexpected cursor id")
        return value, doc_id
    except (ValueError, TypeError) as exc:
        raise BadRequest("the cursor is not valid") from exc


def _plain(value: Any, *, allow_none: bool) -> bool:
    if value is None:
        return allow_none
    return isinstance(value, str | int) and not isinstance(value, bool)


def paginate_sequence(
    items: Sequence[T], *, key: Callable[[T], str], limit: int | None, cursor: str | None
) -> tuple[list[T], str | None]:
    """Cursor pagination, like ``paginate``, over a small in-memory catalogue ordered by ``key``."""
    size = clamp_limit(limit)
    ordered = sorted(items, key=key)
    if cursor:
        _, after = decode_cursor(cursor)
        ordered = [item for item in ordered if key(item) > str(after)]
    page = ordered[:size]
    return page, encode_cursor(None, key(page[-1])) if len(ordered) > size else None


async def paginate(
    collection: AsyncCollection[Document],
    query: Document,
    *,
    limit: int | None,
    cursor: str | None,
    sort_field: str = "created_at",
    descending: bool = True,
    projection: Document | None = None,
) -> tuple[list[Document], str | None]:
    """Keyset pagination on (sort_field, _id); returns the page and the next cursor (or None)."""
    size = clamp_limit(limit)
    direction = -1 if descending else 1
    if cursor:
        value, doc_id = decode_cursor(cursor)
        op = "$lt" if descending else "$gt"
        after = {"$or": [{sort_field: {op: value}}, {sort_field: value, "_id": {op: doc_id}}]}
        query = {"$and": [query, after]} if query else after
    found = collection.find(query, projection).sort([(sort_field, direction), ("_id", direction)]).limit(size + 1)
    items = await found.to_list(None)
    if len(items) <= size:
        return items, None
    last = items[size - 1]
    return items[:size], encode_cursor(last.get(sort_field), last["_id"])
