"""While one event is routed, each person is read from the database once (``people_read_once``); outside it,
and in the next event's block, every read is fresh."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from medsupport_shared.mongo import create_client
from notifications.repository import NotificationsRepository
from notifications.settings import NotificationsSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def repo(isolation: Any) -> AsyncIterator[NotificationsRepository]:
    settings = isolation.settings(NotificationsSettings)
    client = create_client(settings.mongo_url)
    try:
        yield NotificationsRepository(client[settings.mongo_db])
    finally:
        await client.close()


async def email_of(repo: NotificationsRepository) -> str | None:
    found = await repo.person(person_id="c1")
    return None if found is None else found["email"]


async def test_each_person_is_read_once_within_a_block_and_fresh_outside(repo: NotificationsRepository) -> None:
    await repo.save_person(person_id="c1", fields={"kind": "staff", "roles": ["counsellor"], "email": "old@x.org"})
    with repo.people_read_once():
        assert await email_of(repo) == "old@x.org"
        await repo.people.update_one({"_id": "c1"}, {"$set": {"email": "new@x.org"}})
        assert await email_of(repo) == "old@x.org"  # read once for this event
        # a task the block starts (the first delivery attempt) shares what was read
        assert await asyncio.create_task(email_of(repo)) == "old@x.org"
    assert await email_of(repo) == "new@x.org"
    with repo.people_read_once():
        assert await email_of(repo) == "new@x.org"  # the next event reads afresh


async def test_someone_missing_is_remembered_as_missing_within_the_block(repo: NotificationsRepository) -> None:
    with repo.people_read_once():
        assert await repo.person(person_id="nobody") is None
        await repo.save_person(person_id="nobody", fields={"kind": "staff", "roles": []})
        assert await repo.person(person_id="nobody") is None
    assert await repo.person(person_id="nobody") is not None
