"""Spreadsheet exports: rows in, CSV or .xlsx bytes out (pandas; openpyxl for .xlsx).

A spreadsheet reads a text cell that starts with = + - @, a tab or a carriage return as
a formula: such cells get a leading single quote (OWASP, "CSV injection"), so that a
staff display name like =HYPERLINK(…) arrives as text. Only text cells: numbers, negative
ones too, stay numbers. The CSV is UTF-8 with a byte-order mark (without one Excel reads
it in the machine's legacy code page), and in French and German uses ";" and the decimal
comma, which Excel set to those languages expects; in English "," and the decimal point.
"""

from __future__ import annotations

import io

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# language: (separator, decimal mark)
CSV_FORMATS = {"fr": (";", ","), "de": (";", ","), "en": (",", ".")}
CSV_TYPE = "text/csv;charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """A text cell a spreadsheet would run, made inert; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for name in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[name]):  # text, or text and numbers
            frame[name] = frame[name].map(neutralise, na_action="ignore")
    return frame


def to_csv(rows: list[dict], columns: list[str], language: str) -> bytes:
    separator, decimal = CSV_FORMATS.get(language, CSV_FORMATS["fr"])
    buffer = io.BytesIO()
    _frame(rows, columns).to_csv(
        buffer,
        sep=separator,
        decimal=decimal,
        float_format="%.15g",  # 18, not 18.0; 0.6667 as it is
        index=False,
        encoding="utf-8-sig",
        lineterminator="\r\n",
    )
    return buffer.getvalue()


def to_xlsx(rows: list[dict], columns: list[str], sheet: str) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        _frame(rows, columns).to_excel(writer, sheet_name=sheet, index=False)
    return buffer.getvalue()
