"""deploy/local/chromium.py, the step `make test` (bootstrap) and the browser fixture call: it prints the
browser it found, and a browser named by hand that is not there is one clear line and exit 1 (it never
installs something else in its place)."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "chromium.py"


def run(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, env={**os.environ, **env}, check=False
    )


def test_the_browser_found_is_printed():
    found = run()
    assert found.returncode == 0 and os.access(found.stdout.strip(), os.X_OK)
    named = run(MEDSUPPORT_CHROMIUM=found.stdout.strip())
    assert named.returncode == 0 and named.stdout.strip() == found.stdout.strip()


def test_a_missing_browser_named_by_hand_is_one_line_and_exit_1():
    missing = run(MEDSUPPORT_CHROMIUM="/nonexistent/chromium")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip().splitlines() == [
        "[chromium] MEDSUPPORT_CHROMIUM=/nonexistent/chromium is not an executable file"
    ]
