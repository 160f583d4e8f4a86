"""The mentorship service's context (what every use case works with) and the routes' dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from medsupport_shared.auth import Principal, Role, require_roles
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.idempotency import IdempotencyStore
from medsupport_shared.outbox import ChangeRecorder
from medsupport_shared.rate_limits import WindowCounters
from mentorship.repository import MentorshipRepository
from mentorship.settings import MentorshipSettings

STAFF = (Role.FACULTY, Role.MENTOR, Role.COUNSELLOR, Role.WELLBEING_LEAD, Role.ADMIN)
"""Who may place students into peer groups; a group started by anyone else is for their own cohort."""


@dataclass
class MentorshipContext:
    repo: MentorshipRepository
    changes: ChangeRecorder
    """Records a change with its events and publishes them (the outbox)."""
    settings: MentorshipSettings
    cipher: FieldCipher
    idempotency: IdempotencyStore
    counters: WindowCounters
    """Per-user rate limits, shared by the replicas."""
    sweeps: dict[str, int] = field(default_factory=dict)
    """How many times each periodic sweep has completed (tests wait on it instead of sleeping)."""


def get_context(request: Request) -> MentorshipContext:
    ctx: MentorshipContext = request.app.state.services
    return ctx


Context = Annotated[MentorshipContext, Depends(get_context)]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
MentorRole = Annotated[Principal, Depends(require_roles(Role.MENTOR))]
Student = Annotated[Principal, Depends(require_roles(Role.STUDENT))]
Staff = Annotated[Principal, Depends(require_roles(*STAFF))]
GroupCreator = Annotated[Principal, Depends(require_roles(*STAFF, Role.STUDENT))]
