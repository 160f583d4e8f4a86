"""Slow steps with visible progress and one-line failures, for the local scripts (standard library only).

A step's own output goes to a log file; the terminal gets what is happening, the elapsed time every
few seconds, and on failure one line naming the step, its last output line and the log file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

MIN_PYTHON = (3, 11)
"""The services' Python; this file itself stays runnable on older ones (3.8+), to say so."""
TICK_SECONDS = float(os.environ.get("MEDSUPPORT_PROGRESS_SECONDS", 10))


class StepFailed(SystemExit):
    """Ends the script with one readable line on stderr and exit status 1 (SystemExit: no traceback)."""

    def __init__(self, line: str) -> None:
        super().__init__(line)


def say(prefix: str, message: str) -> None:
    print(f"[{prefix}] {message}", flush=True)


def _last_line(log_file: Path) -> str:
    try:
        lines = [line.strip() for line in log_file.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def run_step(
    prefix: str,
    label: str,
    argv: list[str],
    log_file: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run ``argv`` to completion, saying what it does and how long it has taken; StepFailed if it fails."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    say(prefix, f"{label} ...")
    started = time.monotonic()
    with open(log_file, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        try:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd, env=env
            )
        except OSError as exc:
            raise StepFailed(f"[{prefix}] error: {label}: cannot run {argv[0]} ({exc.strerror})") from None
        while True:
            try:
                code = proc.wait(timeout=TICK_SECONDS)
                break
            except subprocess.TimeoutExpired:
                say(prefix, f"  ... still {label} ({time.monotonic() - started:.0f}s)")
            except KeyboardInterrupt:
                proc.terminate()
                raise StepFailed(f"[{prefix}] interrupted during: {label}") from None
    elapsed = time.monotonic() - started
    if code != 0:
        detail = _last_line(log_file)
        raise StepFailed(
            f"[{prefix}] error: {label} failed after {elapsed:.0f}s (exit {code})"
            + (f": {detail}" if detail else "")
            + f"; full output in {log_file}"
        )
    say(prefix, f"{label}: done in {elapsed:.0f}s")


def fail(prefix: str, message: str) -> StepFailed:
    return StepFailed(f"[{prefix}] error: {message}")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def may_install_system_packages() -> bool:
    """Root on a machine with apt-get, unless MEDSUPPORT_NO_SYSTEM_INSTALL is set."""
    from shutil import which

    return is_root() and which("apt-get") is not None and not os.environ.get("MEDSUPPORT_NO_SYSTEM_INSTALL")


def python_too_old() -> str | None:
    if sys.version_info < MIN_PYTHON:
        found = ".".join(map(str, sys.version_info[:3]))
        return (
            f"Python 3.11+ is needed ({sys.executable} is {found}): install it (e.g. sudo apt-get install "
            "python3.11 python3.11-venv) and run make with PYTHON=python3.11"
        )
    return None
