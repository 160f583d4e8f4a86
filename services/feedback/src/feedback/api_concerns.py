"""Routes for concern reports: anonymous or named reporting, follow-up by code, triage by the
concerns officer. Only the concerns officer lists or triages concerns; a named reporter reads their
own; an anonymous reporter reads theirs with the follow-up code and no account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python

from feedback import concerns
from feedback.api_feedback import _example
from feedback.concern_schemas import (
    ConcernCreate,
    ConcernCreated,
    FollowUpIn,
    FollowUpMessageIn,
    MessageIn,
    OfficerConcernPage,
    OfficerConcernView,
    ReporterConcernPage,
    ReporterConcernView,
    TriageIn,
)
from feedback.context import Context, FeedbackContext
from feedback.domain.concerns import ConcernCategory, ConcernStatus, keyed_digest
from feedback.domain.ratelimit import client_key
from medsupport_shared import correlation
from medsupport_shared.auth import CurrentPrincipal, Principal, Role, TokenVerifier, require_roles
from medsupport_shared.errors import AUTH_ERRORS, Unauthorized, problem_responses
from medsupport_shared.idempotency import REPLAY_HEADER, IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit

router = APIRouter(prefix="/v1/concerns", tags=["concerns"])
Officer = Annotated[Principal, Depends(require_roles(Role.CONCERNS_OFFICER))]

REPORTER_EXAMPLE = {
    "id": "c0ffee0123456789abcdef0123456789",
    "category": "mistreatment",
    "anonymous": True,
    "status": "under_review",
    "reported_at": "2025-03-04T14:00:00Z",
    "updated_at": "2025-03-05T09:12:00Z",
    "description": "During the ward round the registrar shouted at me in front of patients.",
    "when": "Tuesday 4 March, morning ward round",
    "where": "Ward 7B, general surgery",
    "people_involved": "A surgical registrar",
    "outcome": None,
    "messages": [{"from": "officer", "body": "Was anyone else present?", "at": "2025-03-05T09:12:00Z"}],
}
OFFICER_EXAMPLE = {
    **REPORTER_EXAMPLE,
    "reporter_id": None,
    "messages": [{**REPORTER_EXAMPLE["messages"][0], "officer_id": "officer-1"}],  # type: ignore[index]
    "history": [
        {"status": "received", "at": "2025-03-04T14:00:00Z", "by": None},
        {"status": "under_review", "at": "2025-03-05T09:10:00Z", "by": "officer-1"},
    ],
}
NOT_FOUND_CODE: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No concern matches the code (the same answer, in the same way, for any wrong code)",
        "content": {
            "application/problem+json": {
                "example": {
                    "type": "https://medsupport.dev/problems/not-found",
                    "title": "Not Found",
                    "status": 404,
                    "detail": concerns.NO_MATCH,
                }
            }
        },
    }
}


def _client(request: Request, ctx: FeedbackContext) -> str:
    """The client address, used only as a rate-limit key (stored only as a keyed hash, one window long);
    ``X-Forwarded-For`` counts only when the peer is one of ``TRUSTED_PROXIES``."""
    peer = request.client.host if request.client else None
    return client_key(peer, request.headers.get("x-forwarded-for"), ctx.trusted_proxies)


async def _named_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a named report needs a bearer token; set anonymous=true to report without one")
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(token.strip())


@router.post(
    "",
    status_code=201,
    response_model=ConcernCreated,
    summary="Report a concern, anonymously or by name",
    description=(
        "Categories: mistreatment, discrimination, bias, professionalism, safety, other.\n\n"
        "**Anonymous (`anonymous: true`) needs no token, and a token that is sent is never read**: a student may "
        "report while signed in, yet no reporter id, token subject, IP address or browser correlation id is stored "
        "in the report, its event, the logs or metric labels; its times are rounded down to the hour. The answer "
        "carries a `follow_up_code`, shown once and stored only as a keyed hash: keep it to read the status and "
        "outcome and to answer the concerns officer at `POST /v1/concerns/follow-up`. Anonymous reports are "
        "rate-limited per client address (IPv6: per /64; behind `TRUSTED_PROXIES`, the forwarded client) with "
        "counters shared by the replicas under a keyed hash that changes every window (429 when exceeded); a flood "
        "from many addresses never closes the channel: reports past a surge threshold are accepted and marked.\n\n"
        "**Named (`anonymous: false`) needs a bearer token** (any role); you can read the report at "
        "`GET /v1/concerns/mine`.\n\nEmits `concern.raised` (id, category, anonymous, time; the reporter id only "
        "when named). Honours `Idempotency-Key`: an anonymous retry by the same client with the same key (16+ "
        "characters) and body returns the same report and code; the same key with another body, from another "
        "client, or a shorter key is a fresh report (never a 409), so nobody else can obtain a reporter's code."
    ),
    openapi_extra={"security": [{}, {"HTTPBearer": []}]},
    responses={
        **_example(
            201,
            {
                "id": "c0ffee0123456789abcdef0123456789",
                "anonymous": True,
                "status": "received",
                "reported_at": "2025-03-04T14:00:00Z",
                "follow_up_code": "K7QX-M2HD-9WTR-CF4N",
            },
        ),
        **problem_responses(401, 409, 422, 429),
    },
)
async def report_concern(
    body: ConcernCreate, request: Request, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    if body.anonymous:
        correlation.forget_caller()  # drop the browser's correlation and trace ids for everything that follows
        result, replayed = await concerns.raise_anonymous_concern(
            ctx=ctx, body=body, client=_client(request, ctx), idempotency_key=idempotency_key
        )
        return JSONResponse(
            to_jsonable_python(result), status_code=201, headers={REPLAY_HEADER: "true"} if replayed else None
        )
    principal = await _named_principal(request)
    return await ctx.idempotency.run(
        key=idempotency_key,
        scope="concerns.create",
        owner=principal.sub,
        payload=body,
        create=lambda: concerns.raise_named_concern(ctx=ctx, principal=principal, body=body),
    )


@router.post(
    "/follow-up",
    response_model=ReporterConcernView,
    summary="Read an anonymous report with its follow-up code",
    description="No token. The code travels in the body, never in a URL. Any wrong code gets the same 404. "
    "Look-ups are rate-limited per client address (a keyed hash that changes every window).",
    openapi_extra={"security": []},
    responses={**_example(200, REPORTER_EXAMPLE), **NOT_FOUND_CODE, **problem_responses(422, 429)},
)
async def follow_up(body: FollowUpIn, request: Request, ctx: Context) -> Any:
    correlation.forget_caller()
    return await concerns.follow_up(ctx=ctx, code=body.code, client=_client(request, ctx))


@router.post(
    "/follow-up/messages",
    status_code=201,
    response_model=ReporterConcernView,
    summary="Answer the concerns officer on an anonymous report",
    description="No token; the follow-up code identifies the report. Any wrong code gets the same 404.",
    openapi_extra={"security": []},
    responses={**_example(201, REPORTER_EXAMPLE), **NOT_FOUND_CODE, **problem_responses(422, 429)},
)
async def reply_anonymously(
    body: FollowUpMessageIn, request: Request, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    correlation.forget_caller()
    return await ctx.idempotency.run(
        key=idempotency_key,
        scope="concerns.follow-up.messages",
        owner=keyed_digest(ctx.code_secret, "follow-up-owner", body.code),  # the report, never a person
        payload=body,
        create=lambda: concerns.reply_with_code(
            ctx=ctx, code=body.code, message=body.message, client=_client(request, ctx)
        ),
    )


@router.get(
    "",
    response_model=OfficerConcernPage,
    summary="All concerns (concerns officer)",
    description="Newest first; filter by status or category. Nobody but the concerns officer lists concerns.",
    responses={**_example(200, {"items": [OFFICER_EXAMPLE], "next_cursor": None}), **problem_responses(*AUTH_ERRORS)},
)
async def list_concerns(
    _: Officer,
    ctx: Context,
    status: Annotated[ConcernStatus | None, Query()] = None,
    category: Annotated[ConcernCategory | None, Query()] = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    return await concerns.list_concerns(ctx=ctx, status=status, category=category, limit=limit, cursor=cursor)


@router.get(
    "/mine",
    response_model=ReporterConcernPage,
    summary="Concerns I reported by name",
    description="Anonymous reports are not linked to you and never appear here; use their follow-up code.",
    responses={
        **_example(200, {"items": [{**REPORTER_EXAMPLE, "anonymous": False}], "next_cursor": None}),
        **problem_responses(401, 422),
    },
)
async def list_mine(principal: CurrentPrincipal, ctx: Context, limit: PageLimit = 50, cursor: PageCursor = None) -> Any:
    return await concerns.list_my_concerns(ctx=ctx, principal=principal, limit=limit, cursor=cursor)


@router.get(
    "/{concern_id}",
    response_model=OfficerConcernView | ReporterConcernView,
    summary="One concern (concerns officer, or its named reporter)",
    description="The officer sees triage history; a named reporter sees status, outcome and messages. "
    "Anyone else gets 404.",
    responses={**_example(200, OFFICER_EXAMPLE), **problem_responses(*AUTH_ERRORS, 404)},
)
async def get_concern(concern_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    return await concerns.get_concern(ctx=ctx, principal=principal, concern_id=concern_id)


@router.patch(
    "/{concern_id}",
    response_model=OfficerConcernView,
    summary="Triage a concern: move its status, write the outcome the reporter reads",
    description="Moves: received → under_review | closed; under_review → action_taken | closed; action_taken → "
    "closed | under_review; closed → under_review (reopen). Another move is 409. Emits `concern.updated` "
    "(id, category, status, time).",
    responses={**_example(200, OFFICER_EXAMPLE), **problem_responses(*AUTH_ERRORS, 404, 409)},
)
async def triage(concern_id: str, body: TriageIn, principal: Officer, ctx: Context) -> Any:
    return await concerns.triage(ctx=ctx, principal=principal, concern_id=concern_id, body=body)


@router.post(
    "/{concern_id}/messages",
    status_code=201,
    response_model=OfficerConcernView | ReporterConcernView,
    summary="Ask or answer a question on a concern (officer, or its named reporter)",
    description="The reporter reads officer messages (without the officer's id); an anonymous reporter through "
    "the follow-up code.",
    responses={**_example(201, OFFICER_EXAMPLE), **problem_responses(*AUTH_ERRORS, 404)},
)
async def post_message(
    concern_id: str,
    body: MessageIn,
    principal: CurrentPrincipal,
    ctx: Context,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    return await ctx.idempotency.run(
        key=idempotency_key,
        scope=f"concerns.messages.{concern_id}",
        owner=principal.sub,
        payload=body,
        create=lambda: concerns.post_message(ctx=ctx, principal=principal, concern_id=concern_id, message=body.message),
    )
