"""A body over the cap is answered 413 problem+json before parsing and before the token is checked."""

import httpx
import pytest
from fastapi import FastAPI

from medsupport_shared.app_factory import create_service_app
from medsupport_shared.runtime import ServiceRuntime
from medsupport_shared.settings import ServiceSettings

from .demo_service import router


def _app(**limits: int) -> FastAPI:
    async def compose(runtime: ServiceRuntime) -> None:
        return None

    return create_service_app(
        settings=ServiceSettings(service_name="limits", max_request_body_bytes=2048),
        title="t",
        description="d",
        routers=[router],
        compose=compose,
        configure_logs=False,
        body_limits=limits,
    )


async def _post(app: FastAPI, path: str, content: bytes | object) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.post(path, content=content, headers={"Content-Type": "application/json"})  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["/v1/notes", "/v1/anything-else"])
async def test_oversized_declared_body_without_token_is_413_before_auth(path):
    response = await _post(_app(), path, b'{"text": "' + b"x" * 10_000 + b'"}')
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413 and "2048" in response.json()["detail"]


async def test_oversized_chunked_body_without_length_is_counted():
    async def chunks():
        for _ in range(10):
            yield b"x" * 1000

    response = await _post(_app(), "/v1/notes", chunks())
    assert response.status_code == 413


async def test_body_under_the_cap_reaches_the_route_which_asks_for_a_token():
    response = await _post(_app(), "/v1/notes", b'{"text": "small"}')
    assert response.status_code == 401


async def test_a_route_can_be_given_a_larger_limit():
    body = b'{"text": "' + b"x" * 3000 + b'"}'
    assert (await _post(_app(**{"/v1/notes": 8192}), "/v1/notes", body)).status_code == 401
    assert (await _post(_app(**{"/v1/notes": 8192}), "/v1/other", body)).status_code == 413


def test_every_route_with_a_body_documents_the_413():
    operation = _app().openapi()["paths"]["/v1/notes"]["post"]
    assert "application/problem+json" in operation["responses"]["413"]["content"]
