from notifications.directory_imports import plan, staff_problems, student_problems
from notifications.schemas import StaffEntry, StudentEntry
from notifications.webhook_targets import WebhookPolicy


def test_a_rerun_plans_no_write_and_a_changed_field_plans_one_update():
    stored = {"s1": {"_id": "s1", "email": "a@x.edu", "cohort": "2027", "kind": "student", "updated_at": "old"}}
    same = {"s1": {"email": "a@x.edu", "cohort": "2027", "kind": "student", "updated_at": "new"}}
    assert plan(same, stored) == ({}, {})
    moved = {"s1": {**same["s1"], "cohort": "2028"}, "s2": {"email": "b@x.edu", "kind": "student"}}
    new, changed = plan(moved, stored)
    assert list(new) == ["s2"] and list(changed) == ["s1"]


def test_duplicate_ids_unknown_roles_and_staff_ids_among_students_are_named_by_index():
    staff = [
        StaffEntry(id="c1", roles=["counsellor"], email="c1@x.edu"),
        StaffEntry(id="c1", roles=["surgeon"], email="c2@x.edu"),
        StaffEntry(id="c3", roles=["counsellor"], email="c3@x.edu", webhook_url="http://169.254.169.254/latest"),
        StaffEntry(id="c4", roles=["counsellor"], email="c4@x.edu", webhook_url="https://hooks.example.edu/c4"),
    ]
    assert [(p["loc"], p["msg"][:9]) for p in staff_problems(staff, WebhookPolicy.of([]))] == [
        (["body", "items", 0, "id"], "this id a"),
        (["body", "items", 1, "id"], "this id a"),
        (["body", "items", 1, "roles"], "unknown r"),
        (["body", "items", 2, "webhook_url"], "webhooks "),
    ]
    students = [StudentEntry(id="c1", email="c1@x.edu"), StudentEntry(id="s1", email="s1@x.edu")]
    problems = student_problems(students, {"c1": {"kind": "staff"}})
    assert problems == [{"loc": ["body", "items", 0, "id"], "msg": "this id belongs to a member of staff"}]
