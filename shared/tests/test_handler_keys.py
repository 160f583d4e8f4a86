"""Consumers key their handlers by payload class: a class outside the event catalogue fails at start-up,
and every service's table names only catalogued events."""

import pytest

from medsupport_shared.event_types import EVENT_CATALOG, CheckinRecorded
from medsupport_shared.events import EventData
from medsupport_shared.kafka import by_event_type


async def _handle(event, payload):
    return None


def test_handlers_are_keyed_by_the_wire_type_of_their_payload_class():
    assert by_event_type({CheckinRecorded: _handle}) == {"checkin.recorded": _handle}


def test_a_payload_class_outside_the_catalogue_is_refused():
    class Invented(EventData):
        event_type = "checkin.recorded"  # spelt like a real one, but not the catalogued model
        topic = "wellbeing.events.v1"

    with pytest.raises(ValueError, match="Invented"):
        by_event_type({Invented: _handle})


def test_every_catalogued_model_can_be_handled():
    assert set(by_event_type(dict.fromkeys((s.model for s in EVENT_CATALOG.values()), _handle))) == set(EVENT_CATALOG)


def test_a_handler_keyed_by_the_wire_type_string_is_refused_with_a_clear_reason():
    with pytest.raises(ValueError, match="keyed by payload class"):
        by_event_type({"checkin.recorded": _handle})  # type: ignore[dict-item]
