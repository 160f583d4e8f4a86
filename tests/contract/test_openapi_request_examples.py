"""Every request body example in the OpenAPI documents is a body the service accepts (as far as its
published JSON Schema says: types, required fields, unknown fields refused, patterns), so a frontend
developer who copies one gets no 422."""

import importlib
from typing import Any

import pytest
from jsonschema import Draft202012Validator

SERVICES = ["feedback", "wellbeing", "mentorship", "notifications"]


def request_examples(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    found = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is None:
                continue
            schema = media.get("schema", {})
            examples = [media["example"]] if "example" in media else []
            examples += [e.get("value") for e in media.get("examples", {}).values()]
            if "$ref" in schema:
                examples += doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]].get("examples", [])
            found += [(f"{method.upper()} {path}", schema, example) for example in examples]
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_request_example_is_a_valid_body(service: str) -> None:
    doc = importlib.import_module(f"{service}.app").create_app().openapi()
    examples = request_examples(doc)
    assert examples, "the document shows request examples"
    wrong = []
    for where, schema, example in examples:
        validator = Draft202012Validator({**schema, "components": doc["components"]})
        wrong += [f"{where}: {error.message}" for error in validator.iter_errors(example)]
    assert wrong == []
