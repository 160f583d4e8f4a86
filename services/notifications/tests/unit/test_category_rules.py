"""Rules may match a concern's category; a category on an event type that has none could match nothing."""

from notifications.routing import DEFAULT_RULES, RouteRule, Target, matching_rules, rule_problems


def ids(event_type, category):
    rules = matching_rules(
        list(DEFAULT_RULES), event_type=event_type, severity="routine", cohort=None, category=category
    )
    return sorted(rule.id for rule in rules)


def test_concerns_are_routed_by_category_beside_the_concerns_officer():
    assert ids("concern.raised", "bias") == ["concern-equity", "concern-raised"]
    assert ids("concern.raised", "discrimination") == ["concern-equity", "concern-raised"]
    assert ids("concern.raised", "professionalism") == ["concern-professionalism", "concern-raised"]
    assert ids("concern.raised", "mistreatment") == ["concern-raised"]
    assert ids("concern.triage_overdue", "bias") == ["concern-equity", "concern-triage-overdue"]


def test_a_category_on_an_event_without_one_is_refused():
    rule = RouteRule(
        id="x",
        event_types=("feedback.submitted",),
        categories=("bias",),
        target=Target(kind="student"),
        channels=("inapp",),
    )
    assert rule_problems(rule, staff_ids=set(), rota_teams=set()) == ["feedback.submitted has no category"]


def test_every_default_rule_is_sound():
    for rule in DEFAULT_RULES:
        assert rule_problems(rule, staff_ids=set(), rota_teams={"counselling"}) == [], rule.id
