"""Reading stored documents: a bad one is skipped with a log line and a metric, the others are kept."""

import logging

from prometheus_client import REGISTRY
from pydantic import BaseModel, Field

from medsupport_shared.documents import parse_document, parse_documents, valid_documents


class Thing(BaseModel):
    id: str = Field(pattern=r"^[a-z]+$")
    size: int


def skipped(collection):
    return REGISTRY.get_sample_value("medsupport_invalid_documents_total", {"collection": collection}) or 0


def with_id(doc):
    return {**doc, "id": doc.get("_id")}


def test_bad_documents_are_skipped_logged_and_counted_without_their_values(caplog):
    docs = [
        {"_id": "a", "size": 1},
        {"_id": "BAD", "size": 2},
        {"_id": "c", "size": "secret-value"},
        {"_id": "d", "size": 4},
    ]
    before = skipped("things")
    with caplog.at_level(logging.ERROR, logger="medsupport_shared.documents"):
        things = parse_documents(docs, Thing, collection="things", prepare=with_id)
    assert [t.id for t in things] == ["a", "d"]
    assert skipped("things") == before + 2
    assert len(caplog.records) == 2
    assert {tuple(r.fails_at) for r in caplog.records} == {("id",), ("size",)}
    assert "secret-value" not in caplog.text and not any(hasattr(r, "document_id") for r in caplog.records)


def test_the_raw_documents_that_fit_are_kept_as_they_are():
    docs = [{"_id": "a", "size": 1, "extra": True}, {"_id": "b"}]
    assert valid_documents(docs, Thing, collection="raw", prepare=with_id) == [docs[0]]


def test_a_missing_key_or_a_broken_prepare_step_is_a_skip_not_an_exception(caplog):
    assert parse_document({"size": 1}, Thing, collection="odd", prepare=lambda d: {**d, "id": d["_id"]}) is None
    assert parse_document({"_id": "x", "size": 1}, Thing, collection="odd", prepare=with_id, log_id=True) is not None
    assert parse_document({"_id": "Y", "size": 1}, Thing, collection="odd", prepare=with_id, log_id=True) is None
    assert caplog.records[-1].document_id == "Y"
