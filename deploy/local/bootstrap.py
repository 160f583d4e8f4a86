#!/usr/bin/env python3
"""First step of `make up`, `make test` and `make install` on any machine, with only the system Python.

    python3 deploy/local/bootstrap.py up|test|install [--check-only]

1. Checks every prerequisite the target needs, up front, one line and an install hint for each one
   missing; as root on Debian/Ubuntu it installs them with apt-get first (MEDSUPPORT_NO_SYSTEM_INSTALL=1
   turns that off). `up`/`test` need Java 17+ and Maven (Kafka) and Go (FerretDB) unless what they
   build is cached, `mongod` is on PATH or KAFKA_BOOTSTRAP_SERVERS / MONGO_URL name external servers;
   `test` also needs Chromium (browser tests) and Node.js 18.17+ with npm (the TypeScript client).
   FerretDB's default store is PostgreSQL: `up`/`test` install Debian's `postgresql` package as root with
   apt-get when it is missing; when it cannot be installed, FerretDB runs on SQLite (infra.py says why in
   one line) unless MEDSUPPORT_MONGO_BACKEND=postgresql asks for it by name (then it is a prerequisite).
2. Uses `uv` from PATH when there is one; otherwise installs the pinned uv into .tools/uv-env, a
   virtualenv of its own (no system pip, which PEP 668 forbids on Debian and Ubuntu).
3. `uv sync --frozen` (the virtualenv from uv.lock), showing progress.

Standard library only; runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import infra
from steps import StepFailed, fail, may_install_system_packages, python_too_old, run_step, say

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
UV_VERSION = "0.13.9"
UV_ENV = ROOT / ".tools" / "uv-env"
STATE = Path(os.environ.get("MEDSUPPORT_STATE_DIR", ROOT / ".state"))
LOG = STATE / "logs" / "bootstrap.log"
CHROMIUM_HOOK = HERE / "chromium.py"
"""The browser-test harness's finder: when this script exists, `test` runs it instead of the built-in
Chromium check (exit 0 = ready, installing Debian's chromium as root; else one line on stderr)."""
JAVA_MIN = 17
NODE_MIN = (18, 17)
"""`make test` installs and compiles the TypeScript client (clients/typescript) with npm and tsc."""
GO_AUTO_TOOLCHAIN = (1, 21)
"""From Go 1.21 on, `go build` fetches the toolchain go.mod asks for through the module proxy."""
P = "bootstrap"


@dataclass
class Missing:
    what: str
    hint: str
    apt: list[str] = field(default_factory=list)
    """Debian packages that provide it, when the installed distribution's are new enough."""


def _output(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout + done.stderr


def apt_candidate(package: str) -> tuple[int, ...] | None:
    """The version apt would install (numbers only), None when apt has no such package."""
    if shutil.which("apt-cache") is None:
        return None
    found = re.search(r"Candidate:\s*(?:\d+:)?(\d+(?:\.\d+)*)", _output(["apt-cache", "policy", package]))
    return tuple(int(part) for part in found.group(1).split(".")) if found else None


def java_major(text: str) -> int | None:
    """``openjdk version "17.0.15"`` -> 17; ``java version "1.8.0_402"`` -> 8."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def go_version(text: str) -> tuple[int, int] | None:
    found = re.search(r"go(\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def go_required() -> tuple[int, int]:
    found = re.search(r"^go (\d+)\.(\d+)", (HERE / "ferretdb" / "go.mod").read_text(), re.MULTILINE)
    return (int(found.group(1)), int(found.group(2))) if found else (1, 24)


def go_can_build(version: tuple[int, int]) -> bool:
    if version >= go_required():
        return True
    return version >= GO_AUTO_TOOLCHAIN and os.environ.get("GOTOOLCHAIN", "auto") != "local"


def check_java() -> Missing | None:
    preferred = apt_candidate("openjdk-17-jre-headless") or not apt_candidate("default-jre-headless")
    package = "openjdk-17-jre-headless" if preferred else "default-jre-headless"
    hint = f"sudo apt-get install {package} (or any Java {JAVA_MIN}+ runtime on PATH)"
    if shutil.which("java") is None:
        return Missing(f"Java {JAVA_MIN}+ (java, runs Kafka) is not installed", hint, [package])
    major = java_major(_output(["java", "-version"]))
    if major is None or major < JAVA_MIN:
        return Missing(f"Java {JAVA_MIN}+ is needed to run Kafka; `java` is version {major}", hint, [package])
    return None


def check_maven() -> Missing | None:
    if shutil.which("mvn") is None:
        return Missing(
            "Maven (mvn, fetches Kafka's jars from Maven Central) is not installed",
            "sudo apt-get install maven",
            ["maven"],
        )
    return None


def check_go() -> Missing | None:
    packaged = apt_candidate("golang-go")
    installable = packaged is not None and packaged[:2] >= GO_AUTO_TOOLCHAIN
    apt = ["golang-go"] if installable else []
    hint = "sudo apt-get install golang-go" if installable else "Go 1.21+ from https://go.dev/doc/install"
    if packaged and not installable:  # e.g. Debian 12 (1.19), Ubuntu 22.04 (1.18)
        shown = ".".join(map(str, packaged[:2]))
        hint += f" (this system's golang-go is {shown}, too old to build FerretDB {infra.FERRETDB_VERSION})"
    if shutil.which("go") is None:
        return Missing("Go (go, builds FerretDB, the local MongoDB-protocol server) is not installed", hint, apt)
    version = go_version(_output(["go", "env", "GOVERSION"]))
    if version is None or not go_can_build(version):
        need = ".".join(map(str, go_required()))
        shown = ".".join(map(str, version)) if version else "unknown"
        return Missing(f"Go {shown} cannot build FerretDB (needs {need}, or 1.21+ to fetch it itself)", hint, apt)
    return None


def check_chromium() -> Missing | None:
    """Through the browser harness's own finder (CHROMIUM_HOOK) when the repository has it."""
    what = "Chromium (headless, for the browser tests) is not installed"
    if CHROMIUM_HOOK.exists():
        done = subprocess.run([sys.executable, str(CHROMIUM_HOOK)], capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return None
        reason = (done.stderr.strip().splitlines() or ["sudo apt-get install chromium"])[-1]
        return Missing(what, reason.removeprefix("[chromium] "))
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    if not any(shutil.which(name) for name in names):
        apt = ["chromium"] if apt_candidate("chromium") else []
        return Missing(what, "sudo apt-get install chromium", apt)
    return None


def check_node() -> Missing | None:
    packaged = apt_candidate("nodejs")
    installable = packaged is not None and packaged[:2] >= NODE_MIN
    hint = "sudo apt-get install nodejs npm" if installable else "Node.js 18.17+ from https://nodejs.org/en/download"
    apt = ["nodejs", "npm"] if installable else []
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        return Missing("Node.js 18.17+ with npm (the tests compile the TypeScript client) is not installed", hint, apt)
    version = _output([node, "--version"]).strip()
    found = re.match(r"v(\d+)\.(\d+)", version)
    if found is None or (int(found.group(1)), int(found.group(2))) < NODE_MIN:
        return Missing(
            f"Node.js 18.17+ is needed to compile the TypeScript client; `node` is {version or 'unknown'}", hint, apt
        )
    return None


def check_venv() -> Missing | None:
    """Installing uv locally needs `python3 -m venv` with pip (Debian splits it into python3-venv)."""
    if importlib.util.find_spec("ensurepip") is None:
        package = f"python3.{sys.version_info[1]}-venv"
        return Missing(
            "python3's venv module is not installed (needed to install uv into .tools/)",
            "sudo apt-get install python3-venv (or install uv yourself: https://docs.astral.sh/uv/)",
            [package if apt_candidate(package) else "python3-venv"],
        )
    return None


def check_postgresql() -> Missing | None:
    """Only when MEDSUPPORT_MONGO_BACKEND=postgresql names it; by default a missing PostgreSQL means SQLite."""
    if (problem := infra.postgres_missing()) is None:
        return None
    apt = ["postgresql"] if apt_candidate("postgresql") else []
    return Missing(f"PostgreSQL (MEDSUPPORT_MONGO_BACKEND=postgresql): {problem}", infra.POSTGRES_HINT, apt)


def local_ferretdb() -> bool:
    """FerretDB is what serves MongoDB here: no MONGO_URL and no mongod on PATH."""
    return not infra.external_targets()[1] and not shutil.which("mongod")


def infrastructure_checks() -> list[Callable[[], Missing | None]]:
    try:
        kafka, mongo = infra.external_targets()
    except ValueError as exc:  # a malformed KAFKA_BOOTSTRAP_SERVERS or MONGO_URL
        raise fail(P, str(exc)) from None
    checks: list[Callable[[], Missing | None]] = []
    if not kafka:
        checks.append(check_java)
        if not infra.kafka_jars_cached():
            checks.append(check_maven)
    ferretdb = not mongo and not shutil.which("mongod")  # FerretDB serves MongoDB here
    if ferretdb and not infra.ferretdb_cached():
        checks.append(check_go)
    if ferretdb and os.environ.get("MEDSUPPORT_MONGO_BACKEND") == "postgresql":
        checks.append(check_postgresql)
    return checks


def missing_prerequisites(target: str) -> list[Missing]:
    checks: list[Callable[[], Missing | None]] = [] if uv_command() else [check_venv]
    if target in ("up", "test"):
        checks += infrastructure_checks()
    if target == "test":
        checks += [check_chromium, check_node]
    return [found for check in checks if (found := check()) is not None]


def install_system_packages(packages: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run_step(P, "apt-get update", ["apt-get", "update", "-q"], LOG, env=env)
    argv = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    run_step(P, f"installing {' '.join(packages)} with apt-get", argv, LOG, env=env)


def check_prerequisites(target: str, install: bool) -> None:
    """One line per missing prerequisite and StepFailed; as root with apt-get, install what apt can first."""
    missing = missing_prerequisites(target)
    packages = sorted({package for item in missing for package in item.apt})
    if install and packages and may_install_system_packages():
        install_system_packages(packages)
        missing = missing_prerequisites(target)
    for item in missing:
        print(f"[{P}] missing: {item.what}; install: {item.hint}", file=sys.stderr, flush=True)
    if missing:
        raise StepFailed(f"[{P}] {len(missing)} prerequisite(s) missing (above); install them and run this again")


def offer_postgresql() -> None:
    """FerretDB's default, faster store: installed as root with apt-get when missing; otherwise (not root, no
    apt, apt failed) FerretDB falls back to SQLite, and infra.py says so with the way to get PostgreSQL."""
    if os.environ.get("MEDSUPPORT_MONGO_BACKEND") or not local_ferretdb() or infra.postgres_missing() is None:
        return
    if not may_install_system_packages() or not apt_candidate("postgresql"):
        return
    try:
        install_system_packages(["postgresql"])
    except StepFailed as exc:
        say(P, f"PostgreSQL could not be installed ({exc.code}); FerretDB will run on SQLite, the slower store")


def offer_prometheus() -> None:
    """Optional for `make up` (local monitoring): installed when apt can, else run_platform says so."""
    if shutil.which("prometheus") or not may_install_system_packages() or not apt_candidate("prometheus"):
        return
    try:
        install_system_packages(["prometheus"])
    except StepFailed as exc:
        say(P, f"Prometheus could not be installed ({exc.code}); going on without it")


UV_INSTALLER_PLACES = (Path.home() / ".local" / "bin" / "uv", Path.home() / ".cargo" / "bin" / "uv")
"""Where uv's own installer puts it, which may not be on PATH yet."""


def uv_command() -> str | None:
    """An installed uv: on PATH, where its installer puts it, or the copy in .tools/."""
    places = (*UV_INSTALLER_PLACES, UV_ENV / "bin" / "uv")
    return shutil.which("uv") or next((str(place) for place in places if place.exists()), None)


def ensure_uv() -> str:
    if found := uv_command():
        return found
    run_step(P, "creating .tools/uv-env (a virtualenv for uv)", [sys.executable, "-m", "venv", str(UV_ENV)], LOG)
    pip = [str(UV_ENV / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    run_step(P, f"installing uv {UV_VERSION} into .tools/uv-env", [*pip, f"uv=={UV_VERSION}"], LOG)
    return str(UV_ENV / "bin" / "uv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=["up", "test", "install"], nargs="?", help="what to ready the machine for")
    parser.add_argument("--check-only", action="store_true", help="check the prerequisites, install nothing")
    parser.add_argument("--which-uv", action="store_true", help="print the uv the Makefile is to use, and exit")
    args = parser.parse_args()
    if args.which_uv:
        print(uv_command() or UV_ENV / "bin" / "uv")
        return
    if args.target is None:
        parser.error("say what for: up, test or install")
    if problem := python_too_old():
        raise fail(P, problem)
    check_prerequisites(args.target, install=not args.check_only)
    if args.target in ("up", "test") and not args.check_only:
        offer_postgresql()
    if args.target == "up" and not args.check_only:
        offer_prometheus()
    if args.check_only:
        say(P, f"every prerequisite of `make {args.target}` is there")
        return
    uv = ensure_uv()
    run_step(P, "installing Python dependencies (uv sync --frozen)", [uv, "sync", "--frozen"], LOG, cwd=ROOT)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(f"[{P}] interrupted")
