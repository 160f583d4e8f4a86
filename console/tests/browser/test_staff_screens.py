"""The other priority journeys in a real browser: a concern is triaged, a rota is edited, a rule preview names
the right person."""

from datetime import timedelta

import pytest
from playwright.async_api import Browser, expect

from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth

from .harness import ADMIN, assert_accessible, platform, screenshot, seed_staff, sign_in

pytestmark = pytest.mark.e2e
OFFICER = auth("officer-omar", "concerns_officer")


async def test_the_concerns_officer_triages_an_anonymous_concern_and_writes_to_the_reporter(
    isolation, browser: Browser
):
    async with platform(isolation) as stack, stack.client("feedback") as feedback:
        reported = await feedback.post(
            "/v1/concerns",
            json={
                "category": "mistreatment",
                "description": "The registrar shouted at me in front of patients.",
                "when": "Tuesday, morning ward round",
                "where": "Ward 7B",
                "anonymous": True,
            },
        )
        assert reported.status_code == 201, reported.text
        concern_id = reported.json()["id"]
        page = await browser.new_page()
        await sign_in(page, stack.console, "officer-omar")
        await page.get_by_role("link", name="Concerns").click()
        await expect(page.get_by_role("table")).to_contain_text("Anonymous")
        await assert_accessible(page)
        await page.get_by_role("row").filter(has_text="Mistreatment").get_by_role("link").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Concern: Mistreatment")
        # Only the moves the service accepts from "received" are offered.
        options = await page.get_by_label("Move to").locator("option").all_inner_texts()
        assert options == ["Keep received", "Under review", "Closed"]
        await assert_accessible(page)
        await screenshot(page, "concern")
        await page.get_by_label("Move to").select_option("under_review")
        await page.get_by_label("Outcome the reporter reads").fill("We are looking into it with the department.")
        await page.get_by_role("button", name="Save triage").click()
        await expect(page.get_by_text("Concern updated. Status: under review.")).to_be_visible()
        await page.get_by_label("Message to the reporter").fill("Which week was this?")
        await page.get_by_role("button", name="Send").click()
        await expect(page.get_by_text("Message sent to the reporter.")).to_be_visible()
        await expect(page.get_by_text("Which week was this?")).to_be_visible()
        stored = (await feedback.get(f"/v1/concerns/{concern_id}", headers=OFFICER)).json()
        assert stored["status"] == "under_review"
        assert stored["outcome"] == "We are looking into it with the department."
        assert [m["body"] for m in stored["messages"]] == ["Which week was this?"]
        await page.close()


async def test_an_admin_puts_someone_else_on_call_with_an_override(isolation, browser: Browser):
    async with platform(isolation) as stack:
        await seed_staff(stack)
        page = await browser.new_page(viewport={"width": 320, "height": 800})  # the on-call phone's width
        await sign_in(page, stack.console, "admin-amy")
        await page.get_by_role("link", name="Rota").click()
        await expect(page.locator("#on-call-now")).to_have_text("counsellor-ada")
        await expect(page.get_by_text("counsellor-ben from")).to_be_visible()
        await assert_accessible(page)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 320  # no sideways scrolling
        await screenshot(page, "rota-320px")
        now = utcnow()
        await page.get_by_label("Who", exact=True).select_option("counsellor-ben")
        await page.get_by_label("Start (UTC)").fill((now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
        await page.get_by_label("End (UTC)").fill((now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
        await page.get_by_label("Override (replaces whoever is scheduled)").check()
        await page.get_by_role("button", name="Add to the rota").click()
        await expect(page.get_by_text("Added counsellor-ben from")).to_be_visible()
        await expect(page.locator("#on-call-now")).to_have_text("counsellor-ben")
        async with stack.client("notifications") as notifications:
            on_call = (await notifications.get("/v1/rotas/counselling/on-call", headers=ADMIN)).json()
        assert on_call["staff_id"] == "counsellor-ben"
        await page.close()


async def test_the_rule_preview_names_the_counsellor_on_call(isolation, browser: Browser):
    """Needs POST /v1/routes/preview (the routing branch); until it lands the page says the preview is missing."""
    async with platform(isolation) as stack:
        await seed_staff(stack)
        page = await browser.new_page()
        await sign_in(page, stack.console, "admin-amy")
        await page.get_by_role("link", name="Routing").click()
        await expect(page.get_by_role("table", name="routing rule(s)")).to_be_visible()
        await page.get_by_label("Event").select_option("flag.raised")
        await page.get_by_label("Severity").select_option("urgent")
        await page.get_by_label("Cohort (optional)").fill("2027")
        await page.get_by_role("button", name="Preview").click()
        result = page.locator("#preview-result")
        await expect(result).to_contain_text("Who would receive flag.raised")
        await expect(result).to_contain_text("counsellor-ada")
        await assert_accessible(page)
        await screenshot(page, "routing-preview")
        await page.close()


async def test_an_admin_previews_and_assigns_a_match_and_the_mentor_logs_a_meeting(isolation, browser: Browser):
    async with platform(isolation) as stack, stack.client("mentorship") as mentorship:
        mentor = auth("mentor-mo", "mentor", "faculty")
        student = auth("student-sam", "student", cohort="2027")
        profile = {
            "name": "Dr Mo",
            "specialty": "internal medicine",
            "interests": ["research"],
            "languages": ["en"],
            "capacity": 2,
        }
        assert (await mentorship.put("/v1/mentors/me", json=profile, headers=mentor)).status_code == 200
        wishes = {"specialty": "internal medicine", "interests": ["research"], "languages": ["en"]}
        assert (await mentorship.put("/v1/mentees/me", json=wishes, headers=student)).status_code == 200
        page = await browser.new_page()
        await sign_in(page, stack.console, "admin-amy")
        await page.get_by_role("link", name="Matching").click()
        await page.get_by_role("button", name="Preview a matching run").click()
        preview = page.get_by_role("table", name="Preview: nothing is assigned yet")
        await expect(preview).to_contain_text("student-sam")
        await expect(preview).to_contain_text("Specialty")
        await assert_accessible(page)
        assert (await mentorship.get("/v1/assignments", headers=ADMIN)).json()["items"] == []
        await page.get_by_role("button", name="Assign these matches").click()
        await expect(page.get_by_text("1 student(s) assigned a mentor.")).to_be_visible()
        assigned = (await mentorship.get("/v1/assignments", headers=ADMIN)).json()["items"]
        assert [(a["mentor_id"], a["mentee_id"]) for a in assigned] == [("mentor-mo", "student-sam")]

        await page.context.clear_cookies()
        await sign_in(page, stack.console, "mentor-mo")
        await page.get_by_role("link", name="Mentees").click()
        await expect(page.get_by_role("heading", name="student-sam")).to_be_visible()
        await page.get_by_label("Met at (UTC)").fill((utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        await page.get_by_label("Format").select_option("video")
        await page.get_by_role("button", name="Log meeting").click()
        await expect(page.get_by_text("Meeting logged.")).to_be_visible()
        await expect(page.get_by_text(", video")).to_be_visible()
        await assert_accessible(page)
        await page.close()


async def test_an_admin_tries_a_new_rule_and_saves_it(isolation, browser: Browser):
    async with platform(isolation) as stack:
        await seed_staff(stack)
        page = await browser.new_page()
        await sign_in(page, stack.console, "admin-amy")
        await page.goto(f"{stack.console}/routing")
        await page.get_by_role("link", name="Add a rule").click()
        await page.get_by_label("Rule id (lower case, digits, . _ -)").fill("cohort-2027-urgent-to-lead")
        await page.get_by_label("flag.raised").check()
        await page.get_by_label("urgent", exact=True).check()
        await page.get_by_label("Cohorts, separated by commas (empty: any)").fill("2027")
        await page.get_by_label("Send to").select_option("role")
        await page.get_by_label("Which rota, role or member of staff (empty for a person the event names)").fill(
            "wellbeing_lead"
        )
        await page.get_by_role("button", name="Try it: who would receive it?").click()
        await expect(page.locator("#preview-result")).not_to_be_empty()
        await assert_accessible(page)
        async with stack.client("notifications") as notifications:
            rules = (await notifications.get("/v1/routes", headers=ADMIN)).json()["items"]
            assert "cohort-2027-urgent-to-lead" not in {r["id"] for r in rules}  # trying saved nothing
            await page.get_by_role("button", name="Save rule").click()
            await expect(page.get_by_text("Rule cohort-2027-urgent-to-lead saved.")).to_be_visible()
            rules = {r["id"]: r for r in (await notifications.get("/v1/routes", headers=ADMIN)).json()["items"]}
        saved = rules["cohort-2027-urgent-to-lead"]
        assert saved["target"] == {"kind": "role", "value": "wellbeing_lead"} and saved["cohorts"] == ["2027"]
        await page.close()
