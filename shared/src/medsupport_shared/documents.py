"""Reading stored documents through their model without letting one bad document break the rest.

A document that no longer fits its model (stored under an older, looser version, or edited by hand) is
skipped with a log line and ``medsupport_invalid_documents_total{collection}``, never a 500 for a whole list
nor a failed handling of unrelated events. The log names the collection and where the document fails, never
its values (they may be personal or health data); the id is logged only when the caller says it is not."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from prometheus_client import Counter
from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)
INVALID_DOCUMENTS = Counter(
    "medsupport_invalid_documents_total",
    "Stored documents that fail their model and were skipped when read",
    ["collection"],
)
M = TypeVar("M", bound=BaseModel)
D = TypeVar("D", bound=Mapping[str, Any])


def parse_document(
    doc: D,
    model: type[M],
    *,
    collection: str,
    prepare: Callable[[D], Mapping[str, Any]] | None = None,
    log_id: bool = False,
) -> M | None:
    """The document as ``model`` (after ``prepare``, e.g. mapping ``_id`` to ``id``), or None when it fails."""
    try:
        return model.model_validate(dict(prepare(doc) if prepare else doc))
    except (ValidationError, KeyError, TypeError, ValueError) as exc:
        where = (
            sorted({".".join(str(part) for part in error["loc"]) or "(document)" for error in exc.errors()})
            if isinstance(exc, ValidationError)
            else [type(exc).__name__]
        )
        extra: dict[str, Any] = {"collection": collection, "fails_at": where[:10]}
        if log_id:
            extra["document_id"] = str(doc.get("_id"))[:200]
        log.error("stored document fails its model; skipped", extra=extra)
        INVALID_DOCUMENTS.labels(collection).inc()
        return None


def parse_documents(
    docs: Iterable[D],
    model: type[M],
    *,
    collection: str,
    prepare: Callable[[D], Mapping[str, Any]] | None = None,
    log_id: bool = False,
) -> list[M]:
    """Every document that fits ``model``, in order; the others skipped as ``parse_document`` does."""
    parsed = (parse_document(d, model, collection=collection, prepare=prepare, log_id=log_id) for d in docs)
    return [item for item in parsed if item is not None]


def valid_documents(
    docs: Iterable[D],
    model: type[BaseModel],
    *,
    collection: str,
    prepare: Callable[[D], Mapping[str, Any]] | None = None,
    log_id: bool = False,
) -> list[D]:
    """The raw documents that fit ``model`` (for replies built from the document itself)."""
    return [
        d for d in docs if parse_document(d, model, collection=collection, prepare=prepare, log_id=log_id) is not None
    ]
