from medsupport_cli.imports import rejected_lines


def test_service_errors_are_mapped_back_to_csv_lines_one_reason_per_line():
    errors = [
        {"loc": ["body", "items", 1, "email"], "msg": "value is not a valid email address"},
        {"loc": ["body", "items", 1, "roles"], "msg": "unknown roles: ['x']"},
        {"loc": ["body", "items", 2, "id"], "msg": "this id belongs to a member of staff"},
    ]
    rejected = rejected_lines(errors, lines=[10, 11, 12], fallback="refused")
    assert {(r.line, r.reason) for r in rejected} == {
        (11, "email: value is not a valid email address; roles: unknown roles: ['x']"),
        (12, "id: this id belongs to a member of staff"),
    }


def test_a_refusal_not_tied_to_a_row_holds_back_the_whole_part():
    rejected = rejected_lines([{"loc": ["body"], "msg": "too many"}], lines=[2, 3], fallback="422 too many")
    assert [(r.line, r.reason) for r in rejected] == [(2, "422 too many"), (3, "422 too many")]
