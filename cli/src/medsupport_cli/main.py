"""``medsupport``: what schools do in bulk or once per deployment, from the command line.

Every command says what it did in a line or two, exits non-zero with one readable line when it cannot,
and never shows a traceback for a refusal, a bad file or a service that does not answer."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import typer

from medsupport_cli import dead_letters, deployment_check
from medsupport_cli.client import ApiError, call, client
from medsupport_cli.imports import ImportReport, import_entries
from medsupport_cli.people import staff_entry, student_entry
from medsupport_cli.rota_ical import shifts_from_ical
from medsupport_cli.rows import RowParser, check_rows, read_rows
from medsupport_cli.tokens import RefusedToken, mint_development_token
from medsupport_shared.settings import DEVELOPMENT_JWT_SECRET

T = TypeVar("T")
app = typer.Typer(
    help="The medsupport admin command line: bulk imports, rota feeds, dead letters, tokens, checks.",
    no_args_is_help=True,
    add_completion=False,
)
import_app = typer.Typer(help="Import staff, students or a rota (idempotent; nothing is written if a row is rejected)")
dlq_app = typer.Typer(help="Dead-lettered events: list them with their reasons, replay chosen ones")
app.add_typer(import_app, name="import")
app.add_typer(dlq_app, name="dead-letters")

DEFAULT_URLS = {
    "feedback": "http://127.0.0.1:8001",
    "wellbeing": "http://127.0.0.1:8002",
    "mentorship": "http://127.0.0.1:8003",
    "notifications": "http://127.0.0.1:8004",
}
Token = Annotated[str | None, typer.Option(envvar="MEDSUPPORT_TOKEN", help="bearer token of an admin")]
NotificationsUrl = Annotated[str, typer.Option(envvar="MEDSUPPORT_NOTIFICATIONS_URL")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="check every row and say what would change; write nothing")]
Kafka = Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS")]


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except ApiError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{type(exc).__name__}: {exc}")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")


def _import_people(path: Path, parse: RowParser, route: str, url: str, token: str | None, dry_run: bool) -> None:
    checked = check_rows(read_rows(_read(path)), parse)
    if not checked.accepted and not checked.rejected:
        fail(f"{path} has no rows under its header line")

    async def go() -> ImportReport:
        async with client(url, token, timeout=120.0) as http:
            return await import_entries(http, path=route, checked=checked, dry_run=dry_run)

    report = run(go())
    for rejected in report.rejected:
        typer.echo(f"line {rejected.line}: {rejected.reason}", err=True)
    if report.rejected:
        fail(f"{len(report.rejected)} of {report.rows} rows rejected; nothing was written")
    would = "would be " if dry_run else ""
    typer.echo(
        f"{report.rows} rows: {report.created} {would}created, {report.updated} {would}updated, "
        f"{report.unchanged} unchanged"
    )


@import_app.command("staff")
def import_staff(
    path: Path, token: Token = None, url: NotificationsUrl = DEFAULT_URLS["notifications"], dry_run: DryRun = False
) -> None:
    """Staff from CSV: id,name,email,roles[,webhook_url,quiet_start,quiet_end,timezone]; roles split by ';'."""
    _import_people(path, staff_entry, "/v1/staff", url, token, dry_run)


@import_app.command("students")
def import_students(
    path: Path, token: Token = None, url: NotificationsUrl = DEFAULT_URLS["notifications"], dry_run: DryRun = False
) -> None:
    """Students and their cohorts from CSV: id,name,email,cohort."""
    _import_people(path, student_entry, "/v1/students", url, token, dry_run)


@import_app.command("rota")
def import_rota(
    team: str,
    source: Annotated[str, typer.Argument(help="an .ics file or an http(s) URL of the calendar feed")],
    token: Token = None,
    url: NotificationsUrl = DEFAULT_URLS["notifications"],
    lead: Annotated[str | None, typer.Option(help="the team lead (default: the current rota's lead)")] = None,
    weeks: Annotated[int, typer.Option(min=1, max=26, help="how far ahead to expand the calendar")] = 8,
    timezone: Annotated[str, typer.Option(help="zone of all-day and floating times")] = "UTC",
    dry_run: DryRun = False,
) -> None:
    """A team's shifts from an iCalendar feed; the rota's lead and overrides are kept."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"unknown time zone {timezone!r}")

    async def go() -> str:
        async with client(url, token) as http:
            feed = await _feed(source)
            staff = await _all_staff(http)
            current = await _current_rota(http, team)
            start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            found = shifts_from_ical(
                feed,
                staff_ids={s["id"] for s in staff},
                staff_by_email={s["email"]: s["id"] for s in staff if s.get("email")},
                window_start=start,
                window_end=start + timedelta(weeks=weeks),
                zone=zone,
            )
            for problem in found.problems:
                typer.echo(problem, err=True)
            if found.problems:
                fail(f"{len(found.problems)} calendar events rejected; the rota was not changed")
            lead_id = lead or (current or {}).get("lead_id")
            if not lead_id:
                fail(f"team {team!r} has no rota yet: name its lead with --lead")
            body = {"lead_id": lead_id, "shifts": found.shifts, "overrides": (current or {}).get("overrides", [])}
            if dry_run:
                return f"{len(found.shifts)} shifts for {team} over {weeks} weeks (dry run: nothing written)"
            saved = await call(http, "PUT", f"/v1/rotas/{team}", json=body)
            return f"{len(found.shifts)} shifts for {team} over {weeks} weeks; on call now: {saved['on_call_now']}"

    typer.echo(run(go()))


async def _feed(source: str) -> str:
    if source.startswith(("http://", "https://")):
        async with httpx.AsyncClient(timeout=30.0, follow_redirects=True) as http:
            try:
                response = await http.get(source)
                response.raise_for_status()
            except httpx.HTTPError as exc:
                raise ApiError(f"the calendar feed {source} could not be read ({type(exc).__name__})") from exc
            return response.text
    return _read(Path(source))


async def _all_staff(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    staff: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await call(http, "GET", "/v1/staff", params={"limit": 200, **({"cursor": cursor} if cursor else {})})
        staff += page["items"]
        if not (cursor := page.get("next_cursor")):
            return staff


async def _current_rota(http: httpx.AsyncClient, team: str) -> dict[str, Any] | None:
    try:
        rota: dict[str, Any] = await call(http, "GET", f"/v1/rotas/{team}")
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    return rota


@dlq_app.command("list")
def list_dead_letters(
    bootstrap: Kafka = "127.0.0.1:9092",
    prefix: Annotated[str, typer.Option(help="topic prefix (KAFKA_TOPIC_PREFIX)", envvar="KAFKA_TOPIC_PREFIX")] = "",
) -> None:
    """Every dead-lettered event: where it is, its type and id, and why it was set aside."""

    async def go() -> list[dead_letters.DeadLetter]:
        return await dead_letters.read_dead_letters(
            bootstrap, await dead_letters.dead_letter_partitions(bootstrap, prefix)
        )

    letters = run(go())
    for letter in letters:
        typer.echo(
            f"{letter.ref}  {letter.header('ce_type') or '?'}  id={letter.header('ce_id') or '?'}  "
            f"reason={letter.header('dlq_reason')}  {letter.header('dlq_error')[:160]}"
        )
    typer.echo(f"{len(letters)} dead-lettered events")


@dlq_app.command("replay")
def replay_dead_letters(
    refs: Annotated[list[str] | None, typer.Argument(help="topic/partition/offset as `list` shows them")] = None,
    all_: Annotated[bool, typer.Option("--all", help="replay every dead letter (of --prefix)")] = False,
    bootstrap: Kafka = "127.0.0.1:9092",
    prefix: Annotated[str, typer.Option(envvar="KAFKA_TOPIC_PREFIX")] = "",
) -> None:
    """Send dead letters back to their source topics (safe to repeat: consumers skip handled events)."""
    if not refs and not all_:
        fail("name the dead letters to replay (topic/partition/offset) or pass --all")

    async def go() -> int:
        letters = await dead_letters.read_dead_letters(
            bootstrap, await dead_letters.dead_letter_partitions(bootstrap, prefix)
        )
        chosen = letters if all_ else [d for d in letters if d.ref in set(refs or [])]
        if missing := sorted(set(refs or []) - {d.ref for d in letters}):
            fail(f"no dead letter at {', '.join(missing)}")
        return await dead_letters.replay(bootstrap, chosen)

    typer.echo(f"replayed {run(go())} events")


@app.command("token")
def token(
    sub: str,
    role: Annotated[list[str], typer.Option("--role", help="repeat for several roles")],
    hours: Annotated[float, typer.Option(min=0.1, max=12)] = 8.0,  # the services refuse longer-lived tokens
    cohort: str = "",
    name: str = "",
    email: str = "",
) -> None:
    """A development token (APP_ENV=development, AUTH_JWT_SECRET or the development secret)."""
    try:
        typer.echo(
            mint_development_token(
                sub=sub,
                roles=role,
                secret=os.environ.get("AUTH_JWT_SECRET", DEVELOPMENT_JWT_SECRET),
                app_env=os.environ.get("APP_ENV", "production"),
                hours=hours,
                cohort=cohort,
                name=name,
                email=email,
            )
        )
    except RefusedToken as exc:
        fail(str(exc))


@app.command("check")
def check(token: Token = None, url: NotificationsUrl = DEFAULT_URLS["notifications"]) -> None:
    """A deployment's configuration: settings as each service reads them, readiness, the urgent-flag route."""
    urls = {s: os.environ.get(f"MEDSUPPORT_{s.upper()}_URL", default) for s, default in DEFAULT_URLS.items()}
    urls["notifications"] = url

    async def go() -> list[deployment_check.Finding]:
        findings = deployment_check.settings_findings() + await deployment_check.readiness_findings(urls)
        if token:
            async with client(url, token) as http:
                findings.append(await deployment_check.urgent_route_finding(http))
        else:
            findings.append(deployment_check.Finding(False, "urgent-flag route not checked: pass an admin --token"))
        return findings

    findings = run(go())
    for finding in findings:
        typer.echo(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.what}")
    if not all(f.ok for f in findings):
        raise typer.Exit(1)
