"""Every service's OpenAPI document is frontend-ready: every /v1 route has a summary, its error
responses as problem+json with examples (401 on every route that takes a token), request bodies with
examples, and every creating POST takes an Idempotency-Key; ops routes exist."""

import importlib

import pytest

SERVICES = ["feedback", "wellbeing", "mentorship", "notifications"]
OPS = {"/healthz", "/readyz", "/metrics"}


def openapi_of(service: str) -> dict:
    module = importlib.import_module(f"{service}.app")
    return module.create_app().openapi()


def body_has_example(doc: dict, operation: dict) -> bool:
    content = operation["requestBody"]["content"].get("application/json", {})
    if "example" in content or "examples" in content:
        return True
    schema = content.get("schema", {})
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("examples") or schema.get("example"):
        return True
    props = schema.get("properties", {})
    return bool(props) and all("examples" in p or "example" in p or "default" in p for p in props.values())


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_is_documented_with_examples_and_errors(service):
    doc = openapi_of(service)
    assert set(doc["paths"]) >= OPS, "health, readiness and metrics are served"
    problems = []
    for path, operations in doc["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            if not operation.get("summary"):
                problems.append(f"{where}: no summary")
            errors = {code: r for code, r in operation.get("responses", {}).items() if code[0] in "45"}
            if operation.get("security") and "401" not in errors:  # token-less routes (anonymous reports) exempt
                problems.append(f"{where}: 401 not documented")
            for code, response in errors.items():
                content = response.get("content", {}).get("application/problem+json")
                if content is None or "example" not in content:
                    problems.append(f"{where}: {code} is not problem+json with an example")
            if "requestBody" in operation and not body_has_example(doc, operation):
                problems.append(f"{where}: request body has no example")
            parameters = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
            creates = method == "post" and {"201", "202"} & set(operation.get("responses", {}))
            if creates and ("header", "Idempotency-Key") not in parameters:
                problems.append(f"{where}: a creating POST that does not take an Idempotency-Key")
            if ("query", "cursor") in parameters and "400" not in errors:
                problems.append(f"{where}: takes a cursor but does not document the 400 of a bad one")
            if "422" in errors:
                example = errors["422"]["content"]["application/problem+json"]["example"]
                if not fits(doc, operation, parameters, example["errors"][0]["loc"]):
                    problems.append(f"{where}: the 422 example names {example['errors'][0]['loc']}, not an input")
    assert problems == []


def fits(doc: dict, operation: dict, parameters: set, loc: list) -> bool:
    """The 422 example points at something the operation really takes."""
    if loc[0] == "body":
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return bool(schema) and (len(loc) == 1 or loc[1] in schema.get("properties", {}))
    return len(loc) == 1 or (loc[0], loc[1]) in parameters
