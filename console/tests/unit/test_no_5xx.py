"""Every console route answers 2xx, 3xx or 4xx for odd input and every role, whatever the services answer (a 503
only when the service itself is unavailable)."""

import pytest
from fastapi.routing import APIRoute

from console import auth, pages_admin, pages_concerns, pages_flags, pages_inbox, pages_people
from console.auth import DEMO_USERS
from console.testing import FakeServices, console, csrf, post_form, sign_in

ODD = ["", "../..", "é" * 300, "2026-13-45T99:99"]
SERVICE_ANSWERS = [
    (404, {"title": "Not Found"}),
    (422, {"title": "bad", "errors": [{"loc": ["body", "x"], "msg": "no"}]}),
    (503, "not json"),
]


@pytest.mark.parametrize("user", [*DEMO_USERS, None])
@pytest.mark.parametrize(("status", "body"), SERVICE_ANSWERS)
def test_no_route_fails_with_a_5xx(user, status, body):
    fakes = FakeServices()
    fakes.default = (status, body)
    client = console(fakes)
    token = "none"
    if user:
        sign_in(client, user)
        token = csrf(client)
        fakes.default_inbox = False  # the inbox fails too from here on
    asked = 0
    routers = (auth, pages_admin, pages_concerns, pages_flags, pages_inbox, pages_people)
    routes = [r for module in routers for r in module.router.routes if isinstance(r, APIRoute)]
    routes.sort(key=lambda r: r.path == "/logout")  # signing out last, so every other route is tried signed in
    assert len(routes) > 25
    for route in routes:
        for value in ODD:
            path = route.path
            for name in route.param_convertors:
                path = path.replace("{" + name + "}", value.replace("/", "%2F") or "x")
            fields = [
                (k, value)
                for k in (
                    "user",
                    "outcome",
                    "note",
                    "status",
                    "text",
                    "staff_id",
                    "start",
                    "end",
                    "kind",
                    "event_type",
                    "severity",
                    "cohort",
                    "met_at",
                    "format",
                    "email",
                    "quiet",
                    "quiet_start",
                    "event_types",
                    "channels",
                    "target_kind",
                    "escalate_after",
                    "action",
                    "dry_run",
                )
            ]
            for method in route.methods:
                if method == "GET":
                    reply = client.get(
                        path,
                        params={
                            "purpose": value,
                            "status": value,
                            "team": value,
                            "v": value,
                            "cohort": value,
                            "next": value,
                            "period": value,
                        },
                        follow_redirects=False,
                    )
                else:
                    reply = post_form(client, path, [*fields, ("csrf_token", token)], follow_redirects=False)
                passed_on = status == 503 and reply.status_code == 503  # the service's outage, said on a page
                assert reply.status_code < 500 or passed_on, f"{user} {method} {path} -> {reply.status_code}"
                asked += 1
    assert asked > 100 and (user is None or len(fakes.calls) > 30)
