"""The benchmark harness runs end to end on trivial sizes and writes a well-formed report.

No timing is asserted (benchmarks are not tests): only that every section produced its figures."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_smoke_run_writes_a_complete_report(infrastructure, tmp_path):
    output = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(output.read_text())
    table = output.with_suffix(".md").read_text()

    assert report["profile"] == "smoke" and report["machine"]["cpus"] >= 1
    for side in ("floor", "wellbeing_checkin"):
        latency = report["http"][side]["latency"]
        assert latency["count"] > 0 and latency["p50"] <= latency["p99"]
        assert report["http"][side]["capacity"]["steps"], side
    floor = report["messaging"]["floor"]
    assert floor["round_trip"]["count"] > 0 and floor["burst"]["events_per_s"] > 0
    notifications = report["messaging"]["notifications"]
    assert notifications["burst"]["events_per_s"] > 0 and notifications["sustained"]["lag_samples"]
    for phase in ("light", "sustained"):
        for path in ("webhook", "sse"):
            figures = report["alerts"][phase][path]
            assert figures["count"] > 0 and figures["p50"] <= figures["max"], (phase, path, figures)
    assert report["alerts"]["bad_signatures"] == 0
    for name in ("wellbeing", "notifications"):
        assert report["memory"][name]["idle_rss_mb"] > 0 and report["memory"][name]["loaded"]
    assert "matching" in report
    assert "| sustained rate with p99 < 100 ms |" in table and "Alert latency" in table
