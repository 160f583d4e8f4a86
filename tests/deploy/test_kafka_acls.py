"""The Kafka ACL table and what is generated from it (compose scripts, Strimzi KafkaUsers, NetworkPolicies):
each event topic is writable by its owning service only, consumers read what the services really consume."""

from __future__ import annotations

import importlib
import runpy
import subprocess
import sys
from typing import Any

import kubernetes_validate
import pytest
import yaml

from medsupport_shared.event_types import ALL_TOPICS, EVENT_CATALOG, TOPIC_OWNERS, dead_letter_topic
from tests.deploy.conftest import REPO, SERVICES

ACLS = runpy.run_path(str(REPO / "deploy" / "kafka" / "kafka_acls.py"), run_name="kafka_acls")
PLATFORM = REPO / "deploy" / "k8s" / "platform"


def test_generated_files_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "deploy" / "kafka" / "kafka_acls.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_each_event_topic_is_written_by_its_owner_only(topic: str) -> None:
    assert ACLS["writers"](topic) == {TOPIC_OWNERS[topic]}
    for event_type, spec in EVENT_CATALOG.items():
        if spec.topic == topic:
            assert event_type  # every event type lives on a topic with exactly one writer


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_table_matches_what_each_service_consumes(service: str) -> None:
    consumers = importlib.import_module(f"{service}.consumers")
    assert set(ACLS["CONSUMES"][service]) == set(consumers.TOPICS)
    grants = ACLS["grants"](service)
    reads = {g.name for g in grants if g.operation == "Read" and g.resource == "topic"}
    writes = {g.name for g in grants if g.operation == "Write"}
    assert reads == set(consumers.TOPICS)
    assert writes == set(ACLS["owned_topics"](service)) | {dead_letter_topic(t) for t in consumers.TOPICS}


def test_kafka_users_carry_the_table() -> None:
    users = list(yaml.safe_load_all((PLATFORM / "kafka-users.yaml").read_text()))
    assert sorted(u["metadata"]["name"] for u in users) == sorted(SERVICES)
    for user in users:
        assert user["kind"] == "KafkaUser" and user["spec"]["authentication"] == {"type": "scram-sha-512"}
        acls = user["spec"]["authorization"]["acls"]
        granted = {(a["resource"]["name"], op) for a in acls for op in a["operations"]}
        expected = {(g.name, g.operation) for g in ACLS["grants"](user["metadata"]["name"])}
        assert granted == expected


def _policies() -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((PLATFORM / "network-policies.yaml").read_text()))


def test_network_policies_match_the_kubernetes_schema() -> None:
    version = kubernetes_validate.latest_version()
    for policy in _policies():
        kubernetes_validate.validate(policy, version, strict=True)


def test_kafka_and_each_mongodb_admit_only_medsupport_and_a_mongodb_only_its_service() -> None:
    policies = {p["metadata"]["name"]: p for p in _policies()}
    kafka = policies["medsupport-kafka-clients"]["spec"]
    assert kafka["policyTypes"] == ["Ingress"]
    assert kafka["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 9093}]  # the SASL_SSL listener only
    for service in SERVICES:
        spec = policies[f"{service}-mongodb"]["spec"]
        assert spec["podSelector"]["matchLabels"] == {"medsupport.dev/database-of": service}
        [clients] = spec["ingress"][0]["from"]
        assert clients["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": service}
    kustomization = yaml.safe_load((PLATFORM / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == ["kafka-users.yaml", "network-policies.yaml"]
