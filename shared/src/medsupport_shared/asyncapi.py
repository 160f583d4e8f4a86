"""The platform's AsyncAPI 3.0 document, generated from the typed event catalog.

    python -m medsupport_shared.asyncapi > docs/asyncapi.json

A test keeps the committed document equal to what the code generates."""

from __future__ import annotations

import json
from typing import Any

from medsupport_shared.event_types import ALL_TOPICS, EVENT_CATALOG, dead_letter_topic
from medsupport_shared.events import CloudEvent

PRODUCERS = {
    "feedback.events.v1": "feedback",
    "wellbeing.events.v1": "wellbeing",
    "mentorship.events.v1": "mentorship",
    "notifications.events.v1": "notifications",
    "platform.events.v1": "platform (erasure requests, e.g. from the institution's identity system)",
}
HEADERS = {
    "type": "object",
    "properties": {
        "content-type": {"type": "string", "const": "application/cloudevents+json; charset=utf-8"},
        "ce_id": {"type": "string", "description": "the event id (the dedup key)"},
        "ce_type": {"type": "string"},
        "correlation_id": {"type": "string", "description": "travels from the HTTP request through every hop"},
        "traceparent": {"type": "string", "description": "W3C trace context, when one is known"},
    },
}


def _message_name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.replace("_", ".").split("."))


def build() -> dict[str, Any]:
    envelope = CloudEvent.model_json_schema()
    envelope["properties"].pop("data", None)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEventEnvelope": envelope}
    for topic in ALL_TOPICS:
        specs = sorted((s for s in EVENT_CATALOG.values() if s.topic == topic), key=lambda s: s.event_type)
        channel_id = topic.replace(".", "_")
        channels[channel_id] = {
            "address": topic,
            "description": f"Produced by {PRODUCERS[topic]}; key = the student id (the concern id for "
            f"anonymous concerns). Dead letters go to `{dead_letter_topic(topic)}` with `dlq_reason` and "
            "`dlq_error` headers.",
            "messages": {
                _message_name(s.event_type): {"$ref": f"#/components/messages/{_message_name(s.event_type)}"}
                for s in specs
            },
        }
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"{PRODUCERS[topic]} publishes (acks=all, idempotent, through its outbox)",
        }
        for spec in specs:
            name = _message_name(spec.event_type)
            data_schema = spec.model.model_json_schema()
            schemas[name + "Data"] = data_schema
            messages[name] = {
                "name": spec.event_type,
                "title": spec.event_type,
                "contentType": "application/cloudevents+json",
                "summary": (spec.model.__doc__ or spec.event_type).strip().splitlines()[0],
                "headers": HEADERS,
                "payload": {
                    "allOf": [
                        {"$ref": "#/components/schemas/CloudEventEnvelope"},
                        {
                            "type": "object",
                            "required": ["data"],
                            "properties": {
                                "type": {"const": spec.event_type},
                                "data": {"$ref": f"#/components/schemas/{name}Data"},
                            },
                        },
                    ]
                },
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "medsupport events",
            "version": "1.0.0",
            "description": "Integration events between the feedback, wellbeing, mentorship and notifications "
            "services (CloudEvents 1.0, structured JSON mode). Payloads carry ids, categories, severities and "
            "times only: never questionnaire answers, notes, concern text or an anonymous reporter's identity.",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _flatten_defs(schemas)},
    }


def _flatten_defs(schemas: dict[str, Any]) -> dict[str, Any]:
    """Move pydantic's nested ``$defs`` into components and point refs at them."""
    out: dict[str, Any] = {}
    for name, schema in schemas.items():
        for def_name, definition in schema.pop("$defs", {}).items():
            out[def_name] = definition
        out[name] = schema
    text = json.dumps(out).replace('"#/$defs/', '"#/components/schemas/')
    result: dict[str, Any] = json.loads(text)
    return result


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
