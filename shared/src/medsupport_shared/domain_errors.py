"""What a use case or a domain rule says when it refuses, with no HTTP in it: the edges translate. The HTTP
edge answers problem+json (``errors.problem_for``: not found 404, conflict 409, not allowed 403, a broken
rule 422, too many 429); a Kafka handler's refusal is retried and then dead-lettered with its reason."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal; ``detail`` is a sentence for the person in front of the screen."""

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class NotFound(DomainError):
    """No such thing, or none the caller may know of (the same answer, so existence is not told)."""


class Conflict(DomainError):
    """The thing's current state does not allow the change (or it changed meanwhile)."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class Unprocessable(DomainError):
    """The request is well-formed but breaks a rule of the domain."""


class TooManyRequests(DomainError):
    """A rate limit: the caller may try again after ``retry_after`` seconds."""

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
