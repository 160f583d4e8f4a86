"""Helpers for the services' tests: tokens, deadline polling, reading topics, running apps.

Integration tests use the real Kafka broker and MongoDB-protocol server (see ``pytest_plugin``)."""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import jwt
import uvicorn
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI

from medsupport_shared.events import CloudEvent
from medsupport_shared.kafka_security import PLAINTEXT, KafkaSecurity
from medsupport_shared.settings import DEVELOPMENT_JWT_SECRET

T = TypeVar("T")


def token_for(
    sub: str, *roles: str, secret: str = DEVELOPMENT_JWT_SECRET, expires_in: int = 3600, **claims: Any
) -> str:
    now = int(time.time())
    payload = {"sub": sub, "roles": list(roles), "iat": now, "exp": now + expires_in, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def auth(sub: str, *roles: str, **claims: Any) -> dict[str, str]:
    """``Authorization`` headers for a caller with ``roles``."""
    return {"Authorization": f"Bearer {token_for(sub, *roles, **claims)}"}


async def eventually(
    check: Callable[[], Any],
    *,
    timeout: float = 15.0,
    interval: float = 0.05,
    message: str = "condition not met",
) -> Any:
    """Poll ``check`` until it returns something truthy, or fail at the deadline (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        result = check()
        last = await result if inspect.isawaitable(result) else result
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} within {timeout}s (last value: {last!r})")
        await asyncio.sleep(interval)


class TopicReader:
    """Reads a topic from its beginning without a consumer group (no commits, no side effects)."""

    def __init__(self, bootstrap_servers: str, topic: str, security: KafkaSecurity = PLAINTEXT) -> None:
        self.topic = topic
        self.records: list[Any] = []
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None, **security.client_options()
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()

        async def partitions() -> set[int]:
            metadata = await self._consumer._client.fetch_all_metadata()
            return set(metadata.partitions_for_topic(self.topic) or ())

        partitions_found: set[int] = await eventually(
            partitions,
            timeout=30,
            interval=0.2,
            message=f"topic {self.topic} exists",
        )
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions_found)]
        self._consumer.assign(tps)
        await self._consumer.seek_to_beginning(*tps)
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        await self._consumer.stop()

    async def _read(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            for records in batches.values():
                self.records.extend(records)

    @property
    def events(self) -> list[CloudEvent]:
        out = []
        for record in self.records:
            try:
                out.append(CloudEvent.model_validate(json.loads(record.value)))
            except ValueError:
                continue
        return out

    async def wait_for(
        self, predicate: Callable[[CloudEvent], bool], *, count: int = 1, timeout: float = 15.0
    ) -> list[CloudEvent]:
        def matching() -> list[CloudEvent]:
            found = [e for e in self.events if predicate(e)]
            return found if len(found) >= count else []

        found: list[CloudEvent] = await eventually(
            matching, timeout=timeout, message=f"{count} matching event(s) on {self.topic}"
        )
        return found


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give an in-process HTTP client (no streaming; see ``serving``)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serve the app with uvicorn on loopback (for streaming such as SSE); yields the base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, timeout=30, message="uvicorn started")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
