"""Profile the check-in hot path: wellbeing under pyinstrument while routine check-ins arrive open loop.

Also measures the process's CPU time per check-in, a figure far less sensitive to a noisy machine
than latency (used to compare before/after a fix)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import Any

from bench.http_bench import Profile, routine_checkin_operation, student_headers
from bench.loadgen import HttpClient, open_loop, poll
from bench.stack import RESULTS, Stack


async def profile_checkins(stack: Stack, profile: Profile, log: Callable[[str], None]) -> dict[str, Any]:
    out = RESULTS / "profile-checkin"
    for suffix in (".txt", ".html", ".done"):
        out.with_suffix(suffix).unlink(missing_ok=True)
    process = stack.start(
        "wellbeing", "wellbeing.app:create_app", wrapper=["-m", "bench.profiled"], env={"BENCH_PROFILE_OUT": str(out)}
    )
    await stack.wait_ready("wellbeing")
    client = HttpClient(process.url, max_connections=64)
    operation = routine_checkin_operation(client, student_headers(f"pf{stack.run_id}-", 300))
    rate, seconds = profile.common_rate, 15.0 if profile.name == "default" else 5.0
    try:
        await open_loop(rate, profile.warmup_seconds * 2, operation)
        log(f"profiling wellbeing: {rate}/s routine check-ins for {seconds} s")
        process.popen.send_signal(signal.SIGUSR1)
        await asyncio.sleep(0.2)
        cpu_before, wall_before = process.cpu_seconds(), time.perf_counter()
        result = await open_loop(rate, seconds, operation)
        cpu = process.cpu_seconds() - cpu_before
        wall = time.perf_counter() - wall_before
        process.popen.send_signal(signal.SIGUSR2)
        if not await poll(lambda: out.with_suffix(".done").exists(), 60, interval=0.2):
            raise RuntimeError(f"the profiler wrote nothing; see {process.log_path}")
    finally:
        await client.aclose()
    summary = result.summary()
    return {
        "rate": rate,
        "seconds": seconds,
        "latency": summary,
        "cpu_ms_per_checkin": round(cpu * 1000 / max(1, summary["count"]), 2),
        "cpu_utilisation": round(cpu / wall, 3),
        "text": str(out.with_suffix(".txt")),
        "html": str(out.with_suffix(".html")),
    }


VARIANTS = {
    "before the fix (previous score by a sorted query)": ({}, ["-m", "bench.variant"]),
    "as built (previous score by key)": ({}, None),
    "as built, relay and flag sweep every 30 s": (
        {"OUTBOX_RELAY_INTERVAL_SECONDS": "30", "FLAG_SWEEP_INTERVAL_SECONDS": "30"},
        None,
    ),
}


async def _seed(stack: Stack, database: str, students: int, count: int) -> None:
    """``count`` stored WHO-5 check-ins spread over the load's students, written directly, with the
    newest-score pointers the service keeps beside them (ignored by the before-the-fix variant)."""
    import uuid
    from datetime import timedelta

    from medsupport_shared.events import utcnow
    from medsupport_shared.mongo import create_client

    client = create_client(stack.mongo)
    try:
        collection = client[database]["checkins"]
        now = utcnow()
        docs = [
            {
                "_id": uuid.uuid4().hex, "student_id": f"ab{stack.run_id}-{i % students}", "cohort": "2027",
                "instrument": "who5", "severity": "none", "reasons": [], "priority": 0,
                "recorded_at": now - timedelta(minutes=count - i), "created_at": now - timedelta(minutes=count - i),
                "stored": True, "flag_pending": False, "share_with_mentor": False, "answers": [4, 4, 4, 4, 4],
                "score": 20, "percentage": 80, "band": "adequate_wellbeing", "note": None, "outbox": [],
            }
            for i in range(count)
        ]  # fmt: skip
        for start in range(0, count, 1000):
            await collection.insert_many(docs[start : start + 1000])
        latest = {doc["student_id"]: doc for doc in docs}  # what the service keeps beside them (newest last)
        await client[database]["latest_scores"].insert_many(
            [
                {"_id": f"{student}|who5", "student_id": student}
                | {k: doc[k] for k in ("instrument", "score", "percentage", "band", "recorded_at")}
                for student, doc in latest.items()
            ]
        )
    finally:
        await client.close()


async def checkin_cost_ab(stack: Stack, profile: Profile, log: Callable[[str], None]) -> dict[str, Any]:
    """CPU per check-in (wellbeing + MongoDB server) and latency at a fixed rate, on an empty database
    and after seeding stored check-ins, for the service as built and with the recommended fix."""
    from bench.stack import CpuMeter, infrastructure_processes

    seeded = 300 if profile.name == "smoke" else 5000
    seconds = 2.0 if profile.name == "smoke" else 8.0
    rate = profile.common_rate
    results: dict[str, Any] = {"rate": rate, "seconds": seconds, "seeded_checkins": seeded, "variants": {}}
    for index, (label, (env, wrapper)) in enumerate(VARIANTS.items()):
        name = f"wellbeing-ab{index}"
        process = stack.start(name, "wellbeing.app:create_app", env=env, wrapper=wrapper)
        await stack.wait_ready(name)
        client = HttpClient(process.url, max_connections=64)
        students = 300
        operation = routine_checkin_operation(client, student_headers(f"ab{stack.run_id}-", students))
        meter = CpuMeter({"wellbeing": process.proc, **infrastructure_processes()})
        rows = {}
        try:
            for size in (0, seeded):
                if size:
                    await _seed(stack, stack.database(name), students, size)
                await open_loop(rate, profile.warmup_seconds, operation)
                meter.start()
                result = (await open_loop(rate, seconds, operation)).summary()
                cpu = meter.stop()
                n = max(1, result["count"] + result["errors"])
                rows[str(size)] = {
                    "p50": result["p50"],
                    "p99": result["p99"],
                    "errors": result["errors"],
                    "cpu_ms_per_checkin": {k: round(v * 1000 / n, 2) for k, v in cpu.items()},
                }
                log(
                    f"  {label}, {size} stored: p50 {result['p50']} ms, CPU/check-in {rows[str(size)]['cpu_ms_per_checkin']}"
                )
        finally:
            await client.aclose()
            stack.stop(name)
        results["variants"][label] = rows
    return results
