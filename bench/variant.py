"""`python -m bench.variant <module:factory> --factory --host H --port P`: wellbeing as it was before the
hot-path fix, to measure the fix A/B in one run.

Before: each check-in read the student's previous score with a filtered, sorted query over every
check-in (FerretDB answers that with a full collection scan, so each check-in cost grew with the number
stored). Now: the newest score per instrument sits in ``latest_scores`` and is read by ``_id``. This
wrapper restores the old read and skips the pointer write; nothing else differs."""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from pymongo import DESCENDING


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
    parser = argparse.ArgumentParser()
    parser.add_argument("app")
    parser.add_argument("--factory", action="store_true")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args()
    restore_the_sorted_query()
    uvicorn.run(args.app, factory=args.factory, host=args.host, port=args.port, access_log=not args.no_access_log)


if __name__ == "__main__":
    main()
