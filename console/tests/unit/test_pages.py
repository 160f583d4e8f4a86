"""What the pages show and refuse, and how the services' refusals become clear pages."""

import json
import re
from pathlib import Path

import httpx
import pytest

from console.testing import FakeServices, console, csrf, sign_in

ALERT = {
    "id": "a1",
    "recipient_id": "counsellor-ada",
    "rule_id": "urgent-flag-to-on-call",
    "root_id": "a1",
    "event_ids": ["e1"],
    "event_type": "flag.raised",
    "severity": "urgent",
    "urgent": True,
    "subject_id": "s1",
    "reasons": ["phq9_item9_positive"],
    "title": "Urgent wellbeing flag",
    "link": "/wellbeing/flags/f1",
    "status": "open",
    "escalation_level": 0,
    "next_escalation_at": "2026-12-01T11:00:00+00:00",
    "created_at": "2026-12-01T10:45:00+00:00",
    "updated_at": "2026-12-01T10:45:00+00:00",
    "deliveries": [
        {
            "id": "d1",
            "channel": "email",
            "status": "pending",
            "attempt_count": 1,
            "next_attempt_at": None,
            "attempts": [{"at": "2026-12-01T10:45:01+00:00", "outcome": "error", "error": "connection refused"}],
        }
    ],
}


def test_reading_an_alert_acknowledges_nothing_and_the_button_posts():
    fakes = FakeServices()
    fakes.on("GET", "/v1/alerts/a1", json=ALERT)
    fakes.on("POST", "/v1/alerts/a1/ack", json={**ALERT, "status": "acknowledged"})
    client = console(fakes)
    sign_in(client, "counsellor-ada")
    page = client.get("/alerts/a1")
    assert page.status_code == 200 and "Acknowledge</button>" in page.text
    assert "connection refused" in page.text and 'href="/flags/f1"' in page.text
    assert [c.method for c in fakes.calls if "/alerts/" in c.url.path] == ["GET"]
    done = client.post("/alerts/a1/ack", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert done.status_code == 303 and ("POST", "/v1/alerts/a1/ack") in [(c.method, c.url.path) for c in fakes.calls]


def test_the_alert_page_shows_who_was_notified_along_the_chain_and_hides_redacted_steps():
    chain = [
        {"level": 0, "status": "open", "redacted": True},
        {"level": 1, "status": "acknowledged", "redacted": False, "alert_id": "a2", "recipient_id": "lead-lee",
         "channels": ["inapp", "email"], "created_at": "2026-12-01T11:00:00+00:00",
         "acknowledged_at": "2026-12-01T11:05:00+00:00", "acknowledged_by": "lead-lee"},
    ]  # fmt: skip
    fakes = FakeServices()
    fakes.on("GET", "/v1/alerts/a1", json={**ALERT, "chain": chain})
    client = console(fakes)
    sign_in(client, "counsellor-ada")
    table = client.get("/alerts/a1").text.split('id="escalation-chain"')[1].split("</table>")[0]
    assert "Escalation 1" in table and 'href="/alerts/a2">lead-lee</a>' in table and "by lead-lee" in table
    assert "Hidden: only counselling roles" in table


def test_the_overview_shows_time_to_acknowledge_as_a_chart_and_a_table_and_survives_without_it():
    rows = [
        {"week": "2026-W49", "week_start": "2026-11-30", "severity": "urgent", "alerts": 3, "acknowledged": 2,
         "unacknowledged": 1, "median_seconds": 240.0, "p90_seconds": 600.0},
    ]  # fmt: skip
    fakes = FakeServices()
    fakes.on("GET", "/v1/flags", json={"items": [], "next_cursor": None})
    fakes.on("GET", "/v1/alerts/acknowledgement-times", json={"weeks": 12, "items": rows})
    client = console(fakes)
    sign_in(client, "lead-lee")
    page = client.get("/overview").text
    assert '<rect x="' in page and "2026-W49: 4 min" in page
    table = page.split('id="ack-times"')[1].split("</table>")[0]
    assert "<td>3</td><td>2</td><td>1</td><td>4.0 min</td><td>10.0 min</td>" in table
    fakes.on("GET", "/v1/alerts/acknowledgement-times", status=503, json={"title": "down", "status": 503})
    degraded = client.get("/overview")
    assert degraded.status_code == 200 and "cannot give this report now" in degraded.text


@pytest.mark.parametrize(
    ("who", "change"),
    [("lead-lee", {}), ("counsellor-ada", {"status": "acknowledged"})],
    ids=["not-the-recipient", "already-acknowledged"],
)
def test_no_acknowledge_button_where_the_service_would_refuse_or_ignore_it(who, change):
    fakes = FakeServices()
    fakes.on("GET", "/v1/alerts/a1", json={**ALERT, **change})
    client = console(fakes)
    sign_in(client, who)
    assert "Acknowledge</button>" not in client.get("/alerts/a1").text


@pytest.mark.parametrize(
    ("status", "shown", "title"),
    [
        (403, 403, "You do not have access to this"),
        (404, 404, "Not found"),
        (503, 503, "A service is unavailable"),
        (500, 503, "A service is unavailable"),
    ],
)
def test_a_service_refusal_is_a_clear_page(status, shown, title):
    fakes = FakeServices()
    fakes.on("GET", "/v1/alerts/a1", status=status, json={"title": "x", "status": status, "detail": "the reason"})
    client = console(fakes)
    sign_in(client, "counsellor-ada")
    page = client.get("/alerts/a1")
    assert page.status_code == shown and f"<h1>{title}</h1>" in page.text


def test_a_service_that_cannot_be_reached_is_a_503_page():
    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/inbox":
            raise httpx.ConnectError("refused")
        return httpx.Response(404)

    client = console(FakeServices())
    client.app.state.api.client._transport = httpx.MockTransport(refuse)  # the notifications service is down
    sign_in(client, "counsellor-ada")
    page = client.get("/")
    assert page.status_code == 503 and "The notifications service cannot be reached" in page.text


def test_an_expired_token_ends_the_session_with_a_sign_in_link():
    fakes = FakeServices()
    fakes.on("GET", "/v1/alerts/a1", status=401, json={"title": "Unauthorized", "status": 401})
    client = console(fakes)
    sign_in(client, "counsellor-ada")
    page = client.get("/alerts/a1")
    assert page.status_code == 401 and "Sign in again" in page.text
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("user", "offered", "hidden"),
    [
        ("counsellor-ada", {"/flags"}, {"/routing", "/rota", "/staff", "/concerns", "/overview"}),
        ("admin-amy", {"/staff", "/rota", "/routing"}, {"/flags", "/concerns", "/overview"}),
        ("officer-omar", {"/concerns"}, {"/flags", "/routing", "/rota"}),
        ("lead-lee", {"/flags", "/overview", "/rota", "/routing"}, {"/concerns"}),
        ("mentor-mo", {"/mentees"}, {"/flags", "/concerns", "/rota"}),
    ],
)
def test_each_role_is_offered_only_its_screens(user, offered, hidden):
    client = console(FakeServices())
    sign_in(client, user)
    nav = client.get("/").text.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    links = set(re.findall(r'href="([^"]+)"', nav))
    assert offered <= links and not hidden & links


def test_a_screen_outside_the_role_is_refused_without_asking_the_service():
    fakes = FakeServices()
    client = console(fakes)
    sign_in(client, "admin-amy")
    before = len(fakes.calls)
    assert client.get("/flags").status_code == 403
    assert client.get("/flags/f1?purpose=Reviewing").status_code == 403
    assert client.get("/concerns").status_code == 403
    assert len(fakes.calls) == before


def test_a_flag_is_read_only_with_a_purpose_and_that_purpose_is_sent_for_the_audit():
    fakes = FakeServices()
    flag = {
        "id": "f1",
        "student_id": "s1",
        "cohort": "2027",
        "status": "open",
        "severity": "urgent",
        "reasons": ["phq9_item9_positive"],
        "priority": 1,
        "instrument": "phq9",
        "raised_at": "2026-12-01T10:00:00+00:00",
        "updated_at": "2026-12-01T10:00:00+00:00",
        "checkin_ids": [],
    }
    fakes.on("GET", "/v1/flags/f1", json=flag)
    fakes.on("GET", "/v1/students/s1/checkins", json={"items": [], "next_cursor": None})
    client = console(fakes)
    sign_in(client, "counsellor-ada")
    ask = client.get("/flags/f1")
    assert "Why are you opening this record?" in ask.text
    assert not [c for c in fakes.calls if c.url.path.startswith("/v1/flags")]
    shown = client.get("/flags/f1", params={"purpose": "other", "other": "Crisis call follow-up"})
    assert "Flag for student s1" in shown.text
    assert {c.url.params.get("purpose") for c in fakes.calls if c.url.path != "/v1/inbox"} == {"Crisis call follow-up"}


@pytest.mark.parametrize("status", [404, 405])
def test_the_rule_preview_says_so_while_the_service_lacks_it(status):
    fakes = FakeServices()
    fakes.on("POST", "/v1/routes/preview", status=status, json={"title": "Not Found", "status": status})
    fakes.on("GET", "/v1/routes", json={"items": [], "next_cursor": None})
    client = console(fakes)
    sign_in(client, "admin-amy")
    token = csrf(client)
    reply = client.post(
        "/routing/preview",
        data={"event_type": "flag.raised", "severity": "urgent", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert reply.status_code == 200 and "not available on this notifications service yet" in reply.text


def test_the_preview_lists_the_recipients():
    fakes = FakeServices()
    fakes.on(
        "POST",
        "/v1/routes/preview",
        json={
            "safety_floor": False,
            "recipients": [
                {
                    "person_id": "counsellor-ada",
                    "name": "Ada",
                    "roles": ["counsellor"],
                    "channels": ["inapp", "email"],
                    "rule_id": "urgent-flag",
                    "escalation": [{"after_minutes": 15, "target": {"kind": "role", "value": "wellbeing_lead"}}],
                }
            ],
        },
    )
    client = console(fakes)
    sign_in(client, "lead-lee")
    reply = client.post(
        "/routing/preview",
        data={"event_type": "flag.raised", "severity": "urgent", "cohort": "2027", "csrf_token": csrf(client)},
        headers={"HX-Request": "true"},
    )
    assert "Ada" in reply.text and "role:wellbeing_lead after 15 min" in reply.text
    sent = next(c for c in fakes.calls if c.url.path == "/v1/routes/preview")
    assert sent.read() == b'{"event_type":"flag.raised","severity":"urgent","cohort":"2027"}'


def test_the_live_inbox_answers_204_while_nothing_changed():
    client = console(FakeServices())
    sign_in(client, "counsellor-ada")
    page = client.get("/inbox/items")
    version = re.search(r"/inbox/items\?v=([0-9a-f]+)", page.text).group(1)
    assert client.get(f"/inbox/items?v={version}").status_code == 204
    assert client.get("/inbox/items?v=stale").status_code == 200


def test_pages_load_nothing_from_another_host():
    client = console(FakeServices())
    sign_in(client, "counsellor-ada")
    page = client.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    templates = Path(__file__).resolve().parents[2] / "src" / "console" / "templates"
    for template in templates.glob("*.html"):
        assert not re.search(r'(src|href|action)="(https?:)?//', template.read_text()), template.name


def test_an_open_alert_page_follows_the_alert_and_drops_the_button_once_someone_acknowledged():
    fakes = FakeServices()
    fakes.on("GET", "/v1/alerts/a1", json=ALERT)
    client = console(fakes)
    sign_in(client, "counsellor-ada")
    version = re.search(r"/alerts/a1/live\?v=([0-9a-f]+)", client.get("/alerts/a1").text).group(1)
    assert client.get(f"/alerts/a1/live?v={version}").status_code == 204
    acknowledged = {
        **ALERT,
        "status": "acknowledged",
        "acknowledged_by": "lead-lee",
        "next_escalation_at": None,
        "acknowledged_at": "2026-12-01T10:50:00+00:00",
        "updated_at": "2026-12-01T10:50:00+00:00",
    }
    fakes.on("GET", "/v1/alerts/a1", json=acknowledged)
    fresh = client.get(f"/alerts/a1/live?v={version}")
    assert fresh.status_code == 200 and "by lead-lee" in fresh.text and "Stopped" in fresh.text
    assert "Acknowledge</button>" not in fresh.text


def test_an_unchanged_poll_reads_only_the_open_alerts():
    fakes = FakeServices()
    client = console(fakes)
    sign_in(client, "counsellor-ada")
    version = re.search(r"/inbox/items\?v=([0-9a-f]+)", client.get("/").text).group(1)
    before = len(fakes.calls)
    assert client.get(f"/inbox/items?v={version}").status_code == 204
    asked = [dict(c.url.params) for c in fakes.calls[before:]]
    assert sorted(a["urgent"] for a in asked) == ["false", "true"] and {a["status"] for a in asked} == {"open"}


def test_preferences_start_from_the_directory_entry_and_save_quiet_hours_and_channels():
    fakes = FakeServices()
    fakes.on(
        "GET",
        "/v1/staff/counsellor-ada",
        json={
            "id": "counsellor-ada",
            "email": "ada@x.edu",
            "roles": ["counsellor"],
            "quiet_hours": {"start": "21:00:00", "end": "06:30:00", "timezone": "Europe/London"},
            "channels": {"email": True, "webhook": False},
        },
    )
    fakes.on("PUT", "/v1/me/preferences", json={})
    client = console(fakes)
    sign_in(client, "counsellor-ada")
    form = client.get("/preferences").text
    assert 'value="ada@x.edu"' in form and 'value="21:00"' in form and 'value="Europe/London"' in form
    assert 'name="channel_webhook" value="on">' in form  # unchecked, as stored
    saved = client.post(
        "/preferences",
        data={
            "csrf_token": csrf(client),
            "email": "ada@x.edu",
            "quiet": "on",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "quiet_timezone": "UTC",
            "channel_email": "on",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    sent = next(c for c in fakes.calls if c.method == "PUT")
    assert json.loads(sent.read()) == {
        "email": "ada@x.edu",
        "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "UTC"},
        "channels": {"email": True, "webhook": False},
    }
