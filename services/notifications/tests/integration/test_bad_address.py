"""An address that is not one (stored before validation, or a token's junk `email` claim) fails its delivery
at once, recorded, instead of killing the attempt and being re-leased forever; the other channels go out."""

import pytest

from medsupport_shared.testing import auth, eventually, running

from .conftest import wait_for_consumer

pytestmark = pytest.mark.integration


async def test_a_stored_bad_email_fails_its_delivery_and_the_webhook_still_goes_out(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        repo = app.state.services.repo
        await repo.save_person(person_id="c1", fields={"email": "c1@med.example.edu\r\nBcc: all@med.example.edu"})
        await wait_for_consumer(app)
        await stack.flag(severity="urgent")

        email = await eventually(lambda: repo.deliveries.find_one({"channel": "email", "status": "failed"}), timeout=15)
        assert email["reason"] == "email: the recipient's address is not an e-mail address"
        assert [a["outcome"] for a in email["attempts"]] == ["failed"]
        await eventually(lambda: repo.deliveries.find_one({"channel": "webhook", "status": "delivered"}))
        assert stack.mailbox.messages == []


async def test_a_junk_email_claim_in_the_token_is_not_stored(stack):
    async with running(stack.app()) as client:
        junk = auth("s7", "student", email="s7@student.example.edu\r\nBcc: x@y.z")
        response = await client.put("/v1/me/preferences", json={}, headers=junk)
        assert response.status_code == 200 and response.json()["email"] is None
        good = auth("s8", "student", email="s8@student.example.edu")
        assert (await client.put("/v1/me/preferences", json={}, headers=good)).json()["email"] == (
            "s8@student.example.edu"
        )


async def test_with_starttls_on_no_alert_email_goes_to_a_server_that_cannot_encrypt(make_stack):
    stack = make_stack(smtp_starttls=True)  # the test server offers no STARTTLS
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        await stack.flag(severity="urgent")
        repo = app.state.services.repo
        email = await eventually(lambda: repo.deliveries.find_one({"channel": "email", "attempt_count": 1}))
        assert email["attempts"][0]["error"].startswith("smtp: SMTP")
        assert stack.mailbox.messages == []
