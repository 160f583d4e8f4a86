"""Routing reads the rules at most once a second per process (``RULES_FRESH_SECONDS``): a change made through
this process is seen at once, one written elsewhere (another replica, by hand) once the second is over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import notifications.repository as repository_module
from medsupport_shared.mongo import create_client
from notifications.repository import NotificationsRepository
from notifications.routing import DEFAULT_RULES
from notifications.settings import NotificationsSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def repo(isolation: Any) -> AsyncIterator[NotificationsRepository]:
    settings = isolation.settings(NotificationsSettings)
    client = create_client(settings.mongo_url)
    try:
        repo = NotificationsRepository(client[settings.mongo_db])
        await repo.seed_default_rules()
        yield repo
    finally:
        await client.close()


def ids(rules: list[Any]) -> set[str]:
    return {rule.id for rule in rules}


async def test_a_change_through_the_repository_is_seen_at_once(repo: NotificationsRepository) -> None:
    first = ids(await repo.rules_for_routing())
    assert first == {rule.id for rule in DEFAULT_RULES}
    extra = DEFAULT_RULES[0].model_copy(update={"id": "extra-rule"})
    assert await repo.insert_rule(rule=extra)
    assert "extra-rule" in ids(await repo.rules_for_routing())
    fewer = extra.channels[:1]
    assert fewer != extra.channels
    await repo.replace_rule(rule=extra.model_copy(update={"channels": fewer}))
    assert [r.channels for r in await repo.rules_for_routing() if r.id == "extra-rule"] == [fewer]
    assert await repo.delete_rule(rule_id="extra-rule")
    assert ids(await repo.rules_for_routing()) == first


async def test_a_change_written_elsewhere_is_seen_once_the_window_is_over(
    repo: NotificationsRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository_module, "RULES_FRESH_SECONDS", 0.5)
    before = ids(await repo.rules_for_routing())
    removed = sorted(before)[0]
    await repo.routes.delete_one({"_id": removed})  # as another replica or a hand edit would
    assert removed in ids(await repo.rules_for_routing())  # within the window: the rules read before
    await asyncio.sleep(0.6)
    assert ids(await repo.rules_for_routing()) == before - {removed}
    assert removed not in ids(await repo.rules())  # the listing itself is never cached
