"""Matching runs over HTTP on the real stack: the current load, hard constraints, determinism, on demand,
flag priority learned from events (and cleared by flag.resolved), and agreement with the pure function."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest

from medsupport_shared.event_types import FlagRaised, FlagResolved
from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, eventually
from mentorship.domain.matching import Mentee, Mentor, match

from .conftest import ADMIN, Stack

pytestmark = pytest.mark.integration


def pairs(run: dict[str, Any]) -> list[tuple[str, str, float]]:
    return [(m["mentee_id"], m["mentor_id"], m["score"]) for m in run["matches"]]


async def test_a_mentors_current_load_counts_against_capacity(stack: Stack) -> None:
    await stack.mentor("m1", capacity=2)
    assert (await stack.assign("m1", "earlier")).status_code == 201
    for s in ("s1", "s2", "s3"):
        await stack.wants(s)
    run = (await stack.client.post("/v1/matching/runs", json={}, headers=ADMIN)).json()
    assert len(run["matches"]) == 1
    assert sorted(run["unmatched"]) == sorted({"s1", "s2", "s3"} - {run["matches"][0]["mentee_id"]})
    assert Counter(a["mentor_id"] for a in await stack.active()) == {"m1": 2}
    # a second run finds no room and changes nothing
    again = (await stack.client.post("/v1/matching/runs", json={}, headers=ADMIN)).json()
    assert again["matches"] == [] and len(again["unmatched"]) == 2


async def test_paused_mentors_and_avoid_lists_are_hard_constraints(stack: Stack) -> None:
    await stack.mentor("paused", capacity=5, paused=True)
    await stack.mentor("avoided", capacity=5)
    await stack.wants("s1", avoid=["avoided"])
    await stack.wants("s2")
    run = (await stack.client.post("/v1/matching/runs", json={}, headers=ADMIN)).json()
    assert pairs(run) == [("s2", "avoided", 4.0)] and run["unmatched"] == ["s1"]
    refused_paused = await stack.assign("paused", "s1")
    refused_avoided = await stack.assign("avoided", "s1")
    assert (refused_paused.status_code, refused_avoided.status_code) == (409, 409)
    assert refused_paused.headers["content-type"] == "application/problem+json"
    # pausing takes effect at once; un-pausing makes room again
    await stack.mentor("avoided", capacity=5, paused=True)
    await stack.wants("s3")
    assert (await stack.client.post("/v1/matching/runs", json={}, headers=ADMIN)).json()["matches"] == []
    await stack.mentor("paused", capacity=5, paused=False)
    run = (await stack.client.post("/v1/matching/runs", json={}, headers=ADMIN)).json()
    assert {m["mentee_id"] for m in run["matches"]} == {"s1", "s3"}


async def test_dry_runs_are_deterministic_and_the_real_run_does_what_the_preview_said(stack: Stack) -> None:
    for i, specialty in enumerate(["surgery", "surgery", "paediatrics"]):
        await stack.mentor(f"m{i}", specialty=specialty, capacity=2, interests=["research", "teaching"][: i + 1])
    for i in range(7):
        await stack.wants(f"s{i}", specialty=["surgery", "paediatrics"][i % 2], interests=["teaching"][: i % 3])
    first = (await stack.client.post("/v1/matching/runs", json={"dry_run": True}, headers=ADMIN)).json()
    second = (await stack.client.post("/v1/matching/runs", json={"dry_run": True}, headers=ADMIN)).json()
    assert first["id"] != second["id"] and pairs(first) == pairs(second) and first["dry_run"] is True
    assert await stack.active() == []  # a preview assigns nothing
    real = (await stack.client.post("/v1/matching/runs", json={}, headers=ADMIN)).json()
    assert pairs(real) == pairs(first) and real["total_score"] == first["total_score"]
    assert len(real["matches"]) == 6 and len(real["unmatched"]) == 1


async def test_one_student_on_demand(stack: Stack) -> None:
    await stack.mentor("m-close", capacity=1, specialty="surgery", interests=["research"])
    await stack.mentor("m-far", capacity=1, specialty="radiology", interests=[])
    await stack.wants("s1")
    await stack.wants("s2")
    only = (await stack.client.post("/v1/matching/runs", json={"student_id": "s2"}, headers=ADMIN)).json()
    assert pairs(only) == [("s2", "m-close", 4.0)] and only["student_id"] == "s2"
    mine = await stack.client.post("/v1/matching/me", headers=auth("s1", "student", cohort="2027"))
    assert mine.status_code == 201
    assert pairs(mine.json()) == [("s1", "m-far", 0.0)]
    # a student already matched, without preferences, or unknown is told why, and no run is stored
    runs = await stack.ctx.repo.runs.count_documents({})
    twice = await stack.client.post("/v1/matching/me", headers=auth("s1", "student"))
    assert twice.status_code == 409 and "already has an active mentor" in twice.json()["detail"]
    unknown = await stack.client.post("/v1/matching/me", headers=auth("s-no-prefs", "student"))
    assert unknown.status_code == 409 and "PUT /v1/mentees/me" in unknown.json()["detail"]
    nobody = await stack.client.post("/v1/matching/runs", json={"student_id": "s-nobody"}, headers=ADMIN)
    assert nobody.status_code == 409 and nobody.headers["content-type"] == "application/problem+json"
    assert await stack.ctx.repo.runs.count_documents({}) == runs
    assert len(await stack.active()) == 2
    # a student no free mentor can take is listed as unmatched
    await stack.wants("s3")
    left = await stack.client.post("/v1/matching/me", headers=auth("s3", "student"))
    assert left.status_code == 201 and left.json()["matches"] == [] and left.json()["unmatched"] == ["s3"]


async def test_flag_priority_is_learned_from_events_and_cleared_when_resolved(stack: Stack) -> None:
    repo = stack.ctx.repo
    now = utcnow()
    await stack.publish(
        FlagRaised(
            flag_id="f1",
            student_id="s-flagged",
            severity="urgent",
            reasons=["phq9_item9_positive"],
            instrument="phq9",
            raised_at=now,
        )
    )
    stored = await eventually(lambda: repo.priority.find_one({"_id": "s-flagged"}), timeout=30)
    assert set(stored) == {"_id", "until"} and stored["until"] > now
    await stack.publish(FlagResolved(flag_id="f1", student_id="s-flagged", resolved_at=utcnow()))

    async def cleared() -> bool:
        return await repo.priority.find_one({"_id": "s-flagged"}) is None

    await eventually(cleared, timeout=30)
    await stack.mentor("m1", capacity=1)
    await stack.wants("a-better-fit")
    await stack.wants("s-flagged", specialty="paediatrics")  # a worse fit: only a priority would place them
    run = (await stack.client.post("/v1/matching/runs", json={"dry_run": True}, headers=ADMIN)).json()
    assert [m["mentee_id"] for m in run["matches"]] == ["a-better-fit"]  # no priority any more


async def test_a_run_agrees_with_the_pure_matching_on_the_same_data(stack: Stack) -> None:
    rng = random.Random(11)
    languages, interests = ["en", "fr", "es"], ["research", "teaching", "global health", "rural"]
    mentors, mentees = [], []
    for j in range(5):
        profile = {
            "specialty": rng.choice(["surgery", "psychiatry", None]),
            "interests": rng.sample(interests, rng.randint(0, 3)),
            "languages": rng.sample(languages, rng.randint(1, 2)),
            "formats": rng.sample(["video", "in-person", "phone"], 2),
            "capacity": rng.randint(0, 3),
            "background": rng.choice([None, "first-generation"]),
            "paused": j == 4,
        }
        await stack.mentor(f"m{j}", **profile)
        mentors.append(
            Mentor(
                id=f"m{j}",
                specialty=profile["specialty"],
                interests=frozenset(profile["interests"]),
                languages=frozenset(profile["languages"]),
                formats=frozenset(profile["formats"]),
                background=profile["background"],
                free_slots=profile["capacity"],
                paused=profile["paused"],
            )
        )
    for i in range(10):
        prefs = {
            "specialty": rng.choice(["surgery", "psychiatry", None]),
            "interests": rng.sample(interests, rng.randint(0, 3)),
            "languages": rng.sample(languages, rng.randint(1, 2)),
            "meeting_format": rng.choice(["video", "in-person", None]),
            "background": "first-generation",
            "wants_shared_background": rng.random() < 0.5,
            "avoid": rng.sample([f"m{j}" for j in range(5)], rng.randint(0, 2)),
        }
        await stack.wants(f"s{i}", **prefs)
        mentees.append(
            Mentee(
                id=f"s{i}",
                specialty=prefs["specialty"],
                interests=frozenset(prefs["interests"]),
                languages=frozenset(prefs["languages"]),
                meeting_format=prefs["meeting_format"],
                background=prefs["background"],
                wants_shared_background=prefs["wants_shared_background"],
                avoid=frozenset(prefs["avoid"]),
            )
        )
    expected = match(mentees, mentors, stack.settings.matching_weights)
    assert len(expected.matches) >= 4 and expected.unmatched  # a non-trivial instance
    run = (await stack.client.post("/v1/matching/runs", json={}, headers=ADMIN)).json()
    assert pairs(run) == [(m.mentee_id, m.mentor_id, m.score) for m in expected.matches]
    assert [m["criteria"] for m in run["matches"]] == [m.criteria for m in expected.matches]
    assert sorted(run["unmatched"]) == sorted(expected.unmatched)
    capacity = {t.id: t.free_slots for t in mentors}
    by_id = {s.id: s for s in mentees}
    for a in await stack.active():
        student, mentor = by_id[a["mentee_id"]], next(t for t in mentors if t.id == a["mentor_id"])
        assert mentor.id not in student.avoid and student.languages & mentor.languages and not mentor.paused
        capacity[mentor.id] -= 1
    assert min(capacity.values()) >= 0


async def test_a_dry_run_does_not_tell_who_has_a_flag_and_a_real_run_still_puts_them_first(stack: Stack) -> None:
    await stack.mentor("m1", capacity=1)
    await stack.wants("a-better-fit")
    await stack.wants("z-in-need", specialty="paediatrics")  # a worse fit: only the priority places them
    flag = FlagRaised(
        flag_id="f1",
        student_id="z-in-need",
        severity="elevated",
        reasons=["who5_low"],
        instrument="who5",
        raised_at=utcnow(),
    )
    await stack.publish(flag)
    await eventually(lambda: stack.ctx.repo.priority.find_one({"_id": "z-in-need"}), timeout=30)
    preview = (await stack.client.post("/v1/matching/runs", json={"dry_run": True}, headers=ADMIN)).json()
    assert [m["mentee_id"] for m in preview["matches"]] == ["a-better-fit"]  # as if nobody had a flag
    assert preview["unmatched"] == ["z-in-need"] and "flag" not in json.dumps(preview)
    real = (await stack.client.post("/v1/matching/runs", json={}, headers=ADMIN)).json()
    assert [m["mentee_id"] for m in real["matches"]] == ["z-in-need"]  # the priority stays in the objective
    assert set(real["matches"][0]["criteria"]) <= {"specialty", "interests", "meeting_format", "background"}
