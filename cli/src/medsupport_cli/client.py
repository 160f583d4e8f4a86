"""HTTP calls to the platform's public APIs, with problem+json turned into one readable message."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """A refused or failed call; ``errors`` are the problem's per-field entries (``loc``, ``msg``)."""

    def __init__(self, message: str, *, status: int | None = None, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.errors = errors or []


def client(base_url: str, token: str | None, *, timeout: float = 30.0) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout)


async def call(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = await http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise ApiError(f"{method} {http.base_url.join(path)} did not answer ({type(exc).__name__})") from exc
    if response.is_success:
        return response.json() if response.content else None
    problem = _problem(response)
    detail = problem.get("detail") or problem.get("title") or response.reason_phrase
    raise ApiError(
        f"{method} {path}: {response.status_code} {detail}",
        status=response.status_code,
        errors=list(problem.get("errors") or []),
    )


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
