"""Fixtures for the deployment checks: the repository, the services' settings classes and the external
validators (promtool, kubeconform, docker compose), built or found once and cached under
~/.cache/medsupport/tools. Which validator actually ran is printed in the test summary (`-rA` shows it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medsupport_shared.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("MEDSUPPORT_TOOLS_DIR", Path.home() / ".cache" / "medsupport" / "tools"))
SERVICES = {"feedback": 8001, "wellbeing": 8002, "mentorship": 8003, "notifications": 8004}
KUBECONFORM_VERSION = "v0.7.0"
RULECHECK_VERSION = "prometheus-v0.316.0"  # tests/deploy/rulecheck/go.mod
BUILD_TIMEOUT = 600
NO_GO = "Go is not installed"


@dataclass(frozen=True)
class Tool:
    name: str
    path: Path | None
    how: str
    """Where it came from, or why it is missing (reported in the test output)."""

    def require(self) -> Path:
        """The tool's path; skips only when the machine cannot have it (no Go toolchain), fails when a build
        that should work did not."""
        if self.path is not None:
            return self.path
        if self.how == NO_GO:
            pytest.skip(f"{self.name}: {self.how}")
        pytest.fail(f"{self.name}: {self.how}")


def settings_classes() -> dict[str, type[ServiceSettings]]:
    from feedback.settings import FeedbackSettings
    from mentorship.settings import MentorshipSettings
    from notifications.settings import NotificationsSettings
    from wellbeing.settings import WellbeingSettings

    return {
        "feedback": FeedbackSettings,
        "wellbeing": WellbeingSettings,
        "mentorship": MentorshipSettings,
        "notifications": NotificationsSettings,
    }


def env_names(cls: type[ServiceSettings]) -> set[str]:
    """The environment variables a settings class reads (no prefix, case-insensitive)."""
    return {name.upper() for name in cls.model_fields}


def _go_build(target: Path, args: list[str], cwd: Path | None = None) -> str | None:
    """``go build`` (in ``cwd``) or ``go install pkg@version`` into ``target``, atomically.
    None on success, else the reason."""
    go = shutil.which("go")
    if go is None:
        return NO_GO
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        env = {**os.environ, "GOFLAGS": "-buildvcs=false", "CGO_ENABLED": "0", "GOBIN": scratch}
        argv = [go, "build", "-o", f"{scratch}/out", *args[1:]] if args[0] == "build" else [go, *args]
        try:
            done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            return f"go {args[0]} took longer than {BUILD_TIMEOUT}s"
        if done.returncode != 0:
            return f"go {args[0]} failed: {done.stderr.strip()[-400:]}"
        built = next(Path(scratch).iterdir())
        built.replace(target)
    return None


@pytest.fixture(scope="session")
def promtool() -> Tool:
    """`promtool` if installed (PATH or the tools cache); otherwise ``rulecheck``, a 60-line Go program built
    from tests/deploy/rulecheck with Prometheus's own rule and PromQL parsers (promtool's full build pulls
    every service-discovery SDK and takes many minutes on 2 cores)."""
    found = shutil.which("promtool") or (str(TOOLS / "promtool") if (TOOLS / "promtool").exists() else None)
    if found:
        return Tool("promtool", Path(found), f"promtool at {found}")
    return Tool("promtool", None, "promtool not installed (apt-get install prometheus, or go install .../cmd/promtool)")


@pytest.fixture(scope="session")
def rulecheck() -> Tool:
    target = TOOLS / f"rulecheck-{RULECHECK_VERSION}"
    if not target.exists():
        problem = _go_build(target, ["build", "-trimpath", "."], cwd=REPO / "tests" / "deploy" / "rulecheck")
        if problem:
            return Tool("rulecheck", None, problem)
        return Tool("rulecheck", target, f"built {target}")
    return Tool("rulecheck", target, f"cached {target}")


@pytest.fixture(scope="session")
def kubeconform() -> Tool:
    found = shutil.which("kubeconform")
    if found:
        return Tool("kubeconform", Path(found), f"kubeconform at {found}")
    target = TOOLS / f"kubeconform-{KUBECONFORM_VERSION}"
    if target.exists():
        return Tool("kubeconform", target, f"cached {target}")
    problem = _go_build(target, ["install", f"github.com/yannh/kubeconform/cmd/kubeconform@{KUBECONFORM_VERSION}"])
    if problem:
        return Tool("kubeconform", None, problem)
    return Tool("kubeconform", target, f"built {target}")


@pytest.fixture(scope="session")
def docker_compose() -> Tool:
    docker = shutil.which("docker")
    if docker is None:
        return Tool("docker compose", None, "no docker client")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        return Tool("docker compose", None, "the docker client has no compose plugin")
    return Tool("docker compose", Path(docker), probe.stdout.strip())


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Lines saying which external validator ran; shown in the summary of passed tests (-rA) and as a
    user property in JUnit XML."""
    lines: list[str] = []
    yield lines
    for line in lines:
        request.node.user_properties.append(("validator", line))
        print(f"[deploy-check] {request.node.name}: {line}")
