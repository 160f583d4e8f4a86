"""docker-compose.yml, the Dockerfile and the Prometheus scrape config, checked without a Docker engine.

`docker compose config` runs too when the docker client here has the compose plugin (it has none on the
build machines: the client alone, no engine). Everything else parses the files and compares them with the
code: services, ports, healthchecks, dependencies, volumes, and the environment each service receives against
the fields of its settings class (values are parsed by the settings class itself)."""

from __future__ import annotations

import http.server
import os
import re
import secrets
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from tests.deploy.conftest import REPO, SERVICES, Tool, env_names, settings_classes

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:?[-?])(?P<default>[^}]*))?\}")
ENV_EXAMPLE = REPO / ".env.example"


def env_example_names() -> list[str]:
    return [line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"^[A-Z0-9_]+=", line)]


def filled_env() -> dict[str, str]:
    """A .env as an operator fills it in from .env.example: a fresh Fernet key or random secret each."""
    from cryptography.fernet import Fernet

    return {
        name: Fernet.generate_key().decode() if name.endswith("ENCRYPTION_KEY") else secrets.token_urlsafe(48)
        for name in env_example_names()
    }


FILLED_ENV = filled_env()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # resolves the x-… anchors and << merges
    return loaded


def interpolate(value: Any, env: dict[str, str] | None = None) -> str:
    """What compose substitutes with the .env ``env`` (default: .env.example filled in) and an otherwise empty
    environment: ${VAR:-default} becomes the default, a required ${VAR:?message} the .env value."""
    env = FILLED_ENV if env is None else env
    text = str(value).lower() if isinstance(value, bool) else str(value)

    def substitute(match: re.Match[str]) -> str:
        if match.group("op") and "?" in match.group("op"):
            if not env.get(match.group("name")):
                raise ValueError(f"compose refuses to start: {match.group('default')}")
            return env[match.group("name")]
        return env.get(match.group("name")) or match.group("default") or ""

    return INTERPOLATION.sub(substitute, text)


def test_docker_compose_config_when_the_plugin_exists(docker_compose: Tool, report: list[str]) -> None:
    report.append(docker_compose.how)
    if docker_compose.path is None:
        pytest.skip(f"docker compose config not run: {docker_compose.how} (the parse-and-check tests below run)")
    done = subprocess.run(
        [str(docker_compose.path), "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr


def test_the_stack_has_every_part(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    broker = (REPO / "deploy" / "kafka" / "compose-broker.sh").read_text()
    assert "process.roles=broker,controller" in broker  # KRaft, no ZooKeeper
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")
    for name, service in services.items():
        image = service.get("image", "")
        if "build" in service:  # built here from the pinned Dockerfile
            assert image == f"medsupport/{name}:local"
            continue
        tag = image.rpartition(":")[2]
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: pin the image ({image!r})"
        assert "healthcheck" in service or service.get("restart") == "no", f"{name} has no healthcheck"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_has_its_own_mongodb_with_a_named_volume(compose: dict[str, Any], service: str) -> None:
    services, volumes = compose["services"], compose["volumes"]
    mongo = services[f"mongo-{service}"]
    assert mongo["image"].startswith("mongo:")
    [mount] = mongo["volumes"]
    volume, _, target = mount.partition(":")
    assert target == "/data/db" and volume in volumes
    owners = [n for n, s in services.items() if any(str(v).startswith(f"{volume}:") for v in s.get("volumes", []))]
    assert owners == [f"mongo-{service}"], "one database volume per service"
    env = services[service]["environment"]
    assert env["MONGO_URL"] == f"mongodb://mongo-{service}:27017"
    assert env["MONGO_DB"] == service


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_is_built_run_and_wired_as_the_code_expects(compose: dict[str, Any], service: str) -> None:
    spec = compose["services"][service]
    port = SERVICES[service]
    assert spec["build"] == {"context": ".", "dockerfile": "deploy/docker/Dockerfile", "target": service}
    assert spec["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert spec["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert spec["depends_on"]["kafka-setup"] == {"condition": "service_completed_successfully"}
    env = spec["environment"]
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT" and env["KAFKA_SASL_USERNAME"] == service
    assert spec["depends_on"][f"mongo-{service}"] == {"condition": "service_healthy"}
    assert "/readyz" in " ".join(spec["healthcheck"]["test"])
    assert spec.get("read_only") is True and "ALL" in spec.get("cap_drop", [])


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_environment_names_and_values_fit_the_settings_class(compose: dict[str, Any], service: str) -> None:
    cls = settings_classes()[service]
    env = {key: interpolate(value) for key, value in compose["services"][service]["environment"].items()}
    unknown = set(env) - env_names(cls)
    assert not unknown, f"{service}: compose sets variables its settings class does not read: {sorted(unknown)}"
    saved = dict(os.environ)
    try:
        for key in list(os.environ):
            if key.upper() in env_names(cls):
                del os.environ[key]
        os.environ.update(env)
        settings = cls()  # parses every value exactly as the service will at start-up
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert settings.service_name == service
    assert settings.database_name == service
    assert settings.kafka_bootstrap_servers == "kafka:9092"


def test_compose_runs_in_production_and_needs_every_secret_from_env(compose: dict[str, Any]) -> None:
    """No development secret is a compose default: without a .env compose itself refuses to start, and
    every secret it asks for is listed in .env.example."""
    required: set[str] = set()
    for name, spec in compose["services"].items():
        for key, value in (spec.get("environment") or {}).items():
            for match in INTERPOLATION.finditer(str(value)):
                assert match.group("op") != ":-" or "dev-only" not in (match.group("default") or ""), (name, key)
                if match.group("op") == ":?":
                    required.add(match.group("name"))
            if "SECRET" in key or "KEY" in key or "PASSWORD" in key:
                with pytest.raises(ValueError, match="compose refuses to start"):
                    interpolate(value, env={})
        if name in SERVICES:
            assert interpolate(spec["environment"]["APP_ENV"], env={}) == "production"
    assert required == set(env_example_names())
    assert "admin" not in {interpolate(compose["services"]["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"])}


def test_every_published_port_is_bound_to_loopback(compose: dict[str, Any]) -> None:
    for name, spec in compose["services"].items():
        for port in spec.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_notifications_email_goes_to_the_smtp_catcher(compose: dict[str, Any]) -> None:
    env = {k: interpolate(v) for k, v in compose["services"]["notifications"]["environment"].items()}
    assert (
        env["SMTP_HOST"] == "mailpit" and int(env["SMTP_PORT"]) == 1025
    )  # Mailpit's SMTP port, unless .env names a relay
    assert (
        env["SMTP_STARTTLS"] == "true"
    )  # production: a trial with Mailpit sets APP_ENV=development, SMTP_STARTTLS=false
    assert compose["services"]["notifications"]["depends_on"]["mailpit"] == {"condition": "service_healthy"}
    assert "127.0.0.1:8025:8025" in compose["services"]["mailpit"]["ports"]  # its web UI, loopback only


def test_every_dependency_waits_for_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, spec in services.items():
        for dependency, condition in (spec.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if services[dependency].get("restart") == "no":  # a one-shot job (kafka-setup) must have succeeded
                assert condition == {"condition": "service_completed_successfully"}, f"{name} -> {dependency}"
                continue
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"
            assert "healthcheck" in services[dependency], dependency


def test_volumes_and_mounted_files_exist(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for name, spec in compose["services"].items():
        for mount in spec.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
            else:
                used.add(source)
    assert used == declared


def test_prometheus_scrapes_every_service_and_loads_the_rules(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "medsupport"]
    assert job["metrics_path"] == "/metrics" and job["honor_labels"] is True
    targets = {t["targets"][0]: t["labels"]["service"] for t in job["static_configs"]}
    assert targets == {f"{s}:{p}": s for s, p in SERVICES.items()}
    assert "./deploy/prometheus:/etc/prometheus:ro" in compose["services"]["prometheus"]["volumes"]
    # /metrics needs the bearer token in production: Prometheus reads it from the compose secret.
    assert job["authorization"] == {"type": "Bearer", "credentials_file": "/run/secrets/metrics_bearer_token"}
    assert compose["services"]["prometheus"]["secrets"] == ["metrics_bearer_token"]
    assert compose["secrets"]["metrics_bearer_token"] == {"environment": "METRICS_BEARER_TOKEN"}
    for service in SERVICES:
        assert "METRICS_BEARER_TOKEN" in compose["services"][service]["environment"]["METRICS_BEARER_TOKEN"]
    [pattern] = config["rule_files"]
    local = REPO / "deploy" / "prometheus" / Path(pattern).relative_to("/etc/prometheus")
    assert sorted(local.parent.glob(local.name)), "the rule_files glob matches the rules in deploy/prometheus/rules"


def test_prometheus_config_passes_promtool_when_installed(promtool: Tool, report: list[str], tmp_path: Path) -> None:
    report.append(promtool.how)
    if promtool.path is None:
        pytest.skip(f"promtool check config not run: {promtool.how}; the structure test above runs")
    # promtool opens the token file, which exists only inside the container (a compose secret): stand one in.
    text = (REPO / "deploy" / "prometheus" / "prometheus.yml").read_text()
    (tmp_path / "token").write_text("scrape-token")
    config = tmp_path / "prometheus.yml"
    config.write_text(text.replace("/run/secrets/metrics_bearer_token", str(tmp_path / "token")))
    done = subprocess.run(
        [str(promtool.path), "check", "config", str(config)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ------------------------------------------------------------------ the image


def dockerfile_stages() -> dict[str, list[str]]:
    stages: dict[str, list[str]] = {}
    current = "<args>"
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if match:
            current = match.group(2) or match.group(1)
            stages[current] = [line]
        else:
            stages.setdefault(current, []).append(line)
    return stages


def test_base_images_are_pinned() -> None:
    args = " ".join(dockerfile_stages()["<args>"])
    python = re.search(r"PYTHON_IMAGE=(\S+)", args)
    uv = re.search(r"UV_IMAGE=(\S+)", args)
    assert python and re.fullmatch(r"python:3\.11\.\d+-slim-\w+@sha256:[0-9a-f]{64}", python.group(1))
    assert uv and re.fullmatch(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+", uv.group(1))
    local_uv = re.search(r'UV_VERSION = "(\S+)"', (REPO / "deploy" / "local" / "bootstrap.py").read_text())
    assert local_uv and uv.group(1).endswith(":" + local_uv.group(1)), "the image uses the uv `make` installs"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_image_target_installs_only_the_locked_service_and_runs_it(service: str) -> None:
    stages = dockerfile_stages()
    build = " ".join(stages[f"build-{service}"])
    assert f"uv sync --frozen --no-dev --no-editable --package medsupport-{service}" in build
    final = stages[service]
    assert final[0].split()[1] == "runtime"
    assert f"COPY --from=build-{service} /app/.venv /app/.venv" in final
    port = SERVICES[service]
    assert f"ENV PORT={port}" in final and f"EXPOSE {port}" in final
    [cmd] = [line for line in final if line.startswith("CMD")]
    assert f'"{service}.app:create_app", "--factory"' in cmd and f'"--port", "{port}"' in cmd
    assert '"--no-proxy-headers"' in cmd  # forwarded addresses count only from the service's TRUSTED_PROXIES
    runtime = " ".join(stages["runtime"])
    assert re.search(r"USER (\d+)", runtime) and "USER 0" not in runtime and "USER root" not in runtime
    assert "HEALTHCHECK" in runtime and "/readyz" in runtime


def test_dockerignore_sends_only_manifests_and_sources() -> None:
    lines = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "**", "exclude everything, then allow what the image needs"
    allowed = {line[1:] for line in lines if line.startswith("!")}
    assert {"pyproject.toml", "uv.lock", "shared/src/**", "services/*/src/**"} <= allowed
    copied = re.findall(r"^COPY (?!--from)(\S+)", DOCKERFILE.read_text(), re.MULTILINE)
    for source in copied:
        assert (REPO / source).exists(), source


class _Ready(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/readyz" else 404)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def readyz_server() -> Iterator[tuple[int, type[_Ready]]]:
    handler = type("Handler", (_Ready,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler
    server.shutdown()


def test_healthcheck_command_passes_only_when_ready(
    compose: dict[str, Any], readyz_server: tuple[int, type[_Ready]]
) -> None:
    """The compose (and image) healthcheck, run for real against a server answering /readyz."""
    port, handler = readyz_server
    argv = compose["services"]["wellbeing"]["healthcheck"]["test"][1:]
    assert argv[0] == "python"
    image_check = re.search(
        r'HEALTHCHECK .*CMD \["python", "-c", "(.*)"\]', DOCKERFILE.read_text().replace("\\\n", " ")
    )
    assert image_check and image_check.group(1) == argv[2], "image and compose run the same check"

    def run() -> int:
        env = {**os.environ, "PORT": str(port)}
        return subprocess.run([sys.executable, *argv[1:]], env=env, capture_output=True, timeout=10).returncode

    handler.status = 200
    assert run() == 0
    handler.status = 503
    assert run() != 0


def test_kafka_authenticates_every_client_and_the_setup_grants_the_acl_table() -> None:
    """Every client listener of the compose broker is SASL (SCRAM), nothing is allowed without an ACL, and
    the scripts are what deploy/kafka/kafka_acls.py generates from the ownership table."""
    broker = (REPO / "deploy" / "kafka" / "compose-broker.sh").read_text()
    protocols = re.search(r"listener.security.protocol.map=(\S+)", broker)
    assert protocols and set(protocols.group(1).split(",")) == {
        "INTERNAL:SASL_PLAINTEXT",
        "CONTROLLER:PLAINTEXT",
        "HOST:SASL_PLAINTEXT",
    }
    assert "CONTROLLER://127.0.0.1:" in broker  # the plaintext controller listener is loopback only
    assert "allow.everyone.if.no.acl.found=false" in broker and "StandardAuthorizer" in broker
    done = subprocess.run(
        [sys.executable, str(REPO / "deploy" / "kafka" / "kafka_acls.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_manifest_lower_bounds_exclude_known_vulnerable_versions() -> None:
    """Installed without the lock (e.g. pip install of the shared package), no version lacking a known fix."""
    requirements = [
        Requirement(d) for d in tomllib.loads((REPO / "shared/pyproject.toml").read_text())["project"]["dependencies"]
    ]
    bounds = {r.name: r.specifier for r in requirements}
    fixed = {"pyjwt": "2.10.1", "cryptography": "44.0.1", "starlette": "0.49.1", "h11": "0.16.0"}
    for name, version in fixed.items():
        assert name in bounds, f"{name} needs a lower bound"
        assert bounds[name].contains(version), name
        assert not bounds[name].contains(_just_below(version)), f"{name} admits versions before {version}"


def _just_below(version: str) -> str:
    major, minor, patch = (int(p) for p in version.split("."))
    return f"{major}.{minor}.{patch - 1}" if patch else f"{major}.{minor - 1}.99" if minor else f"{major - 1}.99.99"


def test_base_image_has_the_recent_python_security_fixes() -> None:
    args = " ".join(dockerfile_stages()["<args>"])
    python = re.search(r"PYTHON_IMAGE=python:3\.11\.(\d+)-", args)
    assert python and int(python.group(1)) >= 15, "a 3.11 image from before 3.11.15 lacks CPython security fixes"
