"""Writes the Kubernetes manifests under deploy/k8s/base from one table of the four services.

    python deploy/k8s/build_manifests.py          # rewrite base/*.yaml
    python deploy/k8s/build_manifests.py --check  # exit 1 if a committed file differs

The YAML files are plain Kubernetes objects (apply with `kubectl apply -k deploy/k8s/overlays/<name>`);
this script keeps the four services' Deployments, Services, PodDisruptionBudgets and HorizontalPodAutoscalers
the same shape. tests/deploy validates them against the Kubernetes JSON schemas and checks that every
setting they pass names a field of the service's settings class.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BASE = Path(__file__).resolve().parent / "base"
PART_OF = "medsupport"


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    settings: dict[str, str] = field(default_factory=dict)
    """Non-secret, service-specific settings (ConfigMap)."""
    secrets: tuple[str, ...] = ()
    """Service-specific secret settings (keys the service's Secret must hold, besides the common ones)."""
    memory_request: str = "192Mi"
    memory_limit: str = "512Mi"


SERVICES = (
    Service("feedback", 8001, secrets=("TEXT_ENCRYPTION_KEY", "FOLLOW_UP_CODE_SECRET", "CLIMATE_TOKEN_SECRET")),
    Service("wellbeing", 8002, secrets=("NOTES_ENCRYPTION_KEY",)),
    Service("mentorship", 8003, secrets=("NOTES_ENCRYPTION_KEY",), memory_request="256Mi", memory_limit="768Mi"),
    Service(
        "notifications",
        8004,
        settings={
            "SMTP_HOST": "smtp.example.org",
            "SMTP_PORT": "587",
            "SMTP_STARTTLS": "true",
            "SMTP_FROM": "medsupport alerts <alerts@example.org>",
            "PUBLIC_BASE_URL": "https://support.example.org",
        },
        secrets=("WEBHOOK_SIGNING_SECRET", "SMTP_USERNAME", "SMTP_PASSWORD"),
    ),
)

COMMON_SETTINGS = {
    "APP_ENV": "production",
    "LOG_LEVEL": "INFO",
    # Strimzi names a cluster's bootstrap Service <cluster>-kafka-bootstrap (here a Kafka CR "medsupport" in "kafka");
    # its TLS listener (9093) with SCRAM-SHA-512 authentication: each service logs in as the KafkaUser of its name
    # (deploy/k8s/platform/kafka-users.yaml, ACLs: it writes only its own topics).
    "KAFKA_BOOTSTRAP_SERVERS": "medsupport-kafka-bootstrap.kafka.svc:9093",
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SSL_CAFILE": "/etc/kafka-ca/ca.crt",
    "CORS_ORIGINS": '["https://support.example.org"]',
    # Tokens must name the institution's identity provider and medsupport as their audience (APP_ENV=production).
    "AUTH_ISSUER": "https://idp.example.org",
    "AUTH_AUDIENCE": "medsupport",
}
COMMON_SECRETS = (
    "MONGO_URL",
    "AUTH_JWT_SECRET",
    "DATA_ENCRYPTION_KEY",
    "IDEMPOTENCY_HMAC_KEY",
    "METRICS_BEARER_TOKEN",
    "KAFKA_SASL_PASSWORD",
)
"""Every service's Secret holds these (MONGO_URL: the connection string of its own database and user, e.g. the
one the MongoDB community operator writes to <resource>-<db>-<user>)."""


def labels(service: Service) -> dict[str, str]:
    return {"app.kubernetes.io/name": service.name, "app.kubernetes.io/part-of": PART_OF}


def secret_name(service: Service) -> str:
    return f"{service.name}-secrets"


def objects(service: Service) -> list[dict[str, Any]]:
    meta = {"name": service.name, "labels": labels(service)}
    selector = {"matchLabels": labels(service)}
    probe_common = {"httpGet": {"path": "/healthz", "port": "http"}, "timeoutSeconds": 3}
    container = {
        "name": service.name,
        "image": f"medsupport/{service.name}:0.1.0",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": service.port, "protocol": "TCP"}],
        "envFrom": [
            {"configMapRef": {"name": "medsupport-common"}},
            {"configMapRef": {"name": f"{service.name}-config"}},
            {"secretRef": {"name": secret_name(service)}},
        ],
        # Ready only when MongoDB and Kafka answer; a pod that is not ready gets no HTTP traffic.
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": "http"},
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        # Alive while the process answers at all: a Kafka or MongoDB outage must not restart every pod.
        "livenessProbe": {**probe_common, "periodSeconds": 20, "failureThreshold": 3},
        "startupProbe": {**probe_common, "periodSeconds": 2, "failureThreshold": 30},
        "resources": {
            "requests": {"cpu": "100m", "memory": service.memory_request},
            "limits": {"memory": service.memory_limit},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "kafka-ca", "mountPath": "/etc/kafka-ca", "readOnly": True},
        ],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            # No "replicas": the HorizontalPodAutoscaler owns the count (minReplicas). With a fixed value every
            # `kubectl apply` would scale a busy service back down to it, and the HPA would scale it up again
            # (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling).
            "revisionHistoryLimit": 5,
            "selector": selector,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {
                    "labels": labels(service),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(service.port),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "serviceAccountName": service.name,
                    "automountServiceAccountToken": False,
                    # SIGTERM: uvicorn stops the lifespan, the consumer commits and leaves its group, so the
                    # partitions move to the other pods at once instead of after the session timeout.
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": selector,
                        }
                    ],
                    "containers": [container],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                        # The Kafka cluster CA (copy Strimzi's <cluster>-cluster-ca-cert ca.crt into this namespace).
                        {"name": "kafka-ca", "secret": {"secretName": "kafka-cluster-ca", "optional": True}},
                    ],
                },
            },
        },
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta, "automountServiceAccountToken": False},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{service.name}-config", "labels": labels(service)},
            "data": {"MONGO_DB": service.name, "KAFKA_SASL_USERNAME": service.name, **service.settings},
        },
        deployment,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {
                "selector": labels(service),
                "ports": [{"name": "http", "port": service.port, "targetPort": "http", "protocol": "TCP"}],
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta,
            "spec": {"minAvailable": 1, "selector": selector},
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta,
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
                # Instances share their topics' partitions as one consumer group: pods beyond the partition
                # count (3 by default, see README) only add HTTP capacity.
                "minReplicas": 2,
                "maxReplicas": 6,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                    }
                ],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
            },
        },
    ]


CONSOLE_PORT = 8080
CONSOLE_SETTINGS = {
    "APP_ENV": "production",
    "FEEDBACK_URL": "http://feedback:8001",
    "WELLBEING_URL": "http://wellbeing:8002",
    "MENTORSHIP_URL": "http://mentorship:8003",
    "NOTIFICATIONS_URL": "http://notifications:8004",
    # The institution's identity provider (OpenID Connect, authorization code with PKCE).
    "OIDC_ISSUER": "https://login.example.org/realms/medsupport",
    "OIDC_CLIENT_ID": "medsupport-console",
    "OIDC_REDIRECT_URI": "https://console.example.org/auth/callback",
}
CONSOLE_SECRETS = ("OIDC_CLIENT_SECRET",)


def console_objects() -> list[dict[str, Any]]:
    """The staff console: one replica, because its sessions live in the process (several need sticky sessions);
    no database, no Kafka, no HPA. Its own settings only (not medsupport-common: the console reads no Kafka)."""
    console = Service("console", CONSOLE_PORT, memory_request="128Mi", memory_limit="256Mi")
    [account, _, deployment, service, *_] = objects(console)
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "console-config", "labels": labels(console)},
        "data": dict(CONSOLE_SETTINGS),
    }
    deployment["spec"]["replicas"] = 1
    pod = deployment["spec"]["template"]
    pod["metadata"].pop("annotations")  # no /metrics to scrape
    [container] = pod["spec"]["containers"]
    # no Kafka: no cluster CA to mount
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["name"] != "kafka-ca"]
    pod["spec"]["volumes"] = [v for v in pod["spec"]["volumes"] if v["name"] != "kafka-ca"]
    container["envFrom"] = [
        {"configMapRef": {"name": "console-config"}},
        {"secretRef": {"name": secret_name(console), "optional": True}},
    ]
    return [account, config, deployment, service]


def common_objects() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "medsupport-common", "labels": {"app.kubernetes.io/part-of": PART_OF}},
            "data": dict(COMMON_SETTINGS),
        }
    ]


def files() -> dict[str, str]:
    header = "# Generated by deploy/k8s/build_manifests.py: edit the script, then run it.\n"
    out = {"common.yaml": header + yaml.safe_dump_all(common_objects(), sort_keys=False)}
    for service in SERVICES:
        out[f"{service.name}.yaml"] = header + yaml.safe_dump_all(objects(service), sort_keys=False)
    out["console.yaml"] = header + yaml.safe_dump_all(console_objects(), sort_keys=False)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["common.yaml", *(f"{s.name}.yaml" for s in SERVICES), "console.yaml"],
    }
    out["kustomization.yaml"] = header + yaml.safe_dump(kustomization, sort_keys=False)
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    BASE.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, text in files().items():
        path = BASE / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print("stale manifests (run python deploy/k8s/build_manifests.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
