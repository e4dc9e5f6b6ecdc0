"""The identity-vigilance team's use cases: take a case (claim, assign, release), write
notes, and decide — approve or reject, with a second reviewer where FOUR_EYES asks for one
(propose, confirm, withdraw).

Every function checks, from the database, that the acting staff member is a reviewer now.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from dashboard.config import FourEyesRules
from dashboard.enrolment import accounts
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.codes import REJECTION_REASONS, reason_note_template
from dashboard.enrolment.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed
from dashboard.enrolment.kernel import Actor, get_enrolment, move, raise_concurrent, record_event
from dashboard.enrolment.model import Decision, Enrolment, ReviewNote
from dashboard.enrolment.staff import require_reviewer
from dashboard.enrolment.text import clean_note
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import gettext as _


def _pending(uow: UnitOfWork, enrolment_id: int, expected_version: int | None) -> Enrolment:
    # FOR UPDATE: a second reviewer deciding at the same moment waits, then sees the first.
    enrolment = get_enrolment(uow, enrolment_id, for_update=True)
    if enrolment.state != lc.PENDING_REVIEW:
        raise IllegalTransition(
            _("Ce dossier a déjà été traité ({state}).", state=lc.state_label(enrolment.state))
        )
    if expected_version is not None and enrolment.version != expected_version:
        raise_concurrent()
    return enrolment


# --- who handles the case -----------------------------------------------------------------------


def claim(uow: UnitOfWork, enrolment_id: int, reviewer_id: int) -> None:
    require_reviewer(uow, reviewer_id)
    enrolment = _pending(uow, enrolment_id, None)
    if enrolment.assignee_id == reviewer_id:
        return
    if enrolment.assignee_id is not None:
        raise IllegalTransition(_("Ce dossier est déjà pris en charge par un(e) collègue."))
    enrolment.assignee_id = reviewer_id
    enrolment.updated_at = uow.now()
    record_event(uow, enrolment, "claimed", Actor("staff", str(reviewer_id)))
    uow.commit()


def claim_if_free(uow: UnitOfWork, enrolment_id: int, reviewer_id: int) -> bool:
    """Opening a case from the queue takes it when nobody has: True when it did. A case
    already decided, or a colleague's, is left as it is (no error: it is only opened)."""
    require_reviewer(uow, reviewer_id)
    enrolment = get_enrolment(uow, enrolment_id, for_update=True)
    if enrolment.state != lc.PENDING_REVIEW or enrolment.assignee_id is not None:
        return False
    enrolment.assignee_id = reviewer_id
    enrolment.updated_at = uow.now()
    record_event(uow, enrolment, "claimed", Actor("staff", str(reviewer_id)))
    uow.commit()
    return True


def assign(uow: UnitOfWork, enrolment_id: int, assignee_id: int, actor_id: int) -> None:
    require_reviewer(uow, actor_id)
    require_reviewer(uow, assignee_id)
    enrolment = _pending(uow, enrolment_id, None)
    if enrolment.assignee_id == assignee_id:
        return
    enrolment.assignee_id = assignee_id
    enrolment.updated_at = uow.now()
    record_event(
        uow, enrolment, "assigned", Actor("staff", str(actor_id)), data={"assignee_id": assignee_id}
    )
    uow.commit()


def release(uow: UnitOfWork, enrolment_id: int, reviewer_id: int) -> None:
    require_reviewer(uow, reviewer_id)
    enrolment = _pending(uow, enrolment_id, None)
    if enrolment.assignee_id is None:
        return
    enrolment.assignee_id = None
    enrolment.updated_at = uow.now()
    record_event(uow, enrolment, "released", Actor("staff", str(reviewer_id)))
    uow.commit()


# --- notes ------------------------------------------------------------------------------------

# clean_note lives in text.py (links.py cleans its notes the same way).


def _keep_note(uow: UnitOfWork, enrolment: Enrolment, author_id: int, text: str) -> None:
    uow.session.add(
        ReviewNote(enrolment_id=enrolment.id, author_id=author_id, text=text, created_at=uow.now())
    )


def add_note(uow: UnitOfWork, enrolment_id: int, author_id: int, text: str) -> None:
    require_reviewer(uow, author_id)
    text = clean_note(text)
    enrolment = get_enrolment(uow, enrolment_id)
    if enrolment.device_confirmed_at is None:  # case_file.reached_review: reviewers' cases
        raise NotFound(_("Ce dossier n'existe pas."))
    _keep_note(uow, enrolment, author_id, text)
    record_event(uow, enrolment, "note_added", Actor("staff", str(author_id)))
    uow.commit()


# --- four eyes ----------------------------------------------------------------------------------


def four_eyes_rules(uow: UnitOfWork) -> FourEyesRules:
    """FOUR_EYES, parsed at start-up: (approve (field, kind) pairs, reject reason codes)."""
    return uow.settings.four_eyes_rules


def needs_second_reviewer(
    uow: UnitOfWork, enrolment: Enrolment, outcome: str, reason_code: str | None = None
) -> bool:
    rules = four_eyes_rules(uow)
    if outcome == "rejected":
        return reason_code in rules.reject
    latest = enrolment.latest_identity
    fields = (latest.comparison or {}).get("fields", []) if latest else []
    return any((f.get("field"), f.get("kind")) in rules.approve for f in fields)


def pending_proposal(uow: UnitOfWork, enrolment_id: int) -> Decision | None:
    return uow.session.scalar(
        select(Decision).where(
            Decision.enrolment_id == enrolment_id, Decision.status == "awaiting_second"
        )
    )


def _second_look(uow, enrolment, reviewer_id, outcome, reason_code=None) -> Decision | None:
    """The awaiting proposal this decision confirms, or None when there is none.

    Refuses a confirmation by the proposer (never the same person twice) and a decision
    that contradicts the proposal (withdraw it first).
    """
    proposal = pending_proposal(uow, enrolment.id)
    if proposal is None:
        return None
    if proposal.reviewer_id == reviewer_id:
        raise Forbidden(
            _("La seconde validation doit être faite par un(e) autre membre de l'équipe.")
        )
    if proposal.outcome != outcome or proposal.reason_code != reason_code:
        raise IllegalTransition(
            _(
                "Une autre décision attend une seconde validation sur ce dossier : "
                "confirmez-la ou écartez-la d'abord."
            )
        )
    return proposal


def _propose(uow, enrolment, reviewer_id, outcome, reason_code=None, note=None) -> str:
    uow.session.add(
        Decision(
            enrolment_id=enrolment.id,
            outcome=outcome,
            reason_code=reason_code,
            note=(note or "").strip()[:5000] or None,
            reviewer_id=reviewer_id,
            status="awaiting_second",
            created_at=uow.now(),
        )
    )
    enrolment.updated_at = uow.now()
    flag_modified(enrolment, "updated_at")  # always an UPDATE, so the version moves on
    uow.flush()
    record_event(
        uow,
        enrolment,
        "decision_proposed",
        Actor("staff", str(reviewer_id)),
        data={"outcome": outcome, "reason_code": reason_code},
    )
    uow.commit()
    return "awaiting_second"


# --- deciding -----------------------------------------------------------------------------------


def approve(
    uow: UnitOfWork,
    enrolment_id: int,
    reviewer_id: int,
    *,
    note: str | None = None,
    expected_version: int | None = None,
    require_note: bool = False,
) -> str:
    """The reviewer establishes her identity: the account is created, emails sent.

    Returns "account_created", or "awaiting_second" when the case needs a second reviewer.
    `require_note` (the back-office): a proposal must say why, for the second reviewer.
    """
    note = clean_note(note, required=False)
    require_reviewer(uow, reviewer_id)
    enrolment = _pending(uow, enrolment_id, expected_version)
    observed = enrolment.latest_identity
    if observed is None:
        raise IllegalTransition(_("Aucune identité LuxTrust n'est enregistrée pour ce dossier."))
    if not enrolment.professional.active:
        # Approving would link her to a practice that no longer exists; reject instead.
        raise Forbidden(
            _(
                "Le professionnel déclarant a été désactivé : la demande ne peut plus être "
                "approuvée. Refusez-la en expliquant pourquoi."
            )
        )
    proposal = _second_look(uow, enrolment, reviewer_id, "reviewer_approved")
    proposing = proposal is None and needs_second_reviewer(uow, enrolment, "reviewer_approved")
    if proposing and require_note and not note:
        raise ValidationFailed(
            {"note": _("Expliquez votre décision dans la note : un(e) collègue la lira.")}
        )
    if note:
        _keep_note(uow, enrolment, reviewer_id, note)
    if proposing:
        return _propose(uow, enrolment, reviewer_id, "reviewer_approved", note=note)
    actor = Actor("staff", str(reviewer_id))
    # The event tells her and the professional (notifications.TABLE).
    move(
        uow,
        enrolment,
        lc.ACCOUNT_CREATED,
        "approved",
        actor,
        {"decision": "reviewer_approved", "second_of": proposal.id if proposal else None},
    )
    if proposal is not None:
        proposal.status, proposal.confirmed_by_id = "final", reviewer_id
        proposal.confirmed_at = uow.now()
    accounts.create_or_link(
        uow,
        enrolment,
        observed,
        outcome="reviewer_approved",
        reviewer_id=proposal.reviewer_id if proposal else reviewer_id,
        decision=proposal,
    )
    enrolment.assignee_id = enrolment.assignee_id or reviewer_id
    uow.commit()
    return lc.ACCOUNT_CREATED


def reject(
    uow: UnitOfWork,
    enrolment_id: int,
    reviewer_id: int,
    *,
    reason_code: str,
    note: str = "",
    expected_version: int | None = None,
    require_note: bool = False,
) -> str:
    """Refuse with a reason code; returns "rejected" or "awaiting_second" (four-eyes).
    `require_note` (the back-office): a refusal says why, unless it confirms a proposal
    that already does."""
    if reason_code not in REJECTION_REASONS:
        raise ValidationFailed({"reason_code": _("Choisissez un motif de refus.")})
    note = clean_note(note, "reject_note", required=False)
    require_reviewer(uow, reviewer_id)
    enrolment = _pending(uow, enrolment_id, expected_version)
    proposal = _second_look(uow, enrolment, reviewer_id, "rejected", reason_code)
    # The reason's starting text, unchanged, says nothing yet.
    if proposal is None and require_note and note in ("", reason_note_template(reason_code)):
        raise ValidationFailed(
            {"reject_note": _("Expliquez ce refus dans la note : le motif seul ne suffit pas.")}
        )
    if proposal is None and needs_second_reviewer(uow, enrolment, "rejected", reason_code):
        return _propose(uow, enrolment, reviewer_id, "rejected", reason_code, note)
    now = uow.now()
    actor = Actor("staff", str(reviewer_id))
    enrolment.decision = "rejected"
    enrolment.reason_code = reason_code
    enrolment.decided_at = now
    enrolment.assignee_id = enrolment.assignee_id or reviewer_id
    # The event tells her and the professional, with the reason (notifications.TABLE).
    move(
        uow,
        enrolment,
        lc.REJECTED,
        "rejected",
        actor,
        {"reason_code": reason_code, "second_of": proposal.id if proposal else None},
    )
    if proposal is not None:
        proposal.status, proposal.confirmed_by_id, proposal.confirmed_at = "final", reviewer_id, now
        if note:
            _keep_note(uow, enrolment, reviewer_id, note)
    else:
        uow.session.add(
            Decision(
                enrolment_id=enrolment.id,
                outcome="rejected",
                reason_code=reason_code,
                note=(note or "").strip()[:5000] or None,
                reviewer_id=reviewer_id,
                status="final",
                created_at=now,
            )
        )
    uow.commit()
    return enrolment.state


def withdraw_proposal(
    uow: UnitOfWork, enrolment_id: int, reviewer_id: int, expected_version: int | None = None
) -> None:
    """A second reviewer disagrees (or the proposer changes her mind): back to the queue."""
    require_reviewer(uow, reviewer_id)
    enrolment = _pending(uow, enrolment_id, expected_version)
    proposal = pending_proposal(uow, enrolment.id)
    if proposal is None:
        return
    proposal.status = "withdrawn"
    proposal.confirmed_by_id = reviewer_id
    proposal.confirmed_at = uow.now()
    enrolment.updated_at = uow.now()
    flag_modified(enrolment, "updated_at")
    uow.flush()
    record_event(
        uow,
        enrolment,
        "proposal_withdrawn",
        Actor("staff", str(reviewer_id)),
        data={"decision_id": proposal.id},
    )
    uow.commit()


def return_proposal(
    uow: UnitOfWork,
    enrolment_id: int,
    reviewer_id: int,
    comment: str,
    expected_version: int | None = None,
) -> int:
    """The second reviewer sends a proposal back to its author with a comment, instead of
    dismissing it: the case is hers again, the comment kept in its notes. Returns her id."""
    require_reviewer(uow, reviewer_id)
    comment = clean_note(comment, "return_comment")
    enrolment = _pending(uow, enrolment_id, expected_version)
    proposal = pending_proposal(uow, enrolment.id)
    if proposal is None:
        raise IllegalTransition(_("Aucune proposition n'attend de seconde validation."))
    if proposal.reviewer_id == reviewer_id:
        raise Forbidden(_("C'est votre proposition : écartez-la plutôt que de vous la renvoyer."))
    proposal.status = "returned"
    proposal.confirmed_by_id = reviewer_id
    proposal.confirmed_at = uow.now()
    # Hers again: it comes back into "Mes dossiers", with the comment on the case.
    enrolment.assignee_id = proposal.reviewer_id
    enrolment.updated_at = uow.now()
    flag_modified(enrolment, "updated_at")
    _keep_note(uow, enrolment, reviewer_id, comment)
    uow.flush()
    record_event(
        uow,
        enrolment,
        "proposal_returned",
        Actor("staff", str(reviewer_id)),
        data={"decision_id": proposal.id, "author_id": proposal.reviewer_id},
    )
    uow.commit()
    return proposal.reviewer_id
