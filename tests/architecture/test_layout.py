"""The four services have one shape (README, Layout): a newcomer who learns one knows the next. Checked on
the source, so a new module that breaks the shape fails here rather than in review."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("feedback", "wellbeing", "mentorship", "notifications")
SHAPE = ("context.py", "metrics.py", "schemas.py", "repository.py", "consumers.py", "app.py", "settings.py")
MONGO_OPERATOR = re.compile(r"^\$[a-zA-Z]+$")
JSON_SCHEMA_KEYS = {"$ref", "$schema", "$id", "$defs", "$comment"}  # "$" words that are not Mongo
IO_MODULES = ("pymongo", "aiokafka", "fastapi", "starlette", "httpx", "aiosmtplib", "prometheus_client")
IO_SHARED = ("runtime", "kafka", "mongo", "outbox", "inbox", "app_factory", "idempotency")


def source_of(service: str) -> Path:
    return ROOT / "services" / service / "src" / service


def modules(service: str) -> list[Path]:
    return sorted(source_of(service).rglob("*.py"))


def is_repository(path: Path) -> bool:
    return path.name == "repository.py" or path.name.endswith("_repository.py")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_modules(service):
    src = source_of(service)
    missing = [name for name in SHAPE if not (src / name).is_file()]
    assert not missing, f"{service} lacks {missing}"
    assert (src / "domain" / "__init__.py").is_file(), f"{service} has no domain/ package"
    assert list(src.glob("api_*.py")), f"{service} has no api_*.py route modules"
    assert not [n for n in ("api.py", "handlers.py", "services.py") if (src / n).exists()], "old names remain"


@pytest.mark.parametrize("service", SERVICES)
def test_the_context_and_its_dependency_live_in_context_py(service):
    tree = ast.parse((source_of(service) / "context.py").read_text())
    names = {getattr(node, "name", None) for node in tree.body} | {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    assert {"get_context", "Context", f"{service.capitalize()}Context"} <= names
    for path in source_of(service).glob("api_*.py"):
        defined = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
        assert "get_context" not in defined, f"{path.name} declares its own get_context"


@pytest.mark.parametrize("service", SERVICES)
def test_mongo_query_syntax_only_in_repositories(service):
    found = []
    for path in modules(service):
        if is_repository(path):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
            if MONGO_OPERATOR.match(text) and text not in JSON_SCHEMA_KEYS:
                found.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)} {text}")
    assert not found, "Mongo syntax outside repository modules:\n" + "\n".join(found)


@pytest.mark.parametrize("service", SERVICES)
def test_domain_modules_do_no_io(service):
    found = []
    for path in sorted((source_of(service) / "domain").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                shared = name.split(".")[1] if top == "medsupport_shared" and "." in name else ""
                if top in IO_MODULES or shared in IO_SHARED or name.endswith(("repository", "context")):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert not found, "domain/ must stay pure:\n" + "\n".join(found)


def _repositories_of_context(service: str) -> set[str]:
    """The context's fields whose type is a repository (``repo``, ``concerns``, ``referrals``, ...)."""
    tree = ast.parse((source_of(service) / "context.py").read_text())
    fields = set()
    for node in ast.walk(tree):
        annotated = isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        if annotated and ast.unparse(node.annotation).endswith("Repository"):
            fields.add(node.target.id)
    return fields


@pytest.mark.parametrize("service", SERVICES)
def test_routes_call_use_cases_not_repositories(service):
    repositories = _repositories_of_context(service)
    assert repositories, f"{service}'s context names no repository"
    found = []
    for path in source_of(service).glob("api_*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            on_ctx = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ctx"
            if on_ctx and node.attr in repositories:
                found.append(f"{path.name}:{node.lineno} ctx.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("repository"):
                found.append(f"{path.name}:{node.lineno} imports {node.module}")
    assert not found, "routes reach repositories directly:\n" + "\n".join(found)


@pytest.mark.parametrize("service", SERVICES)
def test_every_metric_is_declared_in_metrics_py(service):
    kinds = {"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"}
    found = []
    for path in modules(service):
        if path.name == "metrics.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "prometheus_client":
                found += [f"{path.relative_to(ROOT)}:{node.lineno} {a.name}" for a in node.names if a.name in kinds]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in kinds
                and ast.unparse(node.value) == "prometheus_client"
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} prometheus_client.{node.attr}")
    assert not found, "metrics declared outside metrics.py:\n" + "\n".join(found)
