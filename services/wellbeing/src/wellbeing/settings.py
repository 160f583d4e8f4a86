"""Wellbeing settings: thresholds, crisis resources and retention are institution settings."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr

from medsupport_shared.settings import DEVELOPMENT_ENCRYPTION_KEY, ServiceSettings
from wellbeing.flag_rules import FlagThresholds


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
