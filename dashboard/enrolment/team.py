"""The reviewers' team lead: each reviewer's open cases and how many are overdue, and
moving cases from one reviewer to another in bulk — each move audited as an `assigned`
event by the lead, with the previous assignee, like a single assignment.

A lead needs the "lead" role (staff.ROLES), not the reviewer's: she sees who has what,
the names of the cases she moves, and decides nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, literal_column, select

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.errors import Forbidden, ValidationFailed
from dashboard.enrolment.kernel import Actor, record_event
from dashboard.enrolment.model import Enrolment, StaffRole, StaffUser
from dashboard.enrolment.staff import staff_member
from dashboard.enrolment.uow import UnitOfWork
from dashboard.enrolment.working_days import overdue_before
from dashboard.i18n import gettext as _

LEAD = "lead"
MAX_MOVE = 500  # cases moved at once
_PENDING = Enrolment.state == literal_column(f"'{lc.PENDING_REVIEW}'")  # the partial indexes


@dataclass(frozen=True)
class ReviewerLoad:
    staff_id: int | None  # None: the cases nobody has
    name: str
    open_cases: int
    overdue: int


@dataclass(frozen=True)
class TeamCase:
    enrolment_id: int
    secretary: str
    confirmed_at: dt.datetime | None
    overdue: bool


def require_lead(uow: UnitOfWork, staff_id: int) -> None:
    user = staff_member(uow, staff_id)
    if user is None or LEAD not in user.roles:
        raise Forbidden(_("Action réservée au chef ou à la cheffe d'équipe."))


def _active_reviewers(uow: UnitOfWork) -> list[tuple[int, str]]:
    return [
        (r.id, r.display_name)
        for r in uow.session.execute(
            select(StaffUser.id, StaffUser.display_name)
            .join(StaffRole, StaffRole.user_id == StaffUser.id)
            .where(StaffRole.role == "reviewer", StaffUser.active.is_(True))
            .order_by(StaffUser.display_name, StaffUser.id)
        )
    ]


def team_load(uow: UnitOfWork, lead_id: int) -> list[ReviewerLoad]:
    """Every active reviewer (those with nothing too), then the unassigned cases; cases
    held by someone who is no longer a reviewer are listed under their name as well."""
    require_lead(uow, lead_id)
    cutoff = overdue_before(uow.now(), uow.settings.review_sla_working_days)
    late = func.sum(case((Enrolment.device_confirmed_at < cutoff, 1), else_=0))
    counts = {
        assignee: (int(n), int(overdue or 0))
        for assignee, n, overdue in uow.session.execute(
            select(Enrolment.assignee_id, func.count(), late)
            .where(_PENDING)
            .group_by(Enrolment.assignee_id)
        )
    }
    people = dict(_active_reviewers(uow))
    missing = [i for i in counts if i is not None and i not in people]
    if missing:
        people |= dict(
            uow.session.execute(
                select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(missing))
            ).all()
        )
    loads = [ReviewerLoad(i, name, *counts.get(i, (0, 0))) for i, name in people.items()]
    loads.sort(key=lambda load: (-load.open_cases, load.name.casefold()))
    nobody = counts.get(None, (0, 0))
    return [*loads, ReviewerLoad(None, _("Non attribués"), *nobody)]


def cases_of(uow: UnitOfWork, lead_id: int, reviewer_id: int | None) -> list[TeamCase]:
    """The open cases of one reviewer (None: nobody's), longest waiting first."""
    require_lead(uow, lead_id)
    cutoff = overdue_before(uow.now(), uow.settings.review_sla_working_days)
    held = (
        Enrolment.assignee_id.is_(None)
        if reviewer_id is None
        else Enrolment.assignee_id == reviewer_id
    )
    rows = uow.session.execute(
        select(
            Enrolment.id,
            Enrolment.declared_first_names,
            Enrolment.declared_last_name,
            Enrolment.device_confirmed_at,
        )
        .where(_PENDING, held)
        .order_by(Enrolment.device_confirmed_at, Enrolment.id)
        .limit(MAX_MOVE)
    ).all()
    return [
        TeamCase(
            r.id,
            f"{r.declared_first_names or ''} {r.declared_last_name or ''}".strip(),
            r.device_confirmed_at,
            bool(r.device_confirmed_at and r.device_confirmed_at < cutoff),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Reassigned:
    moved: int
    skipped: int  # decided or moved by someone else meanwhile, or already hers


def reassign(
    uow: UnitOfWork,
    lead_id: int,
    enrolment_ids: list[int],
    to_id: int,
    from_id: int | None,
) -> Reassigned:
    """Move the chosen cases of `from_id` (None: nobody's) to the reviewer `to_id`, in one
    transaction. A case no longer pending, or no longer `from_id`'s, is skipped: the lead
    moves what she saw, not what changed since."""
    require_lead(uow, lead_id)
    ids = sorted({int(i) for i in enrolment_ids})
    if not ids:
        raise ValidationFailed({"cases": _("Cochez au moins un dossier à réattribuer.")})
    if len(ids) > MAX_MOVE:
        raise ValidationFailed({"cases": _("Au plus {n} dossiers à la fois.", n=MAX_MOVE)})
    if to_id not in dict(_active_reviewers(uow)):
        raise ValidationFailed({"to": _("Choisissez un(e) relecteur(rice) actif(ve).")})
    if to_id == from_id:
        raise ValidationFailed({"to": _("Choisissez une autre personne que celle d'origine.")})
    held = Enrolment.assignee_id.is_(None) if from_id is None else Enrolment.assignee_id == from_id
    chosen = uow.session.scalars(
        select(Enrolment)
        .where(Enrolment.id.in_(ids), _PENDING, held)
        .order_by(Enrolment.id)
        .with_for_update()
    ).all()
    now, lead = uow.now(), Actor("staff", str(lead_id))
    for enrolment in chosen:
        enrolment.assignee_id = to_id
        enrolment.updated_at = now
        record_event(
            uow,
            enrolment,
            "assigned",
            lead,
            data={"assignee_id": to_id, "previous_assignee_id": from_id, "bulk": len(chosen)},
        )
    uow.commit()
    return Reassigned(len(chosen), len(ids) - len(chosen))
