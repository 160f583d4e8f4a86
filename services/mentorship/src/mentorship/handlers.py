"""Use cases: assign under capacity, end, run the matching, log meetings, remind, peer groups."""

from __future__ import annotations

import functools
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from medsupport_shared.auth import Principal, Role
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.errors import Conflict, Forbidden, NotFound
from medsupport_shared.event_types import MeetingLogged, MeetingReminderDue, MentorAssigned, MentorshipEnded
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.idempotency import IdempotencyStore
from medsupport_shared.outbox import Outbox, outbox_entry
from medsupport_shared.rate_limits import WindowCounters
from mentorship.matching import Mentee, Mentor, match, shares_language
from mentorship.metrics import ASSIGNMENTS_MADE, WITHOUT_RECENT_MEETING, observe_since_last_meeting
from mentorship.repository import ASSIGNMENTS, MEETINGS, REMINDERS, Document, MentorshipRepository
from mentorship.settings import MentorshipSettings

log = logging.getLogger(__name__)


@dataclass
class MentorshipContext:
    repo: MentorshipRepository
    outbox: Outbox
    settings: MentorshipSettings
    cipher: FieldCipher
    idempotency: IdempotencyStore
    source: str
    counters: WindowCounters
    """Per-user rate limits, shared by the replicas."""
    sweeps: dict[str, int] = field(default_factory=dict)
    """How many times each periodic sweep has completed (tests wait on it instead of sleeping)."""


async def assign(
    *,
    ctx: MentorshipContext,
    mentor_id: str,
    mentee_id: str,
    how: str,
    score: float = 0.0,
    criteria: dict[str, float] | None = None,
) -> Document:
    """Take a free slot of the mentor (unique slot documents) and the student's single active place."""
    mentor = await ctx.repo.mentor(mentor_id=mentor_id)
    if mentor is None:
        raise NotFound("no mentor with that id")
    if mentor.get("paused"):
        raise Conflict("the mentor is paused and takes no new mentees")
    preferences = await ctx.repo.mentee(student_id=mentee_id) or {}
    if mentor_id in preferences.get("avoid", []):
        raise Conflict("the student asked not to be matched with this mentor")
    if preferences and not shares_language(preferences.get("languages", []), mentor.get("languages", [])):
        raise Conflict("the mentor and the student share no language")
    assignment_id = uuid.uuid4().hex
    if not await ctx.repo.take_slot(slot_id=f"mentee:{mentee_id}", assignment_id=assignment_id):
        raise Conflict("the student already has an active mentor")
    try:
        for slot in range(int(mentor.get("capacity", 0))):
            if await ctx.repo.take_slot(slot_id=f"{mentor_id}:{slot}", assignment_id=assignment_id):
                break
        else:
            raise Conflict("the mentor has no free capacity")
        now = utcnow()
        entry = outbox_entry(
            new_event(
                MentorAssigned(
                    assignment_id=assignment_id, mentor_id=mentor_id, mentee_id=mentee_id, assigned_at=now, score=score
                ),
                source=ctx.source,
            )
        )
        assignment = {
            "_id": assignment_id,
            "mentor_id": mentor_id,
            "mentee_id": mentee_id,
            "status": "active",
            "how": how,
            "score": score,
            "criteria": criteria or {},
            "assigned_at": now,
            "created_at": now,
            "last_meeting_at": None,
        }
        await ctx.repo.insert_assignment(assignment=assignment, entry=entry)
    except BaseException:
        await _release_unless_stored(ctx, assignment_id)
        raise
    ctx.outbox.dispatch(ASSIGNMENTS, assignment_id, [entry])
    ASSIGNMENTS_MADE.labels(how).inc()
    return assignment


async def _release_unless_stored(ctx: MentorshipContext, assignment_id: str) -> None:
    """Give back the slots of an assignment that was not written (a refusal, or a failed insert). An insert
    that failed on the way back may still have been applied: then its slots stay held."""
    try:
        if await ctx.repo.assignment(assignment_id=assignment_id) is None:
            await ctx.repo.release_slots(assignment_id=assignment_id)
    except Exception:
        log.exception("could not release the slots of an unwritten assignment", extra={"assignment_id": assignment_id})


def side_of(principal: Principal, assignment: Document) -> str | None:
    if principal.sub == assignment["mentor_id"]:
        return "mentor"
    if principal.sub == assignment["mentee_id"]:
        return "mentee"
    return "admin" if Role.ADMIN in principal.roles else None


async def visible_assignment(*, ctx: MentorshipContext, principal: Principal, assignment_id: str) -> Document:
    assignment = await ctx.repo.assignment(assignment_id=assignment_id)
    if assignment is None or side_of(principal, assignment) is None:
        raise NotFound("no assignment with that id")  # no hint that it exists
    return assignment


async def end_assignment(
    *, ctx: MentorshipContext, principal: Principal, assignment_id: str, reason: str | None
) -> Document:
    assignment = await visible_assignment(ctx=ctx, principal=principal, assignment_id=assignment_id)
    if assignment["status"] != "active":
        raise Conflict("the assignment has already ended")
    side = side_of(principal, assignment)
    assert side is not None
    now = utcnow()
    entry = outbox_entry(
        new_event(
            MentorshipEnded(
                assignment_id=assignment_id,
                mentor_id=assignment["mentor_id"],
                mentee_id=assignment["mentee_id"],
                ended_at=now,
                ended_by=side,
            ),
            source=ctx.source,
        )
    )
    changes = {"status": "ended", "ended_at": now, "ended_by": side, "end_reason": ctx.cipher.encrypt(reason)}
    if not await ctx.repo.update_assignment(
        assignment_id=assignment_id, changes=changes, entry=entry, only_if_status="active"
    ):
        raise Conflict("the assignment has already ended")
    await ctx.repo.release_slots(assignment_id=assignment_id)
    ctx.outbox.dispatch(ASSIGNMENTS, assignment_id, [entry])
    return {**assignment, **changes}


def as_mentor(doc: Document, load: int) -> Mentor:
    return Mentor(
        id=doc["_id"],
        specialty=doc.get("specialty"),
        interests=frozenset(doc.get("interests", [])),
        languages=frozenset(doc.get("languages", [])),
        formats=frozenset(doc.get("formats", [])),
        background=doc.get("background"),
        paused=bool(doc.get("paused")),
        free_slots=max(0, int(doc.get("capacity", 0)) - load),
    )


def as_mentee(doc: Document, flagged: bool) -> Mentee:
    return Mentee(
        id=doc["_id"],
        specialty=doc.get("specialty"),
        interests=frozenset(doc.get("interests", [])),
        languages=frozenset(doc.get("languages", [])),
        meeting_format=doc.get("meeting_format"),
        background=doc.get("background"),
        wants_shared_background=bool(doc.get("wants_shared_background")),
        avoid=frozenset(doc.get("avoid", [])),
        flagged=flagged,
    )


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
    mentors = [as_mentor(d, load.get(d["_id"], 0)) for d in await ctx.repo.all_mentors()]
    # A preview ignores flag priority: with capacity an admin can edit, a free dry run that placed a
    # low-scoring student before a better one would tell who has an open wellbeing flag. A real run keeps
    # the priority in its objective (its output, sorted by id with criteria only, never shows it).
    flagged = set() if dry_run else await ctx.repo.prioritised(now=now)
    mentees = [as_mentee(d, d["_id"] in flagged) for d in await ctx.repo.waiting_mentees(student_id=student_id)]
    result = match(mentees, mentors, ctx.settings.matching_weights)
    made: list[dict[str, Any]] = []
    skipped: list[str] = []
    for proposal in result.matches:
        if dry_run:
            made.append(
                {
                    "mentee_id": proposal.mentee_id,
                    "mentor_id": proposal.mentor_id,
                    "score": proposal.score,
                    "criteria": proposal.criteria,
                    "assignment_id": None,
                }
            )
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
        made.append(
            {
                "mentee_id": proposal.mentee_id,
                "mentor_id": proposal.mentor_id,
                "score": proposal.score,
                "criteria": proposal.criteria,
                "assignment_id": assignment["_id"],
            }
        )
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


async def log_meeting(
    *,
    ctx: MentorshipContext,
    principal: Principal,
    assignment_id: str,
    met_at: Any,
    meeting_format: str,
    notes: str | None,
) -> Document:
    assignment = await visible_assignment(ctx=ctx, principal=principal, assignment_id=assignment_id)
    side = side_of(principal, assignment)
    if side not in ("mentor", "mentee"):
        raise Forbidden("only the mentor or the mentee logs their meetings")
    if assignment["status"] != "active":
        raise Conflict("the mentorship has ended; no more meetings are logged")
    meeting_id = uuid.uuid4().hex
    entry = outbox_entry(
        new_event(
            MeetingLogged(
                meeting_id=meeting_id,
                assignment_id=assignment_id,
                mentor_id=assignment["mentor_id"],
                mentee_id=assignment["mentee_id"],
                met_at=met_at,
                format=meeting_format,
                logged_by=side,
            ),
            source=ctx.source,
        )
    )
    meeting = {
        "_id": meeting_id,
        "assignment_id": assignment_id,
        "met_at": met_at,
        "format": meeting_format,
        "logged_by": principal.sub,
        "created_at": utcnow(),
        "notes": {principal.sub: ctx.cipher.encrypt(notes)} if notes else {},
    }
    await ctx.repo.insert_meeting(meeting=meeting, entry=entry)
    ctx.outbox.dispatch(MEETINGS, meeting_id, [entry])
    await ctx.repo.raise_last_meeting(assignment_id=assignment_id, met_at=met_at)
    return meeting


def meeting_view(meeting: Document, viewer: str, cipher: FieldCipher) -> Document:
    """Private notes are visible to their author only."""
    return {
        "id": meeting["_id"],
        "assignment_id": meeting["assignment_id"],
        "met_at": meeting["met_at"],
        "format": meeting["format"],
        "logged_by": meeting["logged_by"],
        "my_notes": cipher.decrypt(meeting.get("notes", {}).get(viewer)),
    }


async def send_meeting_reminders(*, ctx: MentorshipContext) -> int:
    """One reminder per assignment per quiet period (a unique reminder document), across restarts."""
    now = utcnow()
    period = timedelta(days=ctx.settings.meeting_reminder_days)
    overdue = sent = 0
    waited: list[float] = []
    for assignment in await ctx.repo.active_assignments():
        since = assignment.get("last_meeting_at") or assignment["assigned_at"]
        waited.append(max(0.0, (now - since).total_seconds()))
        if now - since < period:
            continue
        overdue += 1
        reminder_id = hashlib.sha256(f"{assignment['_id']}|{since.isoformat()}".encode()).hexdigest()[:32]
        entry = outbox_entry(
            new_event(
                MeetingReminderDue(
                    assignment_id=assignment["_id"],
                    mentor_id=assignment["mentor_id"],
                    mentee_id=assignment["mentee_id"],
                    due_at=since + period,
                    reminder_id=reminder_id,
                    last_meeting_at=assignment.get("last_meeting_at"),
                ),
                source=ctx.source,
            )
        )
        if await ctx.repo.insert_reminder(
            reminder={"_id": reminder_id, "assignment_id": assignment["_id"], "created_at": now}, entry=entry
        ):
            ctx.outbox.dispatch(REMINDERS, reminder_id, [entry])
            sent += 1
    WITHOUT_RECENT_MEETING.set(overdue)
    observe_since_last_meeting(ctx.settings.service_name, waited)
    ctx.sweeps["reminders"] = ctx.sweeps.get("reminders", 0) + 1
    return sent


def _group_rank(interests: set[str], group: Document) -> tuple[int, str]:
    """Most shared interests first, then by id."""
    return -len(interests & set(group.get("interests") or [])), str(group["_id"])


async def match_into_groups(*, ctx: MentorshipContext, cohort: str, student_ids: list[str]) -> dict[str, str | None]:
    """Place students into open groups of their cohort, best shared interests first (greedy by design:
    groups are small and students can move). Only students who opted in to placement for this cohort
    are placed (others: None, never enrolled without their consent); one already in a group of the
    cohort stays there."""
    groups = await ctx.repo.all_groups(query={"cohort": cohort})
    in_cohort = {g["_id"] for g in groups}
    placed: dict[str, str | None] = {}
    for student_id in sorted(set(student_ids)):
        placed[student_id] = None
        consent = await ctx.repo.placement_of(student_id=student_id)
        if consent is None or consent.get("cohort") != cohort:
            continue
        already = sorted(await ctx.repo.groups_of(student_id=student_id) & in_cohort)
        if already:
            placed[student_id] = already[0]
            continue
        preferences = await ctx.repo.mentee(student_id=student_id) or {}
        interests = set(preferences.get("interests", []))
        for group in sorted(groups, key=functools.partial(_group_rank, interests)):
            if await ctx.repo.join_group(group=group, student_id=student_id) is not False:
                placed[student_id] = group["_id"]
                break
    return placed
