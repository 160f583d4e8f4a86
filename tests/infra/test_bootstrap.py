"""deploy/local/bootstrap.py on machines that lack prerequisites: one line with an install hint for each
missing one, up front, and a non-zero exit; never a traceback. Fake tools stand in for the real ones so
the checks see exactly the versions a test wants."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from medsupport_shared.testing.local_scripts import assert_one_line_failure, fake_tool, local_module, run_script

JAVA_17 = "echo 'openjdk version \"17.0.15\" 2025-04-15' >&2"
GO_126 = "echo go1.26.8"


def _tools(bin_dir: Path, *, java: str | None = JAVA_17, go: str | None = GO_126) -> Path:
    for name in ("mvn", "chromium", "uv", "npm"):
        fake_tool(bin_dir, name)
    fake_tool(bin_dir, "node", "echo v20.19.2")
    if java is not None:
        fake_tool(bin_dir, "java", java)
    if go is not None:
        fake_tool(bin_dir, "go", go)
    return bin_dir


def test_without_java_and_go_each_gets_one_line_with_a_hint_and_the_run_stops(tmp_path):
    done = run_script("bootstrap.py", "test", tmp_path=tmp_path, bin_dir=_tools(tmp_path / "bin", java=None, go=None))

    lines = assert_one_line_failure(done)
    java = [line for line in lines if "Java" in line]
    go = [line for line in lines if "Go" in line]
    assert len(java) == 1 and "install: sudo apt-get install openjdk-17-jre-headless" in java[0], lines
    assert len(go) == 1 and "https://go.dev/doc/install" in go[0], lines
    assert lines[-1] == "[bootstrap] 2 prerequisite(s) missing (above); install them and run this again"
    assert len(lines) == 3, lines  # nothing about what is there
    assert "uv sync" not in done.stdout  # checked up front: nothing was installed first


def test_with_every_prerequisite_the_check_passes(tmp_path):
    done = run_script("bootstrap.py", "test", "--check-only", tmp_path=tmp_path, bin_dir=_tools(tmp_path / "bin"))

    assert done.returncode == 0, done.stderr
    assert "every prerequisite of `make test` is there" in done.stdout


@pytest.mark.parametrize(
    ("java", "go", "expected"),
    [
        ("echo 'java version \"1.8.0_402\"' >&2", GO_126, "Java 17+ is needed to run Kafka; `java` is version 8"),
        (JAVA_17, "echo go1.19.8", "Go 1.19 cannot build FerretDB (needs 1.24, or 1.21+ to fetch it itself)"),
    ],
)
def test_a_too_old_java_or_go_is_named_with_its_version(tmp_path, java, go, expected):
    done = run_script("bootstrap.py", "up", tmp_path=tmp_path, bin_dir=_tools(tmp_path / "bin", java=java, go=go))

    lines = assert_one_line_failure(done)
    assert any(expected in line for line in lines), lines


def test_a_go_that_can_fetch_its_toolchain_is_enough_unless_toolchains_are_local_only(tmp_path):
    bin_dir = _tools(tmp_path / "bin", go="echo go1.22.2")
    assert run_script("bootstrap.py", "up", "--check-only", tmp_path=tmp_path, bin_dir=bin_dir).returncode == 0

    local_only = run_script(
        "bootstrap.py", "up", "--check-only", tmp_path=tmp_path, bin_dir=bin_dir, env={"GOTOOLCHAIN": "local"}
    )
    assert any("Go 1.22 cannot build FerretDB" in line for line in assert_one_line_failure(local_only))


def test_external_servers_need_neither_java_nor_go(tmp_path):
    bin_dir = _tools(tmp_path / "bin", java=None, go=None)
    external = {"KAFKA_BOOTSTRAP_SERVERS": "kafka.example.org:9092", "MONGO_URL": "mongodb+srv://db.example.org/"}

    done = run_script("bootstrap.py", "up", "--check-only", tmp_path=tmp_path, bin_dir=bin_dir, env=external)

    assert done.returncode == 0, done.stderr


def test_the_version_parsers():
    bootstrap = local_module("bootstrap")
    assert bootstrap.java_major('openjdk version "21" 2023-09-19') == 21
    assert bootstrap.java_major('openjdk version "17.0.15" 2025-04-15') == 17
    assert bootstrap.java_major('java version "1.8.0_402"') == 8
    assert bootstrap.go_version("go1.24.3") == (1, 24)
    assert bootstrap.go_version("") is None


def test_an_installed_uv_is_kept_and_otherwise_the_local_copy_is_named(tmp_path):
    bin_dir = tmp_path / "bin"
    fake_tool(bin_dir, "uv")
    installed = run_script("bootstrap.py", "--which-uv", tmp_path=tmp_path, bin_dir=bin_dir)
    assert installed.stdout.strip() == str(bin_dir / "uv")

    (bin_dir / "uv").unlink()
    fresh = run_script("bootstrap.py", "--which-uv", tmp_path=tmp_path, bin_dir=bin_dir)
    assert fresh.stdout.strip() == str(local_module("bootstrap").UV_ENV / "bin" / "uv")


def test_without_uv_the_pinned_uv_is_installed_into_a_virtualenv_of_its_own(tmp_path, monkeypatch, capsys):
    """No system pip involved: `python -m venv` and that venv's pip (PEP 668 forbids the system's)."""
    bootstrap = local_module("bootstrap")
    monkeypatch.setattr(bootstrap, "UV_ENV", tmp_path / "uv-env")
    monkeypatch.setattr(bootstrap, "UV_INSTALLER_PLACES", ())
    monkeypatch.setattr(bootstrap, "LOG", tmp_path / "bootstrap.log")
    monkeypatch.setenv("PATH", str(tmp_path))

    uv = bootstrap.ensure_uv()

    assert uv == str(tmp_path / "uv-env" / "bin" / "uv")
    version = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith(f"uv {bootstrap.UV_VERSION} ")
    said = capsys.readouterr().out
    assert f"installing uv {bootstrap.UV_VERSION} into .tools/uv-env: done in" in said


def test_a_python_older_than_the_services_need_is_named_with_the_way_out(monkeypatch):
    steps = local_module("steps")
    assert steps.python_too_old() is None
    monkeypatch.setattr(steps, "MIN_PYTHON", (99, 0))

    problem = steps.python_too_old()

    assert problem.startswith("Python 3.11+ is needed") and "PYTHON=python3.11" in problem


def test_without_the_venv_module_the_hint_names_python3_venv(monkeypatch):
    """Debian ships `venv` without ensurepip unless python3-venv is installed; uv cannot be installed then."""
    bootstrap = local_module("bootstrap")
    real = bootstrap.importlib.util.find_spec
    monkeypatch.setattr(
        bootstrap.importlib.util, "find_spec", lambda name, *rest: None if name == "ensurepip" else real(name, *rest)
    )

    missing = bootstrap.check_venv()

    assert missing is not None and "sudo apt-get install python3-venv" in missing.hint
    assert missing.apt and missing.apt[0].endswith("-venv")


def test_a_malformed_mongo_url_is_one_line_not_a_traceback(tmp_path):
    done = run_script(
        "bootstrap.py", "up", tmp_path=tmp_path, bin_dir=_tools(tmp_path / "bin"), env={"MONGO_URL": "db:27017"}
    )

    assert assert_one_line_failure(done) == [
        "[bootstrap] error: MONGO_URL must start with mongodb:// or mongodb+srv://"
    ]


@pytest.mark.parametrize(
    ("script", "expected_hint"),
    [
        ("print('/usr/bin/chromium')", None),
        ("import sys; sys.exit('[chromium] no Chromium found: sudo apt-get install chromium')", "no Chromium found"),
    ],
)
def test_the_browser_harness_finder_decides_about_chromium_when_there_is_one(
    tmp_path, monkeypatch, script, expected_hint
):
    bootstrap = local_module("bootstrap")
    hook = tmp_path / "chromium.py"
    hook.write_text(script)
    monkeypatch.setattr(bootstrap, "CHROMIUM_HOOK", hook)

    missing = bootstrap.check_chromium()

    if expected_hint is None:
        assert missing is None
    else:
        assert missing is not None and missing.hint == "no Chromium found: sudo apt-get install chromium"


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (None, "missing: Node.js 18.17+ with npm (the tests compile the TypeScript client) is not installed"),
        ("echo v16.20.2", "missing: Node.js 18.17+ is needed to compile the TypeScript client; `node` is v16.20.2"),
    ],
)
def test_make_test_names_a_missing_or_too_old_node(tmp_path, node, expected):
    bin_dir = _tools(tmp_path / "bin")
    (bin_dir / "node").unlink()
    if node is not None:
        fake_tool(bin_dir, "node", node)

    lines = assert_one_line_failure(run_script("bootstrap.py", "test", tmp_path=tmp_path, bin_dir=bin_dir))
    assert len(lines) == 2 and expected in lines[0] and "install: " in lines[0], lines
    done = run_script("bootstrap.py", "up", "--check-only", tmp_path=tmp_path, bin_dir=bin_dir)
    assert done.returncode == 0, done.stderr  # the services themselves do not need Node.js


def test_postgresql_named_by_the_environment_is_a_prerequisite_with_its_hint(tmp_path):
    env = {"MEDSUPPORT_MONGO_BACKEND": "postgresql", "MEDSUPPORT_POSTGRES_BIN": str(tmp_path / "no-postgresql")}

    named = run_script("bootstrap.py", "up", tmp_path=tmp_path, bin_dir=_tools(tmp_path / "bin"), env=env)

    lines = assert_one_line_failure(named)
    assert len(lines) == 2 and "missing: PostgreSQL (MEDSUPPORT_MONGO_BACKEND=postgresql)" in lines[0], lines
    assert lines[0].endswith("install: sudo apt-get install postgresql")
    by_default = run_script(
        "bootstrap.py",
        "up",
        "--check-only",
        tmp_path=tmp_path,
        bin_dir=_tools(tmp_path / "bin"),
        env={"MEDSUPPORT_POSTGRES_BIN": env["MEDSUPPORT_POSTGRES_BIN"]},
    )
    assert by_default.returncode == 0, by_default.stderr  # the default falls back to SQLite instead


class Apt:
    """Stands in for apt-get: records what would be installed; ``fails`` makes the install fail."""

    def __init__(self, fails: bool = False) -> None:
        self.installed: list[list[str]] = []
        self.fails = fails

    def __call__(self, packages: list[str]) -> None:
        self.installed.append(packages)
        if self.fails:
            raise local_module("steps").StepFailed("[bootstrap] error: installing postgresql with apt-get failed")


@pytest.fixture
def bootstrap_without_postgresql(tmp_path, monkeypatch):
    """As root with apt-get on a machine without PostgreSQL (MEDSUPPORT_POSTGRES_BIN names an empty place)."""
    bootstrap = local_module("bootstrap")
    for name in ("MEDSUPPORT_MONGO_BACKEND", "MONGO_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MEDSUPPORT_POSTGRES_BIN", str(tmp_path / "no-postgresql"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no mongod
    monkeypatch.setattr(bootstrap, "may_install_system_packages", lambda: True)
    monkeypatch.setattr(bootstrap, "apt_candidate", lambda package: (15, 14) if package == "postgresql" else None)
    return bootstrap


def test_as_root_with_apt_a_missing_postgresql_is_installed(bootstrap_without_postgresql, monkeypatch):
    apt = Apt()
    monkeypatch.setattr(bootstrap_without_postgresql, "install_system_packages", apt)

    bootstrap_without_postgresql.offer_postgresql()

    assert apt.installed == [["postgresql"]]


def test_a_failed_postgresql_install_is_one_line_and_the_run_goes_on(bootstrap_without_postgresql, monkeypatch, capsys):
    monkeypatch.setattr(bootstrap_without_postgresql, "install_system_packages", Apt(fails=True))

    bootstrap_without_postgresql.offer_postgresql()  # no StepFailed: FerretDB runs on SQLite instead

    said = capsys.readouterr().out.strip().splitlines()
    assert len(said) == 1 and "PostgreSQL could not be installed" in said[0] and "SQLite" in said[0], said


@pytest.mark.parametrize(
    ("variable", "value", "why"),
    [
        ("MEDSUPPORT_MONGO_BACKEND", "sqlite", "SQLite asked for"),
        ("MONGO_URL", "mongodb://db.example.org:27017", "an external MongoDB"),
        ("MEDSUPPORT_NO_SYSTEM_INSTALL", "1", "system installs turned off"),
    ],
)
def test_postgresql_is_not_installed_when_it_would_not_be_used_or_may_not_be(
    bootstrap_without_postgresql, monkeypatch, variable, value, why
):
    apt = Apt()
    monkeypatch.setattr(bootstrap_without_postgresql, "install_system_packages", apt)
    monkeypatch.setenv(variable, value)
    if variable == "MEDSUPPORT_NO_SYSTEM_INSTALL":
        steps = local_module("steps")
        monkeypatch.setattr(
            bootstrap_without_postgresql, "may_install_system_packages", steps.may_install_system_packages
        )

    bootstrap_without_postgresql.offer_postgresql()

    assert apt.installed == [], why
