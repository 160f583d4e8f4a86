"""The printed / README table: each figure, its same-run floor, and the ratio between them."""

from __future__ import annotations

from typing import Any

from bench.alerts import alert_phases
from bench.stats import ratio


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def _num(value: Any, unit: str = "") -> str:
    return "—" if value is None else f"{value:g}{unit}"


def _x(value: Any) -> str:
    return "—" if value is None else f"×{value:.2f}"


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"medsupport benchmark, run {report['run_id']} at {report['started_at']} "
        f"({report.get('profile')} profile, {m['cpus']} CPUs, "
        f"load average at start {m['load_average_at_start'][0]}, {report.get('duration_s', '?')} s)",
        "",
    ]
    http = report.get("http")
    if http:
        f, w = http["floor"], http["wellbeing_checkin"]
        rate = _get(w, "latency", "offered_rate")
        lines += [
            "HTTP: `POST /v1/checkins` (routine WHO-5) vs the floor (bare FastAPI + one insert, same MongoDB)",
            "",
            "| figure | wellbeing | floor | ratio |",
            "|---|---|---|---|",
        ]
        for p in ("p50", "p95", "p99"):
            a, b = _get(w, "latency", p), _get(f, "latency", p)
            lines.append(f"| latency {p} at {_num(rate)}/s (open loop) | {_ms(a)} | {_ms(b)} | {_x(ratio(a, b))} |")
        a, b = _get(w, "latency", "cpu_ms_per_request", "wellbeing"), _get(f, "latency", "cpu_ms_per_request", "floor")
        lines.append(f"| CPU per request, the service's own process | {_ms(a)} | {_ms(b)} | {_x(ratio(a, b))} |")
        a, b = _get(w, "latency", "cpu_ms_per_request", "total"), _get(f, "latency", "cpu_ms_per_request", "total")
        lines.append(
            f"| CPU per request, all processes (services, Kafka, MongoDB) | {_ms(a)} | {_ms(b)} | {_x(ratio(a, b))} |"
        )
        a, b = _get(w, "capacity", "sustained_rate"), _get(f, "capacity", "sustained_rate")
        lines.append(f"| sustained rate with p99 < 100 ms | {_num(a, '/s')} | {_num(b, '/s')} | {_x(ratio(a, b))} |")
        a, b = _get(w, "capacity", "confirmed", "p99"), _get(f, "capacity", "confirmed", "p99")
        lines += [f"| p99 at that rate (median of runs) | {_ms(a)} | {_ms(b)} | |", ""]
    messaging = report.get("messaging")
    if messaging:
        floor, n = messaging["floor"], messaging.get("notifications") or {}
        lines += [
            "Messaging: the notifications consumer vs the floor (raw aiokafka, acks=all, same broker)",
            "",
            "| figure | notifications | floor | ratio |",
            "|---|---|---|---|",
        ]
        a, b = _get(n, "burst", "events_per_s"), _get(floor, "burst", "events_per_s")
        lines.append(f"| burst drain rate | {_num(a, '/s')} | {_num(b, '/s')} | {_x(ratio(a, b))} |")
        s = n.get("sustained") or {}
        if s:
            verdict = "bounded" if s.get("bounded") else "NOT bounded"
            lines.append(
                f"| sustained rate, lag {verdict} (max {s.get('max_lag')}, 2nd half {s.get('max_lag_second_half')}) "
                f"| {_num(s.get('achieved_rate'), '/s')} | | |"
            )
        for p in ("p50", "p99"):
            lines.append(f"| floor produce→consume {p} | | {_ms(_get(floor, 'round_trip', p))} | |")
        lines.append("")
    alerts = report.get("alerts")
    if alerts:
        lines += [
            "Alert latency: urgent `POST /v1/checkins` → signed webhook at a local receiver / SSE inbox event",
            "(median over runs; floor = HTTP floor + Kafka round trip at the same percentile)",
            "",
            "| path | background load | p50 | p95 | p99 | max | p50 / floor | p99 / floor |",
            "|---|---|---|---|---|---|---|---|",
        ]
        http_floor = _get(report, "http", "floor", "latency") or {}
        kafka_floor = _get(report, "messaging", "floor", "round_trip") or {}

        def floor_at(p: str) -> float | None:
            a, b = http_floor.get(p), kafka_floor.get(p)
            return None if a is None or b is None else a + b

        for phase in alert_phases(alerts):
            data = alerts[phase]
            load = "none" if not data["background_rate"] else f"{data['background_rate']:g} check-ins/s"
            for path in ("webhook", "sse"):
                d = data[path]
                cells = " | ".join(_ms(d.get(p)) for p in ("p50", "p95", "p99", "max"))
                errors = f" ({d['errors']} missing)" if d.get("errors") else ""
                lines.append(
                    f"| {path}{errors} | {load} | {cells} | {_x(ratio(d.get('p50'), floor_at('p50')))} "
                    f"| {_x(ratio(d.get('p99'), floor_at('p99')))} |"
                )
        lines += ["", *_server_side(alerts)]
        lines.append("")
    matching = report.get("matching")
    if matching and matching.get("available"):
        lines += [
            f"Mentorship matching (`{matching['entry_point']}`)",
            "",
            "| students × mentors | time (median) | peak traced memory | greedy time | time / greedy "
            "| placed (greedy) | flagged placed | score / greedy |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in matching["sizes"]:
            lines.append(
                f"| {row['students']} × {row['mentors']} | {row['seconds'] * 1000:.0f} ms | {row['peak_mb']:.1f} MB "
                f"| {row['greedy_seconds'] * 1000:.0f} ms | {_x(ratio(row['seconds'], row['greedy_seconds']))} "
                f"| {row['matched']} ({row['greedy_matched']}) | {row['flagged_matched']}/{row['flagged']} "
                f"| {_x(ratio(row['score'], row['greedy_score']))} |"
            )
        if matching.get("scaling_exponent") is not None:
            lines.append(f"\nTime grows as size^{matching['scaling_exponent']:.2f} (log-log fit over the sizes).")
        lines.append("")
    elif matching:
        lines += [f"Mentorship matching: not measured ({matching.get('reason')})", ""]
    stores = report.get("stores")
    if stores:
        for backend, part in stores.items():
            if part.get("not_measured"):
                lines += [f"FerretDB on {backend}: not measured ({part['not_measured']})", ""]
        stores = {name: part for name, part in stores.items() if not part.get("not_measured")}
        lines += _stores_table(stores) if stores else []
        for backend, part in stores.items():
            loads = f"load average {part['load_average_at_start'][0]} → {part['load_average_at_end'][0]}"
            lines += [f"### Store: FerretDB on {backend} ({loads}, {part['duration_s']} s)", ""]
            body = render({**part, "run_id": report["run_id"], "started_at": report["started_at"], "machine": m})
            lines += [*body.splitlines()[2:], ""]
    hot = report.get("hot_path_profile")
    if hot:
        lines += [
            f"Check-in hot path under pyinstrument at {hot['rate']:g}/s for {hot['seconds']:g} s: "
            f"p50 {_ms(hot['latency']['p50'])}, p99 {_ms(hot['latency']['p99'])}, "
            f"{hot['cpu_ms_per_checkin']} ms CPU per check-in (profiler overhead included); report: {hot['text']}",
            "",
        ]
    ab = report.get("checkin_cost_ab")
    if ab:
        lines += _ab_table(ab)
    memory = report.get("memory")
    if memory:
        lines += [
            "Resident memory (RSS) per service process",
            "",
            "| service | idle | peak under load | CPU time used |",
            "|---|---|---|---|",
        ]
        for name, row in memory.items():
            peak = _num(row["peak_rss_under_load_mb"], " MB") if row["loaded"] else "not loaded"
            lines.append(f"| {name} | {_num(row['idle_rss_mb'], ' MB')} | {peak} | {_num(row['cpu_seconds'], ' s')} |")
        lines.append("")
    return "\n".join(lines).rstrip()


def _missing(errors: Any) -> str:
    return f" ({errors} missing)" if errors else ""


def _stores_table(stores: dict[str, Any]) -> list[str]:
    """The embedded stores side by side, each figure as a ratio to its own run's floor where there is one."""
    names = list(stores)
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, cell: Any) -> None:
        rows.append((label, [cell(stores[name]) for name in names]))

    def with_floor(value: Any, floor: Any, fmt: Any) -> str:
        return f"{fmt(value)} ({_x(ratio(value, floor))})" if floor else fmt(value)

    row("load average at start → end", lambda p: f"{p['load_average_at_start'][0]} → {p['load_average_at_end'][0]}")
    for p in ("p50", "p99"):
        row(
            f"check-in latency {p} (/ floor)",
            lambda d, p=p: with_floor(
                _get(d, "http", "wellbeing_checkin", "latency", p), _get(d, "http", "floor", "latency", p), _ms
            ),
        )
    row(
        "check-in CPU, all processes (/ floor)",
        lambda d: with_floor(
            _get(d, "http", "wellbeing_checkin", "latency", "cpu_ms_per_request", "total"),
            _get(d, "http", "floor", "latency", "cpu_ms_per_request", "total"),
            _ms,
        ),
    )
    row(
        "sustained check-ins at p99 < 100 ms (/ floor)",
        lambda d: with_floor(
            _get(d, "http", "wellbeing_checkin", "capacity", "sustained_rate"),
            _get(d, "http", "floor", "capacity", "sustained_rate"),
            lambda v: _num(v, "/s"),
        ),
    )
    row(
        "floor (bare FastAPI + insert) sustained",
        lambda d: _num(_get(d, "http", "floor", "capacity", "sustained_rate"), "/s"),
    )
    row(
        "notifications burst drain",
        lambda d: _num(_get(d, "messaging", "notifications", "burst", "events_per_s"), "/s"),
    )
    row(
        "notifications sustained (lag bounded?)",
        lambda d: (
            f"{_num(_get(d, 'messaging', 'notifications', 'sustained', 'achieved_rate'), '/s')} "
            f"({'yes' if _get(d, 'messaging', 'notifications', 'sustained', 'bounded') else 'no'})"
        ),
    )
    phases = list(dict.fromkeys(p for d in stores.values() for p in alert_phases(d.get("alerts") or {})))
    for phase in phases or ["light", "sustained"]:
        label = phase if phase.startswith("background") else f"{phase} background"
        row(
            f"urgent alert → webhook p50 / p99, {label}",
            lambda d, phase=phase: (
                f"{_ms(_get(d, 'alerts', phase, 'webhook', 'p50'))} / "
                f"{_ms(_get(d, 'alerts', phase, 'webhook', 'p99'))}"
                f"{_missing(_get(d, 'alerts', phase, 'webhook', 'errors'))}"
                f" at {_num(_get(d, 'alerts', phase, 'background_rate'), '/s')}"
            ),
        )
    lines = [
        "Embedded store A/B (same run, same workload; each store with its own floors)",
        "",
        "| figure | " + " | ".join(f"FerretDB on {name}" for name in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return [*lines, ""]


def _ab_table(ab: dict[str, Any]) -> list[str]:
    """The hot-path fix, A/B in one run: check-ins at a fixed rate on an empty and a seeded database."""
    sizes = ["0", str(ab["seeded_checkins"])]
    lines = [
        f"Check-in cost A/B at {ab['rate']:g}/s for {ab['seconds']:g} s per cell; CPU per check-in of the service "
        "and of the MongoDB-protocol server",
        "",
        "| variant | stored check-ins | p50 | p99 | wellbeing CPU | MongoDB CPU |",
        "|---|---|---|---|---|---|",
    ]
    for label, rows in ab["variants"].items():
        for size in sizes:
            row = rows.get(size) or {}
            cpu = row.get("cpu_ms_per_checkin") or {}
            lines.append(
                f"| {label} | {size} | {_ms(row.get('p50'))} | {_ms(row.get('p99'))} "
                f"| {_ms(cpu.get('wellbeing'))} | {_ms(cpu.get('mongo'))} |"
            )
    return [*lines, ""]


def _server_side(alerts: dict[str, Any]) -> list[str]:
    """The same urgent path timed inside the services (their histograms, interpolated within buckets):
    free of the load generator's own delays, which share its event loop with the receivers."""
    rows = []
    for phase in alert_phases(alerts):
        data = (alerts.get(phase) or {}).get("server_side") or {}
        load = (
            "none"
            if not (alerts.get(phase) or {}).get("background_rate")
            else f"{alerts[phase]['background_rate']:g}/s"
        )
        for label, key in (
            ("check-in received → flag event in Kafka (wellbeing)", "checkin_to_flag_in_kafka"),
            ("flag event → first delivery (notifications)", "event_to_first_delivery"),
        ):
            d = data.get(key)
            if d:
                cells = " | ".join(_ms(d.get(p)) for p in ("mean", "p50", "p95", "p99"))
                rows.append(f"| {label} | {load} | {cells} |")
    if not rows:
        return []
    return [
        "The same path timed inside the services (their own histograms):",
        "",
        "| segment | background load | mean | p50 | p95 | p99 |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
