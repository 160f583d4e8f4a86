from medsupport_cli.people import staff_entry, student_entry
from medsupport_cli.rows import check_rows, read_rows


def test_headers_are_case_and_space_insensitive_and_excel_bom_is_ignored():
    rows = read_rows("\ufeff ID ,Email,Cohort\n s1 , a@x.edu ,2027\n")
    assert rows == [{"id": "s1", "email": "a@x.edu", "cohort": "2027"}]


def test_staff_rows_become_import_entries_with_roles_split_by_semicolon_or_bar():
    rows = read_rows(
        "id,name,email,roles,quiet_start,quiet_end,timezone\n"
        "c1,Ada,ada@x.edu,counsellor; wellbeing_lead,22:00,07:00,Europe/London\n"
        "a1,,adm@x.edu,admin|ops,,,\n"
    )
    checked = check_rows(rows, staff_entry)
    assert checked.ok
    assert checked.accepted["c1"] == (
        2,
        {
            "id": "c1",
            "name": "Ada",
            "roles": ["counsellor", "wellbeing_lead"],
            "email": "ada@x.edu",
            "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/London"},
        },
    )
    assert checked.accepted["a1"][1]["roles"] == ["admin", "ops"]
    assert "quiet_hours" not in checked.accepted["a1"][1]


def test_each_bad_row_is_rejected_with_its_line_and_a_reason():
    rows = read_rows(
        "id,email,roles,quiet_start\n"
        "c1,a@x.edu,counsellor,\n"  # line 2: fine
        ",b@x.edu,counsellor,\n"  # line 3: no id
        "c3,c@x.edu,surgeon,\n"  # line 4: unknown role
        "c4,d@x.edu,counsellor,22:00\n"  # line 5: half of the quiet hours
        "c1,e@x.edu,counsellor,\n"  # line 6: c1 again
    )
    checked = check_rows(rows, staff_entry)
    assert list(checked.accepted) == ["c1"]
    reasons = {r.line: r.reason for r in checked.rejected}
    assert set(reasons) == {3, 4, 5, 6}
    assert "'id' is empty" in reasons[3]
    assert "surgeon" in reasons[4]
    assert "quiet hours" in reasons[5]
    assert "line 2" in reasons[6]


def test_student_rows_carry_an_optional_cohort():
    checked = check_rows(read_rows("id,name,email,cohort\ns1,Sam,s@x.edu,2027\ns2,,t@x.edu,\n"), student_entry)
    assert checked.accepted["s1"][1] == {"id": "s1", "name": "Sam", "email": "s@x.edu", "cohort": "2027"}
    assert "cohort" not in checked.accepted["s2"][1]
