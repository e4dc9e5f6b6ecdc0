"""The identity-vigilance team's read side: the queue (paged, sorted and filtered in SQL),
the working-day SLA, and the case file with its diff, timeline and related enrolments.

Opening a case shows personal data, so `open_case` records who opened it and when.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, exists, func, literal, literal_column, or_, select
from sqlalchemy.orm import aliased, joinedload

from dashboard.enrolment import codes
from dashboard.enrolment import identity as identity_mod
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule as matricule_mod
from dashboard.enrolment import text as typed
from dashboard.enrolment.decisions import needs_second_reviewer
from dashboard.enrolment.errors import NotFound
from dashboard.enrolment.kernel import Actor, record_event
from dashboard.enrolment.model import (
    Decision,
    Enrolment,
    Event,
    LuxTrustIdentity,
    Professional,
    ReviewNote,
    StaffRole,
    StaffUser,
)
from dashboard.enrolment.staff import require_reviewer, reviewers_only
from dashboard.enrolment.uow import UnitOfWork
from dashboard.enrolment.working_days import (  # noqa: F401 - callers import them from here
    _DAY_US,
    LUXEMBOURG,
    _from_working_us,
    _working_us,
    due_at,
    from_working_seconds,
    overdue_before,
    working_days_between,
    working_seconds,
)
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
        like = _contains(text)
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
            # Longest waiting first is "descending waiting time", i.e. oldest confirmation.
            if column == "waiting":
                direction = "asc" if direction == "desc" else "desc"
            ordered = expr.desc() if direction == "desc" else expr.asc()
            # The same order on both databases: cases without a value come last.
            order.append(ordered.nulls_last() if column == "assignee" else ordered)
            sorted_by.add(column)
    order += [Enrolment.device_confirmed_at.asc(), Enrolment.id.asc()]

    def joined(stmt):
        if query.professional or "professional" in sorted_by:
            stmt = stmt.join(Professional, Professional.id == Enrolment.professional_id)
        if query.assignee or "assignee" in sorted_by:
            stmt = stmt.outerjoin(assignee, assignee.id == Enrolment.assignee_id)
        return stmt

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
                assignee=r.assignee_name or "",
                assignee_id=r.assignee_id,
                awaiting_second=bool(r.second),
                state_label=_("En attente de seconde validation")
                if r.second
                else lc.state_label(r.state),
            )
        )
    return result, (total if total <= COUNT_CAP else None)


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


# --- the case file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldDiff:
    field: str
    label: str
    declared: str
    observed: str
    kind: str
    kind_label: str
    blocking: bool
    declared_segments: list = field(default_factory=list)
    observed_segments: list = field(default_factory=list)


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    action: str
    actor: str
    before: str
    after: str
    times: int = 1  # consecutive consultations by the same person, shown as one line
    last_at: dt.datetime | None = None  # the latest of them


@dataclass(frozen=True)
class RelatedEnrolment:
    enrolment_id: int
    state_label: str
    reason: str
    professional: str
    declared_at: dt.datetime
    same: str  # "matricule", "email" or both


@dataclass(frozen=True)
class CaseView:
    enrolment_id: int
    version: int
    state: str
    state_label: str
    secretary: str
    email: str | None
    phone: str | None
    matricule: str
    professional: str
    professional_email: str
    device: str
    declared_at: dt.datetime
    confirmed_at: dt.datetime | None
    due_at: dt.datetime | None
    overdue: bool
    assignee_id: int | None
    assignee: str
    fields: list[FieldDiff]
    matches: bool
    timeline: list[TimelineEntry]
    related: list[RelatedEnrolment]
    notes: list[tuple[dt.datetime, str, str]]
    proposal: dict | None
    needs_second: bool
    decision: dict | None
    colleagues: list[tuple[int, str]]  # active reviewers, to hand the case over


def _value(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":  # partial YYYY-MM-00
        y, m, d = text.split("-")
        return f"{d if d != '00' else '??'}/{m if m != '00' else '??'}/{y}"
    return text


def _actor_label(uow: UnitOfWork, actor_type: str, actor_id: str | None, names: dict) -> str:
    if actor_type == "staff" and actor_id and actor_id.isdigit():
        return names.get(int(actor_id), _("membre de l'équipe"))
    return {
        "secretary": _("la secrétaire"),
        "professional": _("le professionnel"),
        "system": _("système"),
        "cli": _("ligne de commande"),
    }.get(actor_type, actor_type)


# --- the case page's statements --------------------------------------------------------
# Built once, with bound parameters: on this page, building a statement and its cache key
# cost the ORM more than running it (0.3–0.5 ms each, measured for #8).
_STAFF_DIRECTORY = (
    select(StaffUser.id, StaffUser.display_name, StaffUser.active, StaffRole.role)
    .outerjoin(StaffRole, StaffRole.user_id == StaffUser.id)
    .order_by(StaffUser.display_name, StaffUser.id)
)
_CASE_ENROLMENT = (
    select(Enrolment)
    .where(Enrolment.id == bindparam("enrolment_id"))
    .options(joinedload(Enrolment.professional), joinedload(Enrolment.identities))
)
_CASE_EVENTS = (
    select(Event).where(Event.enrolment_id == bindparam("enrolment_id")).order_by(Event.id)
)
# Other enrolments with the same matricule or email: only the columns the page shows.
# Bound parameters compare with `=`: an erased (NULL) matricule or email matches nothing,
# where `== None` would compile to IS NULL and relate every purged case to every other.
_CASE_RELATED = (
    select(
        Enrolment.id,
        Enrolment.state,
        Enrolment.reason_code,
        Enrolment.created_at,
        Enrolment.declared_matricule,
        Enrolment.email,
        Professional.first_names,
        Professional.last_name,
    )
    .join(Professional, Professional.id == Enrolment.professional_id)
    .where(
        Enrolment.id != bindparam("enrolment_id"),
        or_(
            Enrolment.declared_matricule == bindparam("matricule"),
            Enrolment.email == bindparam("email"),
        ),
    )
    .order_by(Enrolment.created_at.desc())
    .limit(50)
)
_CASE_NOTES = (
    select(ReviewNote.created_at, ReviewNote.author_id, ReviewNote.text)
    .where(ReviewNote.enrolment_id == bindparam("enrolment_id"))
    .order_by(ReviewNote.id)
)
_CASE_DECISIONS = (
    select(Decision)
    .where(
        Decision.enrolment_id == bindparam("enrolment_id"),
        Decision.status.in_(("awaiting_second", "final")),
    )
    .order_by(Decision.id)
)


@dataclass(frozen=True)
class StaffDirectory:
    """Every staff member's name, and the active reviewers: one statement per case page
    (the staff table holds tens of rows), for the check, the names and the assign list."""

    names: dict[int, str]
    reviewers: list[tuple[int, str]]  # active, by name

    @classmethod
    def read(cls, uow: UnitOfWork) -> StaffDirectory:
        rows = uow.session.execute(_STAFF_DIRECTORY).all()
        reviewers = [(r.id, r.display_name) for r in rows if r.active and r.role == "reviewer"]
        return cls({r.id: r.display_name for r in rows}, reviewers)

    def check_reviewer(self, staff_id: int) -> None:
        if not any(i == staff_id for i, _name in self.reviewers):
            raise reviewers_only()


def open_case(uow: UnitOfWork, enrolment_id: int, staff_id: int) -> CaseView:
    """The case file for a reviewer; the opening itself is audited.

    One transaction: the opening is written first (the timeline shows it), the file is
    read, then both end with one commit. A failure before the commit shows nothing."""
    staff = StaffDirectory.read(uow)
    staff.check_reviewer(staff_id)
    enrolment = _case_enrolment(uow, enrolment_id)
    record_event(uow, enrolment, "case_opened", Actor("staff", str(staff_id)))
    view = _case_view(uow, enrolment, staff)
    uow.commit()
    return view


def case_view(uow: UnitOfWork, enrolment_id: int, staff_id: int) -> CaseView:
    """The case file again after an action by the same reviewer (already audited)."""
    staff = StaffDirectory.read(uow)
    staff.check_reviewer(staff_id)
    return _case_view(uow, _case_enrolment(uow, enrolment_id), staff)


def _case_enrolment(uow: UnitOfWork, enrolment_id: int) -> Enrolment:
    """The enrolment with its professional and identities, in one statement."""
    enrolment = (
        uow.session.scalars(_CASE_ENROLMENT, {"enrolment_id": enrolment_id}).unique().one_or_none()
    )
    if enrolment is None:
        raise NotFound(_("Ce dossier n'existe pas."))
    return enrolment


def _case_view(uow: UnitOfWork, enrolment: Enrolment, staff: StaffDirectory) -> CaseView:
    observed = enrolment.latest_identity
    # A related enrolment may not have reached LuxTrust yet: no comparison to show.
    comparison = (
        identity_mod.Comparison.from_dict(observed.comparison)
        if observed is not None
        else identity_mod.Comparison(matches=False, fields=(), blocking=())
    )
    fields = []
    for f in comparison.fields:
        declared, seen = _value(f.declared), _value(f.observed)
        segments = (
            identity_mod.diff_segments(declared, seen)
            if f.kind != "identical"
            else ([(declared, False)], [(seen, False)])
        )
        fields.append(
            FieldDiff(
                f.field,
                identity_mod.field_label(f.field),
                declared,
                seen,
                f.kind,
                identity_mod.kind_label(f.kind, f.field),
                f in comparison.blocking,
                list(segments[0]),
                list(segments[1]),
            )
        )
    names = staff.names
    events = uow.session.scalars(_CASE_EVENTS, {"enrolment_id": enrolment.id}).all()
    timeline: list[TimelineEntry] = []
    previous = None
    for e in events:
        actor = _actor_label(uow, e.actor_type, e.actor_id, names)
        if e.action == "case_opened" and previous == (e.action, e.actor_type, e.actor_id):
            # Every opening is audited; a reviewer coming back to the case reads as one line.
            last = timeline[-1]
            timeline[-1] = dataclasses.replace(last, times=last.times + 1, last_at=e.created_at)
            continue
        previous = (e.action, e.actor_type, e.actor_id)
        timeline.append(
            TimelineEntry(
                e.created_at,
                codes.action_label(e.action),
                actor,
                lc.state_label(e.state_before) if e.state_before else "",
                lc.state_label(e.state_after) if e.state_after else "",
            )
        )
    related_rows = uow.session.execute(
        _CASE_RELATED,
        {
            "enrolment_id": enrolment.id,
            "matricule": enrolment.declared_matricule,
            "email": enrolment.email,
        },
    ).all()
    related = [
        RelatedEnrolment(
            r.id,
            lc.state_label(r.state),
            codes.reason_label(r.reason_code),
            Professional.name_of(r.first_names, r.last_name),
            r.created_at,
            " + ".join(
                x
                for x, same in (
                    (_("matricule"), r.declared_matricule == enrolment.declared_matricule),
                    (_("email"), r.email == enrolment.email),
                )
                if same
            ),
        )
        for r in related_rows
    ]
    notes = [
        (n.created_at, names.get(n.author_id, ""), n.text)
        for n in uow.session.execute(_CASE_NOTES, {"enrolment_id": enrolment.id})
    ]
    # The awaiting proposal and the final decision, in one statement.
    decisions = uow.session.scalars(_CASE_DECISIONS, {"enrolment_id": enrolment.id}).all()
    proposal = next((d for d in decisions if d.status == "awaiting_second"), None)
    final = next((d for d in reversed(decisions) if d.status == "final"), None)
    days = uow.settings.review_sla_working_days
    confirmed = enrolment.device_confirmed_at
    due = due_at(confirmed, days) if confirmed else None
    prof = enrolment.professional
    return CaseView(
        enrolment_id=enrolment.id,
        version=enrolment.version,
        state=enrolment.state,
        state_label=lc.state_label(enrolment.state),
        secretary=f"{enrolment.declared_first_names} {enrolment.declared_last_name}",
        email=enrolment.email,
        phone=enrolment.phone,
        matricule=matricule_mod.format_display(enrolment.declared_matricule)
        if enrolment.declared_matricule
        else "—",
        professional=prof.display_name,
        professional_email=prof.email,
        device=codes.device_label(observed.device) or _("non indiqué")
        if observed is not None
        else _("pas encore authentifiée avec LuxTrust"),
        declared_at=enrolment.created_at,
        confirmed_at=confirmed,
        due_at=due,
        overdue=bool(due and due < uow.now() and enrolment.state == lc.PENDING_REVIEW),
        assignee_id=enrolment.assignee_id,
        assignee=names.get(enrolment.assignee_id, "") if enrolment.assignee_id else "",
        fields=fields,
        matches=comparison.matches,
        timeline=timeline,
        related=related,
        notes=notes,
        proposal={
            "outcome": proposal.outcome,
            "reason": codes.reason_label(proposal.reason_code),
            "reason_code": proposal.reason_code,
            "by": names.get(proposal.reviewer_id, ""),
            "by_id": proposal.reviewer_id,
            "at": proposal.created_at,
        }
        if proposal
        else None,
        needs_second=needs_second_reviewer(uow, enrolment, "reviewer_approved"),
        decision={
            "outcome": final.outcome,
            "reason": codes.reason_label(final.reason_code),
            "by": names.get(final.reviewer_id, "") if final.reviewer_id else _("automatique"),
            "second": names.get(final.confirmed_by_id, "") if final.confirmed_by_id else "",
            "at": final.created_at,
        }
        if final
        else None,
        colleagues=staff.reviewers,
    )
