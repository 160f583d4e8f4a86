"""Staff e-mails link to the console's alert page (see test_routing_and_delivery); a student's e-mail links
to the student frontend's page for the item. Opening either changes nothing."""

import pytest

from medsupport_shared.event_types import FeedbackSubmitted
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import auth, eventually, running

from .conftest import wait_for_consumer

pytestmark = pytest.mark.integration


async def test_a_students_email_links_to_the_student_frontend(make_stack):
    stack = make_stack(public_base_url="https://me.example.edu")
    app = stack.app()
    async with running(app) as client:
        student = auth("s1", "student", email="s1@students.example.edu")
        assert (await client.put("/v1/me/preferences", json={}, headers=student)).status_code == 200
        await wait_for_consumer(app)
        item = FeedbackSubmitted(
            feedback_id="fb-1",
            student_id="s1",
            author_id="f1",
            kind="faculty",
            context="rotation:cardio",
            submitted_at=utcnow(),
        )
        await stack.publisher.publish(new_event(item, source="/services/feedback"))
        (recipients, mail) = (await eventually(lambda: stack.mailbox.messages, timeout=30))[0]
        assert recipients == ["s1@students.example.edu"]
        assert "Open: https://me.example.edu/feedback/fb-1" in mail.get_payload()
        (alert,) = (await client.get("/v1/inbox", headers=student)).json()["items"]
        assert alert["status"] == "open"  # nothing was acknowledged by sending or opening a link
