"""`python -m bench.variant <module:factory> --factory --host H --port P`: wellbeing as it was before the
hot-path fix, to measure the fix A/B in one run.

Before: each check-in read the student's previous score with a filtered, sorted query over every
check-in (FerretDB answers that with a full collection scan, so each check-in cost grew with the number
stored). Now: the newest score per instrument sits in ``latest_scores`` and is read by ``_id``. This
wrapper restores the old read and skips the pointer write; nothing else differs."""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING

from bench.wrapper import parse_uvicorn_args, run_uvicorn


def restore_the_sorted_query() -> None:
    from wellbeing.repository import WellbeingRepository

    async def latest_score(self: WellbeingRepository, *, student_id: str, instrument: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self.checkins.find_one(
            {"student_id": student_id, "instrument": instrument, "stored": True}, sort=[("recorded_at", DESCENDING)]
        )
        return found

    async def remember_latest_score(self: WellbeingRepository, *, checkin: dict[str, Any]) -> None:
        return None

    WellbeingRepository.latest_score = latest_score  # type: ignore[method-assign]
    WellbeingRepository.remember_latest_score = remember_latest_score  # type: ignore[method-assign]


def main() -> None:
    args = parse_uvicorn_args()
    restore_the_sorted_query()
    run_uvicorn(args)


if __name__ == "__main__":
    main()
