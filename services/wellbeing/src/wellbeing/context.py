"""The wellbeing service's context: every dependency a use case or a route needs, built once by ``app``,
and its FastAPI dependency (the one home for dependencies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from medsupport_shared.crypto import FieldCipher
from medsupport_shared.idempotency import IdempotencyStore
from medsupport_shared.kafka import EventPublisher
from medsupport_shared.outbox import ChangeRecorder, Outbox
from medsupport_shared.rate_limits import WindowCounters
from medsupport_shared.supervision import TaskSupervisor
from wellbeing.referral_repository import ReferralRepository
from wellbeing.repository import WellbeingRepository
from wellbeing.resource_repository import ResourceRepository
from wellbeing.settings import WellbeingSettings
from wellbeing.urgent_spool import UrgentSpool
from wellbeing.workshop_repository import WorkshopRepository


@dataclass
class WellbeingContext:
    repo: WellbeingRepository
    outbox: Outbox
    settings: WellbeingSettings
    cipher: FieldCipher
    source: str
    idempotency: IdempotencyStore
    publisher: EventPublisher
    tasks: TaskSupervisor
    spool: UrgentSpool
    """Urgent flags raised while the database was down, until the store has them."""
    referrals: ReferralRepository
    resources: ResourceRepository
    workshops: WorkshopRepository
    counters: WindowCounters

    @property
    def changes(self) -> ChangeRecorder:
        """Records a change with its events in the document's outbox, then publishes them."""
        return ChangeRecorder(self.outbox, source=self.source)


def get_context(request: Request) -> WellbeingContext:
    ctx: WellbeingContext = request.app.state.services
    return ctx


Context = Annotated[WellbeingContext, Depends(get_context)]
