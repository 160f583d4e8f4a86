"""The routing-rule use cases through the in-memory directory fake: every change keeps the safety invariant,
a rule that could match nobody is refused, and a preview changes nothing."""

from __future__ import annotations

import pytest

from medsupport_shared.domain_errors import Conflict, NotFound, Unprocessable
from notifications import route_rules
from notifications.routing import DEFAULT_RULES, RouteRule
from services.notifications.tests.unit.fakes_directory import FakeDirectoryContext, staff

URGENT = next(r for r in DEFAULT_RULES if r.id == "wellbeing-urgent")


def rule(**fields: object) -> RouteRule:
    body = {"id": "extra", "event_types": ["feedback.submitted"], "target": {"kind": "role", "value": "admin"}}
    return RouteRule.model_validate({**body, "channels": ["inapp"], **fields})


async def seeded() -> FakeDirectoryContext:
    fake = FakeDirectoryContext()
    await fake.repo.seed_default_rules()
    fake.repo.people["c1"] = {"_id": "c1", **staff(["counsellor"], name="Dr C")}
    fake.repo.people["lead-1"] = {"_id": "lead-1", **staff(["wellbeing_lead"])}
    await fake.repo.save_rota(team="counselling", rota={"lead_id": "c1", "shifts": [], "overrides": []})
    return fake


async def test_a_rule_is_added_once():
    fake = await seeded()
    assert await route_rules.add_rule(fake.as_context(), rule()) == rule()
    assert "extra" in fake.repo.routes
    with pytest.raises(Conflict, match="exists"):
        await route_rules.add_rule(fake.as_context(), rule())


@pytest.mark.parametrize(
    "change",
    [
        {"enabled": False},
        {"cohorts": ["2027"]},
        {"severities": ["elevated"]},
        {"escalation": []},
        {"target": {"kind": "staff", "value": "c1"}},
    ],
    ids=["disabled", "one cohort", "narrowed", "no escalation", "a named counsellor"],
)
async def test_a_change_that_leaves_urgent_flags_without_a_counselling_route_is_refused(change: dict[str, object]):
    fake = await seeded()
    before = dict(fake.repo.routes)
    changed = RouteRule.model_validate({**URGENT.model_dump(), **change})
    with pytest.raises(Conflict, match="without a counselling route"):
        await route_rules.put_rule(fake.as_context(), URGENT.id, changed)
    assert fake.repo.routes == before


async def test_the_urgent_route_cannot_be_deleted_but_another_rule_can():
    fake = await seeded()
    with pytest.raises(Conflict):
        await route_rules.remove_rule(fake.as_context(), URGENT.id)
    await route_rules.remove_rule(fake.as_context(), "feedback-submitted")
    assert URGENT.id in fake.repo.routes and "feedback-submitted" not in fake.repo.routes
    with pytest.raises(NotFound):
        await route_rules.remove_rule(fake.as_context(), "feedback-submitted")


async def test_a_second_urgent_route_lets_the_first_go():
    fake = await seeded()
    lead_route = URGENT.model_copy(update={"id": "urgent-to-lead", "target": URGENT.escalation[0].target})
    await route_rules.add_rule(fake.as_context(), lead_route)
    await route_rules.remove_rule(fake.as_context(), URGENT.id)
    assert URGENT.id not in fake.repo.routes


async def test_a_broken_set_may_be_changed_so_that_it_can_be_repaired():
    fake = await seeded()
    del fake.repo.routes[URGENT.id]  # stored so by an older version
    await route_rules.add_rule(fake.as_context(), rule())
    await route_rules.put_rule(fake.as_context(), URGENT.id, URGENT)
    assert URGENT.id in fake.repo.routes


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"event_types": ["flag.raisd"]}, "not routable"),
        ({"severities": ["urgent"]}, "never has severity"),
        ({"target": {"kind": "assessor"}}, "names no assessor"),
        ({"target": {"kind": "staff", "value": "ghost"}}, "no staff member"),
        ({"target": {"kind": "rota", "value": "nights"}}, "no rota"),
        ({"event_types": ["flag.raised"], "severities": ["urgent"]}, "may target only"),
        ({"categories": ["bias"]}, "has no category"),
    ],
)
async def test_a_rule_that_could_match_nobody_or_leaks_health_data_is_refused(fields: dict[str, object], problem: str):
    fake = await seeded()
    with pytest.raises(Unprocessable) as refused:
        await route_rules.add_rule(fake.as_context(), rule(**fields))
    assert any(problem in e["msg"] for e in refused.value.errors or [])
    assert "extra" not in fake.repo.routes


async def test_a_preview_resolves_the_rules_against_the_directory_and_changes_nothing():
    fake = await seeded()
    before = (dict(fake.repo.routes), dict(fake.repo.people), list(fake.repo.role_grants))
    elevated = await route_rules.preview(
        fake.as_context(), event_type="flag.raised", severity="elevated", cohort=None, rule=None
    )
    assert elevated == {
        "recipients": [
            {
                "person_id": "c1",
                "name": "Dr C",
                "roles": ["counsellor"],
                "channels": ["inapp", "email"],
                "rule_id": "wellbeing-elevated",
                "escalation": [
                    {
                        "after_minutes": 1440.0,
                        "target": {"kind": "role", "value": "wellbeing_lead"},
                        "working_days_only": True,
                    }
                ],
            }
        ],
        "safety_floor": False,
    }
    assert (dict(fake.repo.routes), dict(fake.repo.people), list(fake.repo.role_grants)) == before


async def test_a_preview_shows_the_safety_floor_and_tries_an_unsaved_rule():
    fake = await seeded()
    urgent = await route_rules.preview(
        fake.as_context(), event_type="flag.raised", severity="urgent", cohort="2027", rule=None
    )
    assert [(r["person_id"], r["rule_id"]) for r in urgent["recipients"]] == [("c1", "wellbeing-urgent")]
    assert urgent["safety_floor"] is False
    silenced = RouteRule.model_validate({**URGENT.model_dump(), "enabled": False})
    tried = await route_rules.preview(
        fake.as_context(), event_type="flag.raised", severity="urgent", cohort="2027", rule=silenced
    )
    assert tried["safety_floor"] is True
    assert {r["rule_id"] for r in tried["recipients"]} == {"safety-floor"}
    assert fake.repo.routes[URGENT.id]["enabled"] is True  # the tried rule was not saved
