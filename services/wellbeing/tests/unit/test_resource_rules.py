"""Which catalogue resources answer a worrying check-in, and in which order (pure)."""

from wellbeing.domain.resources import Resource, needs_for, resources_for_result

CRISIS = Resource(id="1", name="Night line", kind="crisis_line", needs=("crisis",), audiences=("all",))
WORKSHOP = Resource(id="2", name="Anxiety workshop", kind="workshop", needs=("anxiety",), audiences=("student",))
SLEEP = Resource(id="3", name="Sleep guide", kind="self_help", needs=("sleep",), audiences=("all",))
STAFF_ONLY = Resource(id="4", name="Staff mood group", kind="peer_support", needs=("low_mood",), audiences=("faculty",))
COUNSELLING = Resource(id="5", name="Counselling", kind="counselling", needs=("general",), audiences=("2027",))
CATALOGUE = [SLEEP, WORKSHOP, STAFF_ONLY, COUNSELLING, CRISIS]


def test_reasons_point_at_needs():
    assert needs_for(["gad7_moderate", "who5_low"], urgent=False) == {"anxiety", "low_mood", "general"}
    assert "crisis" in needs_for(["phq9_item9_positive"], urgent=True)


def test_an_elevated_result_gets_matching_resources_for_its_audience_without_crisis_lines():
    found = resources_for_result(CATALOGUE, reasons=["gad7_moderate"], urgent=False, audiences={"student", "2027"})
    assert [r.id for r in found] == ["2", "5"]  # by name


def test_an_urgent_result_gets_crisis_resources_first():
    found = resources_for_result(CATALOGUE, reasons=["phq9_item9_positive"], urgent=True, audiences={"student"})
    assert found[0].id == "1"
    assert "4" not in [r.id for r in found]
