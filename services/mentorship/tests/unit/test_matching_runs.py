"""Matching runs through the use case, on the in-memory repository: priority for open flags (never in a
preview), assignments made under capacity, and the refusals of an on-demand run."""

from __future__ import annotations

from datetime import timedelta

import pytest

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict
from medsupport_shared.events import utcnow
from mentorship.assignments import assign
from mentorship.matching_runs import run_matching

from ..fakes import FakeMentorshipRepository, fake_context

ADMIN = Principal(sub="admin-1", roles=frozenset({"admin"}))


async def one_seat_two_students(repo: FakeMentorshipRepository) -> None:
    """``a-keen`` fits the mentor better; ``z-flagged`` has an open wellbeing flag."""
    repo.add_mentor("m1", languages=["en"], capacity=1, specialty="surgery")
    repo.add_mentee("a-keen", languages=["en"], specialty="surgery")
    repo.add_mentee("z-flagged", languages=["en"])
    await repo.prioritise(student_id="z-flagged", until=utcnow() + timedelta(days=1))


async def test_a_run_places_a_student_with_an_open_flag_first_and_assigns() -> None:
    ctx, repo, outbox = fake_context()
    await one_seat_two_students(repo)
    run = await run_matching(ctx=ctx, principal=ADMIN, student_id=None, dry_run=False)
    [made] = run["matches"]
    assert (made["mentee_id"], made["mentor_id"]) == ("z-flagged", "m1") and run["unmatched"] == ["a-keen"]
    stored = await repo.assignment(assignment_id=made["assignment_id"])
    assert stored is not None and (stored.how, stored.mentee_id) == ("matching", "z-flagged")
    assert len(outbox.events("mentor.assigned")) == 1 and repo.runs == [run]


async def test_a_preview_ignores_the_flag_and_assigns_nothing() -> None:
    ctx, repo, outbox = fake_context()
    await one_seat_two_students(repo)
    run = await run_matching(ctx=ctx, principal=ADMIN, student_id=None, dry_run=True)
    assert [(m["mentee_id"], m["assignment_id"]) for m in run["matches"]] == [("a-keen", None)]
    assert run["total_score"] == 3.0 and repo.assignments == {} and outbox.dispatched == []


async def test_an_expired_flag_gives_no_priority() -> None:
    ctx, repo, _ = fake_context()
    await one_seat_two_students(repo)
    await repo.prioritise(student_id="z-flagged", until=utcnow() - timedelta(seconds=1))
    run = await run_matching(ctx=ctx, principal=ADMIN, student_id=None, dry_run=False)
    assert [m["mentee_id"] for m in run["matches"]] == ["a-keen"]


async def test_a_proposal_taken_meanwhile_is_listed_unmatched() -> None:
    ctx, repo, _ = fake_context()
    await one_seat_two_students(repo)
    real_assign_slot = repo.take_slot

    async def manual_assignment_wins(*, slot_id: str, assignment_id: str) -> bool:
        if slot_id == "m1:0" and "m1:0" not in repo.slots:  # a manual assignment takes the seat first
            await real_assign_slot(slot_id=slot_id, assignment_id="manual")
        return await real_assign_slot(slot_id=slot_id, assignment_id=assignment_id)

    repo.take_slot = manual_assignment_wins  # type: ignore[method-assign]
    run = await run_matching(ctx=ctx, principal=ADMIN, student_id=None, dry_run=False)
    assert run["matches"] == [] and run["unmatched"] == ["a-keen", "z-flagged"]


async def test_an_on_demand_run_says_why_nothing_can_be_done() -> None:
    ctx, repo, _ = fake_context()
    await one_seat_two_students(repo)
    me = Principal(sub="nobody", roles=frozenset({"student"}))
    with pytest.raises(Conflict, match="no mentoring preferences on file"):
        await run_matching(ctx=ctx, principal=me, student_id="nobody", dry_run=False)
    await assign(ctx=ctx, mentor_id="m1", mentee_id="a-keen", how="manual")
    with pytest.raises(Conflict, match="already has an active mentor"):
        await run_matching(ctx=ctx, principal=me, student_id="a-keen", dry_run=False)
    alone = await run_matching(ctx=ctx, principal=me, student_id="z-flagged", dry_run=False)
    assert alone["matches"] == [] and alone["unmatched"] == ["z-flagged"]  # the one seat is taken
