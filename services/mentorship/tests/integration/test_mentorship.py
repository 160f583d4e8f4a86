"""Mentorship over HTTP, the real database and the real broker."""

import asyncio

import pytest

from medsupport_shared.event_types import FlagRaised
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.kafka import EventPublisher
from medsupport_shared.testing import TopicReader, auth, eventually, running
from mentorship.app import create_app
from mentorship.settings import MentorshipSettings

pytestmark = pytest.mark.integration
ADMIN = auth("admin-1", "admin")
PROFILE = {"specialty": "surgery", "interests": ["research"], "languages": ["en"], "capacity": 1}


@pytest.fixture
async def service(isolation):
    settings = isolation.settings(MentorshipSettings)
    app = create_app(settings)
    async with (
        running(app) as client,
        TopicReader(settings.kafka_bootstrap_servers, isolation.topic("mentorship.events.v1")) as reader,
    ):
        client.reader, client.app, client.isolation = reader, app, isolation
        yield client


async def mentor(client, mentor_id, **overrides):
    response = await client.put("/v1/mentors/me", json={**PROFILE, **overrides}, headers=auth(mentor_id, "mentor"))
    assert response.status_code == 200, response.text


async def wants(client, student_id, **overrides):
    body = {"specialty": "surgery", "interests": ["research"], "languages": ["en"], **overrides}
    response = await client.put("/v1/mentees/me", json=body, headers=auth(student_id, "student", cohort="2027"))
    assert response.status_code == 200, response.text


async def test_concurrent_manual_assignments_to_the_last_slot_exactly_one_succeeds(service):
    await mentor(service, "m1")
    results = await asyncio.gather(
        *[
            service.post("/v1/assignments", json={"mentor_id": "m1", "mentee_id": f"s{i}"}, headers=ADMIN)
            for i in range(6)
        ]
    )
    assert sorted(r.status_code for r in results) == [201] + [409] * 5
    assert all(r.headers["content-type"] == "application/problem+json" for r in results if r.status_code == 409)
    active = (await service.get("/v1/assignments?status=active", headers=ADMIN)).json()["items"]
    assert len(active) == 1


async def test_a_matching_run_assigns_explains_and_emits_and_ending_frees_capacity(service):
    await mentor(service, "m1")
    await mentor(service, "m2", specialty="paediatrics", languages=["fr"])
    await wants(service, "s1")
    await wants(service, "s2", languages=["de"])  # no mentor shares a language: never matched
    dry = await service.post("/v1/matching/runs", json={"dry_run": True}, headers=ADMIN)
    assert dry.json()["matches"][0]["assignment_id"] is None
    run = await service.post("/v1/matching/runs", json={}, headers=ADMIN)
    assert run.status_code == 201
    (made,) = run.json()["matches"]
    assert (made["mentee_id"], made["mentor_id"]) == ("s1", "m1") and made["criteria"] == {
        "specialty": 3.0,
        "interests": 1.0,
    }
    assert run.json()["unmatched"] == ["s2"]
    assigned = await service.reader.wait_for(lambda e: e.type == "mentor.assigned")
    assert assigned[0].data["mentee_id"] == "s1" and assigned[0].subject == "s1"
    assignment_id = made["assignment_id"]
    assert (await service.get(f"/v1/assignments/{assignment_id}", headers=auth("s2", "student"))).status_code == 404
    ended = await service.post(
        f"/v1/assignments/{assignment_id}/end", json={"reason": "schedules clash"}, headers=auth("s1", "student")
    )
    assert ended.status_code == 200 and ended.json()["end_reason"] is None  # private to admins
    as_admin = await service.get(f"/v1/assignments/{assignment_id}", headers=ADMIN)
    assert as_admin.json()["end_reason"] == "schedules clash"
    event = (await service.reader.wait_for(lambda e: e.type == "mentorship.ended"))[0]
    assert "schedules" not in str(event.data) and event.data["ended_by"] == "mentee"
    again = await service.post("/v1/assignments", json={"mentor_id": "m1", "mentee_id": "s3"}, headers=ADMIN)
    assert again.status_code == 201  # the slot was freed


async def test_a_student_with_an_open_flag_is_matched_first(service):
    await mentor(service, "m1")
    await wants(service, "a-student")
    await wants(service, "z-student", interests=[])
    publisher = EventPublisher(
        bootstrap_servers=service.isolation.infra.kafka_bootstrap_servers,
        topic_prefix=service.isolation.topic_prefix,
        service="test",
    )
    try:
        await publisher.publish(
            new_event(
                FlagRaised(
                    flag_id="f",
                    student_id="z-student",
                    severity="elevated",
                    reasons=["who5_low"],
                    instrument="who5",
                    raised_at=utcnow(),
                ),
                source="/services/wellbeing",
            )
        )
    finally:
        await publisher.stop()
    repo = service.app.state.services.repo
    await eventually(lambda: repo.priority.find_one({"_id": "z-student"}), timeout=30)
    stored = await repo.priority.find_one({"_id": "z-student"})
    assert set(stored) == {"_id", "until"}  # nothing about wellbeing is kept
    run = await service.post("/v1/matching/runs", json={}, headers=ADMIN)
    assert [m["mentee_id"] for m in run.json()["matches"]] == ["z-student"]


async def test_meetings_are_logged_by_either_side_with_private_notes(service):
    await mentor(service, "m1")
    created = await service.post("/v1/assignments", json={"mentor_id": "m1", "mentee_id": "s1"}, headers=ADMIN)
    assignment_id = created.json()["id"]
    body = {"met_at": "2026-11-20T17:00:00Z", "format": "video", "notes": "mentor-only thoughts"}
    logged = await service.post(f"/v1/assignments/{assignment_id}/meetings", json=body, headers=auth("m1", "mentor"))
    assert logged.status_code == 201 and logged.json()["my_notes"] == "mentor-only thoughts"
    seen_by_mentee = await service.get(f"/v1/assignments/{assignment_id}/meetings", headers=auth("s1", "student"))
    assert seen_by_mentee.json()["next_cursor"] is None
    assert [m["my_notes"] for m in seen_by_mentee.json()["items"]] == [None]
    outsider = await service.post(f"/v1/assignments/{assignment_id}/meetings", json=body, headers=auth("x", "mentor"))
    assert outsider.status_code == 404
    event = (await service.reader.wait_for(lambda e: e.type == "meeting.logged"))[0]
    assert "notes" not in event.data and event.data["logged_by"] == "mentor"
    stored = await service.app.state.services.repo.meetings.find_one({})
    assert "mentor-only" not in str(stored["notes"])


async def test_peer_group_seats_hold_under_concurrent_joins(service):
    created = await service.post(
        "/v1/peer-groups", headers=auth("f1", "faculty"), json={"name": "Circle", "cohort": "2027", "size_limit": 3}
    )
    group_id = created.json()["id"]
    assert created.json()["seats_free"] == 3
    joins = await asyncio.gather(
        *[
            service.post(f"/v1/peer-groups/{group_id}/join", headers=auth(f"s{i}", "student", cohort="2027"))
            for i in range(8)
        ]
    )
    assert sorted(r.status_code for r in joins) == [200] * 3 + [409] * 5
    member = next(f"s{i}" for i, r in enumerate(joins) if r.status_code == 200)
    members = (await service.get("/v1/peer-groups", headers=auth(member, "student"))).json()["items"][0]["members"]
    assert len(members) == 3
    outsider_view = (await service.get("/v1/peer-groups", headers=auth("s7", "student"))).json()["items"][0]
    assert outsider_view["members"] is None or "s7" in members
    assert outsider_view["seats_free"] == 0  # a full group is seen as full before trying to join


@pytest.mark.parametrize(
    ("method", "path", "roles", "body"),
    [
        ("put", "/v1/mentors/me", ("student",), PROFILE),
        ("post", "/v1/matching/runs", ("mentor",), {}),
        ("post", "/v1/assignments", ("student",), {"mentor_id": "m1", "mentee_id": "s1"}),
        ("put", "/v1/mentees/me", ("mentor",), {"languages": ["en"]}),
        ("post", "/v1/peer-groups/matching", ("student",), {"cohort": "2027", "student_ids": ["s1"]}),
    ],
)
async def test_role_matrix(service, method, path, roles, body):
    response = await getattr(service, method)(path, json=body, headers=auth("someone", *roles))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {**PROFILE, "capacity": -1},
        {**PROFILE, "languages": []},
        {**PROFILE, "formats": ["telepathy"]},
        {"specialty": "x", "capacity": 2},
    ],
)
async def test_bad_input_is_rejected_and_stores_nothing(service, body):
    response = await service.put("/v1/mentors/me", json=body, headers=auth("m9", "mentor"))
    assert response.status_code == 422 and response.json()["errors"]
    assert await service.app.state.services.repo.mentors.count_documents({}) == 0
