"""`python -m bench [--quick] [--only SECTION ...] [--profile]`: see bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report as report_mod
from bench.http_bench import Profile, capacity, floor_operation, latency_at, routine_checkin_operation, student_headers
from bench.loadgen import HttpClient
from bench.memory import MemorySampler
from bench.stack import RESULTS, SERVICES, Stack, infrastructure_processes, machine, service_available
from bench.stores import BACKENDS

SECTIONS = ("http", "messaging", "alerts", "matching", "memory")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short steps, one run each, small sizes (≤ 1 minute)")
    parser.add_argument("--smoke", action="store_true", help="trivial sizes: checks the harness, numbers meaningless")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--profile", action="store_true", help="only profile the check-in hot path (pyinstrument)")
    parser.add_argument(
        "--stores",
        nargs="+",
        choices=("current", "sqlite", "postgresql"),
        help="the MongoDB-protocol servers to measure: 'current' is MONGO_URL (or the local one); sqlite and "
        "postgresql are private FerretDBs on each backend, measured one after the other in the same run "
        "(default: both, unless MONGO_URL is set or --smoke)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json", help="where the JSON report goes")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    profile = Profile.named("smoke" if args.smoke else "quick" if args.quick else "default")
    sections = set(args.only or SECTIONS)
    stack = Stack()
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": profile.name,
        "run_id": stack.run_id,
        "machine": machine(),
        "command": {"default": "make bench", "quick": "uv run python -m bench --quick"}.get(profile.name, "smoke"),
    }
    began = time.perf_counter()
    if args.profile:
        from bench.profiling import checkin_cost_ab, profile_checkins

        try:
            report["hot_path_profile"] = await profile_checkins(stack, profile, log)
            stack.stop_all()
            log("check-in cost A/B: before and after the hot-path fix, empty and seeded database")
            report["checkin_cost_ab"] = await checkin_cost_ab(stack, profile, log)
        finally:
            stack.stop_all()
            await stack.cleanup()
        return report
    try:
        if "matching" in sections:
            from bench.matching import matching_benchmark

            log("mentorship matching")
            report["matching"] = matching_benchmark(profile)
        needs_services = sections & {"http", "messaging", "alerts", "memory"}
        stores = args.stores or (["current"] if args.smoke or os.environ.get("MONGO_URL") else list(BACKENDS))
        if needs_services and stores == ["current"]:
            await run_stack(stack, profile, sections, report)
        elif needs_services:
            report["stores"] = {}
            for backend in stores:
                report["stores"][backend] = await store_run(backend, stack, profile, sections)
    finally:
        stack.stop_all()
        await stack.cleanup()
        report["duration_s"] = round(time.perf_counter() - began, 1)
    return report


async def store_run(backend: str, stack: Stack, profile: Profile, sections: set[str]) -> dict[str, Any]:
    """The service sections on a private FerretDB on ``backend`` (the A/B of the embedded store)."""
    from bench.stack import STORE_STATE
    from bench.stores import private_store

    store_stack = Stack(run_id=f"{stack.run_id}{backend[:2]}", kafka=stack.kafka)
    part: dict[str, Any] = {
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "alert_background_rate": profile.common_rate,
    }
    began = time.perf_counter()
    log(f"store {backend}: starting a private FerretDB")
    try:
        with private_store(backend) as (url, state):
            store_stack.mongo = url
            STORE_STATE.append(state)
            try:
                await run_stack(store_stack, profile, sections, part)
            finally:
                STORE_STATE.remove(state)
                store_stack.stop_all()
                await store_stack.cleanup()
    except RuntimeError as exc:  # e.g. no PostgreSQL installed: the other store's figures still count
        log(f"store {backend}: not measured: {exc}")
        part["not_measured"] = str(exc)
    part["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    part["duration_s"] = round(time.perf_counter() - began, 1)
    return part


async def run_stack(stack: Stack, profile: Profile, sections: set[str], report: dict[str, Any]) -> None:
    from bench.alerts import WEBHOOK_SECRET, SmtpSink

    with SmtpSink() as smtp:
        log(f"starting services (run {stack.run_id}, topics {stack.topic_prefix}*, logs {stack.log_dir})")
        available = [name for name in SERVICES if service_available(name)]
        report["services_started"] = available
        env = {
            "notifications": {
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp.port),
                "WEBHOOK_SIGNING_SECRET": WEBHOOK_SECRET,
                "SMTP_STARTTLS": "false",  # the local sink speaks plain SMTP
                "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the local receiver
                "WEBHOOK_INCLUDE_REASONS": "true",  # it times each student by the subject id
            }
        }
        for name in available:
            stack.start(name, f"{name}.app:create_app", env=env.get(name))
        stack.start("floor", "bench.floor_app:create_app")
        await stack.wait_ready(*available, "floor")
        await asyncio.sleep(3.0)  # let start-up work (indexes, consumer joins) settle before idle memory
        sampler = MemorySampler({n: p for n, p in stack.processes.items() if n != "floor"})
        sampler.snapshot_idle()
        sampler.start()
        loaded: set[str] = set()
        try:
            if "http" in sections and "wellbeing" in available:
                await http_section(stack, profile, report)
                loaded.add("wellbeing")
                loaded.add("notifications")  # it consumes every checkin.recorded
            if "messaging" in sections:
                await messaging_section(stack, profile, report, available)
                if "notifications" in available:
                    loaded.add("notifications")
            if "alerts" in sections and {"wellbeing", "notifications"} <= set(available):
                from bench.alerts import alert_latency
                from bench.stack import infrastructure_processes, settle

                # the messaging section leaves an alert per feedback event; on FerretDB every conditional
                # update scans its collection, so start from empty alert collections, as each run does for check-ins
                await stack.reset("notifications", "alerts", "deliveries", "delivery_leases")
                everything = {**{n: p.proc for n, p in stack.processes.items()}, **infrastructure_processes()}
                waited = await settle(everything)  # "light load" means nothing left over from the sections before
                log(f"settled after {waited} s")
                cap = report.get("http", {}).get("wellbeing_checkin", {}).get("capacity", {}).get("sustained_rate")
                # the store A/B loads each store alike: the fixed common rate, not half of each one's own capacity
                background = report.get("alert_background_rate") or (
                    round(0.5 * cap, 1) if cap else profile.common_rate
                )
                rates = ", ".join(f"{r:g}/s" for r in (background, *profile.heavier_alert_backgrounds))
                log(f"alert latency: light, then with {rates} routine check-ins in the background")
                report["alerts"] = await alert_latency(
                    wellbeing_url=stack.processes["wellbeing"].url,
                    notifications_url=stack.processes["notifications"].url,
                    profile=profile,
                    background_rate=background,
                    run=stack.run_id,
                    heavier_rates=profile.heavier_alert_backgrounds,
                    reset=lambda: stack.reset("wellbeing", "checkins"),
                )
                report["alerts"]["settled_after_s"] = waited
                loaded |= {"wellbeing", "notifications"}
        finally:
            await sampler.stop()
            report["memory"] = sampler.report(loaded)


async def http_section(stack: Stack, profile: Profile, report: dict[str, Any]) -> None:
    floor = HttpClient(stack.processes["floor"].url, max_connections=128)
    wellbeing = HttpClient(stack.processes["wellbeing"].url, max_connections=128)
    floor_op = floor_operation(floor)
    checkin_op = routine_checkin_operation(wellbeing, student_headers(f"hb{stack.run_id}-", 300))
    common_rate = profile.common_rate
    try:
        log(f"HTTP latency at {common_rate}/s: floor, then wellbeing check-ins")
        processes = {name: p.proc for name, p in stack.processes.items()} | infrastructure_processes()

        async def reset_floor() -> None:
            await stack.reset("floor", "items")

        async def reset_wellbeing() -> None:
            await stack.reset("wellbeing", "checkins")

        floor_latency = await latency_at(common_rate, floor_op, profile, processes, reset_floor)
        checkin_latency = await latency_at(common_rate, checkin_op, profile, processes, reset_wellbeing)
        log("HTTP capacity (p99 < 100 ms): floor")
        floor_capacity = await capacity(
            floor_op, profile, start_rate=max(profile.start_rate, profile.max_rate / 40), reset=reset_floor
        )
        log(f"  floor sustains {floor_capacity['sustained_rate']}/s; now wellbeing check-ins")
        checkin_capacity = await capacity(checkin_op, profile, reset=reset_wellbeing)
        log(f"  wellbeing sustains {checkin_capacity['sustained_rate']}/s")
    finally:
        await floor.aclose()
        await wellbeing.aclose()
    report["http"] = {
        "floor": {"latency": floor_latency, "capacity": floor_capacity},
        "wellbeing_checkin": {"latency": checkin_latency, "capacity": checkin_capacity},
    }


async def messaging_section(stack: Stack, profile: Profile, report: dict[str, Any], available: list[str]) -> None:
    from bench.messaging import kafka_floor, notifications_throughput
    from medsupport_shared.event_types import FEEDBACK_TOPIC, WELLBEING_TOPIC

    log("messaging floor: raw aiokafka produce→consume")
    section: dict[str, Any] = {"floor": await kafka_floor(stack.kafka, stack.topic("bench.floor"), profile)}
    if "notifications" in available:
        log("notifications: burst capacity, then 70 % of it sustained with the consumer lag sampled")
        section["notifications"] = await notifications_throughput(
            bootstrap=stack.kafka,
            prefix=stack.topic_prefix,
            group=f"{stack.topic_prefix}notifications",
            topics=[stack.topic(WELLBEING_TOPIC), stack.topic(FEEDBACK_TOPIC)],
            profile=profile,
            run=stack.run_id,
        )
    report["messaging"] = section


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    report = asyncio.run(run(args))
    table = report_mod.render(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    args.output.with_suffix(".md").write_text(table + "\n")
    print(table)
    log(f"report: {args.output} and {args.output.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
