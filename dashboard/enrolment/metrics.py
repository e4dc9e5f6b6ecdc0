"""Onboarding metrics for managers: aggregates only, computed by the database.

Every figure is a GROUP BY / COUNT / window query run in SQL (SQLite or PostgreSQL);
Python only shapes the few aggregated rows. No name, email or matricule leaves here.
Cohort: the enrolments declared within the chosen dates (and specialty, if any).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlalchemy import Date, and_, case, cast, distinct, func, literal, select, union_all
from sqlalchemy.sql import ColumnElement

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.model import (
    Decision,
    Enrolment,
    Event,
    LuxTrustIdentity,
    Professional,
    StaffUser,
)
from dashboard.enrolment.review import LUXEMBOURG, overdue_before
from dashboard.enrolment.uow import UnitOfWork


@dataclass(frozen=True)
class MetricsFilter:
    start: dt.date | None = None  # declared on or after
    end: dt.date | None = None  # declared on or before
    specialty: str | None = None


FUNNEL_STEPS = (
    ("declared", "Déclarées"),
    ("link_opened", "Lien ouvert"),
    ("cgu_accepted", "CGU acceptées"),
    ("matricule_verified", "Matricule vérifié"),
    ("luxtrust_done", "LuxTrust effectué"),
)
OUTCOMES = (
    ("auto", "Compte créé automatiquement"),
    ("approved", "Compte créé après vérification"),
    ("rejected", "Refusée"),
    ("pending_review", "En vérification manuelle"),
    ("in_progress", "En cours"),
    ("expired", "Expirée"),
    ("locked", "Bloquée"),
    ("cancelled", "Annulée"),
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
    reviewers: list[tuple[str, int, float | None]] = field(default_factory=list)
    specialties: list[str] = field(default_factory=list)


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


def _seconds(dialect: str, later, earlier):
    """Seconds between two timestamp columns, in the database's own dialect."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _local_week(dialect: str, column):
    """The Monday of the Luxembourg-time week of `column`, computed by the database."""
    if dialect == "postgresql":
        return cast(func.date_trunc("week", func.timezone("Europe/Luxembourg", column)), Date)
    # SQLite has no time zones: apply CET/CEST by the EU rule (last Sundays of March and
    # October, 01:00 UTC), then take the Monday of that local date.
    year = func.strftime("%Y", column)
    summer_from = func.date(year.concat("-04-01"), "weekday 0", "-7 days").concat(" 01:00:00")
    summer_to = func.date(year.concat("-11-01"), "weekday 0", "-7 days").concat(" 01:00:00")
    shift = case(
        (and_(column >= summer_from, column < summer_to), literal("+2 hours")),
        else_=literal("+1 hour"),
    )
    return func.date(func.datetime(column, shift), "weekday 0", "-6 days")


def _outcome():
    return case(
        (Enrolment.decision == "auto_match", literal("auto")),
        (Enrolment.decision == "reviewer_approved", literal("approved")),
        (Enrolment.state == lc.REJECTED, literal("rejected")),
        (Enrolment.state == lc.PENDING_REVIEW, literal("pending_review")),
        (Enrolment.state.in_([lc.EXPIRED, lc.LOCKED, lc.CANCELLED]), Enrolment.state),
        else_=literal("in_progress"),
    )


def _percentile(uow: UnitOfWork, seconds, conditions, fraction: float) -> float | None:
    """Nearest-rank percentile computed by the database (ORDER BY … OFFSET), in days."""
    total = uow.session.scalar(select(func.count()).select_from(Enrolment).where(*conditions))
    if not total:
        return None
    rank = max(0, min(total - 1, math.ceil(fraction * total) - 1))  # nearest rank
    value = uow.session.scalar(
        select(seconds)
        .select_from(Enrolment)
        .where(*conditions)
        .order_by(seconds)
        .offset(rank)
        .limit(1)
    )
    return round(float(value) / 86400.0, 2) if value is not None else None


def compute(uow: UnitOfWork, f: MetricsFilter | None = None) -> Metrics:
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
    manual = reached.get("device_confirmed", 0)
    m.funnel = [
        ("declared", declared),
        ("link_opened", reached.get("link_opened", 0)),
        ("cgu_accepted", reached.get("cgu_accepted", 0)),
        ("matricule_verified", reached.get("matricule_verified", 0)),
        ("luxtrust_done", luxtrust_done),
        ("auto", auto),
        ("manual", manual),
        ("approved", approved),
        ("rejected", rejected),
    ]
    m.endings = [(k, by_outcome.get(k, 0)) for k in ("expired", "locked", "cancelled")]

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
    m.kpis = {
        "declarations": declared,
        "accounts": auto + approved,
        "accounts_auto": auto,
        "accounts_manual": approved,
        "auto_match_rate": _rate(auto, luxtrust_done),
        "manual_review_rate": _rate(manual, luxtrust_done),
        "approval_rate": _rate(approved, approved + rejected),
        "median_days_auto": _percentile(uow, seconds, auto_c, 0.5),
        "p90_days_auto": _percentile(uow, seconds, auto_c, 0.9),
        "median_days_manual": _percentile(uow, seconds, manual_c, 0.5),
        "p90_days_manual": _percentile(uow, seconds, manual_c, 0.9),
        "backlog": backlog,
        "overdue": overdue,
    }

    # Trend by week of declaration (Monday, Luxembourg time), stacked by outcome.
    week = _local_week(dialect, Enrolment.created_at)
    rows = s.execute(
        select(week.label("week"), outcome.label("outcome"), func.count())
        .where(*cohort)
        .group_by(week, outcome)
        .order_by(week)
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

    # Reviewers: final decisions in the period and median handling time (window function).
    start, end = _bounds(f)
    decided = [
        Decision.status == "final",
        Decision.outcome != "auto_match",
        Decision.reviewer_id.is_not(None),
    ]
    if start:
        decided.append(Decision.created_at >= start)
    if end:
        decided.append(Decision.created_at < end)
    if f.specialty:
        decided.append(
            Enrolment.professional_id.in_(
                select(Professional.id).where(Professional.specialty == f.specialty)
            )
        )
    handling = _seconds(dialect, Decision.created_at, Enrolment.device_confirmed_at)
    ranked = (
        select(
            Decision.reviewer_id.label("reviewer_id"),
            handling.label("seconds"),
            func.row_number()
            .over(partition_by=Decision.reviewer_id, order_by=handling)
            .label("rn"),
            func.count().over(partition_by=Decision.reviewer_id).label("n"),
        )
        .join(Enrolment, Enrolment.id == Decision.enrolment_id)
        .where(*decided)
        .subquery()
    )
    medians = (
        select(ranked.c.reviewer_id, ranked.c.n, ranked.c.seconds)
        .where(ranked.c.rn == (ranked.c.n + 1) // 2)  # lower median
        .subquery()
    )
    m.reviewers = [
        (name, int(n), round(float(secs) / 86400.0, 2) if secs is not None else None)
        for name, n, secs in s.execute(
            select(StaffUser.display_name, medians.c.n, medians.c.seconds)
            .join(medians, medians.c.reviewer_id == StaffUser.id)
            .order_by(medians.c.n.desc(), StaffUser.display_name)
        ).all()
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
    return m


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def as_rows(m: Metrics) -> list[dict]:
    """Every aggregate of the page in one long table (for the CSV export)."""
    rows = [{"table": "kpi", "dimension": k, "category": "", "value": v} for k, v in m.kpis.items()]
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
    for name, n, median in m.reviewers:
        rows.append({"table": "reviewers", "dimension": name, "category": "decisions", "value": n})
        rows.append(
            {
                "table": "reviewers",
                "dimension": name,
                "category": "median_handling_days",
                "value": median,
            }
        )
    return rows
