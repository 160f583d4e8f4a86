"""docs/requests/*.http run top to bottom against the four services (real Kafka and MongoDB), with the
tokens docs/requests/.env would hold for the demo users `make up` creates: every request answers 2xx.
This is the collection working, not only matching the documents."""

import json
import re
import uuid
from contextlib import AsyncExitStack
from datetime import timedelta

import pytest

from feedback.app import create_app as feedback_app
from feedback.settings import FeedbackSettings
from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, eventually, running
from mentorship.app import create_app as mentorship_app
from mentorship.settings import MentorshipSettings
from notifications.app import create_app as notifications_app
from notifications.settings import NotificationsSettings
from tests.frontend.http_collection import REQUESTS, Request, parse
from wellbeing.app import create_app as wellbeing_app
from wellbeing.settings import WellbeingSettings

pytestmark = pytest.mark.e2e
TOKENS = {  # the demo users of deploy/local/seed_demo.py
    "STUDENT_TOKEN": auth("student-kim", "student", cohort="2027"),
    "COUNSELLOR_TOKEN": auth("counsellor-ada", "counsellor"),
    "OFFICER_TOKEN": auth("officer-omar", "concerns_officer"),
    "FACULTY_TOKEN": auth("faculty-fay", "faculty"),
    "MENTOR_TOKEN": auth("mentor-mo", "mentor", "faculty"),
    "ADMIN_TOKEN": auth("admin-amy", "admin"),
}
REFERENCE = re.compile(r"\{\{(\w+)\.response\.body\.\$\.([^}]+)\}\}")


def json_path(body: object, path: str) -> object:
    """``items[0].id`` in an answer's JSON."""
    for part in re.findall(r"[^.\[\]]+", path):
        body = body[int(part)] if isinstance(body, list) else body[part]  # type: ignore[index]
    return body


class Runner:
    def __init__(self, clients: dict) -> None:
        self.clients = clients
        self.answers: dict[str, object] = {}

    def fill(self, text: str, variables: dict[str, str]) -> str:
        text = REFERENCE.sub(lambda m: str(json_path(self.answers[m.group(1)], m.group(2))), text)
        text = text.replace("{{$guid}}", str(uuid.uuid4()))
        for name, value in variables.items():
            dotenv = re.fullmatch(r"\{\{\$dotenv (\w+)\}\}", value)
            value = TOKENS[dotenv.group(1)]["Authorization"].removeprefix("Bearer ") if dotenv else value
            text = text.replace(f"{{{{{name}}}}}", value)
        return text

    async def send(self, request: Request, variables: dict[str, str]):
        service, path = re.fullmatch(r"\{\{(\w+)\}\}(.*)", request.url).groups()  # type: ignore[union-attr]
        headers = {k: self.fill(v, variables) for k, v in request.headers.items()}
        body = self.fill(request.body, variables).encode() or None
        client = self.clients[service]
        response = await client.request(request.method, self.fill(path, variables), headers=headers, content=body)
        assert response.status_code < 300, f"{request.where}: {response.status_code} {response.text}"
        return response

    async def run(self, request: Request, variables: dict[str, str], later: str) -> None:
        if request.name is None:
            await self.send(request, variables)
            return
        paths = [m.group(2) for m in REFERENCE.finditer(later) if m.group(1) == request.name]

        async def answers_what_later_requests_read():
            body = (await self.send(request, variables)).json()
            try:
                for path in paths:
                    json_path(body, path)
            except (IndexError, KeyError):
                return None  # not there yet: events travel through Kafka
            return body

        message = f"{request.where}: no answer has {paths}"
        self.answers[request.name] = await eventually(answers_what_later_requests_read, timeout=30, message=message)


async def test_every_request_of_the_collection_succeeds_in_order(isolation):
    apps = {
        "feedback": feedback_app(isolation.settings(FeedbackSettings)),
        "wellbeing": wellbeing_app(isolation.settings(WellbeingSettings)),
        "mentorship": mentorship_app(isolation.settings(MentorshipSettings)),
        "notifications": notifications_app(isolation.settings(NotificationsSettings, smtp_port=1)),
    }
    async with AsyncExitStack() as stack:
        clients = {name: await stack.enter_async_context(running(app)) for name, app in apps.items()}
        await on_call(clients["notifications"], "counsellor-ada")
        runner = Runner(clients)
        for path in sorted(REQUESTS.glob("*.http")):
            variables, requests = parse(path)
            for index, request in enumerate(requests):
                later = json.dumps([r.__dict__ for r in requests[index + 1 :]])
                await runner.run(request, variables, later)


async def on_call(notifications, staff_id: str) -> None:
    """What `make up`'s demo data sets up: the counsellor in the directory and on call now."""
    admin = auth("admin-amy", "admin", "wellbeing_lead")  # counselling staff are registered with the lead
    staff = {"roles": ["counsellor"], "email": f"{staff_id}@med.example.edu"}
    assert (await notifications.put(f"/v1/staff/{staff_id}", json=staff, headers=admin)).status_code == 200
    now = utcnow()
    shift = {
        "staff_id": staff_id,
        "start": (now - timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(hours=1)).isoformat(),
    }
    rota = {"lead_id": staff_id, "shifts": [shift]}
    assert (await notifications.put("/v1/rotas/counselling", json=rota, headers=admin)).status_code == 200
