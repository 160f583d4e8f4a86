"""Who was notified along an escalation chain, as each viewer may see it (pure)."""

from datetime import UTC, datetime

from medsupport_shared.auth import Principal
from notifications.domain.alert_chain import chain_view

T0 = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def _alert(alert_id, level, recipient, family="flag", **more):
    return {"_id": alert_id, "level": level, "recipient_id": recipient, "family": family, "status": "open",
            "channels": ["inapp", "email"], "created_at": T0, **more}  # fmt: skip


CHAIN = [
    _alert("a2", 2, "admin-1", family="urgent-notice"),
    _alert("a0", 0, "c1", status="acknowledged", acknowledged_by="lead-1", acknowledged_at=T0),
    _alert("a1", 1, "lead-1"),
]


def test_counselling_roles_see_every_step_in_level_order():
    entries = chain_view(CHAIN, Principal(sub="c2", roles=frozenset({"counsellor"})))
    assert [(e["level"], e["recipient_id"], e["redacted"]) for e in entries] == [
        (0, "c1", False),
        (1, "lead-1", False),
        (2, "admin-1", False),
    ]
    assert entries[0]["acknowledged_by"] == "lead-1" and entries[0]["channels"] == ["inapp", "email"]


def test_others_see_only_that_a_wellbeing_step_exists():
    entries = chain_view(CHAIN, Principal(sub="admin-1", roles=frozenset({"admin"})))
    assert entries[0] == {"level": 0, "status": "acknowledged", "redacted": True}
    assert entries[1] == {"level": 1, "status": "open", "redacted": True}
    assert entries[2]["recipient_id"] == "admin-1" and not entries[2]["redacted"]
