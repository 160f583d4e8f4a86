"""What each recipient is told, and when the safety floor applies (pure parts of recipients.py)."""

from notifications.event_info import REDACTED_FAMILY, REDACTED_LINK, EventInfo
from notifications.recipients import SAFETY_FLOOR_RULE, Routed, is_health_person, needs_safety_floor, shown_to
from notifications.routing import DEFAULT_RULES

URGENT_RULE = next(r for r in DEFAULT_RULES if r.id == "wellbeing-urgent")
NO_ESCALATION = next(r for r in DEFAULT_RULES if r.id == "wellbeing-mentor")


def info(family="flag", severity="urgent", subject="s1"):
    return EventInfo(
        event_id="e1",
        event_type="flag.raised" if family == "flag" else family,
        severity=severity,
        cohort=None,
        subject_id=subject,
        family=family,
        reasons=("phq9_item9_positive",),
        title="Urgent wellbeing flag",
        link="/wellbeing/flags/f1",
    )


COUNSELLOR = {"kind": "staff", "roles": ["counsellor"]}
ADMIN = {"kind": "staff", "roles": ["admin"]}
TOKEN_COUNSELLOR = {"kind": "user", "roles": ["counsellor"]}
OFFICER = {"kind": "staff", "roles": ["concerns_officer"]}


def test_health_data_only_to_directory_staff_with_a_counselling_role_or_the_floor_contact():
    assert is_health_person(COUNSELLOR) and is_health_person({"kind": "safety_floor"})
    assert not is_health_person(ADMIN) and not is_health_person(TOKEN_COUNSELLOR) and not is_health_person(None)


def test_a_non_clinical_recipient_is_told_only_that_an_urgent_alert_needs_a_human():
    assert shown_to(info(), COUNSELLOR) == info()
    notice = shown_to(info(), ADMIN, escalated=True)
    assert (notice.title, notice.reasons, notice.family, notice.link) == (
        "An urgent alert is unacknowledged",
        (),
        REDACTED_FAMILY,
        REDACTED_LINK,
    )
    assert notice.subject_id == "" and notice.redacted_from == "s1" and notice.people == {}
    assert shown_to(info(severity="elevated"), TOKEN_COUNSELLOR).title == "A wellbeing alert needs a counsellor"


def test_a_concern_alert_hides_its_subject_from_anyone_but_an_officer():
    concern = info(family="concern.raised", subject="reporter-1")
    assert shown_to(concern, OFFICER) == concern
    hidden = shown_to(concern, ADMIN)
    assert hidden.redacted_from == "reporter-1" and hidden.title == concern.title and hidden.link == concern.link


def test_the_floor_applies_to_urgent_flags_no_rule_with_escalation_brought_to_a_counselling_person():
    urgent = info()
    assert needs_safety_floor(urgent, [], set())
    assert not needs_safety_floor(urgent, [Routed(URGENT_RULE, "c1", urgent)], {"c1"})
    assert needs_safety_floor(urgent, [Routed(URGENT_RULE, "a1", urgent)], set())  # only a non-clinical person
    assert needs_safety_floor(urgent, [Routed(NO_ESCALATION, "c1", urgent)], {"c1"})  # nobody would escalate
    assert not needs_safety_floor(info(severity="elevated"), [], set())
    assert not needs_safety_floor(info(family="concern.raised"), [], set())
    assert SAFETY_FLOOR_RULE.escalation == URGENT_RULE.escalation
