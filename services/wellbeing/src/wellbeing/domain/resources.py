"""The institution's catalogue of help (pure): which resources answer a worrying check-in, in which order.

An urgent result lists crisis resources first (the settings' crisis lines stay in ``crisis_resources`` as
before, whatever the catalogue holds); an elevated one lists what matches the needs its reasons point at."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

ResourceKind = Literal["crisis_line", "counselling", "peer_support", "workshop", "self_help", "other"]
Need = Literal["crisis", "low_mood", "anxiety", "stress", "burnout", "sleep", "general"]
EVERYONE = "all"

# Reason codes (flag_rules) → the needs they point at; every worrying result also matches ``general``.
_NEEDS_BY_REASON_PREFIX: tuple[tuple[str, Need], ...] = (
    ("phq9_item9", "crisis"),
    ("phq9", "low_mood"),
    ("phq2", "low_mood"),
    ("who5", "low_mood"),
    ("gad", "anxiety"),
    ("pss10", "stress"),
    ("burnout", "burnout"),
)


@dataclass(frozen=True)
class Resource:
    id: str
    name: str
    kind: ResourceKind
    needs: tuple[Need, ...]
    audiences: tuple[str, ...]
    """``all``, a role (``student``) or a cohort (``2027``)."""
    description: str = ""
    phone: str | None = None
    url: str | None = None
    hours: str | None = None


def needs_for(reasons: Iterable[str], *, urgent: bool) -> set[Need]:
    needs: set[Need] = {"general"}
    for reason in reasons:
        needs |= {need for prefix, need in _NEEDS_BY_REASON_PREFIX if reason.startswith(prefix)}
    if urgent:
        needs.add("crisis")
    return needs


def for_audience(resource: Resource, audiences: set[str]) -> bool:
    return EVERYONE in resource.audiences or bool(audiences & set(resource.audiences))


def resources_for_result(
    catalogue: Iterable[Resource], *, reasons: Iterable[str], urgent: bool, audiences: set[str]
) -> list[Resource]:
    """Resources for a worrying check-in: for an urgent one crisis resources first, then the rest that match."""
    needs = needs_for(reasons, urgent=urgent)
    found = [r for r in catalogue if for_audience(r, audiences) and needs & set(r.needs)]
    crisis_first = sorted(found, key=lambda r: (not (urgent and "crisis" in r.needs), r.kind != "crisis_line", r.name))
    return crisis_first
