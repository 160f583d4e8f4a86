"""Exports the four services' OpenAPI documents to docs/openapi/ and regenerates the typed TypeScript
client in clients/typescript/ from them: the one command to run after any API change (`make openapi`).

    uv run --frozen python -m tools.openapi_export             # documents and client
    uv run --frozen python -m tools.openapi_export --no-client # documents only (no Node.js needed)

tests/frontend fails while the checked-in files differ from what this writes."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "openapi"
CLIENT = ROOT / "clients" / "typescript"
GENERATED = CLIENT / "src" / "generated"
SERVICES = ("feedback", "wellbeing", "mentorship", "notifications")
NODE_MIN = (18, 17)
NODE_NEEDED = (
    "Node.js 18.17+ with npm is needed for the TypeScript client (clients/typescript): "
    "sudo apt-get install nodejs npm, or https://nodejs.org/en/download"
)


class ExportError(Exception):
    """One readable line: what is wrong and what to do."""


def document(service: str) -> dict[str, Any]:
    """The service's OpenAPI document as its app serves it at /openapi.json."""
    app = importlib.import_module(f"{service}.app").create_app()
    doc: dict[str, Any] = app.openapi()
    return doc


def operation_ids(doc: dict[str, Any]) -> dict[str, str]:
    """``"POST /v1/checkins" -> "create_checkin"`` for every operation; an id used twice is refused,
    since a generated client could then call only one of them."""
    ids = {
        f"{method.upper()} {path}": operation["operationId"]
        for path, operations in doc.get("paths", {}).items()
        for method, operation in operations.items()
    }
    twice = sorted(name for name, count in Counter(ids.values()).items() if count > 1)
    if twice:
        raise ExportError(f"operationIds used by more than one route (rename the route functions): {twice}")
    return ids


def render(doc: dict[str, Any]) -> str:
    operation_ids(doc)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def export_documents(out: Path = DOCS) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for service in SERVICES:
        path = out / f"{service}.json"
        path.write_text(render(document(service)), encoding="utf-8")
        written.append(path)
    return written


def node_problem() -> str | None:
    """None when node (>= NODE_MIN) and npm are on PATH, else the one line saying what to install."""
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        return NODE_NEEDED
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        version = ""
    found = re.match(r"v(\d+)\.(\d+)", version)
    if found is None or (int(found.group(1)), int(found.group(2))) < NODE_MIN:
        return f"{NODE_NEEDED} (this node is {version or 'unknown'})"
    return None


def run(argv: list[str], cwd: Path) -> None:
    """A Node.js tool in the client package; a failure is one line with the tool's last words."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        command = " ".join([Path(argv[0]).name, *argv[1:]])
        raise ExportError(f"`{command}` in {cwd} failed: {last}")


def install_client_tools(cwd: Path = CLIENT) -> None:
    """The pinned generator and compiler (package-lock.json), installed once into node_modules."""
    if problem := node_problem():
        raise ExportError(problem)
    if not (cwd / "node_modules" / ".bin" / "openapi-typescript").exists():
        run(["npm", "ci", "--no-audit", "--no-fund"], cwd=cwd)


def generate_client(docs: Path = DOCS, out: Path = GENERATED, cwd: Path = CLIENT) -> list[Path]:
    """One ``<service>.ts`` of types (paths, components, operations) per document, by openapi-typescript."""
    install_client_tools(cwd)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for service in SERVICES:
        target = out / f"{service}.ts"
        source = docs / f"{service}.json"
        tool = cwd / "node_modules" / ".bin" / "openapi-typescript"
        run([str(tool), str(source), "-o", str(target)], cwd=cwd)
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-client", action="store_true", help="only the documents (needs no Node.js)")
    args = parser.parse_args()
    os.environ["APP_ENV"] = "development"  # builds the apps to read their routes; serves nothing
    for path in export_documents():
        print(f"[openapi] wrote {path.relative_to(ROOT)}")
    if not args.no_client:
        for path in generate_client():
            print(f"[openapi] wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    try:
        main()
    except ExportError as exc:
        sys.exit(f"[openapi] {exc}")
