"""Kafka users, ACLs and network policies, from one table: each service authenticates as itself
(SASL/SCRAM-SHA-512) and may write only the topics it owns (``TOPIC_OWNERS`` in the shared event catalogue),
read the topics it consumes, and write the dead-letter twins of those.

    python deploy/kafka/kafka_acls.py          # rewrite the generated files
    python deploy/kafka/kafka_acls.py --check  # exit 1 if a committed file differs

Generated: deploy/kafka/compose-setup.sh (SCRAM users and ACLs for docker compose, run once by the
``kafka-setup`` service), deploy/k8s/platform/kafka-users.yaml (Strimzi ``KafkaUser`` objects: SCRAM
credentials in a Secret per service, ``simple`` authorization with the same ACLs) and
deploy/k8s/platform/network-policies.yaml (Kafka and each service's MongoDB accept connections only
from medsupport's pods, and a MongoDB only from its own service). The broker side (SASL listeners,
StandardAuthorizer, no access without an ACL) is ``server_properties`` below, which tests run for real.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from medsupport_shared.event_types import (
    FEEDBACK_TOPIC,
    MENTORSHIP_TOPIC,
    PLATFORM_TOPIC,
    TOPIC_OWNERS,
    WELLBEING_TOPIC,
    dead_letter_topic,
)

HERE = Path(__file__).resolve().parent
K8S_PLATFORM = HERE.parent / "k8s" / "platform"
SERVICES = ("feedback", "wellbeing", "mentorship", "notifications")
CONSUMES = {
    "feedback": (MENTORSHIP_TOPIC, PLATFORM_TOPIC),
    "wellbeing": (PLATFORM_TOPIC,),
    "mentorship": (WELLBEING_TOPIC, PLATFORM_TOPIC),
    "notifications": (WELLBEING_TOPIC, FEEDBACK_TOPIC, MENTORSHIP_TOPIC, PLATFORM_TOPIC),
}
"""Topics each service's consumers read (tests/deploy checks this against each service's ``consumers.TOPICS``)."""
SCRAM = "SCRAM-SHA-512"
KAFKA_NAMESPACE = "kafka"
KAFKA_CLUSTER = "medsupport"
APP_NAMESPACE = "medsupport"
MONGO_NAMESPACE = "mongodb"


@dataclass(frozen=True, order=True)
class Grant:
    resource: str  # "topic" | "group"
    name: str
    pattern: str  # "literal" | "prefix"
    operation: str  # Kafka operation: Read, Write, Create, Describe


def owned_topics(service: str) -> list[str]:
    return sorted(topic for topic, owner in TOPIC_OWNERS.items() if owner == service)


def grants(service: str, prefix: str = "") -> list[Grant]:
    """What ``service`` may do; ``prefix`` is KAFKA_TOPIC_PREFIX (a tenant on a shared cluster)."""
    out: set[Grant] = set()
    own = ("Write", "Create", "Describe", "DescribeConfigs", "AlterConfigs")  # configs: the topic retention
    for topic in owned_topics(service):
        out |= {Grant("topic", prefix + topic, "literal", op) for op in own}
    for topic in CONSUMES[service]:
        out |= {Grant("topic", prefix + topic, "literal", op) for op in ("Read", "Create", "Describe")}
        dlq = prefix + dead_letter_topic(topic)  # the consumer dead-letters what it cannot handle
        out |= {Grant("topic", dlq, "literal", op) for op in own}
    out.add(Grant("group", prefix + service, "prefix", "Read"))  # its group and its lanes' (<group>.<lane>)
    return sorted(out)


def writers(topic: str) -> set[str]:
    """Services allowed to write ``topic`` (tests: exactly its owner for an event topic)."""
    return {s for s in SERVICES for g in grants(s) if g.name == topic and g.operation == "Write"}


# ------------------------------------------------------------------ the broker


def server_properties(
    *,
    data_dir: str,
    internal: str,
    advertised_internal: str,
    controller_port: int,
    admin_password: str,
    host: str | None = None,
    advertised_host: str | None = None,
) -> str:
    """A single-node KRaft broker that authenticates every client with SCRAM-SHA-512 and allows nothing
    without an ACL. ``internal``/``host`` are listener addresses (``:9092``, ``127.0.0.1:29092``). The
    controller listener is plaintext on loopback only (the broker and controller are one process)."""
    listeners = [f"INTERNAL://{internal}", f"CONTROLLER://127.0.0.1:{controller_port}"]
    advertised = [f"INTERNAL://{advertised_internal}"]
    protocols = ["INTERNAL:SASL_PLAINTEXT", "CONTROLLER:PLAINTEXT"]
    if host:
        listeners.append(f"HOST://{host}")
        advertised.append(f"HOST://{advertised_host or host}")
        protocols.append("HOST:SASL_PLAINTEXT")
    jaas = f'org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="{admin_password}";'
    lines = [
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
        f"listeners={','.join(listeners)}",
        f"advertised.listeners={','.join(advertised)}",
        f"listener.security.protocol.map={','.join(protocols)}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=INTERNAL",
        f"sasl.enabled.mechanisms={SCRAM}",
        f"sasl.mechanism.inter.broker.protocol={SCRAM}",
        f"listener.name.internal.{SCRAM.lower()}.sasl.jaas.config={jaas}",
        *([f"listener.name.host.{SCRAM.lower()}.sasl.jaas.config={jaas}"] if host else []),
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found=false",
        # admin: the broker itself and the setup job. ANONYMOUS: only the loopback controller listener has it.
        "super.users=User:admin;User:ANONYMOUS",
        "auto.create.topics.enable=false",
        f"log.dirs={data_dir}",
        "num.partitions=3",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=3",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "",
    ]
    return "\n".join(lines)


def acl_arguments(service: str, prefix: str = "") -> list[list[str]]:
    """``kafka-acls`` arguments (after ``--bootstrap-server ... --command-config ...``) granting ``grants``;
    resources with the same operations share one command (the tool grants every operation on every resource)."""
    operations: dict[tuple[str, str, str], set[str]] = {}
    for grant in grants(service, prefix):
        operations.setdefault((grant.resource, grant.pattern, grant.name), set()).add(grant.operation)
    commands: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for (resource, pattern, name), ops in sorted(operations.items()):
        commands.setdefault((resource, pattern, tuple(sorted(ops))), []).append(name)
    out = []
    for (resource, pattern, ops), names in commands.items():
        args = ["--add", "--allow-principal", f"User:{service}"]
        for op in ops:
            args += ["--operation", op]
        for name in names:
            args += [f"--{resource}", name]
        args += ["--resource-pattern-type", "prefixed" if pattern == "prefix" else "literal"]
        out.append(args)
    return out


# ------------------------------------------------------------------ docker compose


def compose_setup_script() -> str:
    lines = [
        "#!/bin/sh",
        "# Generated by deploy/kafka/kafka_acls.py: edit the script, then run it.",
        "# Run once by compose's kafka-setup service (apache/kafka image) after the broker is healthy: a SCRAM",
        "# user per service (passwords from .env) and the ACLs that let each write only its own topics.",
        "set -eu",
        "BOOTSTRAP=kafka:9092",
        "CONFIG=/tmp/admin.properties",
        'cat > "$CONFIG" <<EOF',
        "security.protocol=SASL_PLAINTEXT",
        f"sasl.mechanism={SCRAM}",
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" '
        'password="$KAFKA_ADMIN_PASSWORD";',
        "EOF",
    ]
    for service in SERVICES:
        variable = f"{service.upper()}_KAFKA_PASSWORD"
        lines.append(
            f'/opt/kafka/bin/kafka-configs.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CONFIG" --alter '
            f'--entity-type users --entity-name {service} --add-config "{SCRAM}=[password=${variable}]"'
        )
    for service in SERVICES:
        for args in acl_arguments(service):
            lines.append(
                '/opt/kafka/bin/kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CONFIG" '
                + " ".join(args)
            )
    lines.append('echo "kafka users and ACLs in place"')
    return "\n".join(lines) + "\n"


def compose_broker_script() -> str:
    props = server_properties(
        data_dir="/var/lib/kafka/data",
        internal=":9092",
        advertised_internal="kafka:9092",
        controller_port=9093,
        admin_password="$KAFKA_ADMIN_PASSWORD",
        host=":29092",
        advertised_host="127.0.0.1:29092",
    )
    return "\n".join(
        [
            "#!/bin/sh",
            "# Generated by deploy/kafka/kafka_acls.py: edit the script, then run it.",
            "# The compose broker: SASL/SCRAM on every client listener, ACLs required (StandardAuthorizer).",
            "# The admin user's credentials are written into the cluster metadata when the volume is first formatted.",
            "set -eu",
            ': "${KAFKA_ADMIN_PASSWORD:?}" "${CLUSTER_ID:?}"',
            "cat > /tmp/server.properties <<EOF",
            props.rstrip("\n"),
            "EOF",
            "cat > /tmp/admin.properties <<EOF",  # the healthcheck's client settings
            "security.protocol=SASL_PLAINTEXT",
            f"sasl.mechanism={SCRAM}",
            'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" '
            'password="$KAFKA_ADMIN_PASSWORD";',
            "EOF",
            '/opt/kafka/bin/kafka-storage.sh format --ignore-formatted -t "$CLUSTER_ID" -c /tmp/server.properties \\',
            f'  --add-scram "{SCRAM}=[name=admin,password=$KAFKA_ADMIN_PASSWORD]"',
            "exec /opt/kafka/bin/kafka-server-start.sh /tmp/server.properties",
            "",
        ]
    )


# ------------------------------------------------------------------ Kubernetes


def kafka_users() -> list[dict[str, object]]:
    docs: list[dict[str, object]] = []
    for service in SERVICES:
        acls = []
        for grant in grants(service):
            resource = {
                "type": grant.resource,
                "name": grant.name,
                "patternType": "prefix" if grant.pattern == "prefix" else "literal",
            }
            acls.append({"resource": resource, "operations": [grant.operation], "host": "*"})
        docs.append(
            {
                "apiVersion": "kafka.strimzi.io/v1beta2",
                "kind": "KafkaUser",
                "metadata": {
                    "name": service,
                    "namespace": KAFKA_NAMESPACE,
                    "labels": {"strimzi.io/cluster": KAFKA_CLUSTER, "app.kubernetes.io/part-of": "medsupport"},
                },
                "spec": {
                    "authentication": {"type": "scram-sha-512"},
                    "authorization": {"type": "simple", "acls": acls},
                },
            }
        )
    return docs


def network_policies() -> list[dict[str, object]]:
    medsupport_pods = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": APP_NAMESPACE}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "medsupport"}},
    }
    kafka_namespace = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": KAFKA_NAMESPACE}}}
    docs: list[dict[str, object]] = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "medsupport-kafka-clients", "namespace": KAFKA_NAMESPACE},
            "spec": {
                "podSelector": {"matchLabels": {"strimzi.io/cluster": KAFKA_CLUSTER, "strimzi.io/kind": "Kafka"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    # the services, on the SASL_SSL listener only
                    {"from": [medsupport_pods], "ports": [{"protocol": "TCP", "port": 9093}]},
                    # the brokers, controllers and Strimzi's operators among themselves
                    {"from": [kafka_namespace]},
                ],
            },
        }
    ]
    for service in SERVICES:
        docs.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": f"{service}-mongodb", "namespace": MONGO_NAMESPACE},
                "spec": {
                    # label each service's MongoDB pods so (the operator's podTemplate); other services can't connect
                    "podSelector": {"matchLabels": {"medsupport.dev/database-of": service}},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": medsupport_pods["namespaceSelector"],
                                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": service}},
                                }
                            ],
                            "ports": [{"protocol": "TCP", "port": 27017}],
                        },
                        {  # the replica set's own members and the operator
                            "from": [
                                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONGO_NAMESPACE}}}
                            ]
                        },
                    ],
                },
            }
        )
    return docs


def _yaml(docs: list[dict[str, object]], header: str) -> str:
    body = yaml.safe_dump_all(docs, sort_keys=False)
    return f"# Generated by deploy/kafka/kafka_acls.py: edit the script, then run it.\n# {header}\n{body}"


def files() -> dict[Path, str]:
    return {
        HERE / "compose-broker.sh": compose_broker_script(),
        HERE / "compose-setup.sh": compose_setup_script(),
        K8S_PLATFORM / "kafka-users.yaml": _yaml(
            kafka_users(), "Strimzi KafkaUsers: SCRAM credentials (Secret <service> in kafka) and each service's ACLs."
        ),
        K8S_PLATFORM / "network-policies.yaml": _yaml(
            network_policies(), "Kafka and each MongoDB accept only medsupport's pods (a MongoDB only its service)."
        ),
    }


def main(argv: list[str]) -> int:
    stale = []
    for path, text in files().items():
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("stale files (run python deploy/kafka/kafka_acls.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
