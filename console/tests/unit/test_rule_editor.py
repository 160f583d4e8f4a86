"""The rule editor: the form becomes a RouteRule body, tried through the preview (unsaved) or saved."""

import json

from starlette.datastructures import FormData

from console.rules_form import preview_body, rule_from_form
from console.testing import FakeServices, console, csrf, post_form, sign_in

FORM = [
    ("id", "cohort-2027-urgent-to-lead"),
    ("description", "Urgent flags of 2027 also to the lead"),
    ("event_types", "flag.raised"),
    ("event_types", "flag.updated"),
    ("severities", "urgent"),
    ("cohorts", "2027, 2028"),
    ("target_kind", "role"),
    ("target_value", "wellbeing_lead"),
    ("channels", "inapp"),
    ("channels", "email"),
    ("escalate_after", "20"),
    ("escalate_kind", "role"),
    ("escalate_value", "admin"),
]
RULE = {
    "id": "cohort-2027-urgent-to-lead",
    "description": "Urgent flags of 2027 also to the lead",
    "event_types": ["flag.raised", "flag.updated"],
    "severities": ["urgent"],
    "cohorts": ["2027", "2028"],
    "target": {"kind": "role", "value": "wellbeing_lead"},
    "channels": ["inapp", "email"],
    "escalation": [{"after_minutes": 20.0, "target": {"kind": "role", "value": "admin"}}],
}


def test_the_form_is_the_rule_and_the_preview_tries_its_first_event():
    rule = rule_from_form(FormData(FORM))
    assert rule == RULE
    assert preview_body(rule) == {"event_type": "flag.raised", "severity": "urgent", "cohort": "2027", "rule": RULE}
    without_escalation = rule_from_form(FormData([(k, v) for k, v in FORM if not k.startswith("escalate")]))
    assert without_escalation["escalation"] == []


def test_trying_sends_the_unsaved_rule_to_the_preview_and_saving_posts_it():
    fakes = FakeServices()
    fakes.on("POST", "/v1/routes/preview", json={"recipients": [], "safety_floor": True})
    fakes.on("POST", "/v1/routes", status=201, json=RULE)
    client = console(fakes)
    sign_in(client, "admin-amy")
    token = csrf(client)
    tried = post_form(client, "/routing/new", [*FORM, ("csrf_token", token), ("action", "preview")])
    assert tried.status_code == 200 and "Safety floor" in tried.text
    assert not [c for c in fakes.calls if c.url.path == "/v1/routes"]
    sent = next(c for c in fakes.calls if c.url.path == "/v1/routes/preview")
    assert json.loads(sent.read())["rule"] == RULE
    saved = post_form(
        client, "/routing/new", [*FORM, ("csrf_token", token), ("action", "save")], follow_redirects=False
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/routing"
    assert json.loads(next(c for c in fakes.calls if c.url.path == "/v1/routes").read()) == RULE


def test_a_refused_rule_is_shown_with_the_services_reasons_and_the_form_kept():
    fakes = FakeServices()
    fakes.on(
        "POST",
        "/v1/routes",
        status=422,
        json={
            "title": "x",
            "status": 422,
            "detail": "this rule could match nobody",
            "errors": [{"loc": ["body"], "msg": "unknown role 'deans'"}],
        },
    )
    client = console(fakes)
    sign_in(client, "admin-amy")
    reply = post_form(client, "/routing/new", [*FORM, ("csrf_token", csrf(client)), ("action", "save")])
    assert reply.status_code == 200 and "could match nobody" in reply.text and "unknown role" in reply.text
    assert 'value="cohort-2027-urgent-to-lead"' in reply.text


def test_only_admins_are_offered_the_editor():
    client = console(FakeServices())
    sign_in(client, "lead-lee")
    assert client.get("/routing/new").status_code == 403
    assert 'href="/routing/new"' not in client.get("/routing").text
