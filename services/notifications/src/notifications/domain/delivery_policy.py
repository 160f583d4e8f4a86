"""Pure delivery rules: webhook signatures, retry backoff with jitter, quiet hours."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError


def sign(body: bytes, secret: str) -> str:
    """``X-Signature`` value: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    return hmac.compare_digest(sign(body, secret), signature)


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter after failed ``attempt`` (1-based): uniform in
    [base·2^(attempt−1)/2, base·2^(attempt−1)], capped."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


def known_zone(name: str) -> str:
    """``name`` when it is an IANA time zone this process knows (tzdata ships them all)."""
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/London") from exc
    return name


class QuietHours(BaseModel):
    model_config = ConfigDict(frozen=True)
    start: time = Field(examples=["22:00"])
    end: time = Field(examples=["07:00"])
    timezone: Annotated[str, AfterValidator(known_zone)] = Field(default="UTC", examples=["Europe/London"])

    @classmethod
    def stored(cls, value: Any) -> QuietHours | None:
        """Quiet hours as stored, or None when they are unusable (written before validation, or a zone
        this process lacks): an alert is then delivered at once rather than not at all."""
        try:
            return cls.model_validate(value) if value else None
        except ValidationError:
            return None

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # spans midnight

    def next_end(self, at: datetime) -> datetime:
        """When the quiet period containing ``at`` ends (``at`` itself when not quiet)."""
        if not self.contains(at):
            return at
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(at.tzinfo)


def deferred_until(*, urgent: bool, quiet: QuietHours | None, at: datetime) -> datetime:
    """When a routine external delivery may go out; urgent ones never wait."""
    if urgent or quiet is None:
        return at
    return quiet.next_end(at)
