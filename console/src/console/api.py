"""Calls to the four services' public APIs with the signed-in person's token; their problem+json becomes ApiError."""

from __future__ import annotations

from typing import Any, Literal

import httpx

from console.settings import ConsoleSettings

Service = Literal["feedback", "wellbeing", "mentorship", "notifications"]


class ApiError(Exception):
    """A refusal or failure of a service, carried to a clear page (401, 403, 404, 409, 422, 503...)."""

    def __init__(self, status: int, title: str, detail: str | None = None, errors: list[dict[str, Any]] | None = None):
        super().__init__(f"{status} {title}")
        self.status, self.title, self.detail, self.errors = status, title, detail, errors or []

    def messages(self) -> list[str]:
        """What to tell the person: the detail, and each validation error with where it was."""
        out = [self.detail or self.title]
        for error in self.errors:
            loc = ".".join(str(p) for p in error.get("loc", []) if p != "body")
            out.append(f"{loc}: {error.get('msg', '')}" if loc else str(error.get("msg", "")))
        return out


class Api:
    def __init__(self, settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base = {
            "feedback": settings.feedback_url.rstrip("/"),
            "wellbeing": settings.wellbeing_url.rstrip("/"),
            "mentorship": settings.mentorship_url.rstrip("/"),
            "notifications": settings.notifications_url.rstrip("/"),
        }
        self.client = httpx.AsyncClient(timeout=settings.api_timeout_seconds, transport=transport)

    async def close(self) -> None:
        await self.client.aclose()

    async def call(
        self,
        token: str,
        method: str,
        service: Service,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = await self.client.request(
                method,
                self.base[service] + path,
                params=query,
                json=json,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ApiError(503, f"The {service} service cannot be reached", "Try again in a moment.") from exc
        if response.status_code == 204:
            return None
        if response.status_code >= 400:
            raise _problem(service, response)
        return response.json()

    async def get(self, token: str, service: Service, path: str, **params: Any) -> Any:
        return await self.call(token, "GET", service, path, params=params)


def _problem(service: Service, response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    status = 503 if status >= 500 else status  # a service's 5xx is "unavailable" to the person, never a crash here
    title = str(body.get("title") or f"The {service} service answered {response.status_code}")
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    return ApiError(status, title, body.get("detail") if isinstance(body.get("detail"), str) else None, errors)
