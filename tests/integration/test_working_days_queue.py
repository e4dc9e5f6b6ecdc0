"""The SLA around Luxembourg's public holidays on a real database (SQLite, and PostgreSQL
when TEST_DATABASE_URL is set): cases confirmed around holidays through the real services,
then, at every instant a deadline falls on (and a microsecond either side), the queue's
"En retard" SQL filter returns exactly the rows flagged overdue, and the managers' backlog
ageing and overdue count agree with the rows' own deadlines.
"""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule, metrics, review
from dashboard.enrolment.working_days import LUXEMBOURG, due_at
from tests import factories as f
from tests.working_time import DAY_US, MICRO, working, working_us_between


def lux(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LUXEMBOURG)


# When the secretaries confirmed "my own device", local time: around each holiday.
CONFIRMED = [
    lux(2025, 12, 24, 16, 0),  # before Christmas (Thu) and St Stephen's (Fri)
    lux(2025, 12, 26, 10, 0),  # on St Stephen's
    lux(2025, 12, 31, 23, 59, 59, 999999),  # the last instant before New Year's Day
    lux(2026, 1, 1, 12, 0),  # on New Year's Day (Thursday)
    lux(2026, 4, 3, 16, 0),  # Good Friday: a working day in Luxembourg
    lux(2026, 4, 6, 9, 0),  # on Easter Monday
    lux(2026, 4, 30, 16, 0),  # before 1 May (Friday)
    lux(2026, 5, 8, 16, 0),  # before Europe Day on a Saturday: nothing extra
    lux(2026, 5, 13, 16, 0),  # before Ascension (Thursday 14 May)
    lux(2026, 5, 14, 10, 0),  # on Ascension
    lux(2026, 5, 22, 16, 0),  # before Whit Monday (25 May)
    lux(2026, 5, 23, 10, 0),  # the Saturday before Whit Monday
    lux(2026, 6, 22, 16, 0),  # before National Day (Tuesday 23 June)
    lux(2026, 8, 14, 16, 0),  # before Assumption on a Saturday
    lux(2026, 10, 30, 16, 0),  # before All Saints' on a Sunday
    lux(2026, 12, 24, 16, 0),  # before Christmas (Friday) and St Stephen's (Saturday)
    lux(2026, 12, 25, 10, 0),  # on Christmas
    lux(2027, 3, 26, 16, 0),  # before summer time (Sun 28) and Easter Monday (29 March)
    lux(2027, 5, 5, 10, 0),  # before Ascension (Thursday 6 May)
    lux(2027, 10, 29, 16, 0),  # before winter time (Sun 31) and All Saints' (Mon 1 Nov)
]
HOLIDAYS = [
    lux(2025, 12, 25, 12, 0),
    lux(2026, 1, 1, 0, 0),
    lux(2026, 4, 6, 12, 0),
    lux(2026, 5, 1, 0, 0),
    lux(2026, 5, 14, 23, 59, 59, 999999),
    lux(2026, 5, 25, 12, 0),
    lux(2026, 6, 23, 12, 0),
    lux(2026, 12, 25, 0, 0),
    lux(2027, 3, 29, 12, 0),
    lux(2027, 11, 1, 12, 0),
]


@pytest.fixture
def cases(backend, clock) -> dict[int, dt.datetime]:
    """One pending case per confirmation instant: {enrolment id: confirmed at (UTC)}."""
    prof = f.professional(backend)
    made = {}
    for i, confirmed in enumerate(CONFIRMED):
        clock.now = confirmed.astimezone(dt.UTC)
        enrolment_id, _ = f.walk_to(
            backend,
            prof,
            lc.PENDING_REVIEW,
            matricule=matricule.make("19800101", f"{i:03d}"),
            email=f"secretaire{i}@example.lu",
        )
        made[enrolment_id] = clock.now
    return made


def _edges(cases, days: tuple[int, ...], around=(-MICRO, dt.timedelta(0), MICRO)):
    """Every deadline of these cases, a microsecond before and after it, and the holidays."""
    moments = set()
    for confirmed in cases.values():
        for n in days:
            due = due_at(confirmed, n)
            moments |= {due + shift for shift in around}
    moments |= {h.astimezone(dt.UTC) for h in HOLIDAYS}
    return sorted(moments)


def late(confirmed: dt.datetime, now: dt.datetime, days: int) -> bool:
    """Past `days` working days, counted day by day on the holidays package's calendar."""
    return working_us_between(confirmed, now) > days * DAY_US


def test_the_cases_were_confirmed_around_holidays(backend, cases):
    reviewer = f.reviewer(backend)
    with backend.uow() as uow:
        rows, total = review.queue_page(uow, review.QueueQuery(), reviewer)
    assert total == len(CONFIRMED)
    assert {r.enrolment_id: r.confirmed_at for r in rows} == cases
    assert sum(not working(c.date()) for c in CONFIRMED) == 6  # 5 holidays, 1 Saturday


def test_the_overdue_filter_returns_exactly_the_rows_flagged_overdue(backend, clock, cases):
    reviewer = f.reviewer(backend)
    sla = backend.settings.review_sla_working_days
    seen = set()
    for now in _edges(cases, (sla,)):
        clock.now = now
        with backend.uow() as uow:
            rows, total = review.queue_page(uow, review.QueueQuery(), reviewer)
            filtered, filtered_total = review.queue_page(
                uow, review.QueueQuery(quick=frozenset({"overdue"})), reviewer
            )
        flagged = {r.enrolment_id for r in rows if r.overdue}
        assert total == len(cases)
        assert {r.enrolment_id for r in filtered} == flagged, now.astimezone(LUXEMBOURG)
        assert filtered_total == len(flagged)
        # ... and the flag is the deadline in working days, holidays left out.
        assert flagged == {i for i, c in cases.items() if late(c, now, sla)}
        seen.add(len(flagged))
    assert seen >= {0, len(cases)}  # from none overdue to all, one deadline at a time


def _bucket(confirmed: dt.datetime, now: dt.datetime) -> str:
    for name, _low, high in metrics.AGEING_BUCKETS[:-1]:
        if not late(confirmed, now, high):  # waiting at most `high` working days
            return name
    return metrics.AGEING_BUCKETS[-1][0]


def test_the_backlog_ageing_and_overdue_count_agree_with_the_rows(backend, clock, cases):
    sla = backend.settings.review_sla_working_days
    # Every bucket edge (at it, and a microsecond past it) of the cases confirmed on a day
    # off, or before a holiday that follows a change of time.
    chosen = {i: c for i, c in cases.items() if not working(c.astimezone(LUXEMBOURG).date())}
    chosen |= dict(list(cases.items())[-3:])
    for i, now in enumerate(_edges(chosen, (1, 2, 5), around=(dt.timedelta(0), MICRO))):
        clock.now = now
        expected = {name: 0 for name, *_ in metrics.AGEING_BUCKETS}
        for confirmed in cases.values():
            expected[_bucket(confirmed, now)] += 1
        overdue = sum(late(c, now, sla) for c in cases.values())
        with backend.uow() as uow:
            live = metrics.compute(uow, metrics.MetricsFilter())
        assert dict(live.ageing) == expected, now.astimezone(LUXEMBOURG)
        assert (live.kpis["backlog"], live.kpis["overdue"]) == (len(cases), overdue)
        if i % 7 == 0:  # the reference computation, from the raw rows, on a sample
            with backend.uow() as uow:
                reference = metrics.compute_from_rows(uow, metrics.MetricsFilter())
            assert dict(reference.ageing) == expected, now.astimezone(LUXEMBOURG)
            assert reference.kpis["overdue"] == overdue


# --- what the pages say about it -----------------------------------------------------------

SAYS_HOLIDAYS = {"fr": "jours fériés", "de": "Feiertage", "en": "public holidays"}


@pytest.mark.parametrize("language", sorted(SAYS_HOLIDAYS))
def test_the_queue_says_that_public_holidays_do_not_count(sqlite_backend, language):
    backend = sqlite_backend
    from dashboard.app import create_app
    from tests import dashclient as dc

    reviewer = f.reviewer(backend)
    client = f.signed_in(
        create_app(backend.settings, backend=backend).server.test_client(), "staff", reviewer
    )
    client.set_cookie("esante_lang", language)
    page = dc.render_page(client, "/backoffice").get_json()
    grids = _find(page, lambda c: c.get("props", {}).get("id") == "queue-grid")
    [waiting] = [c for c in grids[0]["props"]["columnDefs"] if c["field"] == "waiting_days"]
    assert SAYS_HOLIDAYS[language] in waiting["headerTooltip"]


@pytest.mark.parametrize("language", sorted(SAYS_HOLIDAYS))
def test_the_ageing_chart_says_that_public_holidays_do_not_count(language):
    from dashboard import charts, i18n

    i18n.set_language(language)
    try:
        figure = charts.ageing(metrics.Metrics(ageing=[(b, 1) for b, *_ in metrics.AGEING_BUCKETS]))
    finally:
        i18n.set_language(None)
    assert SAYS_HOLIDAYS[language] in figure["layout"]["xaxis"]["title"]["text"]


def _find(node, match) -> list[dict]:
    """Components of a rendered layout (JSON) that `match`, depth first."""
    found = []
    if isinstance(node, dict):
        if match(node):
            found.append(node)
        for value in node.values():
            found += _find(value, match)
    elif isinstance(node, list):
        for value in node:
            found += _find(value, match)
    return found


def test_the_app_builds_the_holiday_calendar_before_any_request(sqlite_backend):
    from dashboard.app import create_app
    from dashboard.enrolment import working_days

    working_days._calendar.cache_clear()
    create_app(sqlite_backend.settings, backend=sqlite_backend)
    assert working_days._calendar.cache_info().currsize == 1  # not left to a reviewer's page
