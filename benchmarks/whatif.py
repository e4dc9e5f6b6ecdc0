"""What-if versions of the slow reads, to measure a proposal before anyone ports it.

Nothing here is used by the app. `queue_page` returns exactly what
`dashboard.enrolment.review.queue_page` returns (the runner's --whatif check compares them
row by row), with the changes proposed in docs/performance.md:

1. the page's ids first, with only the joins the filters and the sort need, so that the
   partial index on the pending cases (`ix_enrolments_review_queue`, see candidates.py) is
   walked in order and the walk stops after the page — instead of reading every pending case
   and sorting them;
2. then only the columns the grid shows, for those ids (no ORM entities, no `selectin`
   query of the assignees' roles);
3. the count without the joins it does not need (an index-only scan of the pending cases),
   optionally capped (`count_cap`) so that it stops growing with N;
4. the "differences" column from the `*_kind` columns of the latest LuxTrust identity
   instead of parsing each comparison JSON.

`use()` swaps it in for `review.queue_page` (the benchmark's wsgi module does so when
BENCH_WHATIF=queue), so the same HTTP measurement runs against the proposal.
"""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from dashboard.enrolment import identity as identity_mod
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import review
from dashboard.enrolment.model import Enrolment, LuxTrustIdentity, Professional, StaffUser
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import gettext as _

COUNT_CAP: int | None = None  # e.g. 5000: "5000+" beyond, at a bounded cost


def queue_page(uow: UnitOfWork, query: review.QueueQuery, staff_id: int):
    review._staff(uow, staff_id)
    assignee = aliased(StaffUser)
    conditions = review._queue_conditions(uow, query, staff_id, assignee)
    second = review._awaiting_second()
    columns = {
        "waiting": Enrolment.device_confirmed_at,
        "secretary": Enrolment.declared_last_name,
        "professional": Professional.last_name,
        "assignee": assignee.display_name,
        "state": second,
    }
    order, sorted_by = [], set()
    for column, direction in query.sort:
        if column in columns:
            expr = columns[column]
            if column == "waiting":
                direction = "asc" if direction == "desc" else "desc"
            order.append(expr.desc() if direction == "desc" else expr.asc())
            sorted_by.add(column)
    order += [Enrolment.device_confirmed_at.asc(), Enrolment.id.asc()]

    def joined(stmt):
        if query.professional or "professional" in sorted_by:
            stmt = stmt.join(Professional, Professional.id == Enrolment.professional_id)
        if query.assignee or "assignee" in sorted_by:
            stmt = stmt.outerjoin(assignee, assignee.id == Enrolment.assignee_id)
        return stmt

    size = max(1, min(query.end - query.start, 500))
    ids = list(
        uow.session.scalars(
            joined(select(Enrolment.id))
            .where(and_(*conditions))
            .order_by(*order)
            .offset(max(0, query.start))
            .limit(size)
        )
    )
    rows = {}
    if ids:
        shown = uow.session.execute(
            select(
                Enrolment.id,
                Enrolment.declared_first_names,
                Enrolment.declared_last_name,
                Enrolment.device_confirmed_at,
                Enrolment.assignee_id,
                Enrolment.state,
                Professional.first_names,
                Professional.last_name,
                assignee.display_name,
                second.label("second"),
            )
            .join(Professional, Professional.id == Enrolment.professional_id)
            .outerjoin(assignee, assignee.id == Enrolment.assignee_id)
            .where(Enrolment.id.in_(ids))
        ).all()
        rows = {r[0]: r for r in shown}
    counted = joined(select(Enrolment.id)).where(and_(*conditions))
    if COUNT_CAP:
        counted = counted.limit(COUNT_CAP + 1)
    total = uow.session.scalar(select(func.count()).select_from(counted.subquery()))
    summaries = _summaries(uow, ids)
    now = uow.now()
    days = uow.settings.review_sla_working_days
    result = []
    for eid in ids:
        (_id, first, last, confirmed, assignee_id, state, p_first, p_last, a_name, sec) = rows[eid]
        due = review.due_at(confirmed, days) if confirmed else None
        result.append(
            review.QueueRow(
                enrolment_id=eid,
                secretary=f"{first} {last}",
                professional=f"Dr {p_first} {p_last}",
                confirmed_at=confirmed,
                waiting_days=round(review.working_days_between(confirmed, now), 1)
                if confirmed
                else 0,
                due_at=due,
                overdue=bool(due and due < now),
                summary=summaries.get(eid, ""),
                assignee=a_name or "",
                assignee_id=assignee_id,
                awaiting_second=bool(sec),
                state_label=_("En attente de seconde validation") if sec else lc.state_label(state),
            )
        )
    return result, total or 0


def _summaries(uow: UnitOfWork, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    latest = (
        select(func.max(LuxTrustIdentity.id))
        .where(LuxTrustIdentity.enrolment_id.in_(ids))
        .group_by(LuxTrustIdentity.enrolment_id)
    )
    kinds = [getattr(LuxTrustIdentity, f"{f}_kind") for f in identity_mod.FIELDS]
    rows = uow.session.execute(
        select(LuxTrustIdentity.enrolment_id, *kinds).where(LuxTrustIdentity.id.in_(latest))
    ).all()
    out = {}
    for enrolment_id, *row_kinds in rows:
        out[enrolment_id] = _(" ; ").join(
            _(
                "{field} : {kind}",
                field=identity_mod.field_label(f),
                kind=identity_mod.kind_label(k, f),
            )
            for f, k in zip(identity_mod.FIELDS, row_kinds, strict=True)
            if k and k != identity_mod.IDENTICAL
        )
    return out


def use(what: str) -> None:
    """Swap the what-if versions into the app's modules (this process only)."""
    if "queue" in what.split(","):
        review.queue_page = queue_page
