"""Times kept about an anonymous concern report (pure): feedback rounds the report's time down to the hour
so it cannot be matched to an access log; an alert about it must not keep the exact time back."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

_RANDOM = random.SystemRandom()  # a delay an observer cannot predict from earlier ones


def hour_floor(moment: datetime) -> datetime:
    """``moment`` rounded down to the hour, as feedback rounds an anonymous report's ``time``."""
    return moment.replace(minute=0, second=0, microsecond=0)


def send_delay(max_seconds: float, *, draw: float | None = None) -> timedelta:
    """How long an outbound (e-mail, webhook) alert about an anonymous report waits: uniform in
    [0, ``max_seconds``], so the mail server's or chat service's receipt time does not give the submit time
    away. ``draw`` in [0, 1) replaces the random draw (tests)."""
    fraction = _RANDOM.random() if draw is None else draw
    return timedelta(seconds=max(0.0, max_seconds) * fraction)
