import random
from datetime import UTC, datetime, time

import pytest
from pydantic import ValidationError

from notifications.domain.delivery_policy import QuietHours, backoff_seconds, deferred_until, sign, verify


def test_signature_is_hex_hmac_sha256_of_the_body():
    body = b'{"alert_id":"a1"}'
    # Reference computed with: printf '%s' '{"alert_id":"a1"}' | openssl dgst -sha256 -hmac secret
    assert sign(body, "secret") == "sha256=256dbe3f00212d58d35bfa11313e64ce9819efa0939eb36a3346d5117c0af36b"
    assert verify(body, "secret", sign(body, "secret"))
    assert not verify(body + b" ", "secret", sign(body, "secret"))


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(1)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (10, 300)]:
        delays = [backoff_seconds(attempt, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_quiet_hours_span_midnight_and_respect_the_timezone():
    quiet = QuietHours(start=time(22), end=time(7), timezone="Europe/London")
    assert quiet.contains(datetime(2026, 1, 10, 23, 30, tzinfo=UTC))
    assert quiet.contains(datetime(2026, 1, 10, 6, 59, tzinfo=UTC))
    assert not quiet.contains(datetime(2026, 1, 10, 7, 0, tzinfo=UTC))
    summer = datetime(2026, 7, 10, 21, 30, tzinfo=UTC)  # 22:30 in London (BST)
    assert quiet.contains(summer)
    assert quiet.next_end(summer) == datetime(2026, 7, 11, 6, 0, tzinfo=UTC)


def test_quiet_hours_defer_routine_but_never_urgent():
    quiet = QuietHours(start=time(22), end=time(7))
    night = datetime(2026, 1, 10, 23, 0, tzinfo=UTC)
    assert deferred_until(urgent=True, quiet=quiet, at=night) == night
    assert deferred_until(urgent=False, quiet=quiet, at=night) == datetime(2026, 1, 11, 7, 0, tzinfo=UTC)
    assert deferred_until(urgent=False, quiet=None, at=night) == night


def test_quiet_hours_need_a_known_time_zone_and_unusable_stored_ones_are_ignored():
    for bad in ("Mars/Base", "Europe", "", "../etc/passwd"):
        with pytest.raises(ValidationError):
            QuietHours(start=time(22), end=time(7), timezone=bad)
    assert QuietHours.stored({"start": "22:00", "end": "07:00", "timezone": "Mars/Base"}) is None
    assert QuietHours.stored(None) is None
    kept = QuietHours.stored({"start": "22:00", "end": "07:00", "timezone": "Asia/Kolkata"})
    assert kept is not None and kept.timezone == "Asia/Kolkata"
