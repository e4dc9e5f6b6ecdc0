"""The identity-vigilance SLA in working days (dashboard.enrolment.review).

A working day is a weekday (Monday to Friday) in Europe/Luxembourg wall-clock time; public
holidays are not counted. `working_seconds` counts the working seconds since a fixed Monday
(flat over weekends), `from_working_seconds` is its inverse on weekdays, and `due_at` /
`overdue_before` are the two sides the queue uses (the row's "overdue" flag, and the SQL
filter "En retard").

Documented as implemented:

* Friday 16:00 + 2 working days = Tuesday 16:00 (the weekend does not count).
* A case confirmed on Saturday or Sunday starts counting on Monday 00:00, so with 2 working
  days it is due on Wednesday 00:00 local time, i.e. at the very end of Tuesday.
* A working day is 24 wall-clock hours of a weekday. Luxembourg changes time on Sundays
  (last Sunday of March and of October), which are never working days, so a DST change
  never shortens or lengthens a working day: Friday 16:00 CET + 2 = Tuesday 16:00 CEST.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dashboard.enrolment.review import (
    LUXEMBOURG,
    due_at,
    from_working_seconds,
    overdue_before,
    working_days_between,
    working_seconds,
)

DAY = 86400
UTC = dt.UTC


def lux(*args, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LUXEMBOURG, fold=fold)


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(LUXEMBOURG)


# March 2026: Mon 2, Fri 6, Sat 7, Sun 8, Mon 9, Tue 10, Wed 11.
MON = lux(2026, 3, 2, 10, 0)
FRI_16 = lux(2026, 3, 6, 16, 0)
SAT_10 = lux(2026, 3, 7, 10, 0)


# --- weekends -------------------------------------------------------------------------------


def test_a_week_holds_five_working_days():
    assert working_seconds(lux(2026, 3, 9)) - working_seconds(lux(2026, 3, 2)) == 5 * DAY
    assert working_days_between(lux(2026, 3, 2), lux(2026, 3, 9)) == 5.0


def test_the_weekend_is_flat_and_joins_friday_night_to_monday_morning():
    end_of_friday = working_seconds(lux(2026, 3, 6, 23, 59, 59))
    weekend = {
        working_seconds(moment)
        for moment in (
            lux(2026, 3, 7, 0, 0),
            SAT_10,
            lux(2026, 3, 8, 12, 0),
            lux(2026, 3, 8, 23, 59, 59, 999999),
        )
    }
    assert weekend == {working_seconds(lux(2026, 3, 9, 0, 0))}
    assert weekend == {end_of_friday + 1}


def test_friday_afternoon_plus_two_working_days_is_tuesday_afternoon():
    assert local(due_at(FRI_16, 2)) == lux(2026, 3, 10, 16, 0)
    assert local(due_at(lux(2026, 3, 5, 16, 0), 2)) == lux(2026, 3, 9, 16, 0)  # Thu → Mon
    assert local(due_at(MON, 2)) == lux(2026, 3, 4, 10, 0)  # Mon → Wed
    assert working_days_between(FRI_16, lux(2026, 3, 9, 16, 0)) == 1.0


@pytest.mark.parametrize(
    "confirmed",
    [SAT_10, lux(2026, 3, 7, 0, 0), lux(2026, 3, 8, 23, 59, 59)],
    ids=["saturday-10h", "saturday-0h", "sunday-23h59"],
)
def test_a_case_confirmed_during_the_weekend_is_due_at_the_end_of_tuesday(confirmed):
    # As implemented: the clock starts on Monday 00:00, so 2 working days end on
    # Wednesday 00:00 local time (= Tuesday 24:00), whatever the weekend hour.
    assert local(due_at(confirmed, 2)) == lux(2026, 3, 11, 0, 0)
    assert working_days_between(confirmed, lux(2026, 3, 9, 0, 0)) == 0.0
    assert working_days_between(confirmed, lux(2026, 3, 10, 12, 0)) == 1.5


def test_friday_just_before_midnight_is_due_on_tuesday_just_before_midnight():
    assert local(due_at(lux(2026, 3, 6, 23, 59, 59), 2)) == lux(2026, 3, 10, 23, 59, 59)


def test_working_days_between_never_goes_negative_and_ignores_the_weekend():
    assert working_days_between(lux(2026, 3, 10), lux(2026, 3, 9)) == 0
    assert working_days_between(SAT_10, lux(2026, 3, 8, 18, 0)) == 0
    assert working_days_between(lux(2026, 3, 6, 18, 0), SAT_10) == 0.25


def test_local_time_decides_the_day_not_utc():
    # 23:30 UTC on a winter Sunday is already 00:30 on Monday in Luxembourg ...
    sunday_night_utc = dt.datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
    assert working_seconds(sunday_night_utc) == working_seconds(lux(2026, 3, 9)) + 1800
    # ... and 23:30 UTC on a winter Friday is already Saturday: the weekend.
    friday_night_utc = dt.datetime(2026, 3, 6, 23, 30, tzinfo=UTC)
    assert working_seconds(friday_night_utc) == working_seconds(lux(2026, 3, 9))
    # In summer (UTC+2) the weekend starts at 22:00 UTC on Friday.
    assert working_seconds(dt.datetime(2026, 6, 5, 22, 0, tzinfo=UTC)) == working_seconds(
        lux(2026, 6, 8)
    )
    assert working_seconds(dt.datetime(2026, 6, 5, 21, 59, 59, tzinfo=UTC)) == (
        working_seconds(lux(2026, 6, 8)) - 1
    )


def test_from_working_seconds_returns_utc():
    due = due_at(MON, 2)
    assert due.tzinfo is not None and due.utcoffset() == dt.timedelta(0)
    assert due == dt.datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


# --- daylight saving time (last Sunday of March and of October) ----------------------------


def test_spring_forward_keeps_the_wall_clock_hour():
    # DST starts on Sunday 29 March 2026 at 02:00 CET → 03:00 CEST.
    friday = lux(2026, 3, 27, 16, 0)
    due = due_at(friday, 2)
    assert local(due) == lux(2026, 3, 31, 16, 0)
    assert local(due).utcoffset() == dt.timedelta(hours=2)
    assert friday.utcoffset() == dt.timedelta(hours=1)
    assert due - friday == dt.timedelta(days=4, hours=-1)  # 95 real hours
    assert working_days_between(friday, due) == 2.0


def test_fall_back_keeps_the_wall_clock_hour():
    # DST ends on Sunday 25 October 2026 at 03:00 CEST → 02:00 CET.
    friday = lux(2026, 10, 23, 16, 0)
    due = due_at(friday, 2)
    assert local(due) == lux(2026, 10, 27, 16, 0)
    assert local(due).utcoffset() == dt.timedelta(hours=1)
    assert due - friday == dt.timedelta(days=4, hours=1)  # 97 real hours
    assert working_days_between(friday, due) == 2.0


@pytest.mark.parametrize(
    ("monday", "tuesday"),
    [
        (lux(2026, 3, 30), lux(2026, 3, 31)),  # first weekday in summer time
        (lux(2026, 10, 26), lux(2026, 10, 27)),  # first weekday in winter time
    ],
)
def test_the_weekday_after_a_dst_change_is_a_full_working_day(monday, tuesday):
    assert working_seconds(tuesday) - working_seconds(monday) == DAY
    friday = monday - dt.timedelta(days=3)
    assert working_seconds(monday) - working_seconds(friday) == DAY


def test_every_instant_of_a_dst_sunday_is_weekend():
    for start in (
        dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC),  # Sun 29 March 00:00 CET
        dt.datetime(2026, 10, 24, 22, 0, tzinfo=UTC),  # Sun 25 October 00:00 CEST
    ):
        monday = working_seconds(local(start) + dt.timedelta(days=1))
        values = {working_seconds(start + dt.timedelta(minutes=m)) for m in range(0, 23 * 60, 7)}
        assert values == {monday}


def test_nonexistent_and_ambiguous_local_times_are_weekend_too():
    monday_march = working_seconds(lux(2026, 3, 30))
    assert working_seconds(lux(2026, 3, 29, 2, 30)) == monday_march  # does not exist
    monday_october = working_seconds(lux(2026, 10, 26))
    for fold in (0, 1):  # 02:30 happens twice
        assert working_seconds(lux(2026, 10, 25, 2, 30, fold=fold)) == monday_october


# --- round trips ----------------------------------------------------------------------------

weekdays = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)).filter(
    lambda d: d.weekday() < 5
)
whole_seconds = st.times().map(lambda t: t.replace(microsecond=0))


@given(day=weekdays, time=whole_seconds)
@settings(max_examples=300, deadline=None)
def test_round_trip_of_a_weekday_moment(day, time):
    moment = dt.datetime.combine(day, time, LUXEMBOURG)
    back = from_working_seconds(working_seconds(moment))
    assert back == moment
    assert local(back).replace(tzinfo=None) == moment.replace(tzinfo=None)


@given(value=st.integers(min_value=0, max_value=200 * 52 * 5 * DAY))
@settings(max_examples=300, deadline=None)
def test_round_trip_of_a_working_seconds_value(value):
    moment = from_working_seconds(value)
    assert local(moment).weekday() < 5
    assert working_seconds(moment) == value


def test_round_trip_keeps_sub_second_precision():
    moment = lux(2026, 3, 2, 10, 0, 0, 500000)
    assert from_working_seconds(working_seconds(moment)) == moment
    assert due_at(moment, 2) == lux(2026, 3, 4, 10, 0, 0, 500000)


# --- monotonicity ---------------------------------------------------------------------------

instants = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(a=instants, b=instants)
@settings(max_examples=500, deadline=None)
def test_working_seconds_is_monotonic(a, b):
    t1, t2 = sorted((a, b))
    assert working_seconds(t1) <= working_seconds(t2)


@given(a=instants, b=instants, days=st.integers(min_value=0, max_value=30))
@settings(max_examples=300, deadline=None)
def test_due_at_is_monotonic_and_never_before_the_confirmation(a, b, days):
    t1, t2 = sorted((a, b))
    assert due_at(t1, days) <= due_at(t2, days)
    assert due_at(t1, days) <= due_at(t1, days + 1)
    assert due_at(t1, days) >= t1.replace(microsecond=0)


# --- consistency of the row's flag and the SQL filter -----------------------------------------
# The queue flags a row overdue when `due_at(confirmed, N) < now`, and the quick filter
# "En retard" selects `confirmed < overdue_before(now, N)` in SQL: both must agree.

any_day = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))
edge_seconds = st.one_of(st.sampled_from([0, 1, 3600, 12 * 3600, DAY - 1]), st.integers(0, DAY - 1))
edge_micros = st.one_of(st.just(0), st.sampled_from([1, 500000, 999999]), st.integers(0, 999999))


def _moment(day: dt.date, second: int, micro: int) -> dt.datetime:
    """A real instant on `day` at `second` past local midnight (elapsed time, DST-safe)."""
    midnight = dt.datetime.combine(day, dt.time(), LUXEMBOURG).astimezone(UTC)
    return midnight + dt.timedelta(seconds=second, microseconds=micro)


def _agree(confirmed: dt.datetime, now: dt.datetime, days: int) -> None:
    in_filter = confirmed < overdue_before(now, days)
    flagged = due_at(confirmed, days) < now
    assert in_filter == flagged, (
        f"confirmed {local(confirmed)} ({local(confirmed):%A}), now {local(now)} "
        f"({local(now):%A}), N={days}: filter says {in_filter}, row says {flagged}; "
        f"overdue_before={local(overdue_before(now, days))}, "
        f"due_at={local(due_at(confirmed, days))}"
    )


# "now" is drawn a few days after the confirmation, on the same edge hours, so that it
# often lands exactly on (or a microsecond around) the deadline; drawn independently, the
# two moments almost never meet an edge.
offsets = st.integers(min_value=0, max_value=21)


@given(
    c_day=any_day.filter(lambda d: d.weekday() < 5),
    c_second=edge_seconds,
    offset=offsets,
    now_second=edge_seconds,
    days=st.integers(min_value=1, max_value=12),
)
@settings(max_examples=1000, deadline=None)
def test_flag_and_filter_agree_for_weekday_confirmations_to_the_second(
    c_day, c_second, offset, now_second, days
):
    now_day = c_day + dt.timedelta(days=offset)
    _agree(_moment(c_day, c_second, 0), _moment(now_day, now_second, 0), days)


@given(
    c_day=any_day,
    c_second=edge_seconds,
    c_micro=edge_micros,
    offset=offsets,
    now_second=edge_seconds,
    now_micro=edge_micros,
    days=st.integers(min_value=1, max_value=12),
)
# Hypothesis finds both failure families on its own (checked); they are pinned here too
# so that the failure is deterministic:
@example(  # Saturday 10:00 confirmation, N=2, now = Wednesday 00:00:00.000000
    c_day=dt.date(2026, 3, 7),
    c_second=36000,
    c_micro=0,
    offset=4,
    now_second=0,
    now_micro=0,
    days=2,
)
@example(  # confirmed Monday 10:00:00.000, now Wednesday 10:00:00.500
    c_day=dt.date(2026, 3, 2),
    c_second=36000,
    c_micro=0,
    offset=2,
    now_second=36000,
    now_micro=500000,
    days=2,
)
@settings(max_examples=1000, deadline=None)
def test_flag_and_filter_agree_for_any_moment(
    c_day, c_second, c_micro, offset, now_second, now_micro, days
):
    now_day = c_day + dt.timedelta(days=offset)
    _agree(_moment(c_day, c_second, c_micro), _moment(now_day, now_second, now_micro), days)


def test_a_weekend_confirmation_with_a_one_week_sla_is_not_overdue_the_next_weekend():
    confirmed, now = SAT_10, lux(2026, 3, 14, 12, 0)  # the next Saturday
    assert local(due_at(confirmed, 5)) == lux(2026, 3, 16, 0, 0)
    assert not due_at(confirmed, 5) < now  # the row: not overdue yet
    assert not confirmed < overdue_before(now, 5)  # the SQL filter: fails, it says overdue


def test_flag_and_filter_agree_within_the_second_after_the_deadline():
    confirmed, now = MON, lux(2026, 3, 4, 10, 0, 0, 500000)
    assert (confirmed < overdue_before(now, 2)) == (due_at(confirmed, 2) < now)


def test_a_weekend_confirmation_at_its_exact_deadline_is_not_overdue_either_way():
    confirmed, now = SAT_10, lux(2026, 3, 11, 0, 0)
    assert not due_at(confirmed, 2) < now
    assert not confirmed < overdue_before(now, 2)
