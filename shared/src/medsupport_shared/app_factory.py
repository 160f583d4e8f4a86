"""Builds a service's FastAPI app: lifespan, CORS, correlation ids, metrics, problem+json, health."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medsupport_shared import correlation
from medsupport_shared.api_docs import app_with_offline_docs
from medsupport_shared.auth import TokenVerifier
from medsupport_shared.body_limit import BodyLimitMiddleware
from medsupport_shared.errors import (
    PROBLEM_CONTENT_TYPE,
    ProblemDetail,
    install_problem_handlers,
    problem_response,
    problem_responses,
)
from medsupport_shared.log_config import configure_logging
from medsupport_shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from medsupport_shared.runtime import ServiceRuntime
from medsupport_shared.settings import ServiceSettings

Compose = Callable[[ServiceRuntime], Awaitable[Any]]
"""Builds the service's objects (repositories, handlers, consumers, sweeps) once storage is up;
whatever it returns is ``app.state.services``."""
request_log = logging.getLogger("medsupport.http")


def create_service_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    compose: Compose,
    version: str = "1.0.0",
    openapi_tags: list[dict[str, Any]] | None = None,
    configure_logs: bool = True,
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """``body_limits`` raises the request body cap (``MAX_REQUEST_BODY_BYTES``) for the routes under
    the given path prefixes that need more."""
    if configure_logs:
        configure_logging(service=settings.service_name, level=settings.log_level)
    runtime = ServiceRuntime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        correlation.bind(None)  # start-up and the background loops get their own id, never a caller's
        warn_about_development_secrets(settings)
        await runtime.start_storage()
        app.state.services = await compose(runtime)
        await runtime.start_background()
        logging.getLogger(__name__).info("service started", extra={"env": settings.app_env})
        try:
            yield
        finally:
            await runtime.stop()

    app = app_with_offline_docs(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_tags=[*(openapi_tags or []), {"name": "ops", "description": "Health, readiness, metrics"}],
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier(settings)
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_request_body_bytes, per_path=body_limits)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            correlation.CORRELATION_HEADER,
            "traceparent",
        ],
        expose_headers=[correlation.CORRELATION_HEADER, "Idempotent-Replayed", "Location"],
    )
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    app.include_router(ops_router())
    for router in routers:
        app.include_router(router)
    install_problem_openapi(app, routers=routers)
    return app


def operation_id(route: APIRoute) -> str:
    """The route function's name (``create_checkin``), not FastAPI's path-derived default: generated
    clients call it by this name, so it must stay put (docs/openapi holds them; tests/frontend checks)."""
    return route.name


def warn_about_development_secrets(settings: ServiceSettings) -> list[str]:
    """One loud line per published development secret in use (only possible with APP_ENV=development):
    anyone who reads the repository can mint tokens or read data protected by it."""
    names = settings.development_secrets_in_use()
    for name in names:
        logging.getLogger("medsupport.security").warning(
            "DEVELOPMENT SECRET IN USE: %s is the published development value; anyone can forge tokens or "
            "read data it protects. Never expose this service; set real secrets and APP_ENV=production.",
            name,
            extra={"setting": name, "env": settings.app_env},
        )
    return names


def install_problem_openapi(app: FastAPI, *, routers: Sequence[APIRouter] = ()) -> None:
    """Document every error as what it is on the wire (problem+json with an example), including the
    validation 422 FastAPI adds by itself, a 401 on every route that needs a token, a 413 on every route
    that takes a body (over the size limit) and a 503 on every /v1 route (the database is down)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault(
            "ProblemDetail", ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if operation.get("security") and "401" not in responses:
                    responses["401"] = _problem_entry(401)
                if "requestBody" in operation and "413" not in responses:
                    responses["413"] = _problem_entry(413, "Content Too Large: the body is over the size limit")
                if path.startswith("/v1") and "503" not in responses:
                    responses["503"] = _problem_entry(503, "Service Unavailable: the database is down")
                if any(p.get("name") == "cursor" for p in operation.get("parameters", [])) and "400" not in responses:
                    responses["400"] = _problem_entry(400, "Bad Request: the cursor is not valid")
                for code, response in list(responses.items()):
                    if code[0] in "45" and PROBLEM_CONTENT_TYPE not in response.get("content", {}):
                        responses[code] = _problem_entry(int(code), response.get("description"))
                    content = responses[code].get("content", {})
                    if code[0] in "45" and PROBLEM_CONTENT_TYPE in content:
                        # errors go out as problem+json only (also from a route whose success is a stream):
                        # the model FastAPI lists as JSON is its schema
                        declared = content.get("application/json", {}).get("schema")
                        for other in [kind for kind in content if kind != PROBLEM_CONTENT_TYPE]:
                            del content[other]
                        content[PROBLEM_CONTENT_TYPE].setdefault("schema", declared or _problem_schema())
                if "422" in responses:
                    example = responses["422"]["content"][PROBLEM_CONTENT_TYPE].get("example", {})
                    responses["422"]["content"][PROBLEM_CONTENT_TYPE]["example"] = {
                        **example,
                        "errors": [_validation_example(operation, components)],
                    }
        _restore_example_nulls(routers, components, schema.get("paths", {}))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _restore_example_nulls(routers: Sequence[APIRouter], components: dict[str, Any], paths: dict[str, Any]) -> None:
    """FastAPI writes the document with ``exclude_none``, which also drops every ``null`` inside the
    models' examples (fastapi#5559), so an example of an optional field left empty would not be valid:
    put each model's examples back as pydantic writes them."""
    models: list[type[BaseModel]] = []
    for router in routers:
        for route in router.routes:
            body = getattr(getattr(route, "body_field", None), "field_info", None)
            for model in (getattr(route, "response_model", None), getattr(body, "annotation", None)):
                if isinstance(model, type) and issubclass(model, BaseModel):
                    models.append(model)
            for status, declared in (getattr(route, "responses", None) or {}).items():
                example = declared.get("content", {}).get("application/json", {}).get("example")
                for method in getattr(route, "methods", None) or ():
                    operation = paths.get(getattr(route, "path", ""), {}).get(method.lower(), {})
                    media = operation.get("responses", {}).get(str(status), {}).get("content", {})
                    if example is not None and "example" in media.get("application/json", {}):
                        media["application/json"]["example"] = to_jsonable_python(example)
    for model in models:
        for mode in ("validation", "serialization"):
            schema = model.model_json_schema(mode=mode, ref_template="#/components/schemas/{model}")
            for name, sub in [(model.__name__, schema), *schema.get("$defs", {}).items()]:
                for component in (name, f"{name}-Input", f"{name}-Output"):
                    if "examples" in sub and "examples" in components.get(component, {}):
                        components[component]["examples"] = sub["examples"]


def _validation_example(operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """A 422 error entry that fits the operation: its body's first required field, else a parameter."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = components.get(body["$ref"].rsplit("/", 1)[-1], {})
    required = body.get("required") or []
    if required:
        return {"loc": ["body", required[0]], "msg": "Field required"}
    if body:
        return {"loc": ["body"], "msg": "Input should be a valid dictionary or object to extract fields from"}
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "limit":
            return {"loc": ["query", "limit"], "msg": "Input should be less than or equal to 200"}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") in ("query", "path"):
            return {"loc": [parameter["in"], parameter["name"]], "msg": "Input should be a valid string"}
    return {"loc": ["query"], "msg": "the request is not valid"}


def _problem_entry(status: int, description: str | None = None) -> dict[str, Any]:
    entry = problem_responses(status)[status]
    return {
        "description": description or entry["description"],
        "content": {
            PROBLEM_CONTENT_TYPE: {
                "schema": _problem_schema(),
                **entry["content"][PROBLEM_CONTENT_TYPE],
            }
        },
    }


def _problem_schema() -> dict[str, str]:
    return {"$ref": "#/components/schemas/ProblemDetail"}


class RequestContextMiddleware:
    """Correlation id in and out, one JSON log line and metrics per request (route template labels;
    no client address and no user id are logged, so anonymous reports stay anonymous)."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode(errors="replace") for k, v in scope.get("headers", [])}
        cid = correlation.bind(headers.get(correlation.CORRELATION_HEADER.lower()), headers.get("traceparent"))
        state = correlation.begin_request()
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if not state["anonymous"]:
                    message.setdefault("headers", []).append((correlation.CORRELATION_HEADER.encode(), cid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, template).observe(elapsed)
            if state["anonymous"]:
                correlation.bind(None)
            if template not in ("/healthz", "/metrics", "/readyz"):
                request_log.info(
                    "request",
                    extra={
                        "method": method,
                        "route": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


def ops_router() -> APIRouter:
    router = APIRouter(tags=["ops"])

    @router.get(
        "/healthz",
        summary="The process is alive",
        responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Ready when the service can serve its core routes",
        description="200 while what the core routes need answers (MongoDB; events wait in the outbox while "
        "Kafka is down), with every dependency's state in `checks` and the ones down in `degraded`; "
        "503 problem+json naming what is missing otherwise.",
        responses={
            200: {
                "content": {
                    "application/json": {
                        "example": {
                            "status": "ready",
                            "checks": {"mongodb": True, "kafka": False},
                            "degraded": ["kafka"],
                        }
                    }
                }
            },
            **problem_responses(503),
        },
    )
    async def readyz(runtime: RuntimeDep) -> Any:
        checks = await runtime.readiness()
        down = sorted(name for name, up in checks.items() if not up)
        missing = [name for name in down if name in runtime.readiness_requires]
        if missing:
            return problem_response(503, f"not ready: {', '.join(down)} down", extra={"checks": checks})
        return {"status": "ready", "checks": checks, "degraded": down}

    @router.get(
        "/metrics",
        summary="Prometheus metrics (Authorization: Bearer METRICS_BEARER_TOKEN when that is set)",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, **problem_responses(401)},
    )
    async def metrics(request: Request) -> Response:
        token = request.app.state.settings.metrics_bearer_token
        if token is not None:
            expected = f"Bearer {token.get_secret_value()}".encode()
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return problem_response(
                    401, "metrics need the metrics bearer token", headers={"WWW-Authenticate": "Bearer"}
                )
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
