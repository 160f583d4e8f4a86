"""The referral use cases through the in-memory fakes: a request, its triage, the deadline sweep (the same
flows run on the real MongoDB and Kafka in tests/integration/test_referrals.py)."""

from datetime import timedelta

import pytest

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, NotFound, Unprocessable
from medsupport_shared.events import utcnow
from wellbeing import referrals
from wellbeing.domain.referrals import TriageRefused

from .fakes import fake_stack

STUDENT = Principal(sub="s1", roles=frozenset({"student"}), cohort="2027")
COUNSELLOR = Principal(sub="c1", roles=frozenset({"counsellor"}))


async def request(stack, urgency="today"):
    return await referrals.request_appointment(
        ctx=stack.ctx,
        principal=STUDENT,
        reason="anxiety",
        urgency=urgency,
        contact_method="email",
        preferred_times=None,
        note="please soon",
    )


async def triage(stack, referral_id, to, **step):
    return await referrals.triage_referral(
        ctx=stack.ctx,
        principal=COUNSELLOR,
        referral_id=referral_id,
        to=to,
        offered_times=step.get("offered_times", ()),
        appointment_at=step.get("appointment_at"),
        outcome=step.get("outcome"),
        note=step.get("note"),
    )


async def test_a_request_is_stored_sealed_with_its_received_event(tmp_path):
    stack = fake_stack(tmp_path)
    referral = await request(stack)
    await stack.settle()
    stored = stack.referrals.referrals[referral.id]
    assert stored["status"] == "received" and stored["open"] is True and stored["version"] == 1
    assert stored["note"] != "please soon" and stack.ctx.cipher.decrypt(stored["note"]) == "please soon"
    [received] = stack.outbox.published
    assert received.type == "referral.received" and received.data["severity"] == "elevated"
    assert "note" not in received.data and not stored["outbox"]


async def test_the_first_triage_step_is_the_first_contact_and_is_audited(tmp_path):
    stack = fake_stack(tmp_path)
    referral = await request(stack)
    accepted, doc = await triage(stack, referral.id, "accepted", note="called her")
    await stack.settle()
    assert accepted.status == "accepted" and accepted.first_contact_at is not None and accepted.version == 2
    assert [stack.ctx.cipher.decrypt(n) for n in doc["staff_notes"]] == ["c1: called her"]
    assert [e.type for e in stack.outbox.published] == ["referral.received", "referral.triaged"]
    assert stack.outbox.published[-1].data["status"] == "accepted"
    assert [(a["action"], a["student_id"], a["actor_id"]) for a in stack.repo.audit] == [
        ("referral.accepted", "s1", "c1")
    ]
    booked, _ = await triage(stack, referral.id, "booked", appointment_at=utcnow() + timedelta(days=1))
    assert booked.first_contact_at == accepted.first_contact_at, "the first contact stays the first"


async def test_a_step_the_state_does_not_allow_is_refused_and_writes_nothing(tmp_path):
    stack = fake_stack(tmp_path)
    referral = await request(stack)
    with pytest.raises(TriageRefused, match="a received referral can move to accepted, closed, not booked") as refused:
        await triage(stack, referral.id, "booked")
    assert isinstance(refused.value, Unprocessable), "answered as a 422 by the shared edge"
    await stack.settle()
    assert stack.referrals.referrals[referral.id]["version"] == 1 and not stack.repo.audit
    assert [e.type for e in stack.outbox.published] == ["referral.received"]


async def test_an_unknown_referral_is_not_found_and_a_concurrent_step_is_a_conflict(tmp_path, monkeypatch):
    stack = fake_stack(tmp_path)
    with pytest.raises(NotFound, match="no referral with that id"):
        await triage(stack, "missing", "accepted")
    referral = await request(stack)
    real_get = stack.referrals.get

    async def read_then_someone_else_triages(**kwargs):
        found = await real_get(**kwargs)
        stack.referrals.referrals[referral.id]["version"] += 1
        return found

    monkeypatch.setattr(stack.referrals, "get", read_then_someone_else_triages)
    with pytest.raises(Conflict, match="the referral changed meanwhile; reload and retry"):
        await triage(stack, referral.id, "accepted")
    await stack.settle()
    assert [e.type for e in stack.outbox.published] == ["referral.received"], "no event for a change not made"


async def test_the_sweep_escalates_a_missed_deadline_once(tmp_path):
    stack = fake_stack(tmp_path)
    missed, contacted = await request(stack), await request(stack)
    await triage(stack, contacted.id, "accepted")
    for referral in (missed, contacted):
        stack.referrals.referrals[referral.id]["deadline_at"] = utcnow() - timedelta(minutes=1)
    assert await referrals.escalate_missed_deadlines(ctx=stack.ctx) == 1
    assert await referrals.escalate_missed_deadlines(ctx=stack.ctx) == 0
    [escalation] = stack.outbox.of_type("referral.deadline_missed")
    assert escalation.data["referral_id"] == missed.id and escalation.data["severity"] == "elevated"
    left_behind = [e["id"] for e in stack.referrals.referrals[missed.id]["outbox"]]
    assert escalation.id not in left_behind, "the sweep waits until the event left"
