"""The cohort view for faculty and admins: aggregates only, never one student's items or any concern."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from feedback.context import FeedbackContext
from feedback.domain import cohort as rules
from feedback.domain.feedback import ContextKind

Document = dict[str, Any]


async def cohort_summary(*, ctx: FeedbackContext, context_kind: ContextKind | None) -> dict[str, Any]:
    kind = context_kind.value if context_kind else None
    feedback = [
        rules.FeedbackFact(d["context_key"], d["student_id"], d["author_id"], d["author_kind"])
        async for d in ctx.repo.feedback_facts(context_kind=kind)
    ]
    requests = [
        rules.RequestFact(
            d["context_key"],
            d["student_id"],
            d["status"],
            bool(d.get("overdue_emitted")),
            d.get("turnaround_seconds"),
        )
        async for d in ctx.repo.request_facts(context_kind=kind)
    ]
    return asdict(rules.summarize(feedback, requests, min_group_size=ctx.settings.cohort_min_group_size))
