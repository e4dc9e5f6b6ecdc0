"""Daily rollups of the managers' metrics, refreshed from the event log.

Every change to an enrolment writes an event, so the declaration days of the enrolments
named by the events not read yet are the only days whose counts can have changed: those
days are deleted from the rollup tables and grouped again from the source tables, in one
transaction, then `last_event_id` moves on. metrics.compute then adds up rollup rows (for
90 days at 1,000,000 enrolments: ~9,000 counts and ~2,700 packed histograms) instead of
scanning the cohort (docs/performance.md §5). Run by `python -m dashboard metrics refresh`
every minute, and by metrics.compute itself when events arrived since.

Days are declaration days in Europe/Luxembourg; the reviewers' rollup also keeps the
decision day (when the decision became final: the second reviewer's confirmation, for
four-eyes), by which the page filters it. Nothing here reads a personal column.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import numpy as np
from sqlalchemy import (
    Date,
    and_,
    case,
    cast,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.model import (
    AccountLink,
    Decision,
    Enrolment,
    Event,
    LuxTrustIdentity,
    MetricsDaily,
    MetricsDuration,
    MetricsHandling,
    MetricsMismatch,
    MetricsRefresh,
    MetricsReviewer,
    Professional,
    SecretaryAccount,
)
from dashboard.enrolment.uow import UnitOfWork
from dashboard.enrolment.working_days import LUXEMBOURG

ROW_ID = 1
TABLES = (
    MetricsDaily,
    MetricsDuration,
    MetricsMismatch,
    MetricsReviewer,
    MetricsHandling,
    MetricsRefresh,
)
ONE_DAY = dt.timedelta(days=1)
# Events that record a reading, an assignment or a note: no figure depends on them, so
# they cost no rebuild (reviewers open cases all day long).
AUDIT_ONLY = frozenset({"case_opened", "claimed", "assigned", "released", "note_added"})
FUNNEL_ACTIONS = ("link_opened", "cgu_accepted", "matricule_verified", "device_confirmed")
ACCOUNT_DECISIONS = ("auto_match", "reviewer_approved")
# metrics_durations' third group: decision → account usable (the directory confirmed it,
# `account_provisioned`), in whole seconds, not hundredths of a day (issue 20).
USABLE = len(ACCOUNT_DECISIONS)
PROVISIONED = "account_provisioned"
# The events after which the accounts' and links' counts are taken again (access_counts).
ACCESS_EVENTS = (
    "account_opened",
    "account_linked",
    "account_reactivated",
    "link_ended",
    "account_deactivated",
)
MISMATCH_FIELDS = ("last_name", "first_names", "birth_date", "matricule")
# Who a final decision is credited to: the reviewer who took it (or proposed it, when it
# needed a second reviewer), and the second reviewer who confirmed it.
DECISION, CONFIRMATION = "decision", "confirmation"
# An id missing below the newest one belongs to a transaction not committed yet (PostgreSQL
# hands out ids before commit) or rolled back. Only the newest ids can still arrive; after
# PENDING_FOR, a missing id is a rollback and is forgotten.
PENDING_WINDOW = 10_000
PENDING_FOR = dt.timedelta(minutes=10)
# A duration the database cannot compute (a missing date) sorts where the database sorts
# NULL in ascending order, so that ranks match metrics.compute_from_rows; it reads as None.
NULL_HUNDREDTHS = {"postgresql": 2**31 - 1}
NULL_HUNDREDTHS_DEFAULT = -(2**31)  # SQLite: NULL first


# --- SQL shared with metrics.compute_from_rows ----------------------------------------------


def seconds(dialect: str, later, earlier):
    """Seconds between two timestamp columns, in the database's own dialect."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _sqlite_local(column):
    """SQLite has no time zones: Luxembourg wall-clock time by the EU rule (summer time from
    the last Sunday of March to the last Sunday of October, 01:00 UTC)."""
    year = func.strftime("%Y", column)
    summer_from = func.date(year.concat("-04-01"), "weekday 0", "-7 days").concat(" 01:00:00")
    summer_to = func.date(year.concat("-11-01"), "weekday 0", "-7 days").concat(" 01:00:00")
    shift = case(
        (and_(column >= summer_from, column < summer_to), literal("+2 hours")),
        else_=literal("+1 hour"),
    )
    return func.datetime(column, shift)


def local_day(dialect: str, column):
    """The Luxembourg date of a UTC timestamp column, computed by the database."""
    if dialect == "postgresql":
        return cast(func.timezone("Europe/Luxembourg", column), Date)
    return func.date(_sqlite_local(column))


def local_week(dialect: str, column):
    """The Monday of the Luxembourg-time week of `column`, computed by the database."""
    if dialect == "postgresql":
        return cast(func.date_trunc("week", func.timezone("Europe/Luxembourg", column)), Date)
    return func.date(_sqlite_local(column), "weekday 0", "-6 days")


def local_month(dialect: str, column):
    """The first day of the Luxembourg-time month of `column`, computed by the database."""
    if dialect == "postgresql":
        return cast(func.date_trunc("month", func.timezone("Europe/Luxembourg", column)), Date)
    return func.date(_sqlite_local(column), "start of month")


def monday(dialect: str, day):
    """The Monday of a DATE column's week, computed by the database."""
    if dialect == "postgresql":
        return cast(func.date_trunc("week", day), Date)
    return func.date(day, "weekday 0", "-6 days")


def outcome():
    """What became of an enrolment: one of metrics.OUTCOMES' keys."""
    return case(
        (Enrolment.decision == "auto_match", literal("auto")),
        (Enrolment.decision == "reviewer_approved", literal("approved")),
        (Enrolment.state == lc.REJECTED, literal("rejected")),
        (Enrolment.state == lc.PENDING_REVIEW, literal("pending_review")),
        (Enrolment.state.in_([lc.EXPIRED, lc.LOCKED, lc.CANCELLED]), Enrolment.state),
        else_=literal("in_progress"),
    )


def as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def hundredths(value, dialect: str) -> int:
    """A duration in seconds in whole hundredths of a day (the page's resolution): whole
    seconds first (SQLite's julianday() differences are microseconds off), then the
    nearest hundredth, half up, in integers (no binary rounding at the halves).

    Rounding is monotonic, so the k-th smallest rounded value is the rounded k-th
    smallest value: percentiles of these histograms are the page's, exactly.
    """
    if value is None:
        return NULL_HUNDREDTHS.get(dialect, NULL_HUNDREDTHS_DEFAULT)
    return (round(float(value)) + 432) // 864  # 864 s = 1/100 day


def whole_seconds(value) -> int:
    """A duration in seconds to the nearest whole second (SQLite's julianday() differences
    are microseconds off)."""
    return round(float(value))


def as_days(value: int, dialect: str) -> float | None:
    """Whole hundredths of a day (from `hundredths`) as days."""
    if value == NULL_HUNDREDTHS.get(dialect, NULL_HUNDREDTHS_DEFAULT):
        return None
    return value / 100


# --- where the rollups stand ------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    version: int
    last_event_id: int
    behind: bool


@dataclass(frozen=True)
class Refreshed:
    days: int | None  # declaration days rebuilt; None: all of them
    last_event_id: int
    version: int


def status(uow: UnitOfWork) -> Status:
    """One cheap statement (a primary key, the end of an index): are there events the
    rollups have not read yet?"""
    s = uow.session
    row = s.execute(
        select(
            MetricsRefresh.version,
            MetricsRefresh.last_event_id,
            MetricsRefresh.pending,
            select(func.max(Event.id)).scalar_subquery(),
        ).where(MetricsRefresh.id == ROW_ID)
    ).first()
    if row is None:
        return Status(0, 0, True)  # never built
    version, last, pending, newest = row
    # Version 0: never built, or a migration asked for a rebuild (0016).
    behind = version == 0 or (newest or 0) > last
    if not behind and pending:
        ids = [event_id for event_id, _seen in pending]
        behind = bool(s.scalar(select(func.count()).where(Event.id.in_(ids))))
    return Status(version, last, behind)


def ensure_fresh(uow: UnitOfWork) -> int:
    """Refresh when behind; the rollups' version, for caches of what was read from them."""
    current = status(uow)
    if not current.behind:
        return current.version
    return refresh(uow).version


# --- the refresh ----------------------------------------------------------------------------------


def refresh(uow: UnitOfWork, *, full: bool = False) -> Refreshed:
    """Bring the rollups up to the newest event (every day when `full`), and commit.

    It commits: call it on a unit of work with nothing else to write. Refreshes wait for
    each other on the bookkeeping row, and the one that waited finds the work done.
    """
    s = uow.session
    if s.new or s.dirty or s.deleted:
        raise RuntimeError("rollup.refresh commits: use a unit of work of its own")
    dialect = s.get_bind().dialect.name
    now = uow.now()
    version, last, pending = _lock(uow)
    full = full or version == 0  # never built
    newest = s.scalar(select(func.max(Event.id))) or 0
    # The ids visible now, read before the groupings below so that whatever is seen here
    # is seen by them too; the missing ones are looked for again next time.
    floor = max(last, newest - PENDING_WINDOW)
    waiting = {event_id: dt.datetime.fromisoformat(seen) for event_id, seen in pending}
    visible = set(
        s.scalars(
            select(Event.id).where(
                or_(and_(Event.id > floor, Event.id <= newest), Event.id.in_(list(waiting)))
            )
        )
    )
    missing = ({*range(floor + 1, newest + 1)} | waiting.keys()) - visible
    still_pending = [
        [event_id, waiting.get(event_id, now).isoformat()]
        for event_id in sorted(missing)
        if now - waiting.get(event_id, now) < PENDING_FOR
    ]
    if full:
        days = None
        _rebuild(uow, dialect, None)
        if dialect == "postgresql":  # fresh statistics for the planner, whatever autovacuum
            s.execute(text("ANALYZE " + ", ".join(t.__tablename__ for t in TABLES)))
    else:
        days = _touched_days(uow, dialect, last, newest, sorted(visible & waiting.keys()))
        if days:
            _rebuild(uow, dialect, days)
    recount = full or _access_changed(uow, last, newest, sorted(visible & waiting.keys()))
    values = {"access": access_counts(uow)} if recount else {}
    if full or days or recount:
        version += 1
    last = max(last, newest)
    s.execute(
        update(MetricsRefresh)
        .where(MetricsRefresh.id == ROW_ID)
        .values(
            last_event_id=last,
            pending=still_pending,
            version=version,
            refreshed_at=now,
            **values,
        )
    )
    uow.commit()
    return Refreshed(None if full else len(days), last, version)


def _lock(uow: UnitOfWork) -> tuple[int, int, list]:
    """Take the bookkeeping row (created on first use) for this transaction; its state."""
    s = uow.session

    def take() -> int:
        # A write first: on SQLite it takes the database's write lock before anything is
        # read, on PostgreSQL the row's lock; a refresh that waited then reads the state
        # the other one committed.
        return s.execute(
            update(MetricsRefresh).where(MetricsRefresh.id == ROW_ID).values(id=ROW_ID)
        ).rowcount

    if not take():
        dialect = s.get_bind().dialect.name
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        s.execute(
            make(MetricsRefresh)
            .values(id=ROW_ID, last_event_id=0, pending=[], version=0, refreshed_at=uow.now())
            .on_conflict_do_nothing(index_elements=[MetricsRefresh.id])
        )
        take()
    row = s.execute(
        select(MetricsRefresh.version, MetricsRefresh.last_event_id, MetricsRefresh.pending).where(
            MetricsRefresh.id == ROW_ID
        )
    ).one()
    return row.version, row.last_event_id, row.pending


def _touched_days(
    uow: UnitOfWork, dialect: str, last: int, newest: int, arrived: list[int]
) -> list[dt.date]:
    """Declaration days of the enrolments named by the events not read yet."""
    new_events = _unread(last, newest, arrived)
    touched = (
        select(Event.enrolment_id)
        .where(new_events, Event.enrolment_id.is_not(None), Event.action.not_in(AUDIT_ONLY))
        .distinct()
    )
    day = local_day(dialect, Enrolment.created_at)
    return sorted(
        as_date(d)
        for d in uow.session.scalars(select(day).where(Enrolment.id.in_(touched)).group_by(day))
    )


def _unread(last: int, newest: int, arrived: list[int]):
    """The events not read yet: after `last` up to `newest`, and the late ones `arrived`."""
    new_events = and_(Event.id > last, Event.id <= newest)
    return or_(new_events, Event.id.in_(arrived)) if arrived else new_events


def _access_changed(uow: UnitOfWork, last: int, newest: int, arrived: list[int]) -> bool:
    unread = _unread(last, newest, arrived)
    found = select(Event.id).where(unread, Event.action.in_(ACCESS_EVENTS)).limit(1)
    return uow.session.scalar(found) is not None


def access_counts(uow: UnitOfWork) -> dict[str, int]:
    """Accounts active and not, links still open: whole-platform counts, one statement."""

    def count(table, *where):
        return select(func.count()).select_from(table).where(*where).scalar_subquery()

    active, inactive, links = uow.session.execute(
        select(
            count(SecretaryAccount, SecretaryAccount.status == "active"),
            count(SecretaryAccount, SecretaryAccount.status != "active"),
            count(AccountLink, AccountLink.ended_at.is_(None)),
        )
    ).one()
    return {"active_accounts": active, "inactive_accounts": inactive, "active_links": links}


def _ranges(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) ranges: a few index ranges instead of many."""
    out: list[tuple[dt.date, dt.date]] = []
    for d in days:
        if out and d == out[-1][1] + dt.timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), LUXEMBOURG)


def _on(column, days: list[dt.date] | None):
    """`column` (a rollup's DATE) is one of `days`; None: any day."""
    if days is None:
        return true()
    return or_(*(column.between(a, b) for a, b in _ranges(days)))


def _insert(uow: UnitOfWork, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), 10_000):  # executemany, in bounded batches
        uow.session.execute(insert(table), rows[start : start + 10_000])


def _rebuild(uow: UnitOfWork, dialect: str, days: list[dt.date] | None) -> None:
    """Delete the rollups of `days` (None: of every day) and group them again."""
    s = uow.session
    created = Enrolment.created_at
    # The decision days whose handling histograms the replaced decisions were part of.
    affected = set() if days is None else _decision_days(uow, days)
    for table in (MetricsDaily, MetricsDuration, MetricsMismatch, MetricsReviewer):
        s.execute(delete(table).where(_on(table.day, days)))
    if days is None:
        in_days = true()
    else:  # the days' Luxembourg midnights: ranges of the created_at index
        in_days = or_(
            *(
                and_(created >= _midnight(a), created < _midnight(b + ONE_DAY))
                for a, b in _ranges(days)
            )
        )

    day = local_day(dialect, created)
    # The days' enrolment ids, as ranges: the tables keyed by enrolment id are then read by
    # index ranges. Ids grow with time, so the ranges are tight; the joins on the days
    # keep the result exact whatever the ids. (An IN (subquery) lets PostgreSQL choose a
    # full scan of `events` for a week's rebuild.)
    id_ranges = []
    if days is not None:
        by_day = s.execute(
            select(day, func.min(Enrolment.id), func.max(Enrolment.id)).where(in_days).group_by(day)
        ).all()
        bounds = {as_date(d): (lo, hi) for d, lo, hi in by_day}
        for first, last in _ranges(sorted(bounds)):
            spans = [bounds[first + dt.timedelta(days=k)] for k in range((last - first).days + 1)]
            id_ranges.append((min(lo for lo, _hi in spans), max(hi for _lo, hi in spans)))

    def of_days(column):
        """`column` (an enrolment id) may be one of the days' enrolments."""
        if days is None:
            return true()
        return or_(false(), *(column.between(lo, hi) for lo, hi in id_ranges))

    specialty = func.coalesce(Professional.specialty, "")

    # Outcomes and funnel: one flag per step and enrolment, then one GROUP BY.
    steps = (
        select(
            Event.enrolment_id.label("enrolment_id"),
            *(
                func.max(case((Event.action == action, 1), else_=0)).label(action)
                for action in FUNNEL_ACTIONS
            ),
        )
        .where(Event.action.in_(FUNNEL_ACTIONS), of_days(Event.enrolment_id))
        .group_by(Event.enrolment_id)
        .subquery()
    )
    luxtrust = (
        select(LuxTrustIdentity.enrolment_id.label("enrolment_id"))
        .where(of_days(LuxTrustIdentity.enrolment_id))
        .group_by(LuxTrustIdentity.enrolment_id)
        .subquery()
    )
    ending = outcome()

    def reached(action):
        return func.coalesce(func.sum(getattr(steps.c, action)), 0)

    s.execute(
        insert(MetricsDaily).from_select(
            [
                "day",
                "specialty",
                "outcome",
                "declared",
                "link_opened",
                "cgu_accepted",
                "matricule_verified",
                "luxtrust_done",
                "device_confirmed",
                "reminded",
                "reminders",
            ],
            select(
                day,
                specialty,
                ending,
                func.count(),
                reached("link_opened"),
                reached("cgu_accepted"),
                reached("matricule_verified"),
                func.count(luxtrust.c.enrolment_id),
                reached("device_confirmed"),
                func.sum(case((Enrolment.reminders_sent > 0, 1), else_=0)),
                func.sum(Enrolment.reminders_sent),
            )
            .select_from(Enrolment)
            .join(Professional, Professional.id == Enrolment.professional_id)
            .outerjoin(steps, steps.c.enrolment_id == Enrolment.id)
            .outerjoin(luxtrust, luxtrust.c.enrolment_id == Enrolment.id)
            .where(in_days)
            .group_by(day, specialty, ending),
        )
    )

    # Mismatch reasons: field × kind of the non-matching identities.
    parts = []
    for name in MISMATCH_FIELDS:
        column = getattr(LuxTrustIdentity, f"{name}_kind")
        parts.append(
            select(
                LuxTrustIdentity.enrolment_id.label("enrolment_id"),
                literal(name).label("field"),
                column.label("kind"),
            ).where(
                LuxTrustIdentity.matches.is_(False),
                column.is_not(None),
                column != "identical",
                of_days(LuxTrustIdentity.enrolment_id),
            )
        )
    kinds = union_all(*parts).subquery()
    s.execute(
        insert(MetricsMismatch).from_select(
            ["day", "specialty", "field", "kind", "n"],
            select(day, specialty, kinds.c.field, kinds.c.kind, func.count())
            .select_from(kinds)
            .join(Enrolment, Enrolment.id == kinds.c.enrolment_id)
            .join(Professional, Professional.id == Enrolment.professional_id)
            .where(in_days)
            .group_by(day, specialty, kinds.c.field, kinds.c.kind),
        )
    )

    # Durations are rounded in Python, exactly as metrics.compute_from_rows rounds them.
    took = seconds(dialect, Enrolment.decided_at, created)
    histograms: dict[tuple, Counter] = {}
    for d, sp, decision, secs in s.execute(
        select(day, specialty, Enrolment.decision, took)
        .join(Professional, Professional.id == Enrolment.professional_id)
        .where(
            in_days,
            Enrolment.state == lc.ACCOUNT_CREATED,
            Enrolment.decision.in_(ACCOUNT_DECISIONS),
        )
    ):
        key = (ACCOUNT_DECISIONS.index(decision), hundredths(secs, dialect))
        histograms.setdefault((as_date(d), sp), Counter())[key] += 1
    usable = seconds(dialect, Event.created_at, Enrolment.decided_at)
    for d, sp, secs in s.execute(
        select(day, specialty, usable)
        .select_from(Event)
        .join(Enrolment, Enrolment.id == Event.enrolment_id)
        .join(Professional, Professional.id == Enrolment.professional_id)
        .where(
            in_days,
            of_days(Event.enrolment_id),
            Event.action == PROVISIONED,
            Enrolment.decided_at.is_not(None),
        )
    ):
        histograms.setdefault((as_date(d), sp), Counter())[USABLE, whole_seconds(secs)] += 1
    _insert_packed(uow, MetricsDuration, ("day", "specialty"), histograms)

    # The reviewers' decisions, by declaration day (what a refresh replaces)... A decision
    # is dated, and its handling timed, when it became final.
    final = func.coalesce(Decision.confirmed_at, Decision.created_at)
    handling = seconds(dialect, final, Enrolment.device_confirmed_at)
    decided_on = local_day(dialect, final)
    counts: Counter = Counter()
    for d, on, sp, reviewer, confirmer, secs in s.execute(
        select(day, decided_on, specialty, Decision.reviewer_id, Decision.confirmed_by_id, handling)
        .select_from(Decision)
        .join(Enrolment, Enrolment.id == Decision.enrolment_id)
        .join(Professional, Professional.id == Enrolment.professional_id)
        .where(
            in_days,
            of_days(Decision.enrolment_id),
            Decision.status == "final",
            Decision.outcome != "auto_match",
            Decision.reviewer_id.is_not(None),
        )
    ):
        key = (as_date(d), as_date(on), sp)
        counts[(*key, DECISION, reviewer, hundredths(secs, dialect))] += 1
        if confirmer is not None:
            counts[(*key, CONFIRMATION, confirmer, hundredths(secs, dialect))] += 1
    keys = ("day", "decided_on", "specialty", "role", "reviewer_id", "hundredths")
    _insert(
        uow,
        MetricsReviewer,
        [{**dict(zip(keys, key, strict=True)), "n": n} for key, n in counts.items()],
    )
    # ... then by decision day (what the page reads), for the decision days they touch.
    affected |= {on for _d, on, *_rest in counts}
    _rebuild_handling(uow, None if days is None else sorted(affected))


def _decision_days(uow: UnitOfWork, days: list[dt.date]) -> set[dt.date]:
    """Decision days of the reviewers' rollup rows of these declaration days."""
    return {
        as_date(on)
        for on in uow.session.scalars(
            select(MetricsReviewer.decided_on).where(_on(MetricsReviewer.day, days)).distinct()
        )
    }


def _rebuild_handling(uow: UnitOfWork, decided: list[dt.date] | None) -> None:
    """Group MetricsReviewer again by decision day, for these days (None: all)."""
    if decided == []:
        return
    s = uow.session
    s.execute(delete(MetricsHandling).where(_on(MetricsHandling.decided_on, decided)))
    r = MetricsReviewer
    histograms: dict[tuple, Counter] = {}
    for on, sp, role, reviewer, value, n in s.execute(
        select(r.decided_on, r.specialty, r.role, r.reviewer_id, r.hundredths, func.sum(r.n))
        .where(_on(r.decided_on, decided))
        .group_by(r.decided_on, r.specialty, r.role, r.reviewer_id, r.hundredths)
    ):
        histograms.setdefault((as_date(on), sp, role), Counter())[reviewer, value] += int(n)
    _insert_packed(uow, MetricsHandling, ("decided_on", "specialty", "role"), histograms)


# --- packed histograms ----------------------------------------------------------------------------
# (group, value, count) int32 triples, little-endian: a decision's index in ACCOUNT_DECISIONS
# or a reviewer's id, hundredths of a day, how many. One row per day and specialty instead
# of one per value (~70 times fewer rows to read at 1,000,000 enrolments); numpy adds them.


def pack(counts: Counter) -> bytes:
    triples = sorted((group, value, n) for (group, value), n in counts.items())
    return np.array(triples, dtype="<i4").reshape(-1).tobytes()


def unpack(blobs: list[bytes]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The sum of packed histograms: per group, its values (ascending) and their counts."""
    flat = np.frombuffer(b"".join(blobs), dtype="<i4").reshape(-1, 3)
    groups, values, counts = flat[:, 0], flat[:, 1].astype(np.int64), flat[:, 2]
    out = {}
    for group in np.flatnonzero(np.bincount(groups)).tolist() if len(flat) else []:
        mine = groups == group
        v, n = values[mine], counts[mine]
        if v.max() - v.min() > 1_000_000:  # sparse (a NULL marker): sort
            v, where = np.unique(v, return_inverse=True)
            n = np.bincount(where, weights=n).astype(np.int64)
        else:  # hundredths of a day are small integers: count them in place
            low = v.min()
            n = np.bincount(v - low, weights=n).astype(np.int64)
            v = np.flatnonzero(n)
            n, v = n[v], v + low
        out[group] = (v, n)
    return out


def nth(histogram: tuple[np.ndarray, np.ndarray], rank: int) -> int:
    """The value of 0-based `rank` in a histogram from `unpack`."""
    values, counts = histogram
    return int(values[np.searchsorted(np.cumsum(counts), rank, side="right")])


def _insert_packed(uow: UnitOfWork, table, keys: tuple[str, ...], histograms: dict) -> None:
    rows = [
        {**dict(zip(keys, key, strict=True)), "histogram": pack(c)} for key, c in histograms.items()
    ]
    _insert(uow, table, rows)
