"""The identity-vigilance team's queue: pending cases paged, sorted and filtered in SQL,
with their waiting time in working days (working_days.py) and their differences.

What a reviewer reads once she opens a case is case_file.py; what she decides, decisions.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, literal, literal_column, or_, select
from sqlalchemy.orm import aliased

from dashboard.enrolment import identity as identity_mod
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import text as typed
from dashboard.enrolment.model import (
    Decision,
    Enrolment,
    Event,
    LuxTrustIdentity,
    Professional,
    StaffUser,
)
from dashboard.enrolment.staff import require_reviewer
from dashboard.enrolment.uow import UnitOfWork
from dashboard.enrolment.working_days import _DAY_US, _from_working_us, _working_us, overdue_before
from dashboard.i18n import gettext as _

# --- the queue -------------------------------------------------------------------------------

QUICK_FILTERS = ("mine", "unassigned", "overdue", "second")


@dataclass(frozen=True)
class QueueQuery:
    start: int = 0
    end: int = 100
    sort: tuple[tuple[str, str], ...] = ()  # (column, "asc"|"desc")
    quick: frozenset[str] = frozenset()
    search: str = ""
    professional: str = ""  # text filter on the professional's name
    assignee: str = ""


@dataclass(frozen=True)
class QueueRow:
    enrolment_id: int
    secretary: str
    professional: str
    confirmed_at: dt.datetime | None
    waiting_days: float
    due_at: dt.datetime | None
    overdue: bool
    summary: str
    assignee: str
    assignee_id: int | None
    awaiting_second: bool
    state_label: str
    # The fields that differ, with their kind (identity.FIELDS order): the queue's badges.
    differences: tuple[tuple[str, str], ...] = ()


def _awaiting_second():
    return exists().where(
        Decision.enrolment_id == Enrolment.id, Decision.status == "awaiting_second"
    )


# Accents and case are folded the same way in Python (the typed text) and in SQL (the
# columns): SQLite's lower() folds ASCII only, so the app registers fold() on SQLite
# connections (dashboard.enrolment.db); PostgreSQL uses lower() and translate().
_ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿ"
_PLAIN = "aaaaaaceeeeiiiinooooouuuuyy"


def fold_text(text: str) -> str:
    return text.casefold().translate(str.maketrans(_ACCENTED, _PLAIN))


def _folded(column):
    return func.fold(column)


def _contains(text: str) -> str:
    escaped = fold_text(typed.searchable(text))
    for char in ("\\", "%", "_"):
        escaped = escaped.replace(char, "\\" + char)
    return f"%{escaped}%"


# Every order the search accepts in one expression (first names + last name, last name +
# first names — as on identity cards —, email): one fold() per row, and on PostgreSQL a
# trigram index on exactly this expression (migration 0005) answers LIKE '%…%'.
SEARCH_TEXT_SQL = (
    "fold(coalesce(enrolments.declared_first_names, '') || ' ' || "
    "coalesce(enrolments.declared_last_name, '') || ' | ' || "
    "coalesce(enrolments.declared_last_name, '') || ' ' || "
    "coalesce(enrolments.declared_first_names, '') || ' | ' || coalesce(enrolments.email, ''))"
)
SEARCH_TEXT = literal_column(SEARCH_TEXT_SQL)


def _search_text(query: QueueQuery) -> str:
    return " ".join(typed.searchable(query.search).split())


def _queue_conditions(uow: UnitOfWork, query: QueueQuery, staff_id: int, assignee):
    # A constant, not a parameter: the planners must see that it implies the partial
    # indexes' condition (state = 'pending_review') to use them.
    conditions = [Enrolment.state == literal_column(f"'{lc.PENDING_REVIEW}'")]
    if "mine" in query.quick:
        conditions.append(Enrolment.assignee_id == staff_id)
    if "unassigned" in query.quick:
        conditions.append(Enrolment.assignee_id.is_(None))
    if "overdue" in query.quick:
        cutoff = overdue_before(uow.now(), uow.settings.review_sla_working_days)
        conditions.append(Enrolment.device_confirmed_at < cutoff)
    if "second" in query.quick:
        conditions.append(_awaiting_second())
    text = _search_text(query)
    if text:
        # A space or a hyphen typed matches either ("Marie Paule" finds "Marie-Paule"):
        # one-character wildcards, so the trigram index still answers (issue 22).
        like = _contains(text).replace(" ", "_").replace("-", "_")
        digits = "".join(c for c in text if c.isdigit())
        terms = [SEARCH_TEXT.like(like, escape="\\")]
        if len(digits) >= 4:
            terms.append(Enrolment.declared_matricule.like(f"%{digits}%"))
        conditions.append(or_(*terms))
    if query.professional:
        # Matched against the name as the column shows it ("Dr Jean Hoffmann").
        shown = literal("dr ") + Professional.first_names + " " + Professional.last_name
        conditions.append(_folded(shown).like(_contains(query.professional), escape="\\"))
    if query.assignee:
        conditions.append(
            _folded(assignee.display_name).like(_contains(query.assignee), escape="\\")
        )
    return conditions


COUNT_CAP = 10_000  # beyond this the grid is told "more" and keeps scrolling


def queue_version(uow: UnitOfWork) -> int:
    """The latest event: every change to a case in the queue (its state, assignee or
    proposal) adds one, so a queue page read at this version is still right."""
    return uow.session.scalar(select(func.max(Event.id))) or 0


def _ordering(query: QueueQuery, assignee, second) -> tuple[list, set]:
    """The queue's ORDER BY for a query (its sort, then oldest confirmation, then id) and
    the sorted columns (which decide the joins)."""
    # Names sort as the queue shows them: "Marie Schmit", "Dr Jean Hoffmann" (issue 22).
    columns = {
        "waiting": (Enrolment.device_confirmed_at,),
        "secretary": (
            _folded(Enrolment.declared_first_names),
            _folded(Enrolment.declared_last_name),
        ),
        "professional": (_folded(Professional.first_names), _folded(Professional.last_name)),
        "assignee": (assignee.display_name,),
        "state": (second,),
    }
    order, sorted_by = [], set()
    for column, direction in query.sort:
        if column in columns:
            # Longest waiting first is "descending waiting time", i.e. oldest confirmation.
            if column == "waiting":
                direction = "asc" if direction == "desc" else "desc"
            for expr in columns[column]:
                ordered = expr.desc() if direction == "desc" else expr.asc()
                # The same order on both databases: cases without a value come last.
                order.append(ordered.nulls_last() if column == "assignee" else ordered)
            sorted_by.add(column)
    order += [Enrolment.device_confirmed_at.asc(), Enrolment.id.asc()]
    return order, sorted_by


def _joined(stmt, query: QueueQuery, sorted_by: set, assignee):
    """Join only what the filters and the sort need."""
    if query.professional or "professional" in sorted_by:
        stmt = stmt.join(Professional, Professional.id == Enrolment.professional_id)
    if query.assignee or "assignee" in sorted_by:
        stmt = stmt.outerjoin(assignee, assignee.id == Enrolment.assignee_id)
    return stmt


def queue_page(
    uow: UnitOfWork, query: QueueQuery, staff_id: int
) -> tuple[list[QueueRow], int | None]:
    """One page of the queue and the number of matching cases (None: more than COUNT_CAP).

    The page's ids first, joining only what the filters and the sort need, so the partial
    index on pending cases is walked in order and the walk stops after the page; then only
    the shown columns for those ids. Nothing here grows with the number of enrolments.
    """
    require_reviewer(uow, staff_id)
    assignee = aliased(StaffUser)
    conditions = _queue_conditions(uow, query, staff_id, assignee)
    second = _awaiting_second()
    order, sorted_by = _ordering(query, assignee, second)

    def joined(stmt):
        return _joined(stmt, query, sorted_by, assignee)

    size = max(1, min(query.end - query.start, 500))
    # A typed search or column filter matches few cases, all of which must be read to be
    # sorted anyway: they are counted in the same pass (a window count), not read again.
    selective = bool(_search_text(query) or query.professional or query.assignee)
    page = (
        joined(
            select(Enrolment.id, func.count().over().label("matching"))
            if selective
            else select(Enrolment.id)
        )
        .where(and_(*conditions))
        .order_by(*order)
        .offset(max(0, query.start))
        .limit(size)
        # SQLite prefers the plain index on state (an equality) and then sorts every
        # pending case; the partial index walks them in the queue's order (80 ms → 0.3 ms
        # at 1M). PostgreSQL chooses it by itself.
        .with_hint(Enrolment, "INDEXED BY ix_enrolments_review_queue", "sqlite")
        .subquery("page")
    )
    # The shown columns of the page's cases, with their latest identity's per-field kinds,
    # in the same statement: a single round trip, and no IN list of 100 parameters.
    latest_identity = (
        select(func.max(LuxTrustIdentity.id))
        .where(LuxTrustIdentity.enrolment_id == Enrolment.id)
        .correlate(Enrolment)
        .scalar_subquery()
    )
    kinds = [getattr(LuxTrustIdentity, f"{f}_kind") for f in identity_mod.FIELDS]
    rows = uow.session.execute(
        select(
            Enrolment.id,
            Enrolment.declared_first_names,
            Enrolment.declared_last_name,
            Enrolment.device_confirmed_at,
            Enrolment.assignee_id,
            Enrolment.state,
            Professional.first_names.label("p_first"),
            Professional.last_name.label("p_last"),
            assignee.display_name.label("assignee_name"),
            second.label("second"),
            LuxTrustIdentity.id.label("identity_id"),
            (page.c.matching if selective else literal(None)).label("matching"),
            *kinds,
        )
        .select_from(page)
        .join(Enrolment, Enrolment.id == page.c.id)
        .join(Professional, Professional.id == Enrolment.professional_id)
        .outerjoin(assignee, assignee.id == Enrolment.assignee_id)
        .outerjoin(LuxTrustIdentity, LuxTrustIdentity.id == latest_identity)
        .order_by(*order)
    ).all()
    if rows and selective:
        total = rows[0].matching
    else:  # the whole queue, or a page past the end: counted, up to the cap
        counted = joined(select(Enrolment.id)).where(and_(*conditions)).limit(COUNT_CAP + 1)
        total = uow.session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    now = uow.now()
    now_us = _working_us(now)
    sla_us = uow.settings.review_sla_working_days * _DAY_US
    result = []
    for r in rows:
        confirmed = r.device_confirmed_at
        confirmed_us = _working_us(confirmed) if confirmed else now_us
        due = _from_working_us(confirmed_us + sla_us) if confirmed else None
        result.append(
            QueueRow(
                enrolment_id=r.id,
                secretary=f"{r.declared_first_names} {r.declared_last_name}",
                professional=f"Dr {r.p_first} {r.p_last}",  # as Professional.display_name
                confirmed_at=confirmed,
                waiting_days=round(max(0, now_us - confirmed_us) / _DAY_US, 1),
                due_at=due,
                overdue=bool(due and due < now),
                summary=_summary(uow, r.identity_id, r[-len(kinds) :]),
                differences=_differences(r[-len(kinds) :]),
                assignee=r.assignee_name or "",
                assignee_id=r.assignee_id,
                awaiting_second=bool(r.second),
                state_label=_("En attente de seconde validation")
                if r.second
                else lc.state_label(r.state),
            )
        )
    return result, (total if total <= COUNT_CAP else None)


def _differences(kinds) -> tuple[tuple[str, str], ...]:
    return tuple(
        (f, k)
        for f, k in zip(identity_mod.FIELDS, kinds, strict=True)
        if k is not None and k != identity_mod.IDENTICAL
    )


def quick_counts(uow: UnitOfWork, staff_id: int) -> dict[str, int]:
    """How many cases of the whole queue each quick filter shows ("En retard (176)"): one
    pass over the pending cases' partial index."""
    require_reviewer(uow, staff_id)
    cutoff = overdue_before(uow.now(), uow.settings.review_sla_working_days)

    def counted(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = uow.session.execute(
        select(
            counted(Enrolment.assignee_id == staff_id),
            counted(Enrolment.assignee_id.is_(None)),
            counted(Enrolment.device_confirmed_at < cutoff),
            counted(_awaiting_second()),
        ).where(Enrolment.state == literal_column(f"'{lc.PENDING_REVIEW}'"))
    ).one()
    return dict(zip(QUICK_FILTERS, (int(n) for n in row), strict=True))


def _summary(uow: UnitOfWork, identity_id: int | None, kinds) -> str:
    """The "differences" column, from the latest identity's per-field kinds."""
    if identity_id is None:
        return ""
    if all(k is None for k in kinds):  # a row from before the kind columns
        comparison = uow.session.get(LuxTrustIdentity, identity_id).comparison
        return identity_mod.Comparison.from_dict(comparison).summary()
    return identity_mod.summary_of(
        tuple(
            (f, k)
            for f, k in zip(identity_mod.FIELDS, kinds, strict=True)
            if k is not None and k != identity_mod.IDENTICAL  # None: not compared
        )
    )


# --- the next case of a queue view -------------------------------------------------------------

NEXT_WINDOW = 500  # the view's first cases read to place the current one


def next_case(uow: UnitOfWork, query: QueueQuery, staff_id: int, current_id: int) -> int | None:
    """The case after `current_id` in the reviewer's queue view (same filters and order),
    among those she can act on: not a colleague's, not awaiting her own proposal's second
    look. Wraps around to the view's start; None when nothing else is left.

    Called before the decision, while the current case is still under review: its place
    is where the next one is read from. A current case beyond the window (or already gone)
    leads to the view's first case."""
    require_reviewer(uow, staff_id)
    assignee = aliased(StaffUser)
    conditions = _queue_conditions(uow, query, staff_id, assignee)
    own_proposal = exists().where(
        Decision.enrolment_id == Enrolment.id,
        Decision.status == "awaiting_second",
        Decision.reviewer_id == staff_id,
    )
    actionable = and_(
        or_(Enrolment.assignee_id.is_(None), Enrolment.assignee_id == staff_id), ~own_proposal
    )
    order, sorted_by = _ordering(query, assignee, _awaiting_second())
    ids = uow.session.scalars(
        _joined(select(Enrolment.id), query, sorted_by, assignee)
        # The current case keeps its place even when opening it took it out of the view
        # (it was claimed, and the view holds unassigned cases).
        .where(conditions[0], or_(and_(*conditions[1:], actionable), Enrolment.id == current_id))
        .order_by(*order)
        .limit(NEXT_WINDOW)
        .with_hint(Enrolment, "INDEXED BY ix_enrolments_review_queue", "sqlite")  # as queue_page
    ).all()
    if current_id in ids:
        at = ids.index(current_id)
        ids = ids[at + 1 :] + ids[:at]
    return ids[0] if ids else None
