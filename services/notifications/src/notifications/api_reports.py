"""The wellbeing lead's reports on how fast alerts are acknowledged (registered before ``/alerts/{id}``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from medsupport_shared.auth import Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.events import utcnow
from notifications.acknowledgement_times import acknowledgement_times
from notifications.context import Context
from notifications.schemas import AcknowledgementTimesOut

router = APIRouter(prefix="/v1", tags=["alerts"])


@router.get(
    "/alerts/acknowledgement-times",
    response_model=AcknowledgementTimesOut,
    summary="Time to acknowledge urgent and elevated alerts, per ISO week (wellbeing lead)",
    description="For each of the last `weeks` ISO weeks (UTC, the current one last) and each severity: how many "
    "escalation chains started, how many were acknowledged, the median and 90th percentile seconds from the alert "
    "to its acknowledgement, and how many are still unacknowledged. Counts of alerts, never who they were about.",
    responses=problem_responses(*AUTH_ERRORS),
)
async def get_acknowledgement_times(
    _: Annotated[Principal, Depends(require_roles(Role.WELLBEING_LEAD))],
    ctx: Context,
    weeks: Annotated[
        int, Query(ge=1, le=25, description="how many ISO weeks, the current one included (within the retention)")
    ] = 12,
) -> Any:
    return {"weeks": weeks, "items": await acknowledgement_times(ctx=ctx, weeks=weeks, now=utcnow())}
