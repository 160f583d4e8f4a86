"""Bad input gets problem+json, stores nothing and emits nothing."""

import pytest

from medsupport_shared.testing import auth

pytestmark = pytest.mark.integration

F1, S1 = auth("f1", "faculty"), auth("s1", "student")
FEEDBACK = {
    "student_id": "s1",
    "context": {"kind": "rotation", "id": "cardio"},
    "strengths": "Good.",
    "areas_for_growth": "More.",
}
REQUEST = {"assessor_id": "f1", "context": {"kind": "encounter", "id": "e1"}}
CONCERN = {"category": "bias", "description": "d", "when": "w", "where": "x", "anonymous": True}
REFLECTION = {"title": "t", "body": "b"}

CASES = [
    ("/v1/feedback", F1, {**FEEDBACK, "strengths": "   "}, "strengths"),
    ("/v1/feedback", F1, {k: v for k, v in FEEDBACK.items() if k != "areas_for_growth"}, "areas_for_growth"),
    ("/v1/feedback", F1, {**FEEDBACK, "strengths": "x" * 4001}, "strengths"),
    ("/v1/feedback", F1, {**FEEDBACK, "free_text": "x" * 8001}, "free_text"),
    ("/v1/feedback", F1, {**FEEDBACK, "strengths": 42}, "strengths"),
    ("/v1/feedback", F1, {**FEEDBACK, "context": {"kind": "ward", "id": "x"}}, "kind"),
    ("/v1/feedback", F1, {**FEEDBACK, "rating": {"scale": "e", "minimum": 1, "maximum": 5, "value": 9}}, "rating"),
    ("/v1/feedback", F1, {**FEEDBACK, "rating": {"scale": "e", "minimum": 1, "maximum": 5, "value": "3"}}, "value"),
    ("/v1/feedback", F1, {**FEEDBACK, "unexpected": 1}, "unexpected"),
    # past 64 bits a number cannot be stored at all (was a 500, found by the fuzz test)
    (
        "/v1/feedback",
        F1,
        {**FEEDBACK, "rating": {"scale": "e", "minimum": 2**63, "maximum": 2**63 + 4, "value": 2**63}},
        "minimum",
    ),
    (
        "/v1/feedback",
        F1,
        {**FEEDBACK, "rating": {"scale": "e", "minimum": -(2**70), "maximum": -(2**70) + 4, "value": -(2**70)}},
        "maximum",
    ),
    ("/v1/feedback/requests", S1, {**REQUEST, "assessor_id": ""}, "assessor_id"),
    ("/v1/feedback/requests", S1, {**REQUEST, "note": ["list"]}, "note"),
    ("/v1/concerns", None, {**CONCERN, "category": "gossip"}, "category"),
    ("/v1/concerns", None, {**CONCERN, "description": " "}, "description"),
    ("/v1/concerns", None, {**CONCERN, "description": "x" * 10001}, "description"),
    ("/v1/concerns", None, {**CONCERN, "anonymous": "yes"}, "anonymous"),
    ("/v1/concerns", None, {k: v for k, v in CONCERN.items() if k != "where"}, "where"),
    ("/v1/reflections", S1, {**REFLECTION, "body": ""}, "body"),
    ("/v1/reflections", S1, {**REFLECTION, "body": "x" * 20001}, "body"),
    (
        "/v1/reflections",
        S1,
        {**REFLECTION, "rating": {"scale": "e", "minimum": 2**64, "maximum": 2**64 + 1, "value": 2**64}},
        "value",
    ),
]


async def test_bad_input_is_rejected_stores_nothing_emits_nothing(stack):
    for route, headers, body, field in CASES:
        response = await stack.client.post(route, json=body, headers=headers or {})
        assert response.status_code == 422, (route, field, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 422 and problem["type"].endswith("/validation")
        assert any(field in [str(p) for p in error["loc"]] or field in error["msg"] for error in problem["errors"]), (
            field,
            problem,
        )
        assert "x" * 100 not in response.text  # the rejected input is not echoed
    not_json = await stack.client.post(
        "/v1/feedback", content=b"{not json", headers={**F1, "content-type": "application/json"}
    )
    assert not_json.status_code == 422
    for name in ("feedback", "feedback_requests", "concerns", "reflections"):
        assert await stack.db[name].count_documents({}) == 0, name
    # a valid report afterwards is the first and only event on the topic: nothing was emitted before it
    ok = await stack.client.post("/v1/concerns", json=CONCERN)
    assert ok.status_code == 201
    await stack.reader.wait_for(lambda e: e.data.get("concern_id") == ok.json()["id"])
    assert [e.data.get("concern_id") for e in stack.reader.events] == [ok.json()["id"]]


async def test_bad_query_parameters(stack):
    assert (await stack.client.get("/v1/feedback?limit=0", headers=S1)).status_code == 422
    assert (await stack.client.get("/v1/feedback?limit=201", headers=S1)).status_code == 422
    assert (await stack.client.get("/v1/feedback?cursor=%%%", headers=S1)).status_code == 400
    assert (
        await stack.client.get("/v1/concerns?status=open", headers=auth("o", "concerns_officer"))
    ).status_code == 422
