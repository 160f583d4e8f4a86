import pytest

from notifications.routing import DEFAULT_RULES, EscalationStep, RouteRule, Target, matching_rules, rule_problems

KNOWN = {"staff_ids": {"c1"}, "rota_teams": {"counselling"}}


def rule(**kw):
    base = {
        "id": "r",
        "event_types": ["flag.raised"],
        "target": {"kind": "role", "value": "counsellor"},
        "channels": ["inapp"],
    }
    return RouteRule.model_validate({**base, **kw})


def test_default_rules_are_sound_and_cover_the_contract():
    for default in DEFAULT_RULES:
        assert rule_problems(default, **KNOWN) == [], default.id
    urgent = next(r for r in DEFAULT_RULES if r.id == "wellbeing-urgent")
    assert urgent.target == Target(kind="rota", value="counselling")
    assert [s.after_minutes for s in urgent.escalation] == [15, 30]
    assert [s.target.value for s in urgent.escalation] == ["wellbeing_lead", "admin"]
    assert set(urgent.channels) == {"inapp", "email", "webhook"}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"event_types": ["nothing.happened"]}, "not routable"),
        ({"severities": ["routine"]}, "never has severity"),
        ({"target": {"kind": "assessor"}}, "names no assessor"),
        ({"target": {"kind": "role", "value": "wizard"}}, "unknown role"),
        ({"target": {"kind": "staff", "value": "ghost"}}, "no staff member"),
        ({"target": {"kind": "rota", "value": "night-team"}}, "no rota"),
        ({"target": {"kind": "role"}}, "needs a value"),
        ({"channels": ["inapp", "inapp"]}, "listed twice"),
        (
            {
                "escalation": [
                    {"after_minutes": 30, "target": {"kind": "role", "value": "admin"}},
                    {"after_minutes": 15, "target": {"kind": "role", "value": "admin"}},
                ]
            },
            "strictly increasing",
        ),
    ],
)
def test_rules_that_can_match_nobody_are_rejected(changes, problem):
    problems = rule_problems(rule(**changes), **KNOWN)
    assert any(problem in p for p in problems), problems


def test_matching_by_type_severity_and_cohort():
    rules = [
        rule(id="urgent", severities=["urgent"]),
        rule(id="cohort", cohorts=["2027"]),
        rule(id="off", enabled=False),
    ]
    ids = lambda **kw: [r.id for r in matching_rules(rules, **kw)]  # noqa: E731
    assert ids(event_type="flag.raised", severity="urgent", cohort="2026") == ["urgent"]
    assert ids(event_type="flag.raised", severity="elevated", cohort="2027") == ["cohort"]
    assert ids(event_type="concern.raised", severity="routine", cohort=None) == []


def test_escalation_minutes_must_be_positive():
    with pytest.raises(ValueError):
        EscalationStep(after_minutes=0, target=Target(kind="role", value="admin"))


def test_referral_events_are_catalogued_and_their_default_rules_reach_counselling_roles_only():
    from medsupport_shared.event_types import EVENT_CATALOG
    from notifications.consumers import REFERRAL_EVENTS
    from notifications.domain.event_facts import ROUTABLE
    from notifications.routing import DEFAULT_RULES

    assert {e.event_type for e in REFERRAL_EVENTS} <= set(ROUTABLE) & set(EVENT_CATALOG)
    staff_rules = [r for r in DEFAULT_RULES if {"referral.received", "referral.deadline_missed"} & set(r.event_types)]
    assert {(r.target.kind, r.target.value) for r in staff_rules} == {
        ("role", "counsellor"),
        ("role", "wellbeing_lead"),
    }
    assert "assessor" not in ROUTABLE["referral.received"].targetable
    assert "student" not in ROUTABLE["referral.received"].targetable
