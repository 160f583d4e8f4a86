"""The Kubernetes manifests under deploy/k8s, checked offline.

Every object is validated against the Kubernetes JSON schemas, strictly (unknown fields are errors), by
kubernetes-validate (the schemas ship in its PyPI package, so it always runs) and by kubeconform when Go can build
it. kubeconform's default schema registry is on GitHub and needs network, so it reads the same schemas, copied
from kubernetes-validate: a second, independent validator over the same schemas.

The standalone `kustomize` is not installed. The overlays are rendered by `kubectl kustomize` (kustomize built
into kubectl) when kubectl is on PATH, otherwise by `render` below, a pure-Python subset of kustomize
(resources, namespace, JSON 6902 patches, images, secretGenerator literals). Where both exist, a test checks
that they give the same objects. Whichever rendered them, the overlays are validated and checked like the base.

The other tests compare the objects with the code: probes, ports, resources, security context, and the
Service, PodDisruptionBudget and HPA selectors. They also check the settings each pod receives against its
service's settings class, which parses them as it would at start-up."""

from __future__ import annotations

import base64
import copy
import functools
import importlib.resources
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr

from tests.deploy.conftest import REPO, SERVICES, Tool, env_names, settings_classes

K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").exists())
BASE_FILES = sorted(p.name for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml")
K8S_VERSION = kubernetes_validate.latest_version()
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass"}
KUBECTL = shutil.which("kubectl")
Doc = dict[str, Any]


def load(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization(directory: Path) -> Doc:
    loaded: Doc = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return loaded


def base_docs() -> list[Doc]:
    return [doc for name in BASE_FILES for doc in load(BASE / name)]


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    [doc] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def decoded(secret: Doc) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in secret.get("data", {}).items()}


def secret_keys() -> dict[str, set[str]]:
    """The keys each service's Secret must hold, as deploy/k8s/build_manifests.py documents them."""
    generator = runpy.run_path(str(K8S / "build_manifests.py"), run_name="build_manifests")
    return {s.name: set(generator["COMMON_SECRETS"]) | set(s.secrets) for s in generator["SERVICES"]}


def secret_fields(service: str) -> set[str]:
    fields = settings_classes()[service].model_fields.items()
    return {name.upper() for name, f in fields if SecretStr in (f.annotation, *typing.get_args(f.annotation))}


def schema_errors(docs: list[Doc]) -> list[str]:
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            where = ".".join(str(part) for part in e.path)
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {where}: {e.message}")
    return errors


# ---- the overlays, rendered -------------------------------------------------------------------------------------

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "patches", "images", "secretGenerator", "generatorOptions"}


def render(directory: Path) -> list[Doc]:
    """`kustomize build directory` for the features these kustomizations use; anything else skips the test."""
    spec = kustomization(directory)
    if unsupported := set(spec) - SUPPORTED:
        pytest.skip(f"{directory}: the pure-Python renderer does not know {sorted(unsupported)}")
    docs: list[Doc] = []
    for entry in spec.get("resources", []):
        path = directory / entry
        docs += render(path) if path.is_dir() else load(path)
    labels = spec.get("generatorOptions", {}).get("labels")
    for generator in spec.get("secretGenerator", []):
        if set(generator) != {"name", "literals"}:
            pytest.skip(f"{directory}: the pure-Python renderer only knows secretGenerator literals")
        literals = dict(item.split("=", 1) for item in generator["literals"])
        data = {key: base64.b64encode(value.encode()).decode() for key, value in literals.items()}
        metadata = {"name": generator["name"], **({"labels": labels} if labels else {})}
        docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", "data": data})
    for patch in spec.get("patches", []):
        operations = yaml.safe_load(patch["patch"] if "patch" in patch else (directory / patch["path"]).read_text())
        if not isinstance(operations, list) or set(patch.get("target", {})) - {"kind", "name"}:
            pytest.skip(f"{directory}: the pure-Python renderer only knows JSON 6902 patches targeted by kind/name")
        target = patch["target"]
        for doc in [d for d in docs if d["kind"] == target["kind"] and d["metadata"]["name"] == target["name"]]:
            json_patch(doc, operations)
    for image in spec.get("images", []):
        for container in (c for d in docs if d["kind"] == "Deployment" for c in containers(d)):
            name, _, tag = container["image"].rpartition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
    if "namespace" in spec:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = spec["namespace"]
    return docs


def json_patch(doc: Doc, operations: list[Doc]) -> None:
    for operation in operations:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in operation["path"].split("/")[1:]]
        node = functools.reduce(lambda n, key: n[int(key)] if isinstance(n, list) else n[key], parents, doc)
        if operation["op"] in ("replace", "remove"):
            assert last in node, f"{doc['kind']}/{doc['metadata']['name']} has no {operation['path']} to {operation}"
        if operation["op"] == "remove":
            del node[last]
        elif operation["op"] in ("add", "replace") and isinstance(node, dict):
            node[last] = operation["value"]
        else:
            pytest.skip(f"the pure-Python renderer does not know {operation}")


def kubectl_kustomize(overlay: str) -> list[Doc]:
    assert KUBECTL is not None
    done = subprocess.run([KUBECTL, "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@functools.cache
def _built(overlay: str) -> tuple[str, list[Doc]]:
    if KUBECTL:
        return f"overlays rendered by `{KUBECTL} kustomize`", kubectl_kustomize(overlay)
    how = "kubectl not installed: overlays rendered by the pure-Python kustomize subset"
    return how, render(K8S / "overlays" / overlay)


def built(overlay: str) -> list[Doc]:
    return copy.deepcopy(_built(overlay)[1])


def containers(deployment: Doc) -> list[Doc]:
    found: list[Doc] = deployment["spec"]["template"]["spec"]["containers"]
    return found


# ---- 1. schemas -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BASE_FILES)
def test_base_objects_match_the_kubernetes_schema(name: str, report: list[str]) -> None:
    report.append(f"kubernetes-validate {kubernetes_validate.__version__}, Kubernetes {K8S_VERSION}, strict")
    docs = load(BASE / name)
    assert docs
    assert not schema_errors(docs)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_overlays_match_the_kubernetes_schema(overlay: str, report: list[str]) -> None:
    how, docs = _built(overlay)
    report.append(f"{how}; kubernetes-validate {kubernetes_validate.__version__}, Kubernetes {K8S_VERSION}, strict")
    assert not schema_errors(docs)


def test_the_schema_check_is_strict() -> None:
    """A negative control: a misspelt field and a wrong type must both be reported."""
    misspelt, mistyped = find(base_docs(), "Deployment", "feedback"), find(base_docs(), "Deployment", "feedback")
    misspelt["spec"]["template"]["spec"]["securityContext"]["runAsNonRooot"] = True
    containers(mistyped)[0]["ports"][0]["containerPort"] = "8001"
    [unknown, wrong_type] = schema_errors([misspelt, mistyped])
    assert "'runAsNonRooot' was unexpected" in unknown
    assert "containerPort: '8001' is not of type 'integer'" in wrong_type


def test_kubeconform_agrees(kubeconform: Tool, report: list[str], tmp_path: Path) -> None:
    report.append(kubeconform.how)
    if kubeconform.path is None and re.search(r"dial tcp|no such host|i/o timeout|proxy\.golang\.org", kubeconform.how):
        pytest.skip(
            f"kubeconform could not be downloaded (no network?); kubernetes-validate checked: {kubeconform.how}"
        )
    binary = kubeconform.require()  # skips without Go, fails when a build that should work did not
    source = (
        importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{K8S_VERSION}-local-strict"
    )
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    definitions = schemas / "_definitions.json"
    for schema in source.iterdir():  # their refs name https://kubernetes.io/api/_definitions.json: point at the copy
        text = schema.read_text().replace('"/api/_definitions.json#', f'"{definitions.as_uri()}#')
        (schemas / schema.name).write_text(text)
    files = [BASE / name for name in BASE_FILES]
    for overlay in OVERLAYS:
        files.append(tmp_path / f"{overlay}.yaml")
        files[-1].write_text(yaml.safe_dump_all(built(overlay)))
    canary = tmp_path / "canary.yaml"
    canary.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "dataa": {}}))

    def kubeconform_run(*paths: Path) -> subprocess.CompletedProcess[str]:
        location = f"{schemas}/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json"
        argv = [str(binary), "-strict", "-summary", "-schema-location", location, *map(str, paths)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    report.append(f"kubeconform schemas: kubernetes-validate's {K8S_VERSION} (its default registry needs network)")
    done = kubeconform_run(*files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Valid: [1-9]\d*, Invalid: 0, Errors: 0, Skipped: 0", done.stdout), done.stdout
    rejected = kubeconform_run(canary)
    assert rejected.returncode == 1 and "dataa" in rejected.stdout, rejected.stdout  # it does check


# ---- 2. generator -----------------------------------------------------------------------------------------------


def test_committed_manifests_match_the_generator() -> None:
    done = subprocess.run(
        [sys.executable, str(K8S / "build_manifests.py"), "--check"], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ---- 3. each service --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_deployment_probes_resources_and_security(service: str) -> None:
    deployment = find(base_docs(), "Deployment", service)
    pod = deployment["spec"]["template"]["spec"]
    [container] = containers(deployment)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": SERVICES[service]}
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = container[probe]["httpGet"]
        assert get["path"] == path
        assert ports.get(get["port"], get["port"]) == SERVICES[service], f"{probe} port"
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])  # the HPA's CPU utilization is relative to the request
    assert "memory" in resources["limits"]
    # Non-root, and admissible in the overlays' namespace (pod-security.kubernetes.io/enforce: restricted).
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_pdb_and_hpa_select_the_deployment(service: str) -> None:
    docs = base_docs()
    deployment = find(docs, "Deployment", service)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    others = [
        d["spec"]["template"]["metadata"]["labels"] for d in docs if d["kind"] == "Deployment" and d != deployment
    ]

    def selects_only_this(selector: dict[str, str]) -> bool:
        matches = [all(pod.get(k) == v for k, v in selector.items()) for pod in [labels, *others]]
        return matches == [True] + [False] * len(others)

    assert selects_only_this(deployment["spec"]["selector"]["matchLabels"])
    svc = find(docs, "Service", service)
    assert selects_only_this(svc["spec"]["selector"])
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(SERVICES[service], "http")]
    pdb = find(docs, "PodDisruptionBudget", service)
    assert selects_only_this(pdb["spec"]["selector"]["matchLabels"])
    hpa = find(docs, "HorizontalPodAutoscaler", service)["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert 2 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    assert pdb["spec"]["minAvailable"] < hpa["minReplicas"], "the PDB would block every node drain"
    # The HPA owns the replica count: a fixed spec.replicas would reset it on every `kubectl apply`.
    assert "replicas" not in deployment["spec"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_settings_come_from_configmaps_and_secrets_from_a_secret(service: str) -> None:
    docs = base_docs()
    [container] = containers(find(docs, "Deployment", service))
    config_maps = [s["configMapRef"]["name"] for s in container["envFrom"] if "configMapRef" in s]
    assert [s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s] == [f"{service}-secrets"]
    assert config_maps == ["medsupport-common", f"{service}-config"]
    settings = {key for name in config_maps for key in find(docs, "ConfigMap", name)["data"]}
    settings |= {e["name"] for e in container.get("env", [])}
    names = env_names(settings_classes()[service])
    assert settings <= names, f"not settings of {service}: {sorted(settings - names)}"
    secrets = secret_keys()[service]
    assert {"AUTH_JWT_SECRET", "DATA_ENCRYPTION_KEY", "MONGO_URL"} | secret_fields(service) <= secrets
    assert secrets <= names, f"not settings of {service}: {sorted(secrets - names)}"
    assert not settings & secrets, "secrets in a ConfigMap or a literal env value"


# ---- 4. kustomizations and overlays -----------------------------------------------------------------------------


@pytest.mark.parametrize("directory", ["base", *(f"overlays/{o}" for o in OVERLAYS)])
def test_kustomization_lists_existing_files(directory: str) -> None:
    spec = kustomization(K8S / directory)
    listed = [*spec.get("resources", []), *(p["path"] for p in spec.get("patches", []) if "path" in p)]
    for entry in listed:
        path = K8S / directory / entry
        assert path.is_file() or (path / "kustomization.yaml").is_file(), f"{directory} lists missing {entry}"
    if directory == "base":
        assert sorted(spec["resources"]) == BASE_FILES  # every generated file is deployed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_changes_name_what_base_has(overlay: str) -> None:
    spec, docs = kustomization(K8S / "overlays" / overlay), base_docs()
    for patch in spec.get("patches", []):
        target = patch["target"]  # (all patches here name their target)
        assert [d for d in docs if d["kind"] == target["kind"] and d["metadata"]["name"] == target["name"]], target
    images = {c["image"].rpartition(":")[0] for d in docs if d["kind"] == "Deployment" for c in containers(d)}
    assert {i["name"] for i in spec.get("images", [])} <= images, "an images entry that changes nothing"
    sources = [s for d in docs if d["kind"] == "Deployment" for c in containers(d) for s in c["envFrom"]]
    secret_refs = {s["secretRef"]["name"] for s in sources if "secretRef" in s}
    assert {g["name"] for g in spec.get("secretGenerator", [])} <= secret_refs, "a Secret no Deployment reads"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_overlay_is_namespaced(overlay: str) -> None:
    namespace = kustomization(K8S / "overlays" / overlay)["namespace"]
    docs = built(overlay)
    assert find(docs, "Namespace", namespace)
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] not in CLUSTER_SCOPED} == {namespace}


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_pod_settings_parse(overlay: str, service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment a pod gets in the overlay, parsed by the service's settings class. Production Secrets are
    created out of band (never committed): real-looking values stand in for them."""
    docs = built(overlay)
    [container] = containers(find(docs, "Deployment", service))
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            data = find(docs, "ConfigMap", source["configMapRef"]["name"])["data"]
            assert not set(data) & secret_keys()[service], "secrets in a ConfigMap"
            env.update(data)
        elif overlay == "production":
            assert not [d for d in docs if d["kind"] == "Secret"], "production Secrets must not be committed"
            env.update({key: base64.urlsafe_b64encode(os.urandom(32)).decode() for key in secret_keys()[service]})
        else:  # a generated Secret (its name carries kustomize's hash when kubectl rendered it)
            env.update(decoded(find(docs, "Secret", source["secretRef"]["name"])))
    env.update({e["name"]: e["value"] for e in container.get("env", [])})
    cls = settings_classes()[service]
    assert set(env) <= env_names(cls)
    for name in list(os.environ):
        if name.upper() in env_names(cls):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = cls()
    assert settings.app_env == ("production" if overlay == "production" else "development")
    assert settings.service_name == service and settings.database_name == service


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pure_python_rendering_matches_kubectl_kustomize(overlay: str, report: list[str]) -> None:
    if KUBECTL is None:
        pytest.skip("kubectl not installed: the overlays are checked as the pure-Python renderer builds them")
    ours = render(K8S / "overlays" / overlay)
    text = json.dumps(kubectl_kustomize(overlay))
    for secret in (d["metadata"]["name"] for d in ours if d["kind"] == "Secret"):  # kustomize adds a content hash
        text = re.sub(rf'"{re.escape(secret)}-[a-z0-9]{{10}}"', f'"{secret}"', text)
    theirs = json.loads(text)
    for doc in (d for d in theirs if d["kind"] == "Secret"):  # and wraps long base64 lines
        doc["data"] = {k: base64.b64encode(base64.b64decode(v)).decode() for k, v in doc["data"].items()}

    def key(doc: Doc) -> str:
        return f"{doc['kind']}/{doc['metadata']['name']}"

    report.append(f"compared with `{KUBECTL} kustomize`")
    assert sorted(map(key, ours)) == sorted(map(key, theirs))
    assert sorted(ours, key=key) == sorted(theirs, key=key)
