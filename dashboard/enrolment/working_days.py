"""Working days in Luxembourg: the identity-vigilance SLA's clock.

A working day is a weekday (Monday to Friday, Europe/Luxembourg wall-clock time) that is
not a public holiday of Luxembourg's calendar (the `holidays` package: 1 January, Easter
Monday, 1 May, Europe Day 9 May since 2019, Ascension, Whit Monday, 23 June, 15 August,
1 November, 25 and 26 December). A holiday that falls on a Saturday or a Sunday changes
nothing: that day is already not a working day, and no other day is taken off instead.

Working time is counted in whole microseconds since a fixed Monday: flat over weekends and
holidays, so monotonic, and exact, so that the queue row's "overdue" flag (`due_at`) and
its "En retard" SQL filter (`overdue_before`) agree to the instant.

The calendar covers HOLIDAY_YEARS: from 1970, where the count starts, to 2100, where the
package's calendar ends (older versions go on, newer ones stop). Before and after them only
weekends are non-working days, so the mapping stays monotonic and invertible for any date
a datetime can hold (a birth year of 1850, a deadline in 2150).
"""

from __future__ import annotations

import datetime as dt
import functools
from bisect import bisect_left, bisect_right
from zoneinfo import ZoneInfo

LUXEMBOURG = ZoneInfo("Europe/Luxembourg")
HOLIDAY_YEARS = range(1970, 2101)
_MONDAY = dt.date(1970, 1, 5)
_DAY = 86400
_DAY_US = _DAY * 1_000_000
_MICROSECOND = dt.timedelta(microseconds=1)


@functools.cache
def _holidays_by_year() -> dict[int, frozenset[dt.date]]:
    import holidays  # only when first needed: most commands never count working days

    # One call for all the years: the package builds each calendar object slowly.
    by_year: dict[int, set[dt.date]] = {year: set() for year in HOLIDAY_YEARS}
    for day in holidays.country_holidays("LU", years=HOLIDAY_YEARS):
        by_year[day.year].add(day)
    return {year: frozenset(days) for year, days in by_year.items()}


def public_holidays(year: int) -> frozenset[dt.date]:
    """Luxembourg's public holidays of `year` (none outside HOLIDAY_YEARS)."""
    return _holidays_by_year().get(year, frozenset())


@functools.cache
def _calendar() -> tuple[list[int], list[int], int]:
    """The holidays that fall on weekdays, as weekday numbers (5 per week since _MONDAY),
    sorted; the same minus their rank (working days before each); how many precede _MONDAY.
    """
    weekdays = []
    for year in HOLIDAY_YEARS:
        for day in sorted(public_holidays(year)):
            weeks, weekday = divmod((day - _MONDAY).days, 7)
            if weekday < 5:
                weekdays.append(weeks * 5 + weekday)
    before_holiday = [w - rank for rank, w in enumerate(weekdays)]
    return weekdays, before_holiday, bisect_left(weekdays, 0)


def prepare() -> None:
    """Build the calendar now rather than in the first request that counts working days."""
    _calendar()


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in public_holidays(day.year)


def working_seconds(moment: dt.datetime) -> float:
    """Working seconds elapsed since a fixed Monday: flat outside working days, so monotonic."""
    return _working_us(moment) / 1_000_000


def _working_us(moment: dt.datetime) -> int:
    on_weekdays, _, at_monday = _calendar()
    local = moment.astimezone(LUXEMBOURG)
    weeks, weekday = divmod((local.date() - _MONDAY).days, 7)
    # A weekend counts as the Monday after it, at 00:00.
    number = weeks * 5 + min(weekday, 5)
    earlier = bisect_left(on_weekdays, number)
    days = number - earlier + at_monday  # working days before this one
    if weekday >= 5 or (earlier < len(on_weekdays) and on_weekdays[earlier] == number):
        return days * _DAY_US
    # Wall-clock time of the day: Luxembourg changes time on Sundays only.
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return days * _DAY_US + (local - midnight) // _MICROSECOND


def from_working_seconds(value: float) -> dt.datetime:
    """The latest instant with this working time (a working day's 00:00 rather than the
    weekend or holidays before it)."""
    return _from_working_us(round(value * 1_000_000))


def _from_working_us(value: int, *, earliest: bool = False) -> dt.datetime:
    _, before_holiday, at_monday = _calendar()
    days, micros = divmod(value, _DAY_US)
    # The working day with `days` working days before it: past every holiday that has
    # no more working days before it than that.
    number = days - at_monday
    number += bisect_right(before_holiday, number)
    weeks, weekday = divmod(number, 5)
    day = _MONDAY + dt.timedelta(days=weeks * 7 + weekday)
    if earliest and micros == 0:
        # The non-working days just before it share this working time; the earliest
        # instant is the first of them at 00:00 (Saturday, or a Friday holiday...).
        while not is_working_day(day - dt.timedelta(days=1)):
            day -= dt.timedelta(days=1)
    local = dt.datetime.combine(day, dt.time(), LUXEMBOURG) + dt.timedelta(microseconds=micros)
    return local.astimezone(dt.UTC)


def due_at(confirmed_at: dt.datetime, working_days: int) -> dt.datetime:
    return _from_working_us(_working_us(confirmed_at) + working_days * _DAY_US)


def overdue_before(now: dt.datetime, working_days: int) -> dt.datetime:
    """Cases confirmed before this moment are past their SLA at `now`:
    exactly those whose `due_at` is before `now`."""
    return _from_working_us(_working_us(now) - working_days * _DAY_US, earliest=True)


def working_days_between(start: dt.datetime, end: dt.datetime) -> float:
    return max(0, _working_us(end) - _working_us(start)) / _DAY_US
