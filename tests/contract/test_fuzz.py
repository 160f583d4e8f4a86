"""Fuzz every route of every service with every role's token, no token and a garbage token (issue 11).

Schemathesis generates requests from each service's own OpenAPI document, valid and invalid ones, and
sends them over HTTP to the four services running in-process on the real Kafka and MongoDB-protocol
server. Every answer must be 2xx/4xx, and every error RFC 9457 problem+json. The fuzzer first works on
random ids, then on the ids that exist (the seeded routing rules, the counselling rota, its staff, an
open urgent alert and flag), so admin calls really do replace, disable and delete the urgent route.
Whatever that did, an urgent check-in afterwards must still reach a human: an urgent alert in the
inbox of someone the directory lists as counsellor or wellbeing lead, or the settings-level safety-floor
contact. Nothing leaves the machine (webhook URLs the fuzzer registers are refused at the socket).

``FUZZ_EXAMPLES`` (default 3) sets the generated requests per operation, identity and mode; the run
takes about two minutes on two cores at the default."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from medsupport_shared.auth import Role
from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, token_for
from medsupport_shared.testing.network import loopback_only
from tests.contract.live_platform import LivePlatform

pytestmark = [
    pytest.mark.e2e,
    # schemathesis draws fixed path parameters with `random`; harmless here, and not ours to change
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
SERVICES = ("feedback", "wellbeing", "mentorship", "notifications")
SUBJECTS = {
    Role.STUDENT: "s-fuzz",
    Role.FACULTY: "f-fuzz",
    Role.MENTOR: "m-fuzz",
    Role.COUNSELLOR: "c1",
    Role.WELLBEING_LEAD: "lead-1",
    Role.CONCERNS_OFFICER: "officer-1",
    Role.ADMIN: "admin-1",
    Role.OPS: "ops-1",
    Role.CLERKSHIP_DIRECTOR: "d-fuzz",
    Role.EQUITY: "eq-fuzz",
    Role.PROFESSIONALISM_LEAD: "prof-fuzz",
}
IDENTITIES: dict[str, dict[str, str]] = {
    **{role.value: auth(sub, role.value, cohort="2027", name=f"{role.value} (fuzz)") for role, sub in SUBJECTS.items()},
    "no token": {},
    "garbage token": {"Authorization": "Bearer not-a-token"},
}
ADMIN = IDENTITIES["admin"]
COUNSELLING_ROLES = {"counsellor", "wellbeing_lead"}
SAFETY_FLOOR_EMAIL = "safety-floor@med.example.edu"
URGENT_PHQ9 = {"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 1]}


# Instants as a hostile client sends them: mostly plausible, sometimes at the calendar's ends with the
# widest offsets (converting those to UTC overflows), which plain generation almost never tries.
OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-14))])
INSTANTS = st.one_of(
    st.datetimes(datetime(2020, 1, 1), datetime(2035, 1, 1), timezones=OFFSETS),
    st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59), timezones=OFFSETS),
    st.sampled_from(
        [
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),
        ]
    ),
).map(lambda instant: instant.isoformat())
schemathesis.openapi.format("date-time", INSTANTS)


class Fuzzer:
    def __init__(self, platform: LivePlatform) -> None:
        self.platform = platform
        self.session = requests.Session()
        self.session.trust_env = False  # straight to loopback, whatever proxy the machine has
        self.findings: dict[tuple[str, str, int], str] = {}
        self.statuses: Counter[int] = Counter()
        self.unsendable = 0
        self.seconds_waiting = 0.0

    def send_as_everyone(self, service: str, case: Any) -> None:
        for identity in IDENTITIES:
            self.send(service, case, identity)

    def send(self, service: str, case: Any, identity: str) -> None:
        kwargs = case.as_transport_kwargs(base_url=self.platform.urls[service])
        kwargs["headers"].pop("Authorization", None)
        kwargs["headers"].update(IDENTITIES[identity])
        started = time.perf_counter()
        try:
            response = self.session.request(**kwargs, stream=True, timeout=30)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError, ValueError):
            self.unsendable += 1  # no HTTP client can send it (a header with a line break, say): not a request
            return
        except requests.exceptions.ConnectionError as exc:
            self._finding(case, identity, 0, f"no answer: {exc!r}")
            return
        with response:
            streaming = response.headers.get("content-type", "").startswith("text/event-stream")
            body = b"" if streaming else response.content
        self.seconds_waiting += time.perf_counter() - started
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self._finding(case, identity, response.status_code, body[:300].decode(errors="replace"))
        elif response.status_code >= 400 and not _is_problem(response, body):
            self._finding(case, identity, response.status_code, f"not problem+json: {body[:200]!r}")

    def _finding(self, case: Any, identity: str, status: int, what: str) -> None:
        key = (case.operation.label, identity, status)
        if key not in self.findings:
            curl = case.as_curl_command(headers=IDENTITIES[identity])
            self.findings[key] = f"{case.operation.label} as {identity}: {status} {what}\n    {curl}"

    def fuzz(
        self,
        service: str,
        operation: Any,
        n: int,
        path_parameters: dict[str, str] | None = None,
        modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    ) -> None:
        """``n`` valid and ``max(1, n // 2)`` invalid requests, each sent with every identity."""
        for mode in modes:

            @settings(
                max_examples=n if mode is GenerationMode.POSITIVE else max(1, n // 2),
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                verbosity=Verbosity.quiet,
            )
            @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
            def run(case: Any) -> None:
                self.send_as_everyone(service, case)

            try:
                run()
            except Unsatisfiable:
                pass  # nothing to make invalid (no parameters, no body)


def _is_problem(response: requests.Response, body: bytes) -> bool:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return False
    try:
        problem = response.json()
    except ValueError:
        return False
    return problem.get("status") == response.status_code and isinstance(problem.get("title"), str)


def operations(platform: LivePlatform, service: str) -> list[Any]:
    document = requests.get(f"{platform.urls[service]}/openapi.json", timeout=30).json()
    return [result.ok() for result in schemathesis.openapi.from_dict(document).get_all_operations()]


def api(platform: LivePlatform, service: str, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
    response = requests.request(method, f"{platform.urls[service]}{path}", headers=headers, timeout=30, **kw)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def seed(platform: LivePlatform) -> None:
    """The demo's counselling set-up: a counsellor on call with email and webhook, a wellbeing lead."""
    webhook = f"{platform.webhook_base}/c1"
    staff = {
        "c1": {"roles": ["counsellor"], "email": "c1@med.example.edu", "webhook_url": webhook},
        "lead-1": {"roles": ["wellbeing_lead"], "email": "lead@med.example.edu"},
        "admin-1": {"roles": ["admin"], "email": "admin@med.example.edu"},
        "officer-1": {"roles": ["concerns_officer"], "email": "officer@med.example.edu"},
    }
    # Registering counselling staff needs the wellbeing lead as well as the admin (health-data roles).
    setup = auth("admin-1", "admin", "wellbeing_lead")
    for staff_id, body in staff.items():
        api(platform, "notifications", "PUT", f"/v1/staff/{staff_id}", setup, json=body)
    now = utcnow()
    shift = {
        "staff_id": "c1",
        "start": (now - timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(hours=8)).isoformat(),
    }
    api(platform, "notifications", "PUT", "/v1/rotas/counselling", ADMIN, json={"lead_id": "lead-1", "shifts": [shift]})


def urgent_checkin(platform: LivePlatform, student: str) -> None:
    headers = auth(student, "student", cohort="2027")
    api(platform, "wellbeing", "PUT", "/v1/me/consent", headers, json={"store_checkins": True})
    reply = api(platform, "wellbeing", "POST", "/v1/checkins", headers, json=URGENT_PHQ9)
    assert reply["severity"] == "urgent"


def who_was_reached(platform: LivePlatform, student: str, before: tuple[int, int]) -> list[str]:
    """Humans an urgent alert about ``student`` reached: counselling-role people (per the directory now)
    with it in their inbox, and the safety-floor contact's webhook or mailbox."""
    reached = []
    staff = requests.get(f"{platform.urls['notifications']}/v1/staff?limit=200", headers=ADMIN, timeout=30)
    people = staff.json()["items"] if staff.status_code == 200 else []
    for person in people:
        roles = set(person.get("roles") or ()) & COUNSELLING_ROLES
        if not roles:
            continue
        headers = {"Authorization": f"Bearer {token_for(person['id'], *sorted(roles))}"}
        inbox = requests.get(f"{platform.urls['notifications']}/v1/inbox?urgent=true", headers=headers, timeout=30)
        if inbox.status_code == 200 and any(a["subject_id"] == student for a in inbox.json()["items"]):
            reached.append(f"{person['id']} ({', '.join(sorted(roles))}) in-app")
    for path, payload in platform.webhooks.received[before[0] :]:
        if path == "safety-floor" and payload.get("subject_id", student) == student:
            reached.append("safety-floor webhook")
    if SAFETY_FLOOR_EMAIL in platform.mailbox.recipients[before[1] :]:
        reached.append("safety-floor email")
    return reached


def wait_for_a_human(platform: LivePlatform, student: str, before: tuple[int, int], timeout: float = 60) -> list[str]:
    """Poll with a deadline (the alert crosses Kafka and the delivery sweep); empty when nobody was reached."""
    deadline = time.monotonic() + timeout
    while True:
        reached = who_was_reached(platform, student, before)
        if reached or time.monotonic() > deadline:
            return reached
        time.sleep(0.5)


def known_ids(platform: LivePlatform) -> dict[str, list[str]]:
    """Ids that exist, for the second pass: what an admin or a counsellor would really act on, and one
    resource of every kind made from the documents' own request examples."""
    rules = api(platform, "notifications", "GET", "/v1/routes", ADMIN)
    counsellor = IDENTITIES["counsellor"]
    inbox = api(platform, "notifications", "GET", "/v1/inbox", counsellor)
    flags = api(platform, "wellbeing", "GET", "/v1/flags", counsellor)
    ids = {
        "rule_id": [rule["id"] for rule in rules["items"]],
        "staff_id": ["c1", "lead-1"],
        "team": ["counselling"],
        "alert_id": [alert["id"] for alert in inbox["items"][:1]],
        "flag_id": [flag["id"] for flag in flags["items"][:1]],
        "student_id": ["s-before", SUBJECTS[Role.STUDENT]],
        "mentor_id": [SUBJECTS[Role.MENTOR]],
        "user_id": [SUBJECTS[Role.MENTOR], SUBJECTS[Role.FACULTY]],
        "cohort": ["2027"],
        "code": ["phq9"],
    }
    for service in SERVICES:
        for name, value in created_from_examples(platform, service).items():
            ids.setdefault(name, []).append(value)
    return ids


def created_from_examples(platform: LivePlatform, service: str) -> dict[str, str]:
    """PUT then POST each collection route's documented example, as the first identity it works for;
    the new resource's id is named after the path parameter of its item route."""
    document = requests.get(f"{platform.urls[service]}/openapi.json", timeout=30).json()
    created: dict[str, str] = {}
    for method in ("put", "post"):
        for path, operations in document["paths"].items():
            operation = operations.get(method)
            example = _body_example(document, operation) if operation and "{" not in path else None
            if example is None:
                continue
            for headers in IDENTITIES.values():
                response = requests.request(
                    method,
                    f"{platform.urls[service]}{path}",
                    json=example,
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                    timeout=30,
                )
                if response.status_code < 300:
                    body = response.json() if response.content else {}
                    item = next((p for p in document["paths"] if p.startswith(f"{path}/{{")), None)
                    if item and isinstance(body, dict) and body.get("id"):
                        created[item[len(path) + 2 : item.index("}")]] = str(body["id"])
                    break
    return created


def _body_example(document: dict[str, Any], operation: dict[str, Any]) -> Any:
    media = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if media is None:
        return None
    if "example" in media:
        return media["example"]
    ref = media.get("schema", {}).get("$ref", "")
    examples = document["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}).get("examples") if ref else None
    return examples[0] if examples else None


def what_routing_saw(platform: LivePlatform, student: str) -> str:
    """The rules, directory, rota and alerts as the fuzz left them, for whoever reads a red run."""
    base = platform.urls["notifications"]
    rules = requests.get(f"{base}/v1/routes?limit=200", headers=ADMIN, timeout=30)
    staff = requests.get(f"{base}/v1/staff?limit=200", headers=ADMIN, timeout=30)
    rota = requests.get(f"{base}/v1/rotas/counselling", headers=ADMIN, timeout=30)
    repo = platform.apps["notifications"].state.services.repo
    alerts = platform.run(repo.alerts.find({"subject_id": student}).to_list(None))
    return "\n".join(
        [
            f"rules ({rules.status_code}): {rules.text[:3000]}",
            f"staff ({staff.status_code}): {[(p['id'], p['roles']) for p in staff.json().get('items', [])] if staff.ok else staff.text}",
            f"counselling rota ({rota.status_code}): {rota.text[:1000]}",
            f"alerts about {student}: {[(a.get('recipient_id'), a.get('rule_id'), a.get('status')) for a in alerts]}",
        ]
    )


def with_known_ids(operation: Any, ids: dict[str, list[str]]) -> list[dict[str, str]]:
    """Path parameters made of existing ids: each known value of the last one (the item acted on)."""
    names = [parameter.name for parameter in operation.path_parameters]
    if not names or not all(ids.get(name) for name in names):
        return []
    return [{name: ids[name][0] for name in names[:-1]} | {names[-1]: value} for value in ids[names[-1]]]


def test_no_route_answers_5xx_to_any_role_and_an_urgent_flag_still_reaches_a_human(isolation, monkeypatch):
    platform = LivePlatform(isolation)
    # The safety floor's settings-level contact (routing's settings; ignored until they exist).
    monkeypatch.setenv("SAFETY_FLOOR_EMAIL", SAFETY_FLOOR_EMAIL)
    monkeypatch.setenv("SAFETY_FLOOR_WEBHOOK_URL", f"{platform.webhook_base}/safety-floor")
    with loopback_only(), platform:
        seed(platform)
        urgent_checkin(platform, "s-before")
        assert wait_for_a_human(platform, "s-before", (0, 0)), "before any fuzzing, the urgent route reaches c1"

        fuzzer = Fuzzer(platform)
        ids = known_ids(platform)
        for service in SERVICES:
            for operation in operations(platform, service):
                fuzzer.fuzz(service, operation, EXAMPLES)
                for fixed in with_known_ids(operation, ids):
                    fuzzer.fuzz(service, operation, 1, path_parameters=fixed)
        # Read back what all that stored: whatever was accepted can be shown.
        for service in SERVICES:
            for operation in operations(platform, service):
                if operation.method.upper() == "GET":
                    for fixed in with_known_ids(operation, ids) or [None]:
                        fuzzer.fuzz(service, operation, 1, path_parameters=fixed, modes=(GenerationMode.POSITIVE,))

        before = len(platform.webhooks.received), len(platform.mailbox.recipients)
        urgent_checkin(platform, "s-after")
        reached = wait_for_a_human(platform, "s-after", before)
        state = "" if reached else what_routing_saw(platform, "s-after")

    summary = f"{sum(fuzzer.statuses.values())} requests, statuses {dict(sorted(fuzzer.statuses.items()))}"
    print(f"fuzz: {summary}; {fuzzer.unsendable} unsendable; {fuzzer.seconds_waiting:.0f} s waiting for answers")
    print(f"fuzz: after it, the urgent check-in reached {reached}")
    findings = "\n".join(fuzzer.findings.values())
    assert not findings, f"{len(fuzzer.findings)} kinds of wrong answer in {summary}:\n{findings}"
    assert reached, (
        "after the fuzz run, an urgent check-in reached no counselling-role person and no safety floor:\n" + state
    )
