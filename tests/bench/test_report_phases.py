"""The urgent-alert phases beyond the common background rate (issue 18's 50 and 100/s) are reported, lightest
first, in the service section and in the store A/B table, with the alerts that never arrived counted."""

from bench.alerts import alert_phases, heavier_phase
from bench.report import render


def phase(rate: float, p99: float, missing: int = 0) -> dict:
    figures = {"p50": p99 / 2, "p95": p99, "p99": p99, "max": p99, "errors": missing}
    return {"background_rate": rate, "webhook": figures, "sse": figures, "server_side": {}}


ALERTS = {
    heavier_phase(100.0): phase(100.0, 900.0, missing=3),
    "light": phase(0.0, 80.0),
    heavier_phase(50.0): phase(50.0, 300.0),
    "sustained": phase(20.0, 120.0),
    "bad_signatures": 0,
}


def test_phases_come_lightest_first():
    assert alert_phases(ALERTS) == ["light", "sustained", "background 50/s", "background 100/s"]


def test_every_phase_is_a_row_of_the_alert_table_and_of_the_store_table():
    machine = {"cpus": 2, "load_average_at_start": [0.5, 0.5, 0.5]}
    store = {"alerts": ALERTS, "load_average_at_start": [0.5], "load_average_at_end": [0.7], "duration_s": 9}
    report = {"run_id": "r1", "started_at": "now", "machine": machine, "stores": {"postgresql": store}}
    table = render(report)
    rows = [line for line in table.splitlines() if line.startswith("| webhook")]
    assert [row.split(" | ")[1] for row in rows] == ["none", "20 check-ins/s", "50 check-ins/s", "100 check-ins/s"]
    assert "| urgent alert → webhook p50 / p99, background 100/s | 450 ms / 900 ms (3 missing) at 100/s |" in table
