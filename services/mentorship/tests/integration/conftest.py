"""The mentorship service on the real broker and database, with a reader of its topic and a publisher
for the events it consumes (fixtures for the integration tests added beside test_mentorship.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from medsupport_shared.events import CloudEvent, new_event
from medsupport_shared.kafka import EventPublisher
from medsupport_shared.testing import TopicReader, auth, running
from mentorship.app import create_app
from mentorship.context import MentorshipContext
from mentorship.settings import MentorshipSettings

ADMIN = auth("admin-1", "admin")
PROFILE: dict[str, Any] = {"specialty": "surgery", "interests": ["research"], "languages": ["en"], "capacity": 1}


@dataclass
class Stack:
    app: FastAPI
    client: httpx.AsyncClient
    reader: TopicReader
    settings: MentorshipSettings
    isolation: Any

    @property
    def ctx(self) -> MentorshipContext:
        ctx: MentorshipContext = self.app.state.services
        return ctx

    async def mentor(self, mentor_id: str, **overrides: Any) -> dict[str, Any]:
        response = await self.client.put(
            "/v1/mentors/me", json={**PROFILE, **overrides}, headers=auth(mentor_id, "mentor")
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wants(self, student_id: str, **overrides: Any) -> None:
        body = {"specialty": "surgery", "interests": ["research"], "languages": ["en"], **overrides}
        response = await self.client.put(
            "/v1/mentees/me", json=body, headers=auth(student_id, "student", cohort="2027")
        )
        assert response.status_code == 200, response.text

    async def assign(self, mentor_id: str, mentee_id: str) -> httpx.Response:
        return await self.client.post(
            "/v1/assignments", json={"mentor_id": mentor_id, "mentee_id": mentee_id}, headers=ADMIN
        )

    async def active(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"status": "active", "limit": 200, **({"cursor": cursor} if cursor else {})}
            page = (await self.client.get("/v1/assignments", params=params, headers=ADMIN)).json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items

    def events(self, event_type: str, **data: Any) -> list[CloudEvent]:
        """Events of ``event_type`` read so far whose data has these values."""
        return [
            e for e in self.reader.events if e.type == event_type and all(e.data.get(k) == v for k, v in data.items())
        ]

    async def publish(self, payload: Any, source: str = "/services/wellbeing") -> CloudEvent:
        """Publish an event the service consumes, as its producer would."""
        publisher = EventPublisher(
            bootstrap_servers=self.isolation.infra.kafka_bootstrap_servers,
            topic_prefix=self.isolation.topic_prefix,
            service="test",
        )
        event = new_event(payload, source=source)
        try:
            await publisher.publish(event)
        finally:
            await publisher.stop()
        return event


def mentorship_settings(isolation: Any, **overrides: Any) -> MentorshipSettings:
    settings: MentorshipSettings = isolation.settings(MentorshipSettings, **overrides)
    return settings


@asynccontextmanager
async def start(isolation: Any, settings: MentorshipSettings) -> AsyncIterator[Stack]:
    """The service on the real broker and database; start it twice with the same settings for a restart."""
    app = create_app(settings)
    async with (
        running(app) as client,
        TopicReader(settings.kafka_bootstrap_servers, isolation.topic("mentorship.events.v1")) as reader,
    ):
        yield Stack(app=app, client=client, reader=reader, settings=settings, isolation=isolation)


@pytest.fixture
async def stack(isolation: Any) -> AsyncIterator[Stack]:
    async with start(isolation, mentorship_settings(isolation)) as running_stack:
        yield running_stack
