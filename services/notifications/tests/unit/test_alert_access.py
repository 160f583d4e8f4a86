"""Who may read an alert that is not their own, and what a directory write does to health-data roles (pure)."""

from datetime import UTC, datetime

import pytest

from medsupport_shared.auth import Principal
from notifications.domain.alert_access import audited_ids, may_read, read_record
from notifications.safety import health_role_change, last_holder_problems


def who(sub, *roles):
    return Principal(sub=sub, roles=frozenset(roles))


@pytest.mark.parametrize(
    ("family", "readers"),
    [
        ("flag", {"lead"}),
        ("mentee-support", {"lead"}),
        ("urgent-notice", {"lead"}),
        ("concern.raised", set()),
        ("concern.updated", set()),
        ("checkin.reminder_due", set()),
        ("feedback.requested", {"lead", "admin", "ops"}),
        ("mentor.assigned", {"lead", "admin", "ops"}),
        ("something.new", set()),
    ],
)
def test_others_read_only_the_families_listed_for_their_role(family, readers):
    alert = {"recipient_id": "r1", "family": family}
    principals = {
        "lead": who("l1", "wellbeing_lead"),
        "admin": who("a1", "admin"),
        "ops": who("o1", "ops"),
        "counsellor": who("c2", "counsellor"),
        "officer": who("co", "concerns_officer"),
    }
    assert {name for name, p in principals.items() if may_read(alert, p)} == readers
    assert may_read(alert, who("r1", "student"))  # its recipient always


def staff(*roles, email="a@x.edu", webhook=None, kind="staff"):
    return {"kind": kind, "roles": list(roles), "email": email, "webhook_url": webhook}


def test_granting_or_revoking_a_health_role_or_readdressing_its_holder_needs_the_lead():
    assert health_role_change(None, staff("counsellor")).needs_wellbeing_lead
    assert health_role_change(staff("ops"), staff("ops", "wellbeing_lead")).granted == {"wellbeing_lead"}
    assert health_role_change(
        staff("counsellor"), staff("counsellor", webhook="https://evil.example")
    ).needs_wellbeing_lead
    assert health_role_change(staff("counsellor"), staff("counsellor", email="b@x.edu")).needs_wellbeing_lead
    revoke = health_role_change(staff("counsellor"), staff("ops"))
    assert revoke.revoked == {"counsellor"} and revoke.needs_wellbeing_lead
    assert not health_role_change(staff("counsellor"), staff("counsellor")).needs_wellbeing_lead
    assert not health_role_change(staff("ops"), staff("ops", "admin", email="new@x.edu")).needs_wellbeing_lead
    # roles an older version copied from a token into a non-staff entry grant nothing
    legacy = staff("counsellor", kind="user")
    assert health_role_change(legacy, staff("counsellor")).granted == {"counsellor"}


def test_a_lead_alone_writes_only_counselling_entries_and_an_admin_the_others():
    assert not health_role_change(None, staff("counsellor")).needs_admin
    assert not health_role_change(staff("counsellor"), staff("wellbeing_lead")).needs_admin
    assert health_role_change(None, staff("counsellor", "admin")).needs_admin
    assert health_role_change(staff("ops"), staff("ops", email="b@x.edu")).needs_admin
    assert health_role_change(staff("ops"), staff("counsellor")).needs_admin  # ops revoked: the admin's call


def test_the_last_holder_of_a_health_role_keeps_it():
    now = {"c1": frozenset({"counsellor"}), "l1": frozenset({"wellbeing_lead"}), "a1": frozenset({"admin"})}
    assert last_holder_problems(now, {"c1": frozenset({"ops"})}) == [
        "this would leave no member of staff holding 'counsellor'; grant it to someone else first"
    ]
    assert len(last_holder_problems(now, {"c1": frozenset(), "l1": frozenset()})) == 2
    assert last_holder_problems(now, {"l1": frozenset({"counsellor"})})  # the lead's role goes with the swap
    assert not last_holder_problems(now, {"c1": frozenset({"ops"}), "c2": frozenset({"counsellor"})})
    assert not last_holder_problems({**now, "c2": frozenset({"counsellor"})}, {"c1": frozenset()})
    assert not last_holder_problems({"a1": frozenset({"admin"})}, {"a1": frozenset({"ops"})})  # nobody held it


def test_reads_of_the_wellbeing_flag_family_only_are_audited():
    alerts = [
        {"_id": "f", "family": "flag"},
        {"_id": "n", "family": "mentee-support"},
        {"_id": "r", "family": "urgent-notice"},
        {"_id": "c", "family": "concern.raised"},
        {"_id": "m", "family": "feedback.submitted"},
    ]
    assert audited_ids(alerts) == ["f", "n", "r"]
    at = datetime(2026, 11, 25, 9, tzinfo=UTC)
    record = read_record(
        record_id="x", principal=who("c1", "counsellor"), alert_ids=["f"], via="alert", purpose="triage", at=at
    )
    assert record == {
        "_id": "x",
        "reader_id": "c1",
        "reader_roles": ["counsellor"],
        "alert_ids": ["f"],
        "via": "alert",
        "purpose": "triage",
        "at": at,
    }
