"""Instants in requests: RFC 3339 with an offset, returned in UTC, and only within years 1900-2999, so an
extreme offset or year is a validation error instead of an OverflowError (a 500) when converted, stored
or added to."""

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from medsupport_shared.inputs import UtcInstant, as_utc_instant

INSTANT = TypeAdapter(UtcInstant)


def test_an_instant_is_returned_in_utc():
    assert INSTANT.validate_python("2026-11-20T18:00:00+01:00") == datetime(2026, 11, 20, 17, tzinfo=UTC)
    assert as_utc_instant(datetime(2026, 11, 20, 17)) == datetime(2026, 11, 20, 17, tzinfo=UTC)  # naive is UTC


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+14:00",  # converting to UTC leaves the calendar: was an OverflowError
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59Z",  # any day or minute added to it overflows
        "1899-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
    ],
)
def test_instants_outside_the_accepted_years_are_validation_errors(text):
    with pytest.raises(ValidationError, match="between the years 1900 and 2999"):
        INSTANT.validate_python(text)
    with pytest.raises(ValueError, match="between the years 1900 and 2999"):
        as_utc_instant(datetime.fromisoformat(text))
