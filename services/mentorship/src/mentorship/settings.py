"""Mentorship settings."""

from __future__ import annotations

from pydantic import Field, SecretStr

from medsupport_shared.settings import DEVELOPMENT_ENCRYPTION_KEY, ServiceSettings
from mentorship.domain.matching import Weights


class MentorshipSettings(ServiceSettings):
    service_name: str = "mentorship"
    notes_encryption_key: SecretStr = SecretStr(DEVELOPMENT_ENCRYPTION_KEY)
    matching_weights: Weights = Field(default_factory=Weights)
    flag_priority_days: int = Field(default=30, ge=1)
    """How long an open wellbeing flag keeps a student first in matching (cleared by flag.resolved)."""
    meeting_reminder_days: float = Field(default=28.0, gt=0)
    """An assignment without a meeting for this long gets a reminder event."""
    reminder_sweep_interval_seconds: float = Field(default=300.0, gt=0)
    peer_groups_per_day: int = Field(default=5, ge=1)
    """Peer groups one person may start per day; then 429."""
