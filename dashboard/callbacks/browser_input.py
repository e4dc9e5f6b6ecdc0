"""What the browser sends, read defensively: a forged request may put anything anywhere.

Ids come from our own layouts, so a value that is not one is simply an unknown id; a grid
selection that is not a list of rows is no selection.
"""

from __future__ import annotations

MAX_ID = 2**31 - 1  # the database's integer columns


def record_id(value) -> int | None:
    """A positive database id, or None for anything else (text, huge, negative, bool)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        number = int(value)
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def first_row(selected) -> dict | None:
    """The first selected row of a grid's selectedRows, if it is one."""
    if isinstance(selected, list) and selected and isinstance(selected[0], dict):
        return selected[0]
    return None


def row_count(value, default: int, limit: int) -> int:
    """A grid's startRow/endRow: a non-negative integer up to `limit`, else `default`."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return default
    try:
        number = int(value)
    except (ValueError, OverflowError):
        return default
    return number if 0 <= number <= limit else default


def mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def items(value) -> list:
    return value if isinstance(value, list) else []


def text(value) -> str | None:
    """A text field's value: a string, a number as typed, or None for anything else (a
    forged list or object is answered like an empty field, never with a 500)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def choices(value) -> list[str]:
    """A multiple choice (checklist, multi-select): the strings in it, nothing else."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
