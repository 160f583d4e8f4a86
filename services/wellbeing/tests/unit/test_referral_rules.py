"""The referral rules, pure: triage steps, deadlines, what the student and the referrer may see."""

from datetime import UTC, datetime, timedelta

import pytest

from wellbeing.domain.referrals import (
    Deadlines,
    Referral,
    TriageRefused,
    alert_severity,
    deadline_missed,
    may_raise_concern,
    new_deadline,
    referrer_status,
    student_status,
    triage,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEADLINES = Deadlines(today=4, this_week=72, whenever=240, concern=48)


def referral(**changes) -> Referral:
    base = Referral(
        id="r1",
        kind="self",
        student_id="s1",
        category="anxiety",
        urgency="today",
        status="received",
        created_at=T0,
        deadline_at=T0 + timedelta(hours=4),
    )
    return Referral(**{**base.__dict__, **changes})


def test_deadline_per_urgency_and_for_concerns():
    assert new_deadline(deadlines=DEADLINES, kind="self", urgency="today", created_at=T0) == T0 + timedelta(hours=4)
    assert new_deadline(deadlines=DEADLINES, kind="self", urgency="whenever", created_at=T0) == T0 + timedelta(
        hours=240
    )
    assert new_deadline(deadlines=DEADLINES, kind="concern", urgency="today", created_at=T0) == T0 + timedelta(hours=48)


def test_triage_moves_forward_records_first_contact_once_and_refuses_the_rest():
    accepted = triage(referral(), to="accepted", at=T0 + timedelta(hours=1))
    assert (accepted.status, accepted.first_contact_at, accepted.version) == ("accepted", T0 + timedelta(hours=1), 2)
    offered = triage(accepted, to="offered_times", at=T0 + timedelta(hours=2), offered_times=(T0,))
    assert offered.first_contact_at == T0 + timedelta(hours=1)
    with pytest.raises(TriageRefused):
        triage(offered, to="accepted", at=T0)
    with pytest.raises(TriageRefused):
        triage(offered, to="booked", at=T0)  # no appointment time
    with pytest.raises(TriageRefused):
        triage(offered, to="closed", at=T0)  # no outcome
    closed = triage(offered, to="closed", at=T0, outcome="seen")
    with pytest.raises(TriageRefused):
        triage(closed, to="closed", at=T0, outcome="seen")


def test_a_deadline_is_missed_only_without_first_contact_and_only_once():
    late = T0 + timedelta(hours=5)
    assert not deadline_missed(referral(), now=T0 + timedelta(hours=3))
    assert deadline_missed(referral(), now=late)
    assert not deadline_missed(referral(first_contact_at=T0), now=late)
    assert not deadline_missed(referral(escalated_at=late), now=late)
    assert not deadline_missed(referral(status="closed"), now=late)


def test_what_the_student_and_the_referrer_are_told():
    assert student_status(referral()).expect_contact_by == T0 + timedelta(hours=4)
    assert student_status(referral(status="accepted")).message.startswith("A counsellor has seen this")
    assert referrer_status(referral(status="booked")) == "received"
    assert referrer_status(referral(status="closed")) == "closed"


def test_who_may_raise_a_concern_and_which_requests_skip_quiet_hours():
    assert may_raise_concern(roles=frozenset({"faculty"}), referrer_id="f1", student_id="s1") is None
    assert may_raise_concern(roles=frozenset({"counsellor"}), referrer_id="c1", student_id="s1")
    assert may_raise_concern(roles=frozenset({"student"}), referrer_id="s1", student_id="s1")
    assert alert_severity(kind="self", urgency="today") == "elevated"
    assert alert_severity(kind="concern", urgency="today") == "routine"
