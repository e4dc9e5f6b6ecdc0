"""Working time counted the slow, obvious way, for the tests to check the real one against:
the `holidays` package's Luxembourg calendar read directly, and the days walked one by one."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import holidays

LUXEMBOURG = ZoneInfo("Europe/Luxembourg")
MICRO = dt.timedelta(microseconds=1)
DAY_US = 86400 * 1_000_000
CALENDAR_YEARS = range(1970, 2101)
LU_HOLIDAYS = holidays.country_holidays("LU", years=CALENDAR_YEARS)


def working(day: dt.date) -> bool:
    """A weekday that is not a public holiday (outside the calendar's years: a weekday)."""
    return day.weekday() < 5 and not (day.year in CALENDAR_YEARS and day in LU_HOLIDAYS)


def working_us_between(start: dt.datetime, end: dt.datetime) -> int:
    """Working microseconds from `start` to `end` (wall-clock time of each working day)."""
    first = start.astimezone(LUXEMBOURG).replace(tzinfo=None)
    last = end.astimezone(LUXEMBOURG).replace(tzinfo=None)
    total, day = 0, first.date()
    while day <= last.date():
        if working(day):
            opens = max(first, dt.datetime.combine(day, dt.time()))
            closes = min(last, dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
            total += max(0, (closes - opens) // MICRO)
        day += dt.timedelta(days=1)
    return total
