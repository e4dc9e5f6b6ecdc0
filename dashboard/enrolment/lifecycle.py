"""The enrolment lifecycle: its states and the one table of allowed transitions (DESIGN §2)."""

from __future__ import annotations

from dashboard.enrolment.errors import IllegalTransition
from dashboard.i18n import N_
from dashboard.i18n import gettext as _

DECLARED = "declared"
CGU_ACCEPTED = "cgu_accepted"
MATRICULE_VERIFIED = "matricule_verified"
IDENTITY_MISMATCH = "identity_mismatch"
PENDING_REVIEW = "pending_review"
ACCOUNT_CREATED = "account_created"
REJECTED = "rejected"
LOCKED = "locked"
EXPIRED = "expired"
CANCELLED = "cancelled"

STATES = (
    DECLARED,
    CGU_ACCEPTED,
    MATRICULE_VERIFIED,
    IDENTITY_MISMATCH,
    PENDING_REVIEW,
    ACCOUNT_CREATED,
    REJECTED,
    LOCKED,
    EXPIRED,
    CANCELLED,
)

TRANSITIONS: dict[str, frozenset[str]] = {
    DECLARED: frozenset({CGU_ACCEPTED, EXPIRED, CANCELLED}),
    CGU_ACCEPTED: frozenset({MATRICULE_VERIFIED, LOCKED, EXPIRED, CANCELLED}),
    MATRICULE_VERIFIED: frozenset({ACCOUNT_CREATED, IDENTITY_MISMATCH, EXPIRED, CANCELLED}),
    # "No, not my own device" sends her back to the LuxTrust step (matricule_verified).
    IDENTITY_MISMATCH: frozenset({PENDING_REVIEW, MATRICULE_VERIFIED, EXPIRED, CANCELLED}),
    PENDING_REVIEW: frozenset({ACCOUNT_CREATED, REJECTED}),
    ACCOUNT_CREATED: frozenset(),
    REJECTED: frozenset(),
    LOCKED: frozenset(),
    EXPIRED: frozenset(),
    CANCELLED: frozenset(),
}

TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# States in which the secretary still has something to do with her link.
OPEN_FOR_SECRETARY = frozenset({DECLARED, CGU_ACCEPTED, MATRICULE_VERIFIED, IDENTITY_MISMATCH})
# States that count as an open declaration (not yet decided, not dead).
OPEN = OPEN_FOR_SECRETARY | {PENDING_REVIEW}
# How far along the secretary's path each state is; a step is done once passed.
PROGRESS = {
    DECLARED: 0,
    CGU_ACCEPTED: 1,
    MATRICULE_VERIFIED: 2,
    IDENTITY_MISMATCH: 3,
    PENDING_REVIEW: 4,
    ACCOUNT_CREATED: 5,
    REJECTED: 5,
}


def can_move(source: str, target: str) -> bool:
    return target in TRANSITIONS.get(source, frozenset())


def check(source: str, target: str) -> None:
    """Raise IllegalTransition, with a French message, unless source → target is allowed."""
    if source not in TRANSITIONS or target not in TRANSITIONS:
        raise IllegalTransition(_("État inconnu."), source=source, target=target)
    if not can_move(source, target):
        raise IllegalTransition(
            _(
                "Cette étape n'est pas possible : la demande est à l'état « {source} ».",
                source=state_label(source),
            ),
            source=source,
            target=target,
        )


STATE_LABELS = {
    DECLARED: N_("Invitation envoyée"),
    CGU_ACCEPTED: N_("Conditions acceptées"),
    MATRICULE_VERIFIED: N_("Matricule vérifié"),
    IDENTITY_MISMATCH: N_("Données LuxTrust différentes"),
    PENDING_REVIEW: N_("Vérification manuelle en cours"),
    ACCOUNT_CREATED: N_("Compte créé"),
    REJECTED: N_("Refusée"),
    LOCKED: N_("Bloquée"),
    EXPIRED: N_("Expirée"),
    CANCELLED: N_("Annulée"),
}


def state_label(state: str) -> str:
    """Plain words for a state, as professionals and staff read it (translated)."""
    return _(STATE_LABELS[state]) if state in STATE_LABELS else state
