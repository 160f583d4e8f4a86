"""Reads docs/requests/*.http as VS Code REST Client does: file variables and requests."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from tools.openapi_export import ROOT

REQUESTS = ROOT / "docs" / "requests"
VARIABLE = re.compile(r"\{\{[^}]+\}\}")


@dataclass
class Request:
    where: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    name: str | None = None
    """``# @name x``: later requests read its answer as ``{{x.response.body.$.path}}``."""


def parse(path: Path) -> tuple[dict[str, str], list[Request]]:
    """File variables (``@name = value``) and requests, as REST Client reads them."""
    variables: dict[str, str] = {}
    requests = []
    parts = re.split(r"^###(.*)$", path.read_text(), flags=re.MULTILINE)
    for title, block in zip(["(file variables)", *parts[1::2]], parts[0::2], strict=True):
        lines = [line for line in block.splitlines() if not line.lstrip().startswith(("#", "//"))]
        for line in lines:
            if found := re.match(r"^@(\w+)\s*=\s*(.+)$", line):
                variables[found.group(1)] = found.group(2).strip()
        lines = [line for line in lines if not line.startswith("@")]
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            continue
        method, url = lines[0].split()[:2]
        request = Request(f"{path.name} «{title.strip()}»", method, url)
        if named := re.search(r"^# @name (\w+)$", block, re.MULTILINE):
            request.name = named.group(1)
        rest = lines[1:]
        while rest and rest[0].strip():
            name, value = rest.pop(0).split(":", 1)
            request.headers[name.strip().lower()] = value.strip()
        request.body = "\n".join(rest).strip()
        requests.append(request)
    return variables, requests


def collection() -> list[tuple[Path, dict[str, str], Request]]:
    found = []
    for path in sorted(REQUESTS.glob("*.http")):
        variables, requests = parse(path)
        found += [(path, variables, request) for request in requests]
    return found
