"""The safety invariant of the rule set and who may be sent health data (pure)."""

import pytest

from notifications.routing import DEFAULT_RULES, RouteRule
from notifications.safety import (
    change_problems,
    health_target_problems,
    replaced,
    urgent_flag_route_problems,
    without,
)

URGENT = next(r for r in DEFAULT_RULES if r.id == "wellbeing-urgent")


def changed(**changes):
    return RouteRule.model_validate({**URGENT.model_dump(), **changes})


def test_the_default_rules_keep_the_invariant():
    assert urgent_flag_route_problems(DEFAULT_RULES) == []


@pytest.mark.parametrize(
    "broken",
    [
        {"enabled": False},
        {"cohorts": ["2027"]},
        {"severities": ["elevated"]},
        {"event_types": ["flag.raised"]},
        {"escalation": []},
        {"target": {"kind": "role", "value": "admin"}},
        {"target": {"kind": "rota", "value": "it-support"}},
        {"target": {"kind": "staff", "value": "c1"}},
    ],
)
def test_disabling_narrowing_or_retargeting_the_urgent_rule_breaks_it(broken):
    rules = replaced(DEFAULT_RULES, changed(**broken))
    problems = urgent_flag_route_problems(rules)
    assert problems and all("urgent" in p for p in problems)
    assert change_problems(DEFAULT_RULES, rules) == problems


def test_deleting_the_urgent_rule_is_refused_unless_another_rule_covers_it():
    assert change_problems(DEFAULT_RULES, without(DEFAULT_RULES, "wellbeing-urgent"))
    other = changed(id="urgent-to-counsellors", target={"kind": "role", "value": "counsellor"}, severities=[])
    with_other = replaced(DEFAULT_RULES, other)
    assert change_problems(with_other, without(with_other, "wellbeing-urgent")) == []


def test_a_rule_set_already_broken_can_be_changed_so_that_it_can_be_repaired():
    broken = without(DEFAULT_RULES, "wellbeing-urgent")
    assert urgent_flag_route_problems(broken)
    assert change_problems(broken, without(broken, "concern-raised")) == []


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ({"kind": "role", "value": "counsellor"}, True),
        ({"kind": "role", "value": "wellbeing_lead"}, True),
        ({"kind": "rota", "value": "counselling"}, True),
        ({"kind": "mentor"}, True),
        ({"kind": "staff", "value": "c1"}, True),
        ({"kind": "staff", "value": "a1"}, False),
        ({"kind": "role", "value": "admin"}, False),
        ({"kind": "role", "value": "ops"}, False),
        ({"kind": "rota", "value": "it-support"}, False),
        ({"kind": "student"}, False),
    ],
)
def test_wellbeing_flag_rules_may_target_only_health_roles_or_the_mentor(target, allowed):
    staff_roles = {"c1": frozenset({"counsellor"}), "a1": frozenset({"admin"})}
    problems = health_target_problems(changed(id="x", target=target, escalation=[]), staff_roles=staff_roles)
    assert (problems == []) is allowed, problems


def test_other_families_may_target_anyone():
    concern = next(r for r in DEFAULT_RULES if r.id == "concern-raised")
    assert health_target_problems(concern, staff_roles={}) == []


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ({"kind": "role", "value": "counsellor"}, True),
        ({"kind": "role", "value": "wellbeing_lead"}, True),
        ({"kind": "rota", "value": "counselling"}, True),
        ({"kind": "role", "value": "faculty"}, False),
        ({"kind": "role", "value": "admin"}, False),
    ],
)
def test_a_referral_rule_may_reach_counselling_roles_only(target, allowed):
    from notifications.routing import RouteRule

    rule = RouteRule.model_validate(
        {"id": "r", "event_types": ["referral.received"], "target": target, "channels": ["inapp"]}
    )
    assert (health_target_problems(rule, staff_roles={}) == []) is allowed
