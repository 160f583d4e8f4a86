"""docs/openapi/<service>.json is what each service serves at /openapi.json, so an API change that
was not exported (`make openapi`) fails here; operationIds are the route functions' names, unique per
service, and a rename is reported as what breaks for generated clients."""

import json

import pytest

from tools.openapi_export import DOCS, SERVICES, ExportError, document, operation_ids, render

REGENERATE = "the API changed: run `make openapi` and commit docs/openapi and clients/typescript"


@pytest.fixture(scope="module")
def served() -> dict[str, dict]:
    return {service: document(service) for service in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_operation_ids_have_not_changed_silently(served, service):
    checked_in = operation_ids(json.loads((DOCS / f"{service}.json").read_text()))
    now = operation_ids(served[service])

    changed = {route: (checked_in.get(route), now.get(route)) for route in checked_in | now}
    changed = {route: ids for route, ids in changed.items() if ids[0] != ids[1]}
    assert changed == {}, f"operationIds (checked in, now) changed for clients: {changed}; {REGENERATE}"


@pytest.mark.parametrize("service", SERVICES)
def test_checked_in_document_is_what_the_service_serves(served, service):
    assert (DOCS / f"{service}.json").read_text(encoding="utf-8") == render(served[service]), REGENERATE


def test_operation_ids_are_the_route_function_names(served):
    assert operation_ids(served["wellbeing"])["POST /v1/checkins"] == "create_checkin"
    assert operation_ids(served["notifications"])["POST /v1/alerts/{alert_id}/ack"] == "ack"
    assert operation_ids(served["feedback"])["GET /healthz"] == "healthz"


def test_an_operation_id_used_twice_is_refused():
    doc = {
        "paths": {
            "/v1/a": {"get": {"operationId": "read"}},
            "/v1/b": {"get": {"operationId": "read"}, "post": {"operationId": "write"}},
        }
    }
    with pytest.raises(ExportError, match=r"\['read'\]"):
        operation_ids(doc)


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_is_typed_problem_json_only(served, service):
    """A generated client types an error by its problem+json schema; the services never send errors as
    application/json, so the document must not say they do."""
    wrong = [
        f"{method.upper()} {path} {code}: {sorted(response.get('content', {}))}"
        for path, operations in served[service]["paths"].items()
        for method, operation in operations.items()
        for code, response in operation["responses"].items()
        if code[0] in "45"
        and (
            set(response.get("content", {})) != {"application/problem+json"}
            or "schema" not in response["content"]["application/problem+json"]
        )
    ]
    assert wrong == []
