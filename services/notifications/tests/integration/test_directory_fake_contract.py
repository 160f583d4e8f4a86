"""The in-memory directory fake (unit tests of the use cases run on it) answers as the real repository does on
the real database: the same scenario, the same answers, on both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from medsupport_shared.mongo import create_client
from notifications.repository import NotificationsRepository
from notifications.routing import DEFAULT_RULES, RouteRule
from notifications.settings import NotificationsSettings
from services.notifications.tests.unit.fakes_directory import FakeDirectoryRepository

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["fake", "mongo"])
async def repo(request: pytest.FixtureRequest, isolation: Any) -> AsyncIterator[Any]:
    if request.param == "fake":
        yield FakeDirectoryRepository(fixed_people={"floor": {"_id": "floor", "kind": "safety_floor"}})
        return
    settings = isolation.settings(NotificationsSettings)
    client = create_client(settings.mongo_url)
    try:
        yield NotificationsRepository(
            client[settings.mongo_db], fixed_people={"floor": {"_id": "floor", "kind": "safety_floor"}}
        )
    finally:
        await client.close()


async def test_people_and_the_staff_directory(repo: Any):
    await repo.save_person(person_id="c2", fields={"kind": "staff", "roles": ["counsellor"], "email": "c2@x.org"})
    await repo.save_person(person_id="c1", fields={"kind": "staff", "roles": ["counsellor", "admin"]})
    await repo.save_person(person_id="s1", fields={"kind": "student", "roles": []})
    await repo.write_people(new={"o1": {"kind": "staff", "roles": ["ops"]}}, changed={"c2": {"email": "new@x.org"}})
    assert (await repo.person(person_id="c2"))["email"] == "new@x.org"
    assert (await repo.person(person_id="floor"))["kind"] == "safety_floor"
    assert await repo.person(person_id="nobody") is None
    assert sorted(await repo.people_by_id(person_ids=["c1", "s1", "nobody"])) == ["c1", "s1"]
    assert [p["_id"] for p in await repo.staff_with_role(role="counsellor")] == ["c1", "c2"]
    assert await repo.staff_ids() == {"c1", "c2", "o1"}
    assert await repo.staff_roles() == {
        "c1": frozenset({"counsellor", "admin"}),
        "c2": frozenset({"counsellor"}),
        "o1": frozenset({"ops"}),
    }
    first, cursor = await repo.page_people(limit=2, cursor=None)
    rest, end = await repo.page_people(limit=2, cursor=cursor)
    assert ([p["_id"] for p in first], [p["_id"] for p in rest], end) == (["c1", "c2"], ["o1"], None)


async def test_role_grants_newest_first(repo: Any):
    for n in range(3):
        await repo.record_role_change(change={"_id": f"g{n}", "at": AT + timedelta(minutes=n), "staff_id": "c1"})
    first, cursor = await repo.page_role_changes(limit=2, cursor=None)
    rest, end = await repo.page_role_changes(limit=2, cursor=cursor)
    assert ([g["_id"] for g in first], [g["_id"] for g in rest], end) == (["g2", "g1"], ["g0"], None)


async def test_rotas(repo: Any):
    assert await repo.rota(team="counselling") is None
    await repo.save_rota(team="counselling", rota={"lead_id": "c1", "shifts": [], "overrides": []})
    await repo.save_rota(team="counselling", rota={"lead_id": "c2", "shifts": [], "overrides": []})
    assert await repo.rota(team="counselling") == {"_id": "counselling", "lead_id": "c2", "shifts": [], "overrides": []}
    assert await repo.rota_teams() == {"counselling"}


async def test_rules(repo: Any):
    assert await repo.seed_default_rules() == len(DEFAULT_RULES)
    assert await repo.seed_default_rules() == 0
    assert [r.id for r in await repo.rules()] == sorted(r.id for r in DEFAULT_RULES)
    extra = RouteRule.model_validate(
        {"id": "extra", "event_types": ["feedback.submitted"], "target": {"kind": "student"}, "channels": ["inapp"]}
    )
    assert await repo.insert_rule(rule=extra) is True
    assert await repo.insert_rule(rule=extra) is False
    await repo.replace_rule(rule=extra.model_copy(update={"enabled": False}))
    assert next(r for r in await repo.rules() if r.id == "extra").enabled is False
    assert await repo.delete_rule(rule_id="extra") is True
    assert await repo.delete_rule(rule_id="extra") is False
