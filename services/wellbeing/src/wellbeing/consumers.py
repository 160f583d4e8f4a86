"""Events the wellbeing service reacts to."""

from __future__ import annotations

import logging

from medsupport_shared.event_types import PLATFORM_TOPIC, StudentErasureRequested
from medsupport_shared.events import CloudEvent
from medsupport_shared.kafka import Handlers
from wellbeing import privacy
from wellbeing.context import WellbeingContext

log = logging.getLogger(__name__)
TOPICS = [PLATFORM_TOPIC]


def handlers(ctx: WellbeingContext) -> Handlers:
    async def erase_student_data(event: CloudEvent, payload: StudentErasureRequested) -> None:
        counts = await privacy.erase_student(ctx=ctx, event=event, payload=payload)
        log.info("student data erased", extra={"event_id": event.id, "deleted": counts})

    return {StudentErasureRequested: erase_student_data}
