#!/usr/bin/env python3
"""Makes sure a headless Chromium is there for the browser tests (API docs offline, staff console).

    python3 deploy/local/chromium.py          # prints the browser's path; installs Debian's `chromium` if missing

The tests drive the system's Chromium with Playwright (no browser download: Playwright's own builds
come from a host that clinical and CI networks do not reach). When none is found and this runs as
root on a Debian-like machine, `apt-get install chromium` runs; otherwise one line says what to do
and the exit status is 1. ``MEDSUPPORT_CHROMIUM`` names a browser binary explicitly.
Only the standard library is used, so this runs before any virtualenv exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CANDIDATES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")


def find_chromium() -> str | None:
    explicit = os.environ.get("MEDSUPPORT_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_chromium() -> str:
    """The path of a Chromium binary, installing Debian's package when root and missing."""
    found = find_chromium()
    if found:
        return found
    explicit = os.environ.get("MEDSUPPORT_CHROMIUM")
    if explicit:  # named by hand: never install something else in its place
        raise SystemExit(f"[chromium] MEDSUPPORT_CHROMIUM={explicit} is not an executable file")
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        print("[chromium] not found: installing Debian's chromium package (once per machine)", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([apt, "update", "-qq"], check=True, env=env)
        subprocess.run([apt, "install", "-y", "-qq", "chromium"], check=True, env=env)
        found = find_chromium()
        if found:
            return found
    raise SystemExit(
        "[chromium] no Chromium found for the browser tests: install it (Debian/Ubuntu: "
        "`sudo apt-get install chromium`) or set MEDSUPPORT_CHROMIUM to a Chromium binary"
    )


if __name__ == "__main__":
    print(ensure_chromium())
    sys.exit(0)
