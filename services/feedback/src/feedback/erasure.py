"""Use case: a student's erasure request removes what this service holds about them. Feedback, requests and
reflections about them go; peer feedback they wrote stays for its student, without their id; their named
concerns and suggestions stay for the institution, without them; they leave every rotation roster (their
climate answers never named them)."""

from __future__ import annotations

from feedback.context import FeedbackContext


async def erase_student(ctx: FeedbackContext, *, student_id: str) -> dict[str, int]:
    """How many records of each kind were erased or made anonymous (for the log: counts, never ids)."""
    counts = await ctx.repo.erase_student(student_id=student_id)
    counts["idempotency_replies"] = await ctx.idempotency.forget_owner(student_id)
    counts["named_concerns"] = await ctx.concerns.forget_reporter(reporter_id=student_id)
    counts["rotation_rosters"] = await ctx.climate.forget_student(student_id=student_id)
    counts["named_suggestions"] = await ctx.voice.forget_author(author_id=student_id)
    return counts
