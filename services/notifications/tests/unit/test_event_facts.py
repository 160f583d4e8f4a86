"""The per-event facts are tied to the event catalogue: a misspelt field or type fails here, not in production."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

import pytest

from medsupport_shared.event_types import EVENT_CATALOG, FlagRaised, MentorAssigned, ReferralReceived
from medsupport_shared.events import EventData, new_event
from notifications import consumers
from notifications.domain.event_facts import EVENT_FACTS, ROUTABLE, EventFacts, template_fields
from notifications.event_info import MENTEE_SUPPORT_FAMILY, REDACTED_FAMILY, describe
from notifications.routing import DEFAULT_RULES, PERSON_KINDS, rule_problems
from notifications.safety import ADMIN_READABLE_FAMILIES, CONCERN_FAMILIES, HEALTH_FAMILIES, PRIVATE_FAMILIES

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def facts_problems(model: type[EventData], facts: EventFacts) -> list[str]:
    """Why ``facts`` do not fit the payload model they are declared for (empty when they do)."""
    fields = model.model_fields
    problems = [f"{model.__name__} has no field {name!r}" for name in facts.people.values() if name not in fields]
    problems += [
        f"{kind!r} is not a person kind a rule can target" for kind in facts.people if kind not in PERSON_KINDS
    ]
    for template in (facts.title, facts.link):
        problems += [
            f"{template!r} reads {name!r}, which {model.__name__} lacks"
            for name in template_fields(template) - {"severity"}
            if name not in fields
        ]
    severity = fields.get("severity")
    severities = frozenset(get_args(severity.annotation)) if severity is not None else frozenset({"routine"})
    if facts.severities != severities:
        problems.append(f"{model.__name__} has severities {sorted(severities)}, not {sorted(facts.severities)}")
    if facts.categorised and "category" not in fields:
        problems.append(f"{model.__name__} carries no category")
    if facts.mentor_on_consent and "share_with_mentor" not in fields:
        problems.append(f"{model.__name__} carries no share_with_mentor consent")
    return problems


def test_every_key_is_a_payload_class_of_the_event_catalogue():
    assert all(EVENT_CATALOG[model.event_type].model is model for model in EVENT_FACTS)


@pytest.mark.parametrize("model", list(EVENT_FACTS), ids=lambda m: m.event_type)
def test_the_facts_name_only_fields_their_payload_has(model: type[EventData]):
    assert facts_problems(model, EVENT_FACTS[model]) == []


def test_a_misspelt_field_is_caught():
    facts = EVENT_FACTS[FlagRaised]
    misspelt = EventFacts(title="{severity} flag", link="/flags/{flag}", people={"student": "studentid"})
    assert facts_problems(FlagRaised, facts) == []
    assert facts_problems(FlagRaised, misspelt) == [
        "FlagRaised has no field 'studentid'",
        "'/flags/{flag}' reads 'flag', which FlagRaised lacks",
        "FlagRaised has severities ['elevated', 'urgent'], not ['routine']",
    ]


def test_every_type_a_default_rule_names_is_routable_and_every_default_rule_is_sound():
    assert {t for rule in DEFAULT_RULES for t in rule.event_types} <= set(ROUTABLE)
    staff, teams = {"x"}, {"counselling"}
    assert [p for rule in DEFAULT_RULES for p in rule_problems(rule, staff_ids=staff, rota_teams=teams)] == []


def test_the_consumers_route_every_routable_type_and_only_catalogued_ones(monkeypatch: pytest.MonkeyPatch):
    ctx = object()
    monkeypatch.setattr(consumers, "erased_students", lambda _: object())
    table = {**consumers.handlers(ctx), **consumers.flag_handlers(ctx)}  # type: ignore[arg-type]
    assert set(EVENT_FACTS) <= set(table)
    assert all(EVENT_CATALOG[model.event_type].model is model for model in table)


def test_the_families_the_safety_rules_name_are_declared():
    declared = {facts.family or event_type for event_type, facts in ROUTABLE.items()}
    named = HEALTH_FAMILIES | PRIVATE_FAMILIES | CONCERN_FAMILIES | ADMIN_READABLE_FAMILIES
    assert named - declared == {MENTEE_SUPPORT_FAMILY}
    assert REDACTED_FAMILY not in declared and MENTEE_SUPPORT_FAMILY not in declared


def test_one_family_falls_back_to_one_set_of_roles():
    by_family: dict[str, set[tuple[str, ...]]] = {}
    for event_type, facts in ROUTABLE.items():
        by_family.setdefault(facts.family or event_type, set()).add(facts.fallback_roles)
    assert all(len(roles) == 1 for roles in by_family.values())


def test_an_event_is_read_from_its_typed_payload():
    flag = FlagRaised(
        flag_id="f-1",
        student_id="s-1",
        severity="urgent",
        reasons=["phq9_item9"],
        instrument="phq9",
        raised_at=NOW,
        cohort="2027",
        share_with_mentor=True,
    )
    info = describe(new_event(flag, source="/services/wellbeing"), flag)
    assert (info.family, info.title, info.link) == ("flag", "Urgent wellbeing flag", "/wellbeing/flags/f-1")
    assert (info.people, info.reasons, info.cohort, info.mentor_consented) == (
        {"student": "s-1"},
        ("phq9_item9",),
        "2027",
        True,
    )
    assigned = MentorAssigned(assignment_id="a-1", mentor_id="m-1", mentee_id="s-2", assigned_at=NOW, score=0.5)
    info = describe(new_event(assigned, source="/services/mentorship"))  # parsed from the envelope when not given
    assert info.people == {"mentor": "m-1", "mentee": "s-2", "student": "s-2"}
    assert (info.link, info.mentor_consented) == ("/mentorship/assignments/a-1", False)


def test_a_referral_names_its_student_whom_no_rule_may_target():
    referral = ReferralReceived(
        referral_id="r-1",
        student_id="s-1",
        kind="self",
        category="anxiety",
        urgency="today",
        severity="elevated",
        deadline_at=NOW,
        received_at=NOW,
    )
    info = describe(new_event(referral, source="/services/wellbeing"), referral)
    assert (info.family, info.severity, info.people) == ("referral", "elevated", {"student": "s-1"})
    assert "student" not in ROUTABLE["referral.received"].targetable
