"""Running deploy/local's scripts as a fresh machine would: a controlled PATH of fake tools, an empty cache,
no external servers or store named, and never a system package install."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = next(p for p in Path(__file__).resolve().parents if (p / "deploy" / "local" / "infra.py").exists())
LOCAL = REPO / "deploy" / "local"


def local_module(name: str) -> ModuleType:
    """deploy/local/<name>.py, imported the way the scripts import each other (by their folder)."""
    if str(LOCAL) not in sys.path:
        sys.path.insert(0, str(LOCAL))
    return importlib.import_module(name)


def fake_tool(bin_dir: Path, name: str, script: str = "exit 0") -> None:
    """An executable named ``name`` running the shell ``script``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)


def run_script(
    script: str, *args: str, tmp_path: Path, bin_dir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python deploy/local/<script> args`` with only ``bin_dir`` on PATH (fake tools call others by
    absolute path), its cache and state under ``tmp_path``."""
    chosen_here = ("KAFKA_BOOTSTRAP_SERVERS", "MONGO_URL", "GOTOOLCHAIN", "MEDSUPPORT_MONGO_BACKEND")
    base = {k: v for k, v in os.environ.items() if k not in chosen_here}
    base.update(
        PATH=str(bin_dir),
        HOME=str(tmp_path / "home"),
        MEDSUPPORT_CACHE_DIR=str(tmp_path / "cache"),
        MEDSUPPORT_STATE_DIR=str(tmp_path / "state"),
        MEDSUPPORT_NO_SYSTEM_INSTALL="1",
        **(env or {}),
    )
    return subprocess.run(
        [sys.executable, str(LOCAL / script), *args], env=base, capture_output=True, text=True, timeout=120
    )


def assert_one_line_failure(done: subprocess.CompletedProcess[str]) -> list[str]:
    """A non-zero exit, no traceback; returns the lines on stderr."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return [line for line in done.stderr.splitlines() if line.strip()]
