"""The climate pulse on the real broker and database: instruments as data, invitations when a rotation
ends (once, across restarts), anonymous answers, release only after grades are final, alerts on a drop."""

from datetime import timedelta

import pytest

from feedback.domain.climate import DEFAULT_PULSE
from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, eventually

from .conftest import feedback_settings

pytestmark = pytest.mark.integration

ADMIN, DIRECTOR, FACULTY = auth("a1", "admin"), auth("d1", "clerkship_director"), auth("f1", "faculty")
MIN = 3


def student(n):
    return auth(f"s{n}", "student")


def day(offset):
    return (utcnow() + timedelta(days=offset)).date().isoformat()


def roster(students, *, site="north", period="2026-b1", ended=-1, final=False, director="d1"):
    return {
        "site": site,
        "specialty": "surgery",
        "period": period,
        "end_date": day(ended),
        "student_ids": [f"s{n}" for n in students],
        "grades_final": final,
        "director_id": director,
    }


def answers(safety=4, **overrides):
    out = {
        item.id: (safety if item.subscale == "psychological_safety" else 4) if item.option_set == "agreement" else 0
        for item in DEFAULT_PULSE.items
    }
    return {"answers": {**out, **overrides}}


def climate_settings(isolation, **overrides):
    return feedback_settings(isolation, climate_sweep_interval_seconds=0.2, min_group_size=MIN, **overrides)


async def test_instruments_are_served_and_loaded_as_data(make_stack, isolation):
    async with make_stack(climate_settings(isolation)) as stack:
        listed = (await stack.client.get("/v1/climate/instruments", headers=student(1))).json()["items"]
        assert listed[0]["code"] == DEFAULT_PULSE.code and len(listed[0]["items"]) == len(DEFAULT_PULSE.items)
        mine = {**DEFAULT_PULSE.model_dump(mode="json"), "code": "our-pulse", "name": "Our pulse"}
        mine["items"] = mine["items"][:5]
        mine["subscales"] = mine["subscales"][:2]
        put = await stack.client.put("/v1/climate/instruments/our-pulse", json=mine, headers=ADMIN)
        assert put.status_code == 200, put.text
        assert (await stack.client.get("/v1/climate/instruments/our-pulse", headers=FACULTY)).json()[
            "name"
        ] == "Our pulse"
        broken = {**mine, "items": [{**mine["items"][0], "subscale": "nowhere"}]}
        bad = await stack.client.put("/v1/climate/instruments/our-pulse", json=broken, headers=ADMIN)
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
        default = DEFAULT_PULSE.model_dump(mode="json")
        assert (
            await stack.client.put(f"/v1/climate/instruments/{DEFAULT_PULSE.code}", json=default, headers=ADMIN)
        ).status_code == 409
        assert (
            await stack.client.put("/v1/climate/instruments/our-pulse", json=mine, headers=FACULTY)
        ).status_code == 403


async def test_students_are_invited_once_when_a_rotation_ends_even_across_a_restart(make_stack, isolation):
    settings = climate_settings(isolation)
    async with make_stack(settings) as stack:
        ended = await stack.client.put("/v1/rotations/rot-1", json=roster([1, 2]), headers=ADMIN)
        assert ended.status_code == 200, ended.text
        assert ended.json()["students"] == 2
        await stack.client.put("/v1/rotations/rot-later", json=roster([1], ended=5), headers=ADMIN)
        await stack.reader.wait_for(lambda e: e.type == "climate.invited", count=2)
        event = stack.events("climate.invited", student_id="s1")[0]
        assert event.subject == "s1" and event.data["rotation_id"] == "rot-1"
        assert set(event.data) == {"rotation_id", "student_id", "closes_at", "invited_at"}
    async with make_stack(settings) as restarted:
        await restarted.client.put("/v1/rotations/rot-1", json=roster([1, 2, 3]), headers=ADMIN)
        await restarted.reader.wait_for(lambda e: e.type == "climate.invited" and e.data["student_id"] == "s3")
        start = restarted.ctx.sweeps.get("climate-invitations", 0)
        await eventually(lambda: restarted.ctx.sweeps.get("climate-invitations", 0) >= start + 5, timeout=20)
        invited = [(e.data["rotation_id"], e.data["student_id"]) for e in restarted.events("climate.invited")]
        assert sorted(invited) == [("rot-1", "s1"), ("rot-1", "s2"), ("rot-1", "s3")]
        mine = (await restarted.client.get("/v1/me/climate-invitations", headers=student(1))).json()["items"]
        assert [(i["rotation_id"], i["answered"]) for i in mine] == [("rot-1", False)]


async def test_answers_are_anonymous_single_and_released_only_after_grades_are_final(make_stack, isolation):
    async with make_stack(climate_settings(isolation)) as stack:
        client = stack.client
        await client.put("/v1/rotations/rot-a", json=roster([1, 2, 3, 4]), headers=ADMIN)
        await client.put("/v1/rotations/rot-small", json=roster([5, 6], site="south"), headers=ADMIN)
        for n in (1, 2, 3):
            reply = await client.post("/v1/rotations/rot-a/climate-responses", json=answers(), headers=student(n))
            assert reply.status_code == 200, reply.text
            assert reply.json() == {"rotation_id": "rot-a", "accepted": True, "anonymous": True}
        for n in (5, 6):
            assert (
                await client.post("/v1/rotations/rot-small/climate-responses", json=answers(1), headers=student(n))
            ).status_code == 200
        twice = await client.post("/v1/rotations/rot-a/climate-responses", json=answers(), headers=student(1))
        assert twice.status_code == 409
        stranger = await client.post("/v1/rotations/rot-a/climate-responses", json=answers(), headers=student(9))
        assert stranger.status_code == 403
        wrong = await client.post(
            "/v1/rotations/rot-a/climate-responses", json=answers(safe_to_ask=9), headers=student(4)
        )
        assert wrong.status_code == 422 and "9" not in wrong.json()["detail"]
        mine = (await client.get("/v1/me/climate-invitations", headers=student(1))).json()["items"]
        assert [(i["rotation_id"], i["answered"]) for i in mine] == [("rot-a", True)]

        # what a reader of the database finds: answers without identity or time, tokens without anything
        stored = await stack.db["climate_answers"].find_one({"_id": "rot-a"})
        assert len(stored["responses"]) == 3
        for response in stored["responses"]:
            assert set(response) == {"id", "day", "answers"} and len(response["day"]) == 10
            assert not isinstance(response["id"], type(stack.db["x"].find_one)) and len(response["id"]) == 32
        text = repr(stored)
        assert "s1" not in text and "s2" not in text and "s3" not in text
        tokens = await stack.db["climate_tokens"].find({}).to_list(None)
        assert len(tokens) == 5 and all(set(t) == {"_id"} for t in tokens)

        # not released: grades not final, window still open
        assert (await client.get("/v1/climate/results", headers=DIRECTOR)).json()["groups"] == []
        await client.put("/v1/rotations/rot-a", json=roster([1, 2, 3, 4], ended=-30), headers=ADMIN)
        assert (await client.get("/v1/climate/results", headers=DIRECTOR)).json()["groups"] == []
        # grades final and window closed: released, for the right people only; the small one never
        await client.put("/v1/rotations/rot-a", json=roster([1, 2, 3, 4], ended=-30, final=True), headers=ADMIN)
        await client.put(
            "/v1/rotations/rot-small", json=roster([5, 6], site="south", ended=-30, final=True), headers=ADMIN
        )
        late = await client.post("/v1/rotations/rot-a/climate-responses", json=answers(), headers=student(4))
        assert late.status_code == 409
        # a closed pulse cannot be reopened (an answer added after release would show in the difference)
        reopen = await client.put("/v1/rotations/rot-a", json=roster([1, 2, 3, 4], final=True), headers=ADMIN)
        assert reopen.status_code == 409
        concern = {"description": "d", "when": "w", "where": "x", "anonymous": True, "site": "north"}
        for category in ("mistreatment", "mistreatment", "mistreatment", "bias"):
            reply = await client.post("/v1/concerns", json={**concern, "category": category})
            assert reply.status_code == 201, reply.text
        results = (await client.get("/v1/climate/results?group_by=site", headers=DIRECTOR)).json()
        (group,) = results["groups"]
        assert group["key"] == "north" and group["responses"] == 3 and group["rotations"] == 1
        assert group["subscales"]["psychological_safety"]["mean"] == 4.0
        # all three chose the same option: shown, it would tell each one's answer, so it is hidden
        assert group["subscales"]["psychological_safety"]["items"]["safe_to_ask"] == {"counts": {}, "suppressed": 3}
        assert group["concerns"] == {"mistreatment": 3, "discrimination": None, "bias": None}  # one bias: hidden
        # three reports about one site within the cluster window: its clerkship director is alerted, once
        (cluster,) = await stack.reader.wait_for(
            lambda e: e.type == "climate.alert_raised" and e.data["reason"] == "concern_cluster"
        )
        assert cluster.data["site"] == "north" and cluster.data["director_id"] == "d1"
        assert set(cluster.data) == {"alert_id", "site", "reason", "period", "subscales", "director_id", "raised_at"}
        assert cluster.data["subscales"] == []  # no count, no category, no report
        for who in (FACULTY, student(1), auth("c1", "concerns_officer")):
            assert (await client.get("/v1/climate/results", headers=who)).status_code == 403
        assert (await client.get("/v1/climate/results", headers=ADMIN)).status_code == 200


async def test_a_site_whose_climate_drops_alerts_its_clerkship_director_once(make_stack, isolation):
    async with make_stack(climate_settings(isolation)) as stack:
        client = stack.client
        for rot, period, safety in (("b1", "2026-b1", 5), ("b2", "2026-b2", 2)):
            await client.put(f"/v1/rotations/{rot}", json=roster([1, 2, 3], period=period), headers=ADMIN)
            for n in (1, 2, 3):
                reply = await client.post(
                    f"/v1/rotations/{rot}/climate-responses", json=answers(safety), headers=student(n)
                )
                assert reply.status_code == 200
        for rot, period, ended in (("b1", "2026-b1", -60), ("b2", "2026-b2", -30)):
            await client.put(
                f"/v1/rotations/{rot}", json=roster([1, 2, 3], period=period, ended=ended, final=True), headers=ADMIN
            )
        (event,) = await stack.reader.wait_for(lambda e: e.type == "climate.alert_raised")
        assert event.data["site"] == "north" and event.data["period"] == "2026-b2"
        assert event.data["subscales"] == ["psychological_safety"] and event.data["director_id"] == "d1"
        start = stack.ctx.sweeps.get("climate-alerts", 0)
        await eventually(lambda: stack.ctx.sweeps.get("climate-alerts", 0) >= start + 5, timeout=20)
        assert len(stack.events("climate.alert_raised")) == 1
        trend = (await client.get("/v1/climate/results", headers=DIRECTOR)).json()["groups"][0]["trend"]
        assert [p["period"] for p in trend] == ["2026-b1", "2026-b2"]
        assert trend[1]["change"]["psychological_safety"] == -3.0


async def test_erasure_takes_the_student_off_rosters_and_suggestions_and_leaves_anonymous_answers(
    make_stack, isolation
):
    from medsupport_shared.event_types import StudentErasureRequested
    from medsupport_shared.events import new_event

    async with make_stack(climate_settings(isolation)) as stack:
        await stack.client.put("/v1/rotations/rot-e", json=roster([1, 2]), headers=ADMIN)
        await stack.reader.wait_for(lambda e: e.type == "climate.invited", count=2)
        assert (
            await stack.client.post("/v1/rotations/rot-e/climate-responses", json=answers(), headers=student(1))
        ).status_code == 200
        idea = {"programme": "MBBS", "title": "t", "body": "b", "anonymous": False}
        suggestion = (await stack.client.post("/v1/suggestions", json=idea, headers=student(1))).json()
        event = StudentErasureRequested(student_id="s1", requested_at=utcnow(), requested_by="admin1")
        await stack.app.state.runtime.publisher.publish(new_event(event, source="/services/wellbeing"))

        async def erased():
            stored = await stack.db["rotations"].find_one({"_id": "rot-e"})
            return "s1" not in stored["student_ids"] and "s1" not in stored["invited_ids"]

        await eventually(erased, timeout=30, message="erasure consumed")
        assert (await stack.client.get("/v1/rotations/rot-e", headers=ADMIN)).json()["students"] == 1
        assert len((await stack.db["climate_answers"].find_one({"_id": "rot-e"}))["responses"]) == 1
        kept = await stack.db["suggestions"].find_one({"_id": suggestion["id"]})
        assert "author_id" not in kept and kept["author_erased"] is True


async def test_rosters_outside_the_calendar_and_unknown_instruments_are_4xx(make_stack, isolation):
    async with make_stack(climate_settings(isolation)) as stack:
        far = await stack.client.put(
            "/v1/rotations/rot-x", json={**roster([1]), "end_date": "9999-12-31"}, headers=ADMIN
        )
        assert far.status_code == 422
        unknown = await stack.client.put(
            "/v1/rotations/rot-x", json={**roster([1]), "instrument": "nope"}, headers=ADMIN
        )
        assert unknown.status_code == 404
        assert (await stack.client.put("/v1/rotations/rot-x", json=roster([1]), headers=student(1))).status_code == 403
        assert (await stack.client.get("/v1/climate/results?instrument=nope", headers=ADMIN)).status_code == 404
        missing = await stack.client.post("/v1/rotations/nope/climate-responses", json=answers(), headers=student(1))
        assert missing.status_code == 404
