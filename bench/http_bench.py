"""HTTP figures: latency at a fixed offered rate, and the highest sustained rate with p99 under a target.

Used for both the bare floor endpoint and the wellbeing check-in, with the same driver and settings,
so the two can be divided."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psutil

from bench.loadgen import HttpClient, Operation, open_loop
from bench.stack import CpuMeter
from bench.stats import median_of
from medsupport_shared.testing import token_for

ROUTINE_ANSWERS = [4, 4, 4, 4, 4]  # WHO-5 raw 20: adequate wellbeing, never a flag
URGENT_ANSWERS = [1, 1, 1, 1, 1, 1, 1, 1, 1]  # PHQ-9 with item 9 > 0: urgent


@dataclass(frozen=True)
class Profile:
    """How long and how hard. ``default`` for `make bench`, ``quick`` (≤ 1 minute), ``smoke`` (the
    harness's own test: trivial sizes, meaningless numbers, a well-formed report)."""

    name: str = "default"
    p99_target_ms: float = 100.0
    warmup_seconds: float = 2.0
    step_seconds: float = 4.0
    """Length of one step of the capacity ladder."""
    latency_runs: int = 3
    latency_seconds: float = 4.0
    common_rate: float = 20.0
    """The offered rate at which the floor's and the service's latencies are compared."""
    start_rate: float = 10.0
    max_rate: float = 2000.0
    urgent_per_run: int = 20
    heavier_alert_backgrounds: tuple[float, ...] = (50.0, 100.0)
    """Routine check-ins/s in the background of further urgent-alert phases (issue 18's 50 and 100/s)."""
    kafka_burst: int = 5000
    notifications_burst: int = 1500
    sustained_seconds: float = 10.0
    matching_sizes: tuple[tuple[int, int], ...] = ((250, 50), (500, 100), (1000, 200), (2000, 400), (4000, 800))
    matching_repeats: int = 3

    @classmethod
    def named(cls, name: str) -> Profile:
        if name == "quick":
            return cls(
                name="quick", warmup_seconds=1.0, step_seconds=2.0, latency_runs=1, latency_seconds=2.0,
                common_rate=10.0, max_rate=60.0, urgent_per_run=6, kafka_burst=500, notifications_burst=200,
                heavier_alert_backgrounds=(25.0,),
                sustained_seconds=4.0, matching_sizes=((250, 50), (500, 100), (1000, 200)), matching_repeats=1,
            )  # fmt: skip
        if name == "smoke":
            return cls(
                name="smoke", warmup_seconds=0.3, step_seconds=0.5, latency_runs=1, latency_seconds=0.5,
                common_rate=5.0, start_rate=5.0, max_rate=8.0, urgent_per_run=2, kafka_burst=50,
                heavier_alert_backgrounds=(),
                notifications_burst=20, sustained_seconds=1.0, matching_sizes=((20, 4), (40, 8)), matching_repeats=1,
            )  # fmt: skip
        return cls()


def floor_operation(client: HttpClient) -> Operation:
    async def op(_: int) -> bool:
        response = await client.post("/floor", {"instrument": "who5", "answers": ROUTINE_ANSWERS})
        return response.status == 201

    return op


def student_headers(prefix: str, count: int, cohort: str = "2027") -> list[dict[str, str]]:
    return [
        {"Authorization": f"Bearer {token_for(f'{prefix}{i}', 'student', cohort=cohort, expires_in=4 * 3600)}"}
        for i in range(count)
    ]


def routine_checkin_operation(client: HttpClient, students: list[dict[str, str]]) -> Operation:
    cycle = itertools.cycle(students)

    async def op(_: int) -> bool:
        response = await client.post(
            "/v1/checkins", {"instrument": "who5", "answers": ROUTINE_ANSWERS}, headers=next(cycle)
        )
        return response.status == 201

    return op


Reset = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


async def latency_at(
    rate: float,
    operation: Operation,
    profile: Profile,
    processes: dict[str, psutil.Process] | None = None,
    reset: Reset = _nothing,
) -> dict[str, Any]:
    """Median over several open-loop runs at one offered rate (after a warm-up run), and the CPU time
    that ``processes`` spent per request meanwhile (a cost figure that a noisy machine disturbs little)."""
    await reset()
    await open_loop(rate, profile.warmup_seconds, operation)  # warm-up: connections, pools, first-use paths
    runs = []
    meter = CpuMeter(processes or {})
    meter.start()
    for _ in range(profile.latency_runs):
        runs.append((await open_loop(rate, profile.latency_seconds, operation)).summary())
    cpu = meter.stop()
    requests = sum(r["count"] + r["errors"] for r in runs)
    cpu_ms = {name: round(seconds * 1000 / max(1, requests), 2) for name, seconds in cpu.items()}
    if cpu_ms:
        cpu_ms["total"] = round(sum(cpu_ms.values()), 2)
    await asyncio.sleep(0.5)
    return {"offered_rate": rate, **median_of(runs), "cpu_ms_per_request": cpu_ms, "per_run": runs}


def _passes(summary: dict[str, Any], target_ms: float) -> bool:
    total = summary["count"] + summary["errors"]
    return (
        total > 0
        and summary["errors"] <= 0.01 * total
        and summary["p99"] is not None
        and summary["p99"] <= target_ms
        and summary["achieved_rate"] >= 0.9 * summary["offered_rate"]
    )


async def capacity(
    operation: Operation, profile: Profile, *, start_rate: float | None = None, reset: Reset = _nothing
) -> dict[str, Any]:
    """The highest offered rate whose p99 stays under the target with <1 % errors.

    A ladder ×1.5 until a step fails (twice), one bisection between the last pass and the first
    failure, then the found rate is re-run (several runs, median) to confirm it."""
    steps: list[dict[str, Any]] = []
    start_rate = start_rate or profile.start_rate

    async def step(rate: float) -> bool:
        """A failing step is tried once more: on a shared machine one burst of someone else's work
        must not end the ladder (a rate that fails twice in a row is past capacity)."""
        for _attempt in range(2):
            await reset()
            summary = (await open_loop(rate, profile.step_seconds, operation)).summary()
            ok = _passes(summary, profile.p99_target_ms)
            steps.append({**summary, "pass": ok})
            await asyncio.sleep(1.0)  # let queues drain between steps
            if ok:
                return True
        return False

    await open_loop(start_rate, profile.warmup_seconds, operation)  # warm-up
    best, failed = 0.0, None
    rate = start_rate
    while rate <= profile.max_rate:
        if await step(rate):
            best = rate
            rate = round(rate * 1.5, 1)
        else:
            failed = rate
            break
    while best == 0 and rate >= 2 * profile.start_rate / 8:  # even the first step failed: step down
        rate = round(rate / 2, 1)
        if await step(rate):
            best = rate
    if failed is not None and best > 0:
        middle = round((best + failed) / 2, 1)
        if await step(middle):
            best = middle
    confirm = []
    if best > 0:
        for _ in range(profile.latency_runs):
            await reset()
            confirm.append((await open_loop(best, profile.step_seconds, operation)).summary())
            await asyncio.sleep(1.0)
    confirmed = median_of(confirm) if confirm else {}
    return {
        "p99_target_ms": profile.p99_target_ms,
        "sustained_rate": best,
        "first_failing_rate": failed,
        "confirmed": confirmed,
        "steps": steps,
    }
