"""Student voice: suggestions, their status as staff work them, and one vote per student (pure).

A suggestion moves open → under_review → planned → done, or is declined with a reason a student can
read; a declined or done one may be reopened for review. "You said, we did" publishes the planned,
done and declined ones with the staff's response."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from medsupport_shared.domain_errors import Conflict, Unprocessable


class SuggestionStatus(StrEnum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    DONE = "done"
    DECLINED = "declined"


MOVES: Final[dict[SuggestionStatus, frozenset[SuggestionStatus]]] = {
    SuggestionStatus.OPEN: frozenset(
        {SuggestionStatus.UNDER_REVIEW, SuggestionStatus.PLANNED, SuggestionStatus.DECLINED}
    ),
    SuggestionStatus.UNDER_REVIEW: frozenset(
        {SuggestionStatus.PLANNED, SuggestionStatus.DONE, SuggestionStatus.DECLINED}
    ),
    SuggestionStatus.PLANNED: frozenset(
        {SuggestionStatus.DONE, SuggestionStatus.DECLINED, SuggestionStatus.UNDER_REVIEW}
    ),
    SuggestionStatus.DONE: frozenset({SuggestionStatus.UNDER_REVIEW}),
    SuggestionStatus.DECLINED: frozenset({SuggestionStatus.UNDER_REVIEW}),
}
BOARD: Final = (SuggestionStatus.PLANNED, SuggestionStatus.DONE, SuggestionStatus.DECLINED)
"""What the published board shows: what was taken up, done, or declined (with the reason)."""


class MoveNotAllowed(Conflict):
    pass


class ReasonRequired(Unprocessable):
    pass


def check_move(current: SuggestionStatus, target: SuggestionStatus, *, reason: str | None) -> None:
    if target not in MOVES[current]:
        raise MoveNotAllowed(f"a suggestion cannot move from {current} to {target}")
    if target is SuggestionStatus.DECLINED and not reason:
        raise ReasonRequired("declining a suggestion needs a reason the students can read")
