"""The check-in → flag use cases through the in-memory fakes (the same flows run on the real MongoDB and
Kafka in tests/integration/test_checkins_and_flags.py and test_crisis_resources.py)."""

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, NotFound, Unprocessable
from wellbeing import flags
from wellbeing.checkins import CheckinAttempt, record_checkin
from wellbeing.domain.flags import flag_id_for, flag_raised_event_id
from wellbeing.repository import worrying_checkin

from .fakes import fake_stack

STUDENT = Principal(sub="s1", roles=frozenset({"student"}), cohort="2027")
COUNSELLOR = Principal(sub="c1", roles=frozenset({"counsellor"}))
URGENT = [0, 0, 0, 0, 0, 0, 0, 0, 1]  # PHQ-9 item 9 above 0
MODERATE = [2, 2, 2, 2, 2, 0, 0, 0, 0]  # PHQ-9 10: elevated
NONE = [0] * 9


def latency_observations(severity: str) -> float:
    name = "medsupport_wellbeing_checkin_to_flag_published_seconds_count"
    return REGISTRY.get_sample_value(name, {"severity": severity}) or 0.0


async def check_in(stack, answers, *, principal=STUDENT, instrument="phq9", note=None):
    return await record_checkin(ctx=stack.ctx, principal=principal, instrument=instrument, answers=answers, note=note)


async def test_an_urgent_check_in_raises_a_flag_whose_ids_derive_from_the_check_in(tmp_path):
    stack = fake_stack(tmp_path)
    before = latency_observations("urgent")
    outcome = await check_in(stack, URGENT)
    await stack.settle()

    assert outcome.assessment.severity == "urgent" and outcome.flag_id == flag_id_for(outcome.checkin_id)
    flag = await stack.repo.flag(flag_id=outcome.flag_id)
    assert flag.status == "open" and flag.severity == "urgent" and flag.checkin_ids == (outcome.checkin_id,)
    assert flag.reasons == ("phq9_item9_positive",) and flag.version == 1
    [raised] = stack.outbox.of_type("flag.raised")
    assert raised.id == flag_raised_event_id(outcome.checkin_id) and raised.data["flag_id"] == outcome.flag_id
    assert [e.type for e in stack.outbox.published] == ["checkin.recorded", "flag.raised"]
    assert stack.repo.checkins[outcome.checkin_id]["flag_pending"] is False
    assert not stack.repo.flags[outcome.flag_id]["outbox"], "published entries leave the outbox"
    assert latency_observations("urgent") == before + 1, (
        "the check-in → flag event latency is measured once the event left"
    )


async def test_with_kafka_away_the_flag_event_waits_in_the_outbox_and_no_latency_is_measured(tmp_path):
    stack = fake_stack(tmp_path)
    stack.outbox.down = True
    before = latency_observations("urgent")
    outcome = await check_in(stack, URGENT)
    await stack.settle()
    assert outcome.flag_id is not None and not stack.outbox.published
    [left] = stack.repo.flags[outcome.flag_id]["outbox"]
    assert left["id"] == flag_raised_event_id(outcome.checkin_id), "kept for the relay, under its derived id"
    assert latency_observations("urgent") == before, "only an event Kafka acknowledged is measured"


async def test_a_routine_check_in_raises_no_flag_and_without_consent_keeps_no_answers(tmp_path):
    stack = fake_stack(tmp_path)
    outcome = await check_in(stack, NONE, note="a private note")
    await stack.settle()
    assert outcome.flag_id is None and outcome.resources is None and not stack.repo.flags
    stored = stack.repo.checkins[outcome.checkin_id]
    assert stored["stored"] is False and "answers" not in stored and "note" not in stored
    assert [e.type for e in stack.outbox.published] == ["checkin.recorded"]


async def test_a_second_worrying_check_in_updates_the_open_flag(tmp_path):
    stack = fake_stack(tmp_path)
    first = await check_in(stack, MODERATE)
    second = await check_in(stack, URGENT)
    await stack.settle()

    assert second.flag_id == first.flag_id
    flag = await stack.repo.flag(flag_id=first.flag_id)
    assert flag.severity == "urgent" and flag.version == 2
    assert flag.reasons == ("phq9_moderate", "phq9_item9_positive")
    assert flag.checkin_ids == (first.checkin_id, second.checkin_id)
    [updated] = stack.outbox.of_type("flag.updated")
    assert updated.data["severity"] == "urgent" and updated.data["flag_id"] == first.flag_id


async def test_applying_the_same_check_in_twice_changes_nothing(tmp_path):
    stack = fake_stack(tmp_path)
    outcome = await check_in(stack, URGENT)
    checkin = worrying_checkin(stack.repo.checkins[outcome.checkin_id])
    assert await flags.apply_flag(ctx=stack.ctx, checkin=checkin) == outcome.flag_id
    await stack.settle()
    assert (await stack.repo.flag(flag_id=outcome.flag_id)).version == 1
    assert len(stack.outbox.of_type("flag.raised")) == 1


async def test_a_flag_that_keeps_changing_is_a_conflict_and_the_check_in_stays_pending(tmp_path, monkeypatch):
    stack = fake_stack(tmp_path)

    async def somebody_else_opened_it(**_):
        return False

    monkeypatch.setattr(stack.repo, "insert_flag", somebody_else_opened_it)
    attempt = CheckinAttempt()
    with pytest.raises(Conflict, match="the student's flag kept changing; retry"):
        await record_checkin(
            ctx=stack.ctx, principal=STUDENT, instrument="phq9", answers=URGENT, note=None, attempt=attempt
        )
    assert attempt.recorded and attempt.flag_id is None
    assert stack.repo.checkins[attempt.checkin_id]["flag_pending"] is True
    monkeypatch.undo()
    assert await flags.finish_pending_flags(ctx=stack.ctx) == 0, "within the grace period"
    stack.repo.checkins[attempt.checkin_id]["recorded_at"] -= (
        stack.settings.flag_sweep_grace_seconds * 2 * timedelta(seconds=1)
    )
    assert await flags.finish_pending_flags(ctx=stack.ctx) == 1
    assert (await stack.repo.flag(flag_id=flag_id_for(attempt.checkin_id))).status == "open"


async def test_answers_that_do_not_fit_are_refused_before_anything_is_written(tmp_path):
    stack = fake_stack(tmp_path)
    with pytest.raises(Unprocessable, match="the answers do not fit the instrument") as refused:
        await check_in(stack, [0, 0, 7])
    assert refused.value.errors[0]["loc"][:2] == ["body", "answers"]
    with pytest.raises(Unprocessable, match="unknown instrument"):
        await check_in(stack, [1], instrument="nope")
    assert not stack.repo.checkins and not stack.outbox.published


async def test_resolving_a_flag_once_and_only_once(tmp_path):
    stack = fake_stack(tmp_path)
    outcome = await check_in(stack, URGENT)
    resolved = await flags.resolve_flag(
        ctx=stack.ctx, principal=COUNSELLOR, flag_id=outcome.flag_id, outcome="contacted", note="called"
    )
    await stack.settle()
    assert resolved.status == "resolved" and resolved.resolved_by == "c1" and resolved.outcome == "contacted"
    assert stack.ctx.cipher.decrypt(resolved.resolution_note) == "called" and resolved.resolution_note != "called"
    assert await stack.repo.open_flag(student_id="s1") is None
    assert [e.type for e in stack.outbox.published][-1] == "flag.resolved"
    assert [(a["action"], a["student_id"]) for a in stack.repo.audit] == [("resolve_flag", "s1")]
    with pytest.raises(Conflict, match="the flag is already resolved"):
        await flags.resolve_flag(
            ctx=stack.ctx, principal=COUNSELLOR, flag_id=outcome.flag_id, outcome="other", note=None
        )
    with pytest.raises(NotFound, match="no flag with that id"):
        await flags.resolve_flag(ctx=stack.ctx, principal=COUNSELLOR, flag_id="missing", outcome="other", note=None)


async def test_a_student_who_never_set_a_consent_costs_no_search_for_a_previous_score(tmp_path):
    stack = fake_stack(tmp_path)
    searched: list[str] = []
    latest_score = stack.repo.latest_score

    async def counted(*, student_id: str, instrument: str):
        searched.append(student_id)
        return await latest_score(student_id=student_id, instrument=instrument)

    stack.repo.latest_score = counted
    await check_in(stack, NONE)
    assert searched == []  # without a consent nothing was ever stored, so there is nothing to compare with
    await stack.repo.save_consent(student_id="s1", consent={"store_checkins": True})
    first = await check_in(stack, NONE)
    rise = await check_in(stack, MODERATE)
    await stack.settle()
    assert searched == ["s1", "s1"] and first.stored
    assert "phq9_rise" in rise.assessment.reasons  # the previous score is still found once there is one
