"""Wellbeing settings: thresholds, crisis resources and retention are institution settings."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr

from medsupport_shared.settings import DEVELOPMENT_ENCRYPTION_KEY, ServiceSettings
from wellbeing.domain.flag_rules import FlagThresholds


class CrisisResource(BaseModel):
    name: str
    phone: str | None = None
    url: str | None = None
    hours: str | None = None


DEFAULT_CRISIS_RESOURCES = [
    CrisisResource(
        name="Emergency services (immediate danger)", phone="your local emergency number (911, 112, 999)", hours="24/7"
    ),
    CrisisResource(
        name="Campus counselling on-call line", phone="set CRISIS_RESOURCES for your institution", hours="24/7"
    ),
    CrisisResource(name="988 Suicide & Crisis Lifeline (US)", phone="988", url="https://988lifeline.org", hours="24/7"),
    CrisisResource(name="Samaritans (UK & Ireland)", phone="116 123", url="https://www.samaritans.org", hours="24/7"),
]


class ReferralDeadlineHours(BaseModel):
    """Hours from a referral to first contact by a counsellor, per urgency (and for concerns raised by others)."""

    today: float = Field(default=4, gt=0)
    this_week: float = Field(default=72, gt=0)
    whenever: float = Field(default=240, gt=0)
    concern: float = Field(default=72, gt=0)


DEFAULT_REFERRAL_STUDENT_MESSAGE = (
    "Someone from the student support team would like to check in with you and will reach out soon. "
    "You are not in trouble."
)


class WellbeingSettings(ServiceSettings):
    service_name: str = "wellbeing"
    notes_encryption_key: SecretStr = SecretStr(DEVELOPMENT_ENCRYPTION_KEY)
    """Fernet key(s), comma-separated; the first encrypts (rotation)."""
    crisis_resources: list[CrisisResource] = Field(default_factory=lambda: list(DEFAULT_CRISIS_RESOURCES))
    flag_thresholds: FlagThresholds = Field(default_factory=FlagThresholds)
    retention_days: int = Field(default=730, ge=1)
    """Check-ins are deleted this long after the student's last check-in."""
    min_group_size: int = Field(default=5, ge=2)
    """Cohort aggregates over fewer students are suppressed."""
    flag_sweep_interval_seconds: float = Field(default=5.0, gt=0)
    flag_sweep_grace_seconds: float = Field(default=10.0, ge=0)
    """A worrying check-in whose flag is still pending this long after it was recorded is finished by the sweep."""
    reminder_sweep_interval_seconds: float = Field(default=60.0, gt=0)
    retention_sweep_interval_seconds: float = Field(default=3600.0, gt=0)
    erasure_delay_days: float = Field(default=7.0, ge=0)
    """An erasure requested by staff (not by the student) waits this long and can be cancelled meanwhile."""
    erasure_sweep_interval_seconds: float = Field(default=60.0, gt=0)
    """How often due staff erasures are published and resolved kept flags are erased."""
    audit_retention_days: int = Field(default=2190, ge=1)
    """Audit entries (staff reads, pseudonymised after an erasure) are deleted after this long."""
    urgent_spool_dir: str = ""
    """Where urgent flags raised while the database is down wait for it (a persistent volume in production);
    empty means ``<temp dir>/medsupport/urgent-spool/<database>``."""
    urgent_spool_replay_seconds: float = Field(default=1.0, gt=0)

    @property
    def urgent_spool_path(self) -> Path:
        if self.urgent_spool_dir:
            return Path(self.urgent_spool_dir)
        return Path(tempfile.gettempdir()) / "medsupport" / "urgent-spool" / self.database_name

    referral_deadline_hours: ReferralDeadlineHours = Field(default_factory=ReferralDeadlineHours)
    """Service-level deadline to first contact; a referral nobody has triaged by then is escalated."""
    referral_sweep_interval_seconds: float = Field(default=30.0, gt=0)
    referral_rate_limit: int = Field(default=5, ge=1)
    """Concerns one person may raise about students per ``referral_rate_window_seconds`` (abuse control)."""
    referral_rate_window_seconds: float = Field(default=86400.0, gt=0)
    referral_student_message: str = Field(default=DEFAULT_REFERRAL_STUDENT_MESSAGE, min_length=1, max_length=500)
    """What a student is told when someone raised a concern about them (the institution's words)."""
    workshop_reminder_hours: float = Field(default=24.0, gt=0)
    """A workshop sign-up is reminded this long before its session starts."""
    workshop_sweep_interval_seconds: float = Field(default=60.0, gt=0)
