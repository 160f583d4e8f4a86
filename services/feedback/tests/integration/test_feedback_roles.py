"""Role matrix for feedback, requests and reflections, on the real broker and database."""

import pytest

from medsupport_shared.event_types import MentorAssigned, MentorshipEnded
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import auth, eventually

pytestmark = pytest.mark.integration

F1, F2, S1, S2, ADMIN, M1 = (
    auth("f1", "faculty"),
    auth("f2", "faculty"),
    auth("s1", "student", cohort="2027"),
    auth("s2", "student", cohort="2027"),
    auth("admin1", "admin"),
    auth("m1", "mentor"),
)


def feedback_body(student="s1", kind="rotation", context_id="cardio", **extra):
    return {
        "student_id": student,
        "context": {"kind": kind, "id": context_id, "label": "Cardiology"},
        "strengths": "Calm, structured history taking.",
        "areas_for_growth": "Broaden the differential.",
        "next_steps": "Three differentials at every presentation.",
        "rating": {"scale": "entrustment", "minimum": 1, "maximum": 5, "value": 3},
        **extra,
    }


async def test_feedback_read_and_write_matrix(stack):
    c = stack.client
    created = await c.post("/v1/feedback", json=feedback_body(), headers=F1)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["author_kind"] == "faculty" and item["strengths"] == "Calm, structured history taking."

    # the student reads all their feedback; the author reads what they wrote; nobody else
    assert (await c.get(f"/v1/feedback/{item['id']}", headers=S1)).status_code == 200
    assert (await c.get(f"/v1/feedback/{item['id']}", headers=F1)).status_code == 200
    for other in (S2, F2, ADMIN, M1):
        response = await c.get(f"/v1/feedback/{item['id']}", headers=other)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert [i["id"] for i in (await c.get("/v1/feedback", headers=S1)).json()["items"]] == [item["id"]]
    assert (await c.get("/v1/feedback", headers=S2)).json()["items"] == []
    assert [i["id"] for i in (await c.get("/v1/feedback?view=authored", headers=F1)).json()["items"]] == [item["id"]]
    assert (await c.get("/v1/feedback?view=authored", headers=F2)).json()["items"] == []
    assert (await c.get("/v1/feedback", headers=ADMIN)).status_code == 403
    assert (await c.get("/v1/feedback?view=received", headers=F1)).status_code == 403
    assert (await c.get("/v1/feedback")).status_code == 401

    # who may write: faculty; a peer only where the context allows; never admin or mentor; never about oneself
    assert (await c.post("/v1/feedback", json=feedback_body(), headers=S2)).status_code == 403
    peer = await c.post("/v1/feedback", json=feedback_body(kind="course", context_id="anatomy"), headers=S2)
    assert peer.status_code == 201 and peer.json()["author_kind"] == "peer"
    assert (await c.post("/v1/feedback", json=feedback_body(), headers=ADMIN)).status_code == 403
    assert (await c.post("/v1/feedback", json=feedback_body(), headers=M1)).status_code == 403
    selfie = await c.post("/v1/feedback", json=feedback_body(student="s1", kind="course"), headers=S1)
    assert selfie.status_code == 403

    # the student marks it discussed and responds; the author reads the response
    respond = {"discussed": True, "response": "Thanks, will do."}
    assert (await c.put(f"/v1/feedback/{item['id']}/response", json=respond, headers=S2)).status_code == 404
    assert (await c.put(f"/v1/feedback/{item['id']}/response", json=respond, headers=F1)).status_code == 403
    answered = await c.put(f"/v1/feedback/{item['id']}/response", json=respond, headers=S1)
    assert answered.status_code == 200 and answered.json()["discussed"] is True
    seen = (await c.get(f"/v1/feedback/{item['id']}", headers=F1)).json()
    assert seen["response"] == "Thanks, will do." and seen["discussed_at"] is not None

    # feedback.submitted carries ids, kind and context, never the text; free text is encrypted at rest
    (event,) = await stack.reader.wait_for(lambda e: e.data.get("feedback_id") == item["id"])
    assert event.type == "feedback.submitted" and event.subject == "s1"
    assert event.data == {
        "feedback_id": item["id"],
        "student_id": "s1",
        "author_id": "f1",
        "kind": "faculty",
        "context": "rotation:cardio",
        "submitted_at": event.data["submitted_at"],
    }
    raw = await stack.db["feedback"].find_one({"_id": item["id"]})
    assert "structured history" not in repr(raw) and "Thanks, will do" not in repr(raw)


async def test_idempotent_feedback_creation(stack):
    headers = {**F1, "Idempotency-Key": "fb-1"}
    first = await stack.client.post("/v1/feedback", json=feedback_body(), headers=headers)
    again = await stack.client.post("/v1/feedback", json=feedback_body(), headers=headers)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    other = await stack.client.post("/v1/feedback", json=feedback_body(strengths="Different"), headers=headers)
    assert other.status_code == 409
    assert await stack.db["feedback"].count_documents({}) == 1
    # the reply (kept for retries) and a later read give the same time, written alike (RFC 3339, UTC, Z)
    read = await stack.client.get(f"/v1/feedback/{first.json()['id']}", headers=F1)
    assert first.json()["created_at"] == read.json()["created_at"] and first.json()["created_at"].endswith("Z")


async def test_request_fulfilment_records_turnaround(stack):
    c = stack.client
    body = {"assessor_id": "f1", "context": {"kind": "encounter", "id": "lp-1"}, "note": "Lumbar puncture, bed 4"}
    request = (await c.post("/v1/feedback/requests", json=body, headers=S1)).json()
    assert request["status"] == "open" and request["overdue"] is False
    assert (await c.post("/v1/feedback/requests", json=body, headers=F1)).status_code == 403
    assert [r["id"] for r in (await c.get("/v1/feedback/requests", headers=F1)).json()["items"]] == [request["id"]]
    assert (await c.get(f"/v1/feedback/requests/{request['id']}", headers=S2)).status_code == 404
    assert (await c.get(f"/v1/feedback/requests/{request['id']}", headers=F2)).status_code == 404

    wrong_assessor = feedback_body(kind="encounter", context_id="lp-1", request_id=request["id"])
    assert (await c.post("/v1/feedback", json=wrong_assessor, headers=F2)).status_code == 404
    wrong_context = feedback_body(kind="encounter", context_id="other", request_id=request["id"])
    assert (await c.post("/v1/feedback", json=wrong_context, headers=F1)).status_code == 422
    answer = await c.post("/v1/feedback", json=wrong_assessor, headers=F1)
    assert answer.status_code == 201, answer.text
    done = (await c.get(f"/v1/feedback/requests/{request['id']}", headers=S1)).json()
    assert done["status"] == "fulfilled" and done["feedback_id"] == answer.json()["id"]
    assert done["turnaround_seconds"] is not None and done["turnaround_seconds"] >= 0
    assert (await c.post("/v1/feedback", json=wrong_assessor, headers=F1)).status_code == 409
    await stack.reader.wait_for(lambda e: e.type == "feedback.requested" and e.data["request_id"] == request["id"])
    metrics = (await c.get("/metrics")).text
    assert 'medsupport_feedback_request_turnaround_seconds_count{context_kind="encounter"}' in metrics

    cohort = await c.get("/v1/feedback/cohort-summary", headers=ADMIN)
    assert cohort.status_code == 200
    assert (await c.get("/v1/feedback/cohort-summary", headers=S1)).status_code == 403


async def test_cohort_view_aggregates_and_suppresses(stack):
    for student in ("s1", "s2", "s3"):
        r = await stack.client.post("/v1/feedback", json=feedback_body(student=student, context_id="big"), headers=F1)
        assert r.status_code == 201
    await stack.client.post("/v1/feedback", json=feedback_body(student="s1", context_id="tiny"), headers=F1)
    summary = (await stack.client.get("/v1/feedback/cohort-summary", headers=F2)).json()
    assert summary["suppressed_contexts"] == 1 and summary["min_group_size"] == 2
    (row,) = summary["contexts"]
    assert row["context"] == "rotation:big" and row["feedback_count"] == 3 and row["students_receiving"] == 3
    assert "s1" not in str(summary)


async def test_reflections_private_unless_shared(stack):
    c = stack.client
    fb = (await c.post("/v1/feedback", json=feedback_body(), headers=F1)).json()
    other = (await c.post("/v1/feedback", json=feedback_body(student="s2"), headers=F1)).json()
    body = {"title": "Acute take", "body": "I felt rushed.", "linked_feedback_ids": [fb["id"]]}
    assert (
        await c.post("/v1/reflections", json={**body, "linked_feedback_ids": [other["id"]]}, headers=S1)
    ).status_code == 422
    reflection = (await c.post("/v1/reflections", json=body, headers=S1)).json()
    rid = reflection["id"]
    for reader in (F1, F2, S2, ADMIN, M1):
        assert (await c.get(f"/v1/reflections/{rid}", headers=reader)).status_code == 404
    assert (await c.get("/v1/reflections", headers=F1)).json()["items"] == []
    assert (await c.post("/v1/reflections", json=body, headers=F1)).status_code == 403

    shared = await c.put(f"/v1/reflections/{rid}/shares/f1", json={"relationship": "faculty"}, headers=S1)
    assert shared.status_code == 200
    seen = await c.get(f"/v1/reflections/{rid}", headers=F1)
    assert seen.status_code == 200 and seen.json()["body"] == "I felt rushed." and seen.json()["shares"] == []
    assert [r["id"] for r in (await c.get("/v1/reflections", headers=F1)).json()["items"]] == [rid]
    assert (await c.get(f"/v1/reflections/{rid}", headers=F2)).status_code == 404
    assert (
        await c.put(f"/v1/reflections/{rid}/shares/f2", json={"relationship": "faculty"}, headers=S2)
    ).status_code == 404

    # a mentor share needs a current mentorship, learnt from mentor.assigned
    share_mentor = {"relationship": "mentor"}
    assert (await c.put(f"/v1/reflections/{rid}/shares/m1", json=share_mentor, headers=S1)).status_code == 422
    publisher = stack.app.state.runtime.publisher
    assigned = MentorAssigned(assignment_id="a1", mentor_id="m1", mentee_id="s1", assigned_at=utcnow(), score=0.9)
    await publisher.publish(new_event(assigned, source="/services/mentorship"))

    async def mentor_share_accepted():
        r = await c.put(f"/v1/reflections/{rid}/shares/m1", json=share_mentor, headers=S1)
        return r.status_code == 200

    await eventually(mentor_share_accepted, timeout=30, message="mentor.assigned consumed")
    assert (await c.get(f"/v1/reflections/{rid}", headers=M1)).status_code == 200
    ended = MentorshipEnded(assignment_id="a1", mentor_id="m1", mentee_id="s1", ended_at=utcnow(), ended_by="mentee")
    await publisher.publish(new_event(ended, source="/services/mentorship"))

    async def mentor_lost_access():
        return (await c.get(f"/v1/reflections/{rid}", headers=M1)).status_code == 404

    await eventually(mentor_lost_access, timeout=30, message="mentorship.ended consumed")
    assert (await c.get(f"/v1/reflections/{rid}", headers=F1)).status_code == 200
    unshared = await c.delete(f"/v1/reflections/{rid}/shares/f1", headers=S1)
    assert unshared.status_code == 200
    assert (await c.get(f"/v1/reflections/{rid}", headers=F1)).status_code == 404
    raw = await stack.db["reflections"].find_one({"_id": rid})
    assert "rushed" not in repr(raw)
