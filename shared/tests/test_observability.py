"""Correlation ids through HTTP and Kafka, JSON logs, metrics exposition."""

import json
import logging

import pytest

from medsupport_shared import correlation
from medsupport_shared.log_config import JsonFormatter
from medsupport_shared.testing import TopicReader, auth, eventually, running

from .demo_service import DemoSettings, create_app, services_of


def test_json_log_lines_carry_service_correlation_id_and_extras():
    correlation.bind("corr-123")
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.event_id = "e1"
    line = json.loads(JsonFormatter("wellbeing").format(record))
    assert line["message"] == "hello world" and line["level"] == "warning" and line["service"] == "wellbeing"
    assert line["correlation_id"] == "corr-123" and line["event_id"] == "e1" and line["time"].endswith("+00:00")


def test_unsafe_correlation_ids_are_replaced_and_traceparent_is_used():
    assert correlation.bind("bad id with spaces\n") != "bad id with spaces\n"
    trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert correlation.bind(None, trace) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert ("traceparent", trace.encode()) in correlation.kafka_headers()


@pytest.mark.integration
async def test_correlation_id_travels_from_http_through_kafka_to_the_consumer(isolation):
    app = create_app(isolation.settings(DemoSettings))
    async with (
        running(app) as client,
        TopicReader(isolation.infra.kafka_bootstrap_servers, isolation.topic("wellbeing.events.v1")) as reader,
    ):
        response = await client.post(
            "/v1/notes", json={"text": "hi"}, headers={**auth("s1", "student"), "X-Correlation-ID": "trace-me-42"}
        )
        assert response.headers["X-Correlation-ID"] == "trace-me-42"
        await reader.wait_for(lambda e: e.data["checkin_id"] == response.json()["id"])
        record = next(r for r in reader.records if json.loads(r.value)["data"]["checkin_id"] == response.json()["id"])
        assert dict(record.headers)["correlation_id"] == b"trace-me-42"
        await eventually(lambda: services_of(app).handled)
        metrics = (await client.get("/metrics")).text
    assert 'medsupport_http_requests_total{method="POST",route="/v1/notes",service="demo",status="201"}' in metrics
    assert "medsupport_http_request_duration_seconds_bucket" in metrics
    assert 'medsupport_events_consumed_total{outcome="processed"' in metrics
