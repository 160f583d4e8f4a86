"""A student cannot flood staff (or peers) with feedback requests or peer feedback: per-user limits
shared by the replicas, answered 429 problem+json with Retry-After."""

import pytest

from .test_feedback_roles import F1, S1, S2, feedback_body

pytestmark = pytest.mark.integration
REQUEST = {"assessor_id": "f1", "context": {"kind": "encounter", "id": "lp-1"}, "note": "Lumbar puncture"}


def assert_limited(response):
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert 0 < int(response.headers["Retry-After"]) <= 3600


async def test_feedback_requests_are_limited_per_student(make_stack):
    async with make_stack(feedback_requests_per_hour=2) as stack, make_stack(feedback_requests_per_hour=2) as other:
        assert (await stack.client.post("/v1/feedback/requests", json=REQUEST, headers=S1)).status_code == 201
        assert (await other.client.post("/v1/feedback/requests", json=REQUEST, headers=S1)).status_code == 201
        assert_limited(await stack.client.post("/v1/feedback/requests", json=REQUEST, headers=S1))
        assert (await stack.client.post("/v1/feedback/requests", json=REQUEST, headers=S2)).status_code == 201
        assert await stack.db["feedback_requests"].count_documents({"student_id": "s1"}) == 2


async def test_peer_feedback_is_limited_per_author_and_faculty_is_not(make_stack):
    async with make_stack(peer_feedback_per_hour=1) as stack:
        peer = feedback_body(kind="course", context_id="anatomy")
        assert (await stack.client.post("/v1/feedback", json=peer, headers=S2)).status_code == 201
        assert_limited(await stack.client.post("/v1/feedback", json=peer, headers=S2))
        for _ in range(3):
            assert (await stack.client.post("/v1/feedback", json=feedback_body(), headers=F1)).status_code == 201
