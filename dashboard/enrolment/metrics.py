"""Onboarding metrics for managers: aggregates only, computed by the database.

`compute` reads the daily rollups (dashboard.enrolment.rollup), refreshed first when
events arrived since; the live figures (backlog, overdue, ageing) read the pending cases
through their partial index. `compute_from_rows` is the same page computed from the raw
rows, every figure a GROUP BY / COUNT / window query: the reference `compute` is tested
against. No secretary's or professional's name, email or matricule leaves here; the
team's own work is shown per reviewer, by the display name (the throughput managers follow).
Cohort: the enrolments declared within the chosen dates (and specialty, if any).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlalchemy import Connection, case, distinct, func, literal, literal_column, select, union_all
from sqlalchemy.sql import ColumnElement

from dashboard.enrolment import access_metrics, rollup
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.model import (
    Decision,
    Enrolment,
    Event,
    LuxTrustIdentity,
    MetricsDaily,
    MetricsDuration,
    MetricsHandling,
    MetricsMismatch,
    Professional,
    StaffUser,
)
from dashboard.enrolment.uow import UnitOfWork
from dashboard.enrolment.working_days import LUXEMBOURG, overdue_before
from dashboard.i18n import N_


@dataclass(frozen=True)
class MetricsFilter:
    start: dt.date | None = None  # declared on or after
    end: dt.date | None = None  # declared on or before
    specialty: str | None = None


OUTCOMES = (
    ("auto", N_("Compte créé automatiquement")),
    ("approved", N_("Compte créé après vérification")),
    ("rejected", N_("Refusée")),
    ("pending_review", N_("En vérification manuelle")),
    ("in_progress", N_("En cours")),
    ("expired", N_("Expirée")),
    ("locked", N_("Bloquée")),
    ("cancelled", N_("Annulée")),
)
AGEING_BUCKETS = (("0-1", 0, 1), ("1-2", 1, 2), ("2-5", 2, 5), (">5", 5, None))


@dataclass
class Metrics:
    kpis: dict[str, float | int | None] = field(default_factory=dict)
    funnel: list[tuple[str, int]] = field(default_factory=list)
    endings: list[tuple[str, int]] = field(default_factory=list)
    trend: list[tuple[dt.date, str, int]] = field(default_factory=list)
    ageing: list[tuple[str, int]] = field(default_factory=list)
    mismatches: list[tuple[str, str, int]] = field(default_factory=list)
    # (display name, decisions taken or proposed, confirmations, median handling days)
    reviewers: list[tuple[str, int, int, float | None]] = field(default_factory=list)
    specialties: list[str] = field(default_factory=list)
    # The reminders' effect (issue 21): reminders_sent, reminded, completed_after_reminder,
    # completed_after_reminder_rate.
    reminders: dict[str, float | int | None] = field(default_factory=dict)
    # Accounts, ended access and provisioning (issue 20): dashboard.enrolment.access_metrics.
    access: access_metrics.AccessMetrics = field(default_factory=access_metrics.AccessMetrics)


def _bounds(f: MetricsFilter):
    """The chosen days are Luxembourg days (midnight to midnight, local time)."""
    start = dt.datetime.combine(f.start, dt.time(), LUXEMBOURG) if f.start else None
    end = (
        dt.datetime.combine(f.end + dt.timedelta(days=1), dt.time(), LUXEMBOURG) if f.end else None
    )
    return start, end


def _cohort(f: MetricsFilter) -> list[ColumnElement]:
    start, end = _bounds(f)
    conditions = []
    if start:
        conditions.append(Enrolment.created_at >= start)
    if end:
        conditions.append(Enrolment.created_at < end)
    if f.specialty:
        conditions.append(
            Enrolment.professional_id.in_(
                select(Professional.id).where(Professional.specialty == f.specialty)
            )
        )
    return conditions


# The SQL both ways share (kept under these names for the raw computation and its tests).
_seconds = rollup.seconds
_local_week = rollup.local_week
_outcome = rollup.outcome
_as_date = rollup.as_date


# The duration figures. Durations count in whole hundredths of a day (rollup.hundredths).
# The median is the conventional one: the middle value, or the mean of the two middle
# values for an even count. The 90th percentile is the nearest rank: value number
# ceil(0.9 n) in ascending order, the smallest with at least 90 % of the values at or
# below it (a duration that did occur). Both computations use these same definitions.
P90 = 0.9


def middle_ranks(total: int) -> tuple[int, int]:
    """0-based ranks of the two middle values of `total` (one and the same when odd)."""
    return (total - 1) // 2, total // 2


def nearest_rank(total: int, fraction: float) -> int:
    """0-based rank of the nearest-rank percentile `fraction` of `total` values."""
    return max(0, min(total - 1, math.ceil(fraction * total) - 1))


def _mean_days(low: int, high: int, dialect: str) -> float | None:
    """The mean of two durations in hundredths, in days (None if either is unknown)."""
    a, b = rollup.as_days(low, dialect), rollup.as_days(high, dialect)
    return None if a is None or b is None else (low + high) / 200


def median(histogram: tuple | None, dialect: str) -> float | None:
    """The median of a histogram from rollup.unpack, in days."""
    total = int(histogram[1].sum()) if histogram else 0
    if not total:
        return None
    low, high = middle_ranks(total)
    return _mean_days(rollup.nth(histogram, low), rollup.nth(histogram, high), dialect)


def p90(histogram: tuple | None, dialect: str) -> float | None:
    """The nearest-rank 90th percentile of a histogram from rollup.unpack, in days."""
    total = int(histogram[1].sum()) if histogram else 0
    if not total:
        return None
    return rollup.as_days(rollup.nth(histogram, nearest_rank(total, P90)), dialect)


def _durations_from_rows(uow: UnitOfWork, dialect: str, seconds, conditions):
    """Median and 90th percentile computed by the database (ORDER BY … OFFSET), in days."""
    total = uow.session.scalar(select(func.count()).select_from(Enrolment).where(*conditions))
    if not total:
        return None, None

    def at(rank: int, count: int = 1) -> list[int]:
        values = uow.session.scalars(
            select(seconds)
            .select_from(Enrolment)
            .where(*conditions)
            .order_by(seconds)
            .offset(rank)
            .limit(count)
        ).all()
        return [rollup.hundredths(v, dialect) for v in values]

    low, high = middle_ranks(total)
    middle = at(low, high - low + 1)
    (ninetieth,) = at(nearest_rank(total, P90))
    return _mean_days(middle[0], middle[-1], dialect), rollup.as_days(ninetieth, dialect)


def compute_from_rows(uow: UnitOfWork, f: MetricsFilter | None = None) -> Metrics:
    """Every figure from the raw rows (seconds at 1,000,000 enrolments): the reference."""
    f = f or MetricsFilter()
    dialect = uow.session.get_bind().dialect.name
    cohort = _cohort(f)
    m = Metrics()
    s = uow.session

    # Counts of the cohort by outcome: one GROUP BY.
    # One expression object for SELECT and GROUP BY: PostgreSQL must see the same
    # bind parameters in both, or it refuses the grouping.
    outcome = _outcome()
    by_outcome = dict(
        s.execute(select(outcome, func.count()).where(*cohort).group_by(outcome)).all()
    )
    declared = sum(by_outcome.values())
    auto = by_outcome.get("auto", 0)
    approved = by_outcome.get("approved", 0)
    rejected = by_outcome.get("rejected", 0)

    # Funnel from the event log: how many enrolments of the cohort reached each action.
    reached = dict(
        s.execute(
            select(Event.action, func.count(distinct(Event.enrolment_id)))
            .join(Enrolment, Enrolment.id == Event.enrolment_id)
            .where(
                *cohort,
                Event.action.in_(
                    [
                        "link_opened",
                        "cgu_accepted",
                        "matricule_verified",
                        "account_created",
                        "identity_mismatch",
                        "device_confirmed",
                    ]
                ),
            )
            .group_by(Event.action)
        ).all()
    )
    luxtrust_done = (
        s.scalar(
            select(func.count(distinct(LuxTrustIdentity.enrolment_id)))
            .join(Enrolment, Enrolment.id == LuxTrustIdentity.enrolment_id)
            .where(*cohort)
        )
        or 0
    )
    manual = _funnel(m, declared, reached, luxtrust_done, by_outcome)

    # Time from declaration to account, automatic and manual separately.
    seconds = _seconds(dialect, Enrolment.decided_at, Enrolment.created_at)
    created = [*cohort, Enrolment.state == lc.ACCOUNT_CREATED]
    auto_c = [*created, Enrolment.decision == "auto_match"]
    manual_c = [*created, Enrolment.decision == "reviewer_approved"]

    now = uow.now()
    backlog = (
        s.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.state == lc.PENDING_REVIEW)
        )
        or 0
    )
    cutoff = overdue_before(now, uow.settings.review_sla_working_days)
    overdue = (
        s.scalar(
            select(func.count())
            .select_from(Enrolment)
            .where(Enrolment.state == lc.PENDING_REVIEW, Enrolment.device_confirmed_at < cutoff)
        )
        or 0
    )
    conditions = {"auto_match": auto_c, "reviewer_approved": manual_c}
    m.kpis = _kpis(
        declared, auto, approved, rejected, manual, luxtrust_done, backlog, overdue,
        lambda decision: _durations_from_rows(uow, dialect, seconds, conditions[decision]),
    )  # fmt: skip
    # Reminders: the reminded enrolments of the cohort by outcome, and how many were sent.
    reminded = {
        o: (int(n), int(sent or 0))
        for o, n, sent in s.execute(
            select(outcome, func.count(), func.sum(Enrolment.reminders_sent))
            .where(*cohort, Enrolment.reminders_sent > 0)
            .group_by(outcome)
        ).all()
    }
    m.reminders = _reminder_kpis(reminded)

    # Trend by week of declaration (Monday, Luxembourg time), stacked by outcome.
    week = _local_week(dialect, Enrolment.created_at)
    rows = s.execute(
        select(week.label("week"), outcome.label("outcome"), func.count())
        .where(*cohort)
        .group_by(week, outcome)
        .order_by(week, outcome)
    ).all()
    m.trend = [(_as_date(w), o, n) for w, o, n in rows]

    # Backlog ageing in working days since the secretary's confirmation (current backlog).
    # Confirmed at or after overdue_before(now, k) ⇔ waiting at most k working days.
    edges = {k: overdue_before(now, k) for k in (1, 2, 5)}
    confirmed = Enrolment.device_confirmed_at
    bucket = case(
        (confirmed >= edges[1], literal("0-1")),
        (confirmed >= edges[2], literal("1-2")),
        (confirmed >= edges[5], literal("2-5")),
        else_=literal(">5"),
    )
    ageing = dict(
        s.execute(
            select(bucket, func.count())
            .where(Enrolment.state == lc.PENDING_REVIEW)
            .group_by(bucket)
        ).all()
    )
    m.ageing = [(name, ageing.get(name, 0)) for name, *_ in AGEING_BUCKETS]

    # Mismatch reasons: field × kind over the cohort's non-matching LuxTrust identities.
    parts = []
    for name in ("last_name", "first_names", "birth_date", "matricule"):
        column = getattr(LuxTrustIdentity, f"{name}_kind")
        parts.append(
            select(literal(name).label("field"), column.label("kind"))
            .join(Enrolment, Enrolment.id == LuxTrustIdentity.enrolment_id)
            .where(
                *cohort,
                LuxTrustIdentity.matches.is_(False),
                column.is_not(None),
                column != "identical",
            )
        )
    kinds = union_all(*parts).subquery()
    m.mismatches = [
        (fld, kind, n)
        for fld, kind, n in s.execute(
            select(kinds.c.field, kinds.c.kind, func.count())
            .group_by(kinds.c.field, kinds.c.kind)
            .order_by(kinds.c.field, kinds.c.kind)
        ).all()
    ]

    # Reviewers: final decisions in the period, credited to the reviewer who took or
    # proposed each and to the one who confirmed it (four-eyes); a decision is dated, and
    # its handling timed, when it became final. Median handling time: window functions.
    start, end = _bounds(f)
    final = func.coalesce(Decision.confirmed_at, Decision.created_at)
    decided = [
        Decision.status == "final",
        Decision.outcome != "auto_match",
        Decision.reviewer_id.is_not(None),
    ]
    if start:
        decided.append(final >= start)
    if end:
        decided.append(final < end)
    if f.specialty:
        decided.append(
            Enrolment.professional_id.in_(
                select(Professional.id).where(Professional.specialty == f.specialty)
            )
        )
    handling = _seconds(dialect, final, Enrolment.device_confirmed_at)
    credited = union_all(
        *(
            select(staff.label("staff_id"), literal(role).label("role"), handling.label("seconds"))
            .join(Enrolment, Enrolment.id == Decision.enrolment_id)
            .where(*decided, staff.is_not(None))
            for staff, role in (
                (Decision.reviewer_id, rollup.DECISION),
                (Decision.confirmed_by_id, rollup.CONFIRMATION),
            )
        )
    ).subquery()
    mine = {"partition_by": credited.c.staff_id}
    ranked = select(
        credited.c.staff_id,
        credited.c.seconds,
        func.row_number().over(**mine, order_by=credited.c.seconds).label("rn"),
        func.count().over(**mine).label("n"),
        func.sum(case((credited.c.role == rollup.DECISION, 1), else_=0))
        .over(**mine)
        .label("decisions"),
    ).subquery()
    # The two middle rows (1-based (n + 1) // 2 and n // 2 + 1; the same row when n is odd).
    middle = ranked.c.rn.in_([(ranked.c.n + 1) // 2, ranked.c.n // 2 + 1])
    found: dict[int, tuple[str, int, int, list[int]]] = {}
    for staff_id, name, n, decisions, secs in s.execute(
        select(
            StaffUser.id, StaffUser.display_name, ranked.c.n, ranked.c.decisions, ranked.c.seconds
        )
        .join(ranked, ranked.c.staff_id == StaffUser.id)
        .where(middle)
        .order_by(ranked.c.n.desc(), StaffUser.display_name, ranked.c.rn)
    ).all():
        row = found.setdefault(staff_id, (name, int(decisions), int(n) - int(decisions), []))
        row[3].append(rollup.hundredths(secs, dialect))
    m.reviewers = [
        (name, decisions, confirmations, _mean_days(values[0], values[-1], dialect))
        for name, decisions, confirmations, values in found.values()
    ]
    m.specialties = [
        sp
        for (sp,) in s.execute(
            select(Professional.specialty)
            .where(Professional.specialty.is_not(None))
            .distinct()
            .order_by(Professional.specialty)
        ).all()
    ]
    m.access = access_metrics.compute(uow, f.start, f.end, f.specialty, from_rows=True)
    m.access.usable, m.access.median_seconds_to_usable = access_metrics.usable_from_rows(
        uow, cohort
    )
    return m


def compute(uow: UnitOfWork, f: MetricsFilter | None = None) -> Metrics:
    """The page's figures from the daily rollups, refreshed first when behind the events.

    Equal to compute_from_rows for every filter. It may commit the refresh: call it on a
    unit of work with nothing else to write.
    """
    f = f or MetricsFilter()
    rollup.ensure_fresh(uow)
    dialect = uow.session.get_bind().dialect.name
    s = uow.session.connection()  # Core rows: the ORM adds nothing to aggregates
    m = Metrics()

    def chosen(table, day=None) -> list[ColumnElement]:
        day = table.day if day is None else day
        conditions = []
        if f.start:
            conditions.append(day >= f.start)
        if f.end:
            conditions.append(day <= f.end)
        if f.specialty:
            conditions.append(table.specialty == f.specialty)
        return conditions

    # Outcomes, funnel and weekly trend: one row per week and outcome.
    by_outcome: dict[str, int] = {}
    reached = dict.fromkeys(rollup.FUNNEL_ACTIONS, 0)
    luxtrust_done = 0
    weeks: dict[tuple[dt.date, str], int] = {}
    daily = MetricsDaily
    week = rollup.monday(dialect, daily.day)
    reminded: dict[str, tuple[int, int]] = {}
    for monday, outcome, declared, link, cgu, verified, luxtrust, confirmed, n, sent in s.execute(
        select(
            week,
            daily.outcome,
            func.sum(daily.declared),
            func.sum(daily.link_opened),
            func.sum(daily.cgu_accepted),
            func.sum(daily.matricule_verified),
            func.sum(daily.luxtrust_done),
            func.sum(daily.device_confirmed),
            func.sum(daily.reminded),
            func.sum(daily.reminders),
        )
        .where(*chosen(daily))
        .group_by(week, daily.outcome)
    ):
        if n:
            was = reminded.get(outcome, (0, 0))
            reminded[outcome] = (was[0] + int(n), was[1] + int(sent or 0))
        by_outcome[outcome] = by_outcome.get(outcome, 0) + int(declared)
        for action, n in zip(rollup.FUNNEL_ACTIONS, (link, cgu, verified, confirmed), strict=True):
            reached[action] += int(n)
        luxtrust_done += int(luxtrust)
        weeks[_as_date(monday), outcome] = int(declared)
    declared = sum(by_outcome.values())
    auto = by_outcome.get("auto", 0)
    approved = by_outcome.get("approved", 0)
    rejected = by_outcome.get("rejected", 0)
    manual = _funnel(m, declared, reached, luxtrust_done, by_outcome)

    # Declaration → account: the median and 90th percentile of the histograms.
    took = MetricsDuration
    durations = rollup.unpack(s.scalars(select(took.histogram).where(*chosen(took))).all())

    def figures(decision: str) -> tuple[float | None, float | None]:
        histogram = durations.get(rollup.ACCOUNT_DECISIONS.index(decision))
        return median(histogram, dialect), p90(histogram, dialect)

    backlog, overdue, ageing = _live_queue(uow, s)
    m.kpis = _kpis(
        declared, auto, approved, rejected, manual, luxtrust_done, backlog, overdue, figures
    )
    m.reminders = _reminder_kpis(reminded)
    m.trend = [(w, o, n) for (w, o), n in sorted(weeks.items())]
    m.ageing = ageing

    mismatch = MetricsMismatch
    m.mismatches = [
        (fld, kind, int(n))
        for fld, kind, n in s.execute(
            select(mismatch.field, mismatch.kind, func.sum(mismatch.n))
            .where(*chosen(mismatch))
            .group_by(mismatch.field, mismatch.kind)
            .order_by(mismatch.field, mismatch.kind)
        )
    ]
    m.reviewers = _reviewers(s, dialect, chosen(MetricsHandling, MetricsHandling.decided_on))
    m.specialties = _specialties(s)
    m.access = access_metrics.compute(uow, f.start, f.end, f.specialty)
    usable = durations.get(rollup.USABLE)
    m.access.usable, m.access.median_seconds_to_usable = access_metrics.median_seconds(usable)
    return m


def _live_queue(uow: UnitOfWork, conn: Connection) -> tuple[int, int, list[tuple[str, int]]]:
    """Backlog, overdue and ageing of today's queue, in one pass over its partial index."""
    now = uow.now()
    confirmed = Enrolment.device_confirmed_at
    cutoff = overdue_before(now, uow.settings.review_sla_working_days)
    # Confirmed at or after overdue_before(now, k) ⇔ waiting at most k working days; the
    # edges go back in time as k grows, so the buckets are differences of these counts.
    edges = [overdue_before(now, k) for k in (1, 2, 5)]

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    # A constant, not a parameter: the planner must see the partial index's own predicate.
    pending = Enrolment.state == literal_column(f"'{lc.PENDING_REVIEW}'")
    total, late, *within = conn.execute(
        select(
            func.count(),
            count(confirmed < cutoff),
            *(count(confirmed >= edge) for edge in edges),
        ).where(pending)
    ).one()
    total, late, (one, two, five) = int(total), int(late), (int(n) for n in within)
    counts = (one, two - one, five - two, total - five)
    return total, late, [(name, n) for (name, *_), n in zip(AGEING_BUCKETS, counts, strict=True)]


def _reviewers(
    conn: Connection, dialect: str, conditions
) -> list[tuple[str, int, int, float | None]]:
    """Per reviewer: decisions taken or proposed, confirmations, and the median handling
    time of them all."""
    rows = conn.execute(
        select(MetricsHandling.role, MetricsHandling.histogram).where(*conditions)
    ).all()
    if not rows:
        return []
    histograms = rollup.unpack([blob for _role, blob in rows])
    counts = {
        role: {
            staff_id: int(histogram[1].sum())
            for staff_id, histogram in rollup.unpack([b for r, b in rows if r == role]).items()
        }
        for role in (rollup.DECISION, rollup.CONFIRMATION)
    }
    out = []
    # Names in the database's own collation, as compute_from_rows orders them.
    for staff_id, name in conn.execute(
        select(StaffUser.id, StaffUser.display_name)
        .where(StaffUser.id.in_(list(histograms)))
        .order_by(StaffUser.display_name)
    ):
        out.append(
            (
                name,
                counts[rollup.DECISION].get(staff_id, 0),
                counts[rollup.CONFIRMATION].get(staff_id, 0),
                median(histograms[staff_id], dialect),
            )
        )
    return sorted(out, key=lambda row: -(row[1] + row[2]))  # stable: by name among equals


def _specialties(conn: Connection) -> list[str]:
    return list(
        conn.scalars(
            select(Professional.specialty)
            .where(Professional.specialty.is_not(None))
            .distinct()
            .order_by(Professional.specialty)
        )
    )


def _funnel(m, declared, reached, luxtrust_done, by_outcome) -> int:
    """The funnel and the endings, whichever way the counts were read; returns how many
    went to manual review."""
    manual = reached.get("device_confirmed", 0)
    m.funnel = [
        ("declared", declared),
        ("link_opened", reached.get("link_opened", 0)),
        ("cgu_accepted", reached.get("cgu_accepted", 0)),
        ("matricule_verified", reached.get("matricule_verified", 0)),
        ("luxtrust_done", luxtrust_done),
        ("auto", by_outcome.get("auto", 0)),
        ("manual", manual),
        ("approved", by_outcome.get("approved", 0)),
        ("rejected", by_outcome.get("rejected", 0)),
    ]
    m.endings = [(k, by_outcome.get(k, 0)) for k in ("expired", "locked", "cancelled")]
    return manual


def _kpis(declared, auto, approved, rejected, manual, luxtrust_done, backlog, overdue, durations):
    """The KPI cards, whichever way the counts were read; `durations(decision)` gives the
    median and the 90th percentile of the days from declaration to account."""
    median_auto, p90_auto = durations("auto_match")
    median_manual, p90_manual = durations("reviewer_approved")
    return {
        "declarations": declared,
        "accounts": auto + approved,
        "accounts_auto": auto,
        "accounts_manual": approved,
        "auto_match_rate": _rate(auto, luxtrust_done),
        "manual_review_rate": _rate(manual, luxtrust_done),
        "approval_rate": _rate(approved, approved + rejected),
        "median_days_auto": median_auto,
        "p90_days_auto": p90_auto,
        "median_days_manual": median_manual,
        "p90_days_manual": p90_manual,
        "backlog": backlog,
        "overdue": overdue,
    }


# She finished her part after a reminder: her account, or her case with the reviewers
# (waiting, approved or refused). Reminders go only to those who had not finished.
COMPLETED = ("auto", "approved", "rejected", "pending_review")


def _reminder_kpis(reminded: dict[str, tuple[int, int]]) -> dict:
    """From {outcome: (enrolments reminded, reminders sent)} of the cohort."""
    enrolments = sum(n for n, _sent in reminded.values())
    completed = sum(reminded.get(o, (0, 0))[0] for o in COMPLETED)
    return {
        "reminders_sent": sum(sent for _n, sent in reminded.values()),
        "reminded": enrolments,
        "completed_after_reminder": completed,
        "completed_after_reminder_rate": _rate(completed, enrolments),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def as_rows(m: Metrics) -> list[dict]:
    """Every aggregate of the page in one long table (for the CSV export)."""
    rows = [{"table": "kpi", "dimension": k, "category": "", "value": v} for k, v in m.kpis.items()]
    rows += [
        {"table": "reminders", "dimension": k, "category": "", "value": v}
        for k, v in m.reminders.items()
    ]
    rows += [
        {"table": "access", "dimension": k, "category": "", "value": v}
        for k, v in m.access.as_kpis().items()
    ]
    rows += [
        {"table": "links_ended", "dimension": month.isoformat()[:7], "category": r, "value": n}
        for month, r, n in m.access.ended
    ]
    rows += [{"table": "funnel", "dimension": k, "category": "", "value": v} for k, v in m.funnel]
    rows += [{"table": "endings", "dimension": k, "category": "", "value": v} for k, v in m.endings]
    rows += [
        {"table": "trend", "dimension": w.isoformat(), "category": o, "value": n}
        for w, o, n in m.trend
    ]
    rows += [
        {"table": "backlog_ageing", "dimension": b, "category": "working_days", "value": n}
        for b, n in m.ageing
    ]
    rows += [
        {"table": "mismatches", "dimension": fld, "category": k, "value": n}
        for fld, k, n in m.mismatches
    ]
    for name, decisions, confirmations, days in m.reviewers:
        for category, value in (
            ("decisions", decisions),
            ("confirmations", confirmations),
            ("median_handling_days", days),
        ):
            rows.append(
                {"table": "reviewers", "dimension": name, "category": category, "value": value}
            )
    return rows
