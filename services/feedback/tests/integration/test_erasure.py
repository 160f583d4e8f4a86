"""student.erasure.requested removes what the service holds about the student."""

import pytest

from medsupport_shared.event_types import StudentErasureRequested
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import auth, eventually

pytestmark = pytest.mark.integration


async def test_erasure_deletes_the_students_records_and_unlinks_named_reports(stack):
    c, s1, f1 = stack.client, auth("s1", "student"), auth("f1", "faculty")
    body = {"student_id": "s1", "context": {"kind": "rotation", "id": "r"}, "strengths": "a", "areas_for_growth": "b"}
    assert (await c.post("/v1/feedback", json=body, headers=f1)).status_code == 201
    keep = await c.post("/v1/feedback", json={**body, "student_id": "s2"}, headers=f1)
    retried = {**s1, "Idempotency-Key": "reflection-1"}  # the reply kept for retries goes with the student
    assert (await c.post("/v1/reflections", json={"title": "t", "body": "b"}, headers=retried)).status_code == 201
    other = {**f1, "Idempotency-Key": "feedback-1"}
    assert (await c.post("/v1/feedback", json={**body, "student_id": "s3"}, headers=other)).status_code == 201
    assert await stack.db["idempotency_keys"].count_documents({}) == 2
    ask = {"assessor_id": "f1", "context": {"kind": "encounter", "id": "e"}}
    assert (await c.post("/v1/feedback/requests", json=ask, headers=s1)).status_code == 201
    concern = {"category": "safety", "description": "d", "when": "w", "where": "x", "anonymous": False}
    named = (await c.post("/v1/concerns", json=concern, headers=s1)).json()

    event = StudentErasureRequested(student_id="s1", requested_at=utcnow(), requested_by="admin1")
    await stack.app.state.runtime.publisher.publish(new_event(event, source="/services/wellbeing"))

    async def erased():  # the handler's last step
        stored = await stack.db["concerns"].find_one({"_id": named["id"]})
        return stored.get("reporter_erased") is True

    await eventually(erased, timeout=30, message="erasure consumed")
    assert await stack.db["feedback"].count_documents({"student_id": "s1"}) == 0
    assert await stack.db["reflections"].count_documents({"student_id": "s1"}) == 0
    assert await stack.db["feedback_requests"].count_documents({"student_id": "s1"}) == 0
    stored = await stack.db["concerns"].find_one({"_id": named["id"]})
    assert "reporter_id" not in stored
    assert await stack.db["feedback"].count_documents({"_id": keep.json()["id"]}) == 1
    assert await stack.db["idempotency_keys"].count_documents({}) == 1  # the faculty member's stays
