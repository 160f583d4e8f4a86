"""Use case: a matching run, over every waiting student (an admin's) or one student (on demand)."""

from __future__ import annotations

import uuid
from typing import Any

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict
from medsupport_shared.events import utcnow
from mentorship.assignments import assign
from mentorship.context import MentorshipContext
from mentorship.domain.matching import Match, match
from mentorship.domain.profiles import as_mentee, as_mentor
from mentorship.repository import Document


def _proposal(proposal: Match, assignment_id: str | None) -> dict[str, Any]:
    return {
        "mentee_id": proposal.mentee_id,
        "mentor_id": proposal.mentor_id,
        "score": proposal.score,
        "criteria": proposal.criteria,
        "assignment_id": assignment_id,
    }


async def run_matching(
    *, ctx: MentorshipContext, principal: Principal, student_id: str | None, dry_run: bool
) -> Document:
    if student_id is not None:  # one student, on demand: say why nothing can be done rather than match nobody
        if await ctx.repo.mentee(student_id=student_id) is None:
            raise Conflict("no mentoring preferences on file for this student: they are set with PUT /v1/mentees/me")
        if await ctx.repo.has_active_mentor(student_id=student_id):
            raise Conflict("the student already has an active mentor")
    now = utcnow()
    load = await ctx.repo.active_load()
    mentors = [as_mentor(p, load.get(p.id, 0)) for p in await ctx.repo.all_mentors()]
    # A preview ignores flag priority: with capacity an admin can edit, a free dry run that placed a
    # low-scoring student before a better one would tell who has an open wellbeing flag. A real run keeps
    # the priority in its objective (its output, sorted by id with criteria only, never shows it).
    flagged = set() if dry_run else await ctx.repo.prioritised(now=now)
    mentees = [as_mentee(p, p.id in flagged) for p in await ctx.repo.waiting_mentees(student_id=student_id)]
    result = match(mentees, mentors, ctx.settings.matching_weights)
    made: list[dict[str, Any]] = []
    skipped: list[str] = []
    for proposal in result.matches:
        if dry_run:
            made.append(_proposal(proposal, None))
            continue
        try:
            assignment = await assign(
                ctx=ctx,
                mentor_id=proposal.mentor_id,
                mentee_id=proposal.mentee_id,
                how="matching",
                score=proposal.score,
                criteria=proposal.criteria,
            )
        except Conflict:  # taken meanwhile by a manual assignment
            skipped.append(proposal.mentee_id)
            continue
        made.append(_proposal(proposal, assignment.id))
    run = {
        "_id": uuid.uuid4().hex,
        "requested_by": principal.sub,
        "dry_run": dry_run,
        "student_id": student_id,
        "created_at": now,
        "matches": made,
        "unmatched": sorted([*result.unmatched, *skipped]),
        "total_score": round(sum(float(m["score"]) for m in made), 6),
    }
    await ctx.repo.save_run(run=run)
    return run
