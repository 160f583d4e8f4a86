"""The checked-in TypeScript client (clients/typescript) installs from its lock file, compiles with
`tsc --noEmit` (its example included), rejects a call the API does not allow, and its generated types
are what openapi-typescript writes from docs/openapi today. Needs Node.js: without it, one line says so."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.openapi_export import (
    CLIENT,
    GENERATED,
    SERVICES,
    ExportError,
    generate_client,
    install_client_tools,
    node_problem,
)

PACKAGE_FILES = ("package.json", "package-lock.json", "tsconfig.json", "src", "examples")
WRONG_CALL = """import { wellbeingClient } from "../src/index";

const wellbeing = wellbeingClient({ baseUrl: "http://127.0.0.1:8002" });
await wellbeing.POST("/v1/checkins", { body: { instrument: "phq9", answers: "2" } });
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    """A copy of the client package with `npm ci` run in it (the developer's node_modules untouched)."""
    if problem := node_problem():
        pytest.fail(problem, pytrace=False)
    copy = tmp_path_factory.mktemp("client")
    for name in PACKAGE_FILES:
        source = CLIENT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / name)
    try:
        install_client_tools(copy)
    except ExportError as exc:
        pytest.fail(str(exc), pytrace=False)
    return copy


def tsc(package: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(package / "node_modules" / ".bin" / "tsc"), "--noEmit", "-p", "."],
        cwd=package,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_the_client_and_its_example_compile(package):
    done = tsc(package)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_call_the_api_does_not_allow_does_not_compile(package):
    (package / "examples" / "wrong.ts").write_text(WRONG_CALL)
    try:
        done = tsc(package)
    finally:
        (package / "examples" / "wrong.ts").unlink()
    assert done.returncode != 0
    assert "examples/wrong.ts(4," in done.stdout, done.stdout
    assert "Type 'string' is not assignable to type 'number[]'" in done.stdout, done.stdout


def test_generated_types_are_what_the_documents_give(package):
    out = package / "regenerated"
    generate_client(out=out, cwd=package)
    stale = [s for s in SERVICES if (out / f"{s}.ts").read_text() != (GENERATED / f"{s}.ts").read_text()]
    assert stale == [], "clients/typescript is stale: run `make openapi` and commit it"


def test_without_node_the_check_says_so_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    problem = node_problem()
    assert problem is not None and "\n" not in problem
    assert problem.startswith("Node.js 18.17+ with npm is needed") and "apt-get install nodejs npm" in problem


def test_a_too_old_node_is_named_with_its_version(monkeypatch, tmp_path):
    for name, script in (("node", "echo v16.20.2"), ("npm", "exit 0")):
        (tmp_path / name).write_text(f"#!/bin/sh\n{script}\n")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "(this node is v16.20.2)" in (node_problem() or "")
