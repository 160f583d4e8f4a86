"""The HTTP+DB floor: a bare FastAPI endpoint doing one insert into the same MongoDB server.

Served by the same uvicorn command line as the services (``uvicorn bench.floor_app:create_app --factory``),
it validates a body shaped like a check-in and inserts one document: what any service must pay at least."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from pymongo import AsyncMongoClient


class Body(BaseModel):
    instrument: str = Field(min_length=1, max_length=20)
    answers: list[int] = Field(min_length=1, max_length=20)


def create_app() -> FastAPI:
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            os.environ.get("MONGO_URL", "mongodb://127.0.0.1:27017"), tz_aware=True
        )
        state["collection"] = client[os.environ.get("MONGO_DB", "bench_floor")]["items"]
        await client.admin.command("ping")
        yield
        await client.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/floor", status_code=201)
    async def insert(body: Body) -> dict[str, str]:
        doc = {"_id": uuid.uuid4().hex, **body.model_dump(), "created_at": datetime.now(UTC)}
        await state["collection"].insert_one(doc)
        return {"id": doc["_id"]}

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    return app
