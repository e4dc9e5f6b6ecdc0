"""The character rules shared by every text field, and the defensive reading of what the
browser sends (ids, grid selections, grid row numbers)."""

from __future__ import annotations

import pytest

from dashboard.callbacks.browser_input import first_row, record_id, row_count
from dashboard.enrolment import text


@pytest.mark.parametrize(
    "value",
    ["Marie", "Anne-Sophie O'Neill", "Müller", "Ægir Þórsson", "Ĳssel", "李小龙", "José María"],
)
def test_ordinary_names_have_nothing_forbidden(value):
    assert not text.has_forbidden(value)


@pytest.mark.parametrize(
    "value",
    [
        "Ma\x00rie",  # NUL: PostgreSQL cannot store it
        "Ma\x07rie",  # BEL
        "Ma\x1brie",  # ESC
        "\u202emarie",  # right-to-left override
        "ma\u200brie",  # zero-width space
        "ma\ufeffrie",  # byte-order mark
        "Ma\ud800rie",  # lone surrogate: cannot be encoded
        "Ma\ufffdrie",  # what a mangled byte arrives as
        "Ma\ue000rie",  # private use
    ],
)
def test_invisible_control_and_broken_characters_are_forbidden(value):
    assert text.has_forbidden(value)


def test_a_note_may_have_several_lines_but_a_name_may_not():
    assert not text.has_forbidden("Vu le passeport.\n\tConforme.", multiline=True)
    assert text.has_forbidden("Vu le passeport.\nConforme.")
    assert text.has_forbidden("Vu\x00", multiline=True)


def test_a_search_term_loses_what_cannot_match_and_keeps_the_rest():
    assert text.searchable(" Ma\x00ri\u200be\ud800 ") == "Marie"
    assert text.searchable("x" * 500) == "x" * 200
    assert text.searchable(None) == ""


def test_scrub_replaces_nul_and_lone_surrogates_everywhere_in_a_json_value():
    body = {
        "inputs": [{"id": "a", "value": "Ma\x00rie"}, {"id": "b", "value": ["\ud800", 3, None]}],
        "k\ud800": {"nested": "ok"},
    }
    out = text.scrub(body)
    assert out is body  # in place: Dash reads the very object Flask cached
    assert body["inputs"][0]["value"] == "Ma\ufffdrie"
    assert body["inputs"][1]["value"] == ["\ufffd", 3, None]
    assert body["k\ufffd"] == {"nested": "ok"} and "k\ud800" not in body
    assert text.scrub("Marie") == "Marie"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        ("42", 42),
        (2**31 - 1, 2**31 - 1),
        (2**31, None),
        ("9" * 30, None),
        ("٤٢", None),  # Arabic-Indic digits: int() would take them
        ("-1", None),
        (0, None),
        (True, None),
        ("1 OR 1=1", None),
        (None, None),
        (4.0, None),
        ({"id": 1}, None),
    ],
)
def test_record_id_accepts_only_a_database_id(value, expected):
    assert record_id(value) == expected


@pytest.mark.parametrize(
    ("selected", "expected"),
    [
        ([{"id": 3}], {"id": 3}),
        ([{"id": 3}, {"id": 4}], {"id": 3}),
        ([], None),
        (None, None),
        ("<script>", None),
        (["1 OR 1=1"], None),
        ({"id": 1}, None),
    ],
)
def test_first_row_is_a_row_or_nothing(selected, expected):
    assert first_row(selected) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (100, 100), ("200", 200), ("abc", 7), (-1, 7), ("9" * 30, 7), (None, 7), (True, 7)],
)
def test_row_count_falls_back_to_the_default(value, expected):
    assert row_count(value, 7, 10_000) == expected
