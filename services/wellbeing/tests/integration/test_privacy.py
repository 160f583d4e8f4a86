"""Least privilege, audit of staff reads, k-suppression, erasure and reminders."""

import json
from datetime import timedelta

import pytest

from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, eventually

pytestmark = pytest.mark.integration


async def checkin(client, student, instrument="who5", answers=(3, 3, 3, 3, 3), cohort="2027"):
    headers = auth(student, "student", cohort=cohort)
    await client.put("/v1/me/consent", json={"store_checkins": True}, headers=headers)
    response = await client.post(
        "/v1/checkins", json={"instrument": instrument, "answers": list(answers)}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    ("roles", "individual", "aggregate"),
    [
        (("student",), 403, 403),
        (("faculty",), 403, 200),
        (("admin",), 403, 200),
        (("mentor",), 403, 403),
        (("concerns_officer",), 403, 403),
        (("counsellor",), 200, 403),
        (("wellbeing_lead",), 200, 200),
    ],
)
async def test_role_matrix(wellbeing, roles, individual, aggregate):
    await checkin(wellbeing.client, "s1")
    headers = auth("someone", *roles)
    read = await wellbeing.client.get("/v1/students/s1/checkins?purpose=weekly%20review", headers=headers)
    assert read.status_code == individual
    assert (await wellbeing.client.get("/v1/flags", headers=headers)).status_code == individual
    assert (await wellbeing.client.get("/v1/cohorts/2027/summary", headers=headers)).status_code == aggregate
    if individual == 403:
        assert read.headers["content-type"] == "application/problem+json"


async def test_a_student_sees_only_their_own_checkins(wellbeing):
    await checkin(wellbeing.client, "s1")
    await checkin(wellbeing.client, "s2")
    mine = await wellbeing.client.get("/v1/checkins", headers=auth("s1", "student"))
    assert {c["student_id"] for c in mine.json()["items"]} == {"s1"}
    other = await wellbeing.client.get("/v1/students/s2/checkins?purpose=curious", headers=auth("s1", "student"))
    assert other.status_code == 403


async def test_every_staff_read_is_audited_and_the_lead_can_list_it(wellbeing):
    created = await checkin(wellbeing.client, "s1")
    counsellor = auth("c7", "counsellor")
    assert (await wellbeing.client.get("/v1/students/s1/checkins", headers=counsellor)).status_code == 422  # why?
    read = await wellbeing.client.get("/v1/students/s1/checkins?purpose=follow-up%20call", headers=counsellor)
    assert read.status_code == 200 and read.json()["items"][0]["answers"] == [3, 3, 3, 3, 3]
    trail = await wellbeing.client.get("/v1/audit?student_id=s1", headers=auth("lead", "wellbeing_lead"))
    entries = trail.json()["items"]
    assert len(entries) == 1
    assert entries[0]["actor_id"] == "c7" and entries[0]["action"] == "read_checkins"
    assert entries[0]["purpose"] == "follow-up call" and entries[0]["record_ids"] == [created["id"]]
    assert (await wellbeing.client.get("/v1/audit", headers=counsellor)).status_code == 403


async def test_cohort_groups_under_five_students_are_suppressed(wellbeing):
    for n in range(4):
        await checkin(wellbeing.client, f"a{n}", instrument="burnout", answers=[1], cohort="2028")
    summary = await wellbeing.client.get("/v1/cohorts/2028/summary", headers=auth("f1", "faculty"))
    group = summary.json()["groups"][0]
    assert group["suppressed"] is True and group["students"] is None and group["bands"] is None
    for n in range(4, 6):
        await checkin(wellbeing.client, f"a{n}", instrument="burnout", answers=[3], cohort="2028")
    summary = await wellbeing.client.get("/v1/cohorts/2028/summary", headers=auth("f1", "faculty"))
    group = summary.json()["groups"][0]
    assert group["suppressed"] is False and group["students"] == 6 and group["in_progress"] is True
    assert group["mean_score"] is None and group["bands"] is None  # the month has not ended: counts only
    # once the month has ended: the figures, with the cells of 2 and 4 suppressed together and no key left
    ago = utcnow() - timedelta(days=45)
    await wellbeing.repo.checkins.update_many({"cohort": "2028"}, {"$set": {"recorded_at": ago}})
    summary = await wellbeing.client.get("/v1/cohorts/2028/summary", headers=auth("f1", "faculty"))
    group = summary.json()["groups"][0]
    assert group["students"] == 6 and group["in_progress"] is False and group["mean_score"] is not None
    assert group["bands"] == {} and "null" not in json.dumps(group["bands"])
    assert "a0" not in summary.text
    weekly = await wellbeing.client.get("/v1/cohorts/2028/summary?period=week", headers=auth("f1", "faculty"))
    week = weekly.json()["groups"][0]
    assert week["students"] == 6 and week["bands"] is None  # bands per month only: nothing to subtract
    assert week["mean_score"] == group["mean_score"]


async def test_erasure_request_deletes_checkins_and_flags_and_keeps_only_the_fact(wellbeing):
    await checkin(wellbeing.client, "s1", instrument="phq9", answers=(0, 0, 0, 0, 0, 0, 0, 0, 1))
    assert await wellbeing.repo.latest_scores.count_documents({"student_id": "s1"}) == 1
    for student in ("s1", "s2"):  # replies kept for retries: the erased student's go, another's stay
        retried = {**auth(student, "student"), "Idempotency-Key": f"retry-{student}"}
        body = {"instrument": "burnout", "answers": [3]}
        assert (await wellbeing.client.post("/v1/checkins", json=body, headers=retried)).status_code == 201
    kept_replies = wellbeing.repo.db["idempotency_keys"]
    assert await kept_replies.count_documents({}) == 2
    await wellbeing.client.get("/v1/students/s1/checkins?purpose=review", headers=auth("c1", "counsellor"))
    assert (
        await wellbeing.client.post("/v1/erasure-requests", json={"student_id": "s1"}, headers=auth("s2", "student"))
    ).status_code == 403
    keyed = {**auth("s1", "student"), "Idempotency-Key": "erase-me"}
    accepted = await wellbeing.client.post("/v1/erasure-requests", json={"student_id": "s1"}, headers=keyed)
    assert accepted.status_code == 202
    await eventually(lambda: _erased(wellbeing.repo, "s1"), timeout=30)
    kept = await wellbeing.repo.flags.find({"student_id": "s1"}).to_list(None)  # the urgent one, for follow-up
    assert [(f["severity"], f["erasure_pending"]) for f in kept] == [("urgent", True)]
    # a retry of the request itself, after the erasure, still answers the first result and asks nothing new
    retried = await wellbeing.client.post("/v1/erasure-requests", json={"student_id": "s1"}, headers=keyed)
    assert retried.status_code == 202 and retried.json() == accepted.json()
    assert await wellbeing.repo.db["erasure_requests"].count_documents({}) == 1
    audit = await wellbeing.repo.audit.find({"student_id": "s1"}).to_list(None)
    assert [a["action"] for a in audit] == ["erased"]
    for query in ("", "?student_id=s1"):  # the lead reads the trail, the erasure fact included
        trail = await wellbeing.client.get(f"/v1/audit{query}", headers=auth("l1", "wellbeing_lead"))
        assert trail.status_code == 200, trail.text
        erased = [e for e in trail.json()["items"] if e["action"] == "erased"]
        assert [(e["student_id"], e["actor_id"]) for e in erased] == [("s1", "s1")]
    assert await kept_replies.count_documents({}) == 2  # another student's reply, and the erasure request's


async def _erased(repo, student_id):
    return (
        await repo.checkins.count_documents({"student_id": student_id}) == 0
        and await repo.latest_scores.count_documents({"student_id": student_id}) == 0
        and await repo.flags.count_documents({"student_id": student_id, "erasure_pending": {"$ne": True}}) == 0
        and await repo.audit.count_documents({"student_id": student_id, "action": "erased"}) == 1
    )


async def test_consent_and_reminder_settings_are_strict(wellbeing):
    headers = auth("s7", "student")
    for path, body in (
        ("/v1/me/consent", {"store_checkins": "yes"}),
        ("/v1/me/consent", {"store_checkins": 1}),
        ("/v1/me/consent", {"store_checkins": True, "share_everything": True}),
        ("/v1/me/reminders", {"cadence_days": "7"}),
        ("/v1/me/reminders", {"cadence_days": 7, "channel": "sms"}),
    ):
        refused = await wellbeing.client.put(path, json=body, headers=headers)
        assert refused.status_code == 422 and refused.json()["errors"], (path, body)
    assert await wellbeing.repo.consents.count_documents({"_id": "s7"}) == 0
    assert await wellbeing.repo.reminders.count_documents({"_id": "s7"}) == 0
    saved = await wellbeing.client.put("/v1/me/consent", json={"store_checkins": True}, headers=headers)
    assert saved.status_code == 200 and saved.json()["store_checkins"] is True


async def test_reminder_is_emitted_once_per_due_time(wellbeing):
    headers = auth("s5", "student")
    saved = await wellbeing.client.put("/v1/me/reminders", json={"cadence_days": 7}, headers=headers)
    assert saved.json()["cadence_days"] == 7
    await wellbeing.repo.reminders.update_one({"_id": "s5"}, {"$set": {"next_due_at": utcnow() - timedelta(minutes=1)}})
    events = await wellbeing.reader.wait_for(lambda e: e.type == "checkin.reminder_due")
    assert events[0].subject == "s5" and events[0].data["cadence_days"] == 7
    reminder = await wellbeing.repo.reminders.find_one({"_id": "s5"})
    assert reminder["next_due_at"] > utcnow() + timedelta(days=6)
    await eventually(lambda: wellbeing.repo.reminders.find_one({"_id": "s5", "outbox.0": {"$exists": False}}))
    assert len([e for e in wellbeing.reader.events if e.type == "checkin.reminder_due"]) == 1


async def test_staff_reads_of_flags_are_audited_per_student_with_reader_and_purpose(wellbeing):
    await checkin(wellbeing.client, "s1", instrument="phq9", answers=(0, 0, 0, 0, 0, 0, 0, 0, 1))
    await checkin(wellbeing.client, "s2", instrument="gad7", answers=(2, 2, 2, 2, 1, 1, 1))
    await checkin(wellbeing.client, "s3", instrument="burnout", answers=(1,))  # no flag
    flags = {f["student_id"]: f["_id"] async for f in wellbeing.repo.flags.find({})}
    assert set(flags) == {"s1", "s2"}
    counsellor, lead = auth("c7", "counsellor"), auth("lead", "wellbeing_lead")

    queue = await wellbeing.client.get("/v1/flags?purpose=morning%20triage", headers=counsellor)
    assert queue.status_code == 200 and len(queue.json()["items"]) == 2
    for student in ("s1", "s2"):
        trail = (await wellbeing.client.get(f"/v1/audit?student_id={student}", headers=lead)).json()["items"]
        assert [(e["actor_id"], e["action"], e["purpose"], e["record_ids"]) for e in trail] == [
            ("c7", "list_flags", "morning triage", [flags[student]])
        ]
        assert trail[0]["actor_roles"] == ["counsellor"]
    assert (await wellbeing.client.get("/v1/audit?student_id=s3", headers=lead)).json()["items"] == []

    read = await wellbeing.client.get(f"/v1/flags/{flags['s1']}?purpose=before%20the%20call", headers=lead)
    assert read.status_code == 200 and read.json()["student_id"] == "s1"
    trail = (await wellbeing.client.get("/v1/audit?student_id=s1", headers=lead)).json()["items"]
    assert [(e["actor_id"], e["action"], e["purpose"]) for e in trail if e["action"] != "read_audit"] == [
        ("lead", "read_flag", "before the call"),
        ("c7", "list_flags", "morning triage"),
    ]
    assert [e["record_ids"] for e in trail if e["action"] != "read_audit"] == [[flags["s1"]], [flags["s1"]]]

    # Without a stated purpose the route's own purpose is recorded; a read of nothing audits nothing.
    await wellbeing.client.get(f"/v1/flags/{flags['s2']}", headers=counsellor)
    assert (await wellbeing.client.get("/v1/flags/nope", headers=counsellor)).status_code == 404
    await wellbeing.client.get("/v1/flags?status=resolved", headers=counsellor)
    entries = await wellbeing.repo.audit.find({"actor_id": "c7"}).to_list(None)
    assert sorted((e["action"], e["student_id"], e["purpose"]) for e in entries) == [
        ("list_flags", "s1", "morning triage"),
        ("list_flags", "s2", "morning triage"),
        ("read_flag", "s2", "flag review"),
    ]


async def test_resolving_a_flag_and_reading_the_trail_are_audited(wellbeing):
    await checkin(wellbeing.client, "s5", instrument="phq9", answers=(0, 0, 0, 0, 0, 0, 0, 0, 1))
    flag = await eventually(lambda: wellbeing.repo.flags.find_one({"student_id": "s5", "status": "open"}), timeout=30)
    resolved = await wellbeing.client.post(
        f"/v1/flags/{flag['_id']}/resolve", json={"outcome": "contacted"}, headers=auth("c3", "counsellor")
    )
    assert resolved.status_code == 200 and resolved.json()["reasons"]  # the reply shows the reasons...
    lead = auth("lead", "wellbeing_lead")
    first = (await wellbeing.client.get("/v1/audit?student_id=s5", headers=lead)).json()["items"]
    assert [(e["actor_id"], e["action"], e["record_ids"]) for e in first] == [("c3", "resolve_flag", [flag["_id"]])]
    second = (await wellbeing.client.get("/v1/audit?student_id=s5", headers=lead)).json()["items"]
    (read,) = [e for e in second if e["action"] == "read_audit"]  # ...and reading the trail leaves a trace too
    assert read["actor_id"] == "lead" and read["student_id"] is None and read["student_ref"]
    assert read["record_ids"] == [first[0]["id"]]
