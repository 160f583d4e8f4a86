"""docs/requests/*.http (VS Code REST Client format) stays runnable as the API changes: every request is
an operation of the service its base URL names, with parameters and a JSON body that the published
schemas accept, a token from docs/requests/.env wherever the route needs one, and the main flows covered."""

import json
import re
from urllib.parse import parse_qsl

import pytest
from jsonschema import Draft202012Validator

from tests.frontend.http_collection import REQUESTS, VARIABLE, Request, collection
from tools.openapi_export import DOCS, SERVICES

PORTS = {"feedback": 8001, "wellbeing": 8002, "mentorship": 8003, "notifications": 8004}
MAIN_FLOWS = {
    "wellbeing": {"put_consent", "create_checkin", "list_flags", "get_flag", "resolve"},
    "notifications": {"inbox", "get_alert", "ack"},
    "feedback": {"create_feedback", "respond", "report_concern", "follow_up", "reply_anonymously", "triage"},
    "mentorship": {"put_my_profile", "put_preferences", "match_me", "create_run"},
}


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return {service: json.loads((DOCS / f"{service}.json").read_text()) for service in SERVICES}


def operation_for(doc: dict, method: str, path: str) -> dict | None:
    segments = path.strip("/").split("/")
    for template, operations in doc["paths"].items():
        parts = template.strip("/").split("/")
        matches = len(parts) == len(segments) and all(
            part == segment or (part.startswith("{") and VARIABLE.fullmatch(segment))
            for part, segment in zip(parts, segments, strict=True)
        )
        if matches and method.lower() in operations:
            return operations[method.lower()]
    return None


def validator(doc: dict, schema: dict) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": doc["components"]})


def check(doc: dict, variables: dict[str, str], request: Request, service: str) -> list[str]:
    problems = []
    path, _, query = request.url.removeprefix(f"{{{{{service}}}}}").partition("?")
    operation = operation_for(doc, request.method, path)
    if operation is None:
        return [f"{request.where}: {request.method} {path} is not an operation of {service}"]
    parameters = {(p["in"], p["name"]): p for p in operation.get("parameters", [])}
    for name, value in parse_qsl(query):
        parameter = parameters.get(("query", name))
        if parameter is None:
            problems.append(f"{request.where}: {name} is not a query parameter")
        elif not VARIABLE.search(value):
            typed = json.loads(value) if re.fullmatch(r"-?\d+|true|false", value) else value
            problems += [
                f"{request.where}: ?{name}={value}: {e.message}"
                for e in validator(doc, parameter["schema"]).iter_errors(typed)
            ]
    if operation.get("security"):
        token = re.fullmatch(r"Bearer \{\{(\w+)\}\}", request.headers.get("authorization", ""))
        if token is None or not re.fullmatch(r"\{\{\$dotenv \w+_TOKEN\}\}", variables.get(token.group(1), "")):
            problems.append(f"{request.where}: needs `Authorization: Bearer {{{{<variable from $dotenv>}}}}`")
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is not None:
        body = json.loads(VARIABLE.sub("x", request.body))  # a value taken from an earlier answer
        problems += [
            f"{request.where}: body {list(e.path)}: {e.message}" for e in validator(doc, schema).iter_errors(body)
        ]
        if request.headers.get("content-type") != "application/json":
            problems.append(f"{request.where}: a JSON body without Content-Type: application/json")
    elif request.body:
        problems.append(f"{request.where}: {operation['operationId']} takes no body")
    return problems


def test_every_request_is_an_operation_its_schemas_accept(documents):
    problems = []
    for _, variables, request in collection():
        base = re.fullmatch(r"\{\{(\w+)\}\}", request.url.split("/", 1)[0])
        service = base.group(1) if base else None
        if service not in PORTS or variables.get(service) != f"http://127.0.0.1:{PORTS[service]}":
            problems.append(f"{request.where}: the URL does not start with a service's base URL variable")
            continue
        problems += check(documents[service], variables, request, service)
    assert problems == []


def test_the_main_flows_are_covered(documents):
    covered: dict[str, set[str]] = {service: set() for service in SERVICES}
    for _, _, request in collection():
        service = request.url.split("}}", 1)[0].strip("{")
        path = request.url.split("}}", 1)[1].partition("?")[0]
        if service in documents and (operation := operation_for(documents[service], request.method, path)):
            covered[service].add(operation["operationId"])
    missing = {service: sorted(flows - covered[service]) for service, flows in MAIN_FLOWS.items()}
    assert missing == {service: [] for service in MAIN_FLOWS}


def test_every_token_the_collection_reads_is_in_the_env_example():
    named = set(re.findall(r"^(\w+_TOKEN)=", (REQUESTS / ".env.example").read_text(), re.MULTILINE))
    used = {name for path in REQUESTS.glob("*.http") for name in re.findall(r"\$dotenv (\w+)", path.read_text())}
    assert used and used <= named, f"add to docs/requests/.env.example: {sorted(used - named)}"


def test_the_checker_finds_a_request_the_api_does_not_have(documents):
    wrong = Request("x", "POST", "{{wellbeing}}/v1/flags/{{id}}/close", {"authorization": "Bearer {{c}}"})
    body = Request("y", "POST", "{{wellbeing}}/v1/checkins", {"content-type": "application/json"}, '{"answers": "2"}')
    variables = {"c": "{{$dotenv COUNSELLOR_TOKEN}}"}

    assert check(documents["wellbeing"], variables, wrong, "wellbeing") == [
        "x: POST /v1/flags/{{id}}/close is not an operation of wellbeing"
    ]
    assert len(check(documents["wellbeing"], variables, body, "wellbeing")) >= 3  # no token, instrument, answers
