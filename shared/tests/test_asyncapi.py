import json
from pathlib import Path

from medsupport_shared.asyncapi import build, render
from medsupport_shared.event_types import EVENT_CATALOG

DOC = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def test_committed_asyncapi_document_matches_the_code():
    assert DOC.read_text() == render(), "regenerate: uv run python -m medsupport_shared.asyncapi > docs/asyncapi.json"


def test_every_event_type_is_documented_with_its_payload_schema():
    doc = build()
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert names == set(EVENT_CATALOG)
    flag = next(m for m in doc["components"]["messages"].values() if m["name"] == "flag.raised")
    data_ref = flag["payload"]["allOf"][1]["properties"]["data"]["$ref"].rsplit("/", 1)[1]
    schema = doc["components"]["schemas"][data_ref]
    assert {"flag_id", "student_id", "severity", "reasons", "instrument", "raised_at"} <= set(schema["required"])
    assert "answers" not in json.dumps(schema) and "note" not in schema["properties"]
