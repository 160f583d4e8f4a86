"""Refusals of the domain carry no HTTP; the edge answers each with its problem+json status."""

import json

import pytest

from medsupport_shared.domain_errors import Conflict, DomainError, Forbidden, NotFound, TooManyRequests, Unprocessable
from medsupport_shared.errors import problem_for


@pytest.mark.parametrize(
    ("error", "status"),
    [(NotFound("no such"), 404), (Conflict("changed"), 409), (Forbidden("no"), 403), (Unprocessable("bad"), 422)],
)
def test_each_refusal_answers_with_its_status_and_detail(error, status):
    reply = problem_for(error)
    body = json.loads(reply.body)
    assert reply.status_code == status and body["status"] == status and body["detail"] == error.detail
    assert reply.media_type == "application/problem+json"


def test_a_rate_limit_tells_when_to_come_back():
    reply = problem_for(TooManyRequests("slow down", retry_after=7))
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "7"


def test_a_refusal_of_a_service_answers_as_its_nearest_base():
    class TriageRefused(Conflict):
        pass

    class Unlisted(DomainError):
        pass

    assert problem_for(TriageRefused("closed")).status_code == 409
    assert problem_for(Unlisted("rule")).status_code == 422
    assert "fastapi" not in repr(DomainError.__mro__) and not hasattr(NotFound, "status")
