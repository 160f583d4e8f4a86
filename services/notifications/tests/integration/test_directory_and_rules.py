"""Directory, rotas, rule validation over HTTP, student recipients and erasure."""

from datetime import UTC, datetime, timedelta

import pytest

from medsupport_shared.event_types import FeedbackSubmitted, MentorAssigned, StudentErasureRequested
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import auth, eventually, running

from .conftest import ADMIN, wait_for_consumer

pytestmark = pytest.mark.integration
RULE = {
    "id": "cohort-2027-urgent",
    "event_types": ["flag.raised"],
    "severities": ["urgent"],
    "cohorts": ["2027"],
    "target": {"kind": "role", "value": "wellbeing_lead"},
    "channels": ["inapp"],
}


async def test_rules_are_validated_on_write_and_admin_only(stack):
    async with running(stack.app()) as client:
        assert (await client.post("/v1/routes", json=RULE, headers=auth("c1", "counsellor"))).status_code == 403
        bad = await client.post("/v1/routes", json={**RULE, "target": {"kind": "assessor"}}, headers=ADMIN)
        assert bad.status_code == 422 and "names no assessor" in bad.json()["errors"][0]["msg"]
        nobody = await client.post(
            "/v1/routes", json={**RULE, "target": {"kind": "rota", "value": "nights"}}, headers=ADMIN
        )
        assert nobody.status_code == 422
        keyed = {**ADMIN, "Idempotency-Key": "add-cohort-rule"}
        created = await client.post("/v1/routes", json=RULE, headers=keyed)
        assert created.status_code == 201
        retried = await client.post("/v1/routes", json=RULE, headers=keyed)  # a retry answers the first result
        assert retried.status_code == 201 and retried.json() == created.json()
        assert retried.headers["Idempotent-Replayed"] == "true"
        other = await client.post("/v1/routes", json={**RULE, "channels": ["email"]}, headers=keyed)
        assert other.status_code == 409
        assert (await client.post("/v1/routes", json=RULE, headers=ADMIN)).status_code == 409
        first = (await client.get("/v1/routes", headers=ADMIN)).json()
        ids = [r["id"] for r in first["items"]]
        assert "wellbeing-urgent" in ids and "cohort-2027-urgent" in ids  # defaults were seeded
        assert ids == sorted(ids) and first["next_cursor"] is None
        paged, cursor = [], None  # the contract's list shape: ?limit= and ?cursor=
        while True:
            params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/v1/routes", params=params, headers=auth("o1", "ops"))).json()
            assert len(page["items"]) <= 5
            paged += [r["id"] for r in page["items"]]
            if (cursor := page["next_cursor"]) is None:
                break
        assert paged == ids
        assert (await client.get("/v1/routes?cursor=%25%25", headers=ADMIN)).status_code == 400
        assert (await client.get("/v1/routes?limit=201", headers=ADMIN)).status_code == 422
        assert (await client.delete("/v1/routes/cohort-2027-urgent", headers=ADMIN)).status_code == 204
        assert (await client.delete("/v1/routes/cohort-2027-urgent", headers=ADMIN)).status_code == 404


async def test_staff_directory_and_rotas(stack):
    async with running(stack.app()) as client:
        bad = await client.put("/v1/staff/x", json={"roles": ["wizard"], "email": "x@example.edu"}, headers=ADMIN)
        assert bad.status_code == 422
        assert (
            await client.put("/v1/staff/x", json={"roles": ["counsellor"], "email": "not-an-email"}, headers=ADMIN)
        ).status_code == 422
        for strict in (
            {"roles": ["counsellor"], "email": "x@med.example.edu", "channels": {"email": "no"}},
            {"roles": ["counsellor"], "email": "x@med.example.edu", "pager": "555-0100"},
        ):
            assert (await client.put("/v1/staff/x", json=strict, headers=ADMIN)).status_code == 422, strict
        await stack.setup_staff(client)
        assert (await client.get("/v1/staff/c1", headers=auth("c1", "counsellor"))).json()[
            "email"
        ] == "c1@med.example.edu"
        assert (await client.get("/v1/staff/c1", headers=auth("c2", "counsellor"))).status_code == 403
        later = (utcnow() + timedelta(hours=12)).isoformat()
        on_call = await client.get(
            "/v1/rotas/counselling/on-call", params={"at": later}, headers=auth("c2", "counsellor")
        )
        assert on_call.json()["staff_id"] == "lead-1"  # a gap falls back to the lead
        start = datetime(2026, 1, 1, tzinfo=UTC)
        bad_shift = {
            "lead_id": "lead-1",
            "shifts": [{"staff_id": "c1", "start": start.isoformat(), "end": start.isoformat()}],
        }
        assert (await client.put("/v1/rotas/counselling", json=bad_shift, headers=ADMIN)).status_code == 422
        # the time asked about is answered in UTC, whatever offset it came with
        asked = await client.get(
            "/v1/rotas/counselling/on-call", params={"at": "2026-01-01T12:00:00+02:00"}, headers=ADMIN
        )
        assert asked.json()["at"] == "2026-01-01T10:00:00Z"
        # a rota may name only people of the staff directory: nobody unknown ends up holding an alert
        before = await client.get("/v1/rotas/counselling", headers=ADMIN)
        ghost = {
            "lead_id": "lead-ghost",
            "shifts": [{"staff_id": "c-ghost", "start": start.isoformat(), "end": later}],
            "overrides": [{"staff_id": "c1", "start": start.isoformat(), "end": later}],
        }
        refused = await client.put("/v1/rotas/counselling", json=ghost, headers=ADMIN)
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
        assert [e["loc"] for e in refused.json()["errors"]] == [["body", "lead_id"], ["body", "shifts", 0, "staff_id"]]
        assert (await client.get("/v1/rotas/counselling", headers=ADMIN)).json() == before.json()


async def test_students_receive_their_own_alerts_and_erasure_removes_them(stack):
    app = stack.app()
    async with running(app) as client:
        student = auth("s1", "student", email="s1@student.example.edu")
        prefs = await client.put("/v1/me/preferences", json={}, headers=student)
        assert prefs.status_code == 200 and prefs.json()["email"] == "s1@student.example.edu"
        await wait_for_consumer(app)
        await stack.publisher.publish(
            new_event(
                MentorAssigned(assignment_id="a1", mentor_id="m1", mentee_id="s1", assigned_at=utcnow(), score=0.9),
                source="/services/mentorship",
            )
        )
        mine = await eventually(lambda: _inbox(client, student))
        assert mine[0]["event_type"] == "mentor.assigned" and mine[0]["link"] == "/mentorship/assignments/a1"
        mentor = await eventually(lambda: _inbox(client, auth("m1", "mentor")))
        assert mentor[0]["subject_id"] == "s1"
        await eventually(lambda: [m for m in stack.mailbox.messages if m[0] == ["s1@student.example.edu"]])
        await stack.publisher.publish(
            new_event(
                StudentErasureRequested(student_id="s1", requested_at=utcnow(), requested_by="admin-1"),
                source="/services/wellbeing",
            )
        )
        await eventually(lambda: _empty(client, student))
        assert await app.state.services.repo.alerts.count_documents({"subject_id": "s1"}) == 0


async def test_each_feedback_item_is_an_alert_of_its_own_with_its_own_link(stack):
    """Grouping is for bursts of wellbeing flags; separate feedback items stay separate."""
    app = stack.app()
    async with running(app) as client:
        student = auth("s1", "student")
        await wait_for_consumer(app)
        for feedback_id in ("fb-1", "fb-2", "fb-3"):
            item = FeedbackSubmitted(
                feedback_id=feedback_id,
                student_id="s1",
                author_id="f1",
                kind="faculty",
                context="rotation:cardio",
                submitted_at=utcnow(),
            )
            await stack.publisher.publish(new_event(item, source="/services/feedback"))
        mine = await eventually(lambda: _inbox_of_size(client, student, 3), timeout=30)
        assert sorted(a["link"] for a in mine) == ["/feedback/fb-1", "/feedback/fb-2", "/feedback/fb-3"]
        assert all(len(a["event_ids"]) == 1 for a in mine)


async def _inbox_of_size(client, headers, size):
    items = await _inbox(client, headers)
    return items if len(items) == size else None


async def _inbox(client, headers):
    return (await client.get("/v1/inbox", headers=headers)).json()["items"]


async def _empty(client, headers):
    return await _inbox(client, headers) == []
