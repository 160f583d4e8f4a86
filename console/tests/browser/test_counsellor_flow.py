"""The counsellor's urgent path in a real browser: an urgent check-in appears live in the on-call counsellor's
inbox (no reload), acknowledging it stops the escalation, and the flag goes from the queue to resolution with an
audited purpose."""

import time

import pytest
from playwright.async_api import Browser, expect

from medsupport_shared.testing import auth, eventually

from .harness import assert_accessible, platform, screenshot, seed_staff, sign_in

pytestmark = pytest.mark.e2e
STUDENT = auth("student-sam", "student", cohort="2027")
ADA = auth("counsellor-ada", "counsellor")
LEAD = auth("lead-lee", "wellbeing_lead")


async def test_an_urgent_checkin_is_worked_from_the_live_inbox_to_acknowledgement_and_resolution(
    isolation, browser: Browser
):
    async with platform(isolation) as stack:
        await seed_staff(stack)
        page = await browser.new_page(viewport={"width": 1100, "height": 900})
        await sign_in(page, stack.console, "counsellor-ada")
        await expect(page.get_by_text("No urgent alert is waiting.")).to_be_visible()
        await assert_accessible(page)
        title_before = await page.title()

        async with stack.client("wellbeing") as wellbeing, stack.client("notifications") as notifications:
            assert (await wellbeing.put("/v1/me/consent", json={"store_checkins": True}, headers=STUDENT)).is_success
            routine = await wellbeing.post(
                "/v1/checkins", json={"instrument": "phq9", "answers": [1, 1, 1, 1, 1, 1, 0, 0, 0]}, headers=STUDENT
            )
            urgent = await wellbeing.post(
                "/v1/checkins", json={"instrument": "phq9", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 2]}, headers=STUDENT
            )
            assert routine.status_code == urgent.status_code == 201 and urgent.json()["severity"] == "urgent"

            async def urgent_alerts():
                reply = await notifications.get("/v1/inbox", params={"status": "open", "urgent": "true"}, headers=ADA)
                return reply.json()["items"]

            alerts = await eventually(urgent_alerts, timeout=30, message="the urgent alert exists")
            arrived = time.monotonic()
            # The page was not reloaded: the live inbox shows it within 2 s of the alert existing.
            await expect(page.locator("li.alert.urgent")).to_have_count(1, timeout=2000)
            assert time.monotonic() - arrived <= 2.0
            await expect(page).to_have_title(f"(1 urgent) {title_before}")
            assert await page.locator("body").get_attribute("data-last-chime")
            await expect(page.get_by_role("status").filter(has_text="1 new urgent alert")).to_be_attached()
            await screenshot(page, "inbox")

            alert_id = alerts[0]["id"]
            await page.locator("li.alert.urgent a").click()
            await page.wait_for_url(f"{stack.console}/alerts/{alert_id}")
            await expect(page.get_by_role("heading", level=1)).to_have_text(alerts[0]["title"])
            await expect(page.get_by_text("Next step")).to_be_visible()
            await expect(page.get_by_role("table", name="Each channel this alert was sent on")).to_contain_text("Inapp")
            await expect(page.locator("#escalation-chain")).to_contain_text("counsellor-ada (you)")
            await assert_accessible(page)
            await screenshot(page, "alert")
            # Reading the page (as a mail scanner would) acknowledged nothing.
            assert (await notifications.get(f"/v1/alerts/{alert_id}", headers=ADA)).json()["status"] == "open"

            await page.get_by_role("button", name="Acknowledge").click()
            await expect(page.get_by_text("Alert acknowledged: its escalation has stopped.")).to_be_visible()
            await expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
            acknowledged = (await notifications.get(f"/v1/alerts/{alert_id}", headers=ADA)).json()
            assert acknowledged["status"] == "acknowledged" and acknowledged["acknowledged_by"] == "counsellor-ada"
            assert acknowledged["next_escalation_at"] is None

            await page.get_by_role("link", name="Open the case").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text("Why are you opening this record?")
            await assert_accessible(page)
            await page.get_by_label("Following up after contact with the student").check()
            await page.get_by_role("button", name="Open the record").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text("Flag for student student-sam")
            await expect(page.get_by_text("Phq9 item9 positive")).to_be_visible()
            history = page.get_by_role("table", name="Check-ins, newest first")
            await expect(history.get_by_role("row")).to_have_count(3)
            await expect(
                page.get_by_role("img", name="PHQ9 scores, oldest to newest: 6, 10 (maximum 27)")
            ).to_be_visible()
            await assert_accessible(page)
            await screenshot(page, "flag")
            audit = (await wellbeing.get("/v1/audit", params={"student_id": "student-sam"}, headers=LEAD)).json()
            assert "Following up after contact with the student" in {entry["purpose"] for entry in audit["items"]}

            await page.get_by_label("Outcome").select_option("contacted")
            await page.get_by_label("Note (optional, encrypted at rest)").fill("Spoke by phone; seeing them today.")
            await page.get_by_role("button", name="Resolve the flag").click()
            await expect(page.get_by_text("Flag resolved: contacted.")).to_be_visible()
            await expect(page.get_by_text("No open flag.")).to_be_visible()
            flags = (await wellbeing.get("/v1/flags", params={"status": "resolved"}, headers=ADA)).json()["items"]
            assert [(f["student_id"], f["outcome"]) for f in flags] == [("student-sam", "contacted")]
        await page.close()


async def test_the_accessibility_check_finds_a_violation_when_there_is_one(browser: Browser):
    page = await browser.new_page()
    await page.set_content('<html lang="en"><title>t</title><main><img src="data:,"><input type="text"></main></html>')
    from .harness import axe_violations

    assert {"image-alt", "label"} <= {v["id"] for v in await axe_violations(page)}
    await page.close()
