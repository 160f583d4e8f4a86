"""The command line against the real notifications service, Kafka and MongoDB-protocol server."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from medsupport_cli.main import app as cli
from medsupport_shared.event_types import CheckinRecorded
from medsupport_shared.events import new_event
from medsupport_shared.inbox import Inbox
from medsupport_shared.kafka import EventConsumer, EventPublisher, ensure_topics
from medsupport_shared.mongo import create_client
from medsupport_shared.testing import eventually, serving, token_for
from notifications.app import create_app
from notifications.settings import NotificationsSettings

pytestmark = pytest.mark.integration
ADMIN = token_for("admin-1", "admin", "wellbeing_lead")  # counsellors in a staff import need the lead
TOPIC = "wellbeing.events.v1"


def checkin(n: int):
    data = CheckinRecorded(
        checkin_id=f"c{n}", student_id="s1", instrument="who5", severity="none", recorded_at=datetime.now(UTC)
    )
    return new_event(data, source="/services/wellbeing")


async def invoke(*args: str):
    """Run the CLI as a person would, in a thread: it has its own event loop, the service runs in ours."""
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
async def notifications(settings_for):
    settings = settings_for(NotificationsSettings)
    async with serving(create_app(settings)) as url:
        client = create_client(settings.mongo_url)
        yield url, client[settings.database_name]
        await client.close()


def staff_csv(n: int) -> str:
    roles = ["counsellor", "wellbeing_lead", "admin", "concerns_officer", "faculty"]
    rows = [f"st{i:03d},Staff {i},st{i}@med.example.edu,{roles[i % len(roles)]}" for i in range(n)]
    return "id,name,email,roles\n" + "\n".join(rows) + "\n"


def students_csv(n: int, bad: dict[int, str] | None = None) -> str:
    rows = [f"s{i:04d},Student {i},s{i}@student.example.edu,{2027 + i % 4}" for i in range(n)]
    for index, row in (bad or {}).items():
        rows[index] = row
    return "id,name,email,cohort\n" + "\n".join(rows) + "\n"


async def test_500_students_and_50_staff_import_in_one_command_each_and_a_rerun_changes_nothing(
    notifications, tmp_path
):
    url, db = notifications
    (tmp_path / "staff.csv").write_text(staff_csv(50))
    (tmp_path / "students.csv").write_text(students_csv(500))

    code, out = await invoke("import", "staff", str(tmp_path / "staff.csv"), "--url", url, "--token", ADMIN)
    assert (code, out.strip()) == (0, "50 rows: 50 created, 0 updated, 0 unchanged")
    code, out = await invoke("import", "students", str(tmp_path / "students.csv"), "--url", url, "--token", ADMIN)
    assert (code, out.strip()) == (0, "500 rows: 500 created, 0 updated, 0 unchanged")

    code, out = await invoke("import", "students", str(tmp_path / "students.csv"), "--url", url, "--token", ADMIN)
    assert (code, out.strip()) == (0, "500 rows: 0 created, 0 updated, 500 unchanged")
    # The school's next export: one student moved cohort; a dry run says so and writes nothing, then it is written.
    (tmp_path / "students.csv").write_text(students_csv(500, {7: "s0007,Student 7,s7@student.example.edu,2031"}))
    args = ("import", "students", str(tmp_path / "students.csv"), "--url", url, "--token", ADMIN)
    code, out = await invoke(*args, "--dry-run")
    assert (code, out.strip()) == (0, "500 rows: 0 would be created, 1 would be updated, 499 unchanged")
    assert (await db["people"].find_one({"_id": "s0007"}))["cohort"] == "2030"
    code, out = await invoke(*args)
    assert (code, out.strip()) == (0, "500 rows: 0 created, 1 updated, 499 unchanged")
    assert await db["people"].count_documents({"kind": "student"}) == 500
    assert await db["people"].count_documents({"kind": "staff"}) == 50
    sam = await db["people"].find_one({"_id": "s0007"})
    assert (sam["email"], sam["cohort"], sam["kind"]) == ("s7@student.example.edu", "2031", "student")


async def test_a_file_with_bad_rows_names_each_one_and_writes_nothing(notifications, tmp_path):
    url, db = notifications
    bad = {56: "s0056,Student 56,not-an-email,2027", 300: "s0001,Again,x@student.example.edu,2027"}
    (tmp_path / "students.csv").write_text(students_csv(400, bad))
    code, out = await invoke("import", "students", str(tmp_path / "students.csv"), "--url", url, "--token", ADMIN)
    assert code == 1
    assert "line 58: email:" in out  # row 56 of the data is line 58 of the file (header is line 1)
    assert "line 302: id 's0001' already on line 3" in out
    assert "not-an-email" not in out  # the report says what is wrong without echoing the cell
    assert "2 of 400 rows rejected; nothing was written" in out
    assert await db["people"].count_documents({}) == 0


async def test_a_rota_is_imported_from_an_icalendar_feed_and_keeps_its_lead(notifications, tmp_path):
    url, _ = notifications
    (tmp_path / "staff.csv").write_text(
        "id,name,email,roles\nlead-1,Lead,lead@med.example.edu,wellbeing_lead\nc-ada,Ada,ada@med.example.edu,counsellor\n"
    )
    assert (await invoke("import", "staff", str(tmp_path / "staff.csv"), "--url", url, "--token", ADMIN))[0] == 0
    now = datetime.now(UTC)
    fmt = "%Y%m%dT%H%M%SZ"
    (tmp_path / "oncall.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:1@t\r\nDTSTAMP:20261101T000000Z\r\n"
        f"SUMMARY:On call\r\nDTSTART:{(now - timedelta(hours=1)).strftime(fmt)}\r\n"
        f"DTEND:{(now + timedelta(hours=3)).strftime(fmt)}\r\nATTENDEE:mailto:ada@med.example.edu\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    ics = str(tmp_path / "oncall.ics")
    code, out = await invoke("import", "rota", "counselling", ics, "--url", url, "--token", ADMIN)
    assert code == 1 and "has no rota yet: name its lead with --lead" in out
    code, out = await invoke("import", "rota", "counselling", ics, "--lead", "lead-1", "--url", url, "--token", ADMIN)
    assert code == 0, out
    assert "on call now: c-ada" in out
    # Again, without --lead: the rota's lead is kept, and the same feed gives the same rota.
    code, out = await invoke("import", "rota", "counselling", ics, "--url", url, "--token", ADMIN)
    assert code == 0 and "1 shifts for counselling" in out


async def test_dead_letters_are_listed_with_their_reason_and_replayed_once(isolation):
    bootstrap = isolation.infra.kafka_bootstrap_servers
    await ensure_topics(bootstrap_servers=bootstrap, topics=[isolation.topic(TOPIC)])
    client = create_client(isolation.infra.mongo_url)
    db = client[f"cli_{isolation.run_id}"]
    isolation.databases.append(db.name)
    publisher = EventPublisher(bootstrap_servers=bootstrap, topic_prefix=isolation.topic_prefix, service="test")
    handled: list[str] = []
    broken = True

    async def handler(event, payload):
        if broken:
            raise RuntimeError("the handler's bug")
        handled.append(event.id)

    def consumer() -> EventConsumer:
        return EventConsumer(
            name="recorder",
            topics=[TOPIC],
            handlers={CheckinRecorded: handler},
            group_id=f"{isolation.topic_prefix}group",
            bootstrap_servers=bootstrap,
            publisher=publisher,
            inbox=Inbox(db),
            service="test",
            max_retries=1,
            retry_backoff=0.01,
        )

    async def listing() -> str:
        code, out = await invoke("dead-letters", "list", "--bootstrap", bootstrap, "--prefix", isolation.topic_prefix)
        assert code == 0, out
        return out if "1 dead-lettered events" in out else ""

    poison = checkin(1)
    await publisher.publish(poison)
    running = consumer()
    task = asyncio.create_task(running.run())
    try:
        out = await eventually(listing, timeout=90, interval=0.5)
        assert f"id={poison.id}" in out and "reason=handler_failed" in out and "the handler's bug" in out
        broken = False  # the bug is fixed and deployed; now the event can be handled
        for _ in range(2):  # replaying twice is safe: the second is a duplicate the consumer skips
            code, out = await invoke(
                "dead-letters", "replay", "--all", "--bootstrap", bootstrap, "--prefix", isolation.topic_prefix
            )
            assert (code, out.strip()) == (0, "replayed 1 events")
        await eventually(lambda: handled == [poison.id], timeout=30)
        marker = checkin(2)
        await publisher.publish(marker)
        await eventually(lambda: marker.id in handled, timeout=30)
        assert handled.count(poison.id) == 1
    finally:
        await running.stop()
        await asyncio.wait_for(task, 20)
        await publisher.stop()
        await client.close()
