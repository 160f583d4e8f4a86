"""Referrals over HTTP, the real database and the real broker: a self-referral and a concern each reach the
queue, are triaged and closed with the student seeing the stage; a missed deadline escalates once."""

import json
from datetime import datetime, timedelta

import pytest

from medsupport_shared.testing import TopicReader, auth, eventually, running
from wellbeing.app import create_app
from wellbeing.settings import ReferralDeadlineHours, WellbeingSettings

pytestmark = pytest.mark.integration
STUDENT = auth("s1", "student", cohort="2027")
PEER = auth("s2", "student")
TEACHER = auth("f1", "faculty")
COUNSELLOR = auth("c1", "counsellor")
LEAD = auth("l1", "wellbeing_lead")
SELF = {"reason": "anxiety", "urgency": "this_week", "contact_method": "video", "note": "secret-note-xyz"}
CONCERN = {"student_id": "s1", "category": "attendance", "description": "secret-description-abc"}


async def triage(client, referral_id, **body):
    return await client.post(f"/v1/referrals/{referral_id}/triage", headers=COUNSELLOR, json=body)


async def test_self_referral_is_idempotent_queued_triaged_and_closed_with_the_student_seeing_each_stage(wellbeing):
    client = wellbeing.client
    headers = {**STUDENT, "Idempotency-Key": "ref-1"}
    first = await client.post("/v1/me/referrals", headers=headers, json=SELF)
    again = await client.post("/v1/me/referrals", headers=headers, json=SELF)
    assert first.status_code == 201, first.text
    assert again.json()["id"] == first.json()["id"]
    referral_id = first.json()["id"]
    assert first.json()["state"] == "received" and first.json()["expect_contact_by"]

    received = await wellbeing.reader.wait_for(lambda e: e.type == "referral.received")
    assert len([e for e in wellbeing.reader.events if e.type == "referral.received"]) == 1
    data = received[0].data
    assert (data["referral_id"], data["student_id"], data["category"], data["urgency"]) == (
        referral_id,
        "s1",
        "anxiety",
        "this_week",
    )
    assert "secret" not in json.dumps(data) and "note" not in data
    stored = await wellbeing.app.state.services.referrals.referrals.find_one({"_id": referral_id})
    assert "secret-note-xyz" not in json.dumps(stored, default=str)  # encrypted at rest

    assert (await client.get("/v1/referrals", headers=STUDENT)).status_code == 403
    queue = (await client.get("/v1/referrals", headers=COUNSELLOR)).json()["items"]
    assert [(r["id"], r["note"]) for r in queue] == [(referral_id, "secret-note-xyz")]

    accepted = await triage(client, referral_id, status="accepted", note="staff-only-note")
    assert accepted.status_code == 200, accepted.text
    help_now = (await client.get("/v1/me/help", headers=STUDENT)).json()
    assert help_now["referrals"][0]["state"] == "seen"
    assert help_now["referrals"][0]["message"].startswith("A counsellor has seen this; expect contact by")
    assert "staff-only-note" not in json.dumps(help_now)

    assert (await triage(client, referral_id, status="booked")).status_code == 422  # needs appointment_at
    offered = await triage(client, referral_id, status="offered_times", offered_times=["2026-03-03T10:00:00Z"])
    assert offered.status_code == 200, offered.text
    booked = await triage(client, referral_id, status="booked", appointment_at="2026-03-03T10:00:00Z")
    assert booked.status_code == 200
    closed = await triage(client, referral_id, status="closed", outcome="seen")
    assert closed.json()["status"] == "closed" and closed.json()["staff_notes"] == ["c1: staff-only-note"]
    assert (await triage(client, referral_id, status="closed", outcome="seen")).status_code == 422
    assert (await triage(client, "no-such-referral", status="accepted")).status_code == 404
    steps = await wellbeing.reader.wait_for(lambda e: e.type == "referral.triaged", count=4)
    assert [e.data["status"] for e in steps] == ["accepted", "offered_times", "booked", "closed"]
    assert (await client.get("/v1/me/help", headers=STUDENT)).json()["referrals"][0]["state"] == "closed"
    assert (await client.get("/v1/referrals", headers=COUNSELLOR)).json()["items"] == []


async def test_a_concern_reaches_the_queue_tells_the_student_and_shows_the_referrer_only_received_or_closed(
    wellbeing,
):
    client = wellbeing.client
    raised = await client.post("/v1/referrals", headers=TEACHER, json=CONCERN)
    assert raised.status_code == 201, raised.text
    assert raised.json()["status"] == "received"
    referral_id = raised.json()["id"]

    events = await wellbeing.reader.wait_for(lambda e: e.data.get("referral_id") == referral_id, count=2)
    by_type = {e.type: e.data for e in events}
    assert by_type["referral.received"]["kind"] == "concern"
    assert by_type["referral.student_notice"]["message"] == wellbeing.settings.referral_student_message
    # neither the referrer nor their words: "f1" is looked for among the values, since it may be spelt by a hex id
    assert "f1" not in _values([e.data for e in events]) and "secret" not in json.dumps([e.data for e in events])

    help_view = (await client.get("/v1/me/help", headers=STUDENT)).json()
    assert [(r["id"], r["about_you"], r["state"]) for r in help_view["referrals"]] == [(referral_id, True, "received")]
    assert "f1" not in _values(help_view) and "secret-description" not in json.dumps(help_view)

    queue = (await client.get("/v1/referrals", headers=COUNSELLOR)).json()["items"]
    assert [(r["referrer_id"], r["description"]) for r in queue] == [("f1", "secret-description-abc")]
    await triage(client, referral_id, status="accepted")
    mine = (await client.get("/v1/me/raised-referrals", headers=TEACHER)).json()["items"]
    assert mine == [
        {"id": referral_id, "category": "attendance", "status": "received", "created_at": mine[0]["created_at"]}
    ]
    await triage(client, referral_id, status="closed", outcome="signposted", note="private outcome")
    mine = (await client.get("/v1/me/raised-referrals", headers=TEACHER)).json()["items"]
    assert mine[0]["status"] == "closed" and "signposted" not in json.dumps(mine)

    audit = (await client.get("/v1/audit?student_id=s1", headers=LEAD)).json()["items"]
    assert any(a["action"] == "referral.raised" and a["actor_id"] == "f1" for a in audit)


async def test_who_may_raise_a_concern_and_the_per_referrer_rate_limit(wellbeing):
    client = wellbeing.client
    assert (await client.post("/v1/referrals", headers=COUNSELLOR, json=CONCERN)).status_code == 403
    assert (await client.post("/v1/referrals", headers=STUDENT, json=CONCERN)).status_code == 422  # about oneself
    limit = wellbeing.settings.referral_rate_limit
    for _ in range(limit):
        assert (await client.post("/v1/referrals", headers=PEER, json=CONCERN)).status_code == 201
    refused = await client.post("/v1/referrals", headers=PEER, json=CONCERN)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert (await client.post("/v1/referrals", headers=TEACHER, json=CONCERN)).status_code == 201  # per referrer


async def test_a_missed_deadline_escalates_once_even_after_a_restart(isolation):
    settings = isolation.settings(
        WellbeingSettings,
        referral_deadline_hours=ReferralDeadlineHours(today=0.5 / 3600),
        referral_sweep_interval_seconds=3600,  # this instance never sweeps after its first round
    )
    async with running(create_app(settings)) as client:
        created = await client.post("/v1/me/referrals", headers=STUDENT, json={**SELF, "urgency": "today"})
        assert created.status_code == 201
        referral_id = created.json()["id"]
        accepted = await client.post(
            "/v1/me/referrals", headers=STUDENT, json={**SELF, "urgency": "today", "reason": "stress"}
        )
        await client.post(
            f"/v1/referrals/{accepted.json()['id']}/triage", headers=COUNSELLOR, json={"status": "accepted"}
        )
    # The next instance finds the missed deadline in MongoDB and escalates it once; the triaged one is not.
    restarted = settings.model_copy(update={"referral_sweep_interval_seconds": 0.2})
    app = create_app(restarted)
    async with (
        running(app) as client,
        TopicReader(settings.kafka_bootstrap_servers, isolation.topic("wellbeing.events.v1")) as reader,
    ):
        missed = await reader.wait_for(lambda e: e.type == "referral.deadline_missed")
        assert missed[0].data["referral_id"] == referral_id and missed[0].data["urgency"] == "today"
        assert missed[0].data["severity"] == "elevated"  # a request for today is never deferred by quiet hours

        async def swept_again() -> bool:
            return await app.state.services.referrals.referrals.count_documents({"escalated_at": {"$ne": None}}) == 1

        await eventually(swept_again)
        await reader.wait_for(lambda e: e.type == "referral.received", count=2)
        assert [e.type for e in reader.events].count("referral.deadline_missed") == 1
        queue = (await client.get("/v1/referrals", headers=COUNSELLOR)).json()["items"]
        assert {r["id"]: r["escalated_at"] is not None for r in queue}[referral_id]


async def test_a_students_erasure_deletes_referrals_about_them_and_pseudonymises_those_they_raised(wellbeing):
    client, referrals = wellbeing.client, wellbeing.app.state.services.referrals.referrals
    assert (await client.post("/v1/me/referrals", headers=STUDENT, json=SELF)).status_code == 201
    assert (await client.post("/v1/referrals", headers=TEACHER, json=CONCERN)).status_code == 201
    about_s3 = await client.post("/v1/referrals", headers=STUDENT, json={**CONCERN, "student_id": "s3"})
    assert about_s3.status_code == 201
    erased = await client.post("/v1/erasure-requests", json={"student_id": "s1"}, headers=STUDENT)
    assert erased.status_code == 202, erased.text

    async def erased_everywhere() -> bool:
        return await referrals.count_documents({"student_id": "s1"}) == 0

    await eventually(erased_everywhere)
    kept = await referrals.find_one({"_id": about_s3.json()["id"]})
    assert kept["student_id"] == "s3" and kept["referrer_id"] not in (None, "s1")
    audit = (await client.get("/v1/audit?student_id=s3", headers=LEAD)).json()["items"]
    assert [a["actor_id"] for a in audit if a["action"] == "referral.raised"] == [kept["referrer_id"]]


async def test_leaders_see_monthly_figures_suppressed_under_the_group_size(wellbeing):
    from medsupport_shared.events import utcnow
    from wellbeing.domain.referral_stats import months_back
    from wellbeing.domain.referrals import Referral

    repo = wellbeing.app.state.services.referrals
    last_month = months_back(utcnow(), 1)[0]
    start = datetime.fromisoformat(f"{last_month}-02T09:00:00+00:00")
    for i in range(5):
        referral = Referral(
            id=f"r{i}",
            kind="self",
            student_id=f"s{i}",
            category="stress",
            urgency="whenever",
            status="accepted",
            created_at=start,
            deadline_at=start + timedelta(days=10),
            first_contact_at=start + timedelta(hours=i + 1),
        )
        await repo.insert(referral=referral, sealed={}, entries=[])
    assert (await wellbeing.client.get("/v1/referrals/figures", headers=COUNSELLOR)).status_code == 403
    months = (await wellbeing.client.get("/v1/referrals/figures?months=2", headers=LEAD)).json()["months"]
    assert [m["suppressed"] for m in months] == [True, False]
    assert (months[1]["month"], months[1]["referrals"], months[1]["median_hours_to_first_contact"]) == (
        last_month,
        5,
        3.0,
    )


def _values(tree):
    """Every scalar value in a JSON-like tree, as text."""
    if isinstance(tree, dict):
        return [v for value in tree.values() for v in _values(value)]
    if isinstance(tree, list):
        return [v for item in tree for v in _values(item)]
    return [str(tree)]
