"""The case file a reviewer opens: the declaration beside what LuxTrust returned (the
diff), the timeline of events, notes, decisions and related enrolments.

Opening a case shows personal data, so `open_case` records who opened it and when, in the
transaction that reads it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import joinedload

from dashboard.enrolment import codes
from dashboard.enrolment import identity as identity_mod
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule as matricule_mod
from dashboard.enrolment.decisions import needs_second_reviewer
from dashboard.enrolment.errors import NotFound
from dashboard.enrolment.kernel import Actor, record_event
from dashboard.enrolment.model import (
    Decision,
    Enrolment,
    Event,
    Professional,
    ReviewNote,
    StaffRole,
    StaffUser,
)
from dashboard.enrolment.staff import reviewers_only
from dashboard.enrolment.uow import UnitOfWork
from dashboard.enrolment.working_days import due_at
from dashboard.i18n import gettext as _


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
    second_reasons: frozenset[str] = frozenset()  # rejection reasons needing a second look


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


def open_case(
    uow: UnitOfWork, enrolment_id: int, staff_id: int, via: int | None = None
) -> CaseView:
    """The case file for a reviewer; the opening itself is audited.

    Least privilege: a reviewer opens the cases that reached review; another enrolment
    only as a related request of such a case (`via`: that case's number), as its page
    lists them. Any other number reads as "does not exist".

    One transaction: the opening is written first (the timeline shows it), the file is
    read, then both end with one commit. A failure before the commit shows nothing."""
    staff = StaffDirectory.read(uow)
    staff.check_reviewer(staff_id)
    enrolment = _case_enrolment(uow, enrolment_id, via)
    record_event(uow, enrolment, "case_opened", Actor("staff", str(staff_id)))
    view = _case_view(uow, enrolment, staff)
    uow.commit()
    return view


def case_view(
    uow: UnitOfWork, enrolment_id: int, staff_id: int, via: int | None = None
) -> CaseView:
    """The case file again after an action by the same reviewer (already audited)."""
    staff = StaffDirectory.read(uow)
    staff.check_reviewer(staff_id)
    return _case_view(uow, _case_enrolment(uow, enrolment_id, via), staff)


def reached_review(enrolment: Enrolment) -> bool:
    """She confirmed her own device after a mismatch: the case went to the reviewers."""
    return enrolment.device_confirmed_at is not None


def _related(one: Enrolment, other: Enrolment) -> bool:
    """As _CASE_RELATED relates them: the same matricule or the same email (never None)."""
    return one.id != other.id and any(
        a is not None and a == b
        for a, b in (
            (one.declared_matricule, other.declared_matricule),
            (one.email, other.email),
        )
    )


def _case_enrolment(uow: UnitOfWork, enrolment_id: int, via: int | None = None) -> Enrolment:
    """The enrolment with its professional and identities, in one statement, if this
    reviewer may open it (open_case)."""
    enrolment = (
        uow.session.scalars(_CASE_ENROLMENT, {"enrolment_id": enrolment_id}).unique().one_or_none()
    )
    if enrolment is not None and not reached_review(enrolment):
        case = uow.session.get(Enrolment, via) if via is not None else None
        if case is None or not reached_review(case) or not _related(case, enrolment):
            enrolment = None  # not browsable by number: the same answer as a wrong one
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
            "note": proposal.note or "",  # the proposer's reasoning, read first
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
        second_reasons=uow.settings.four_eyes_rules.reject,
    )
