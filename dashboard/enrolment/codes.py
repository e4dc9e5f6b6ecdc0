"""The product's codes, each list written once with its labels: what is stored in the
database, named in configuration (FOUR_EYES) and shown to staff.

Labels are French source strings (`N_`), translated where they are shown (`label`);
tests/unit/test_codes.py checks that every code has its label in each language, and every
rejection reason its text in the emails (data/emails/_reasons*.txt).
"""

from __future__ import annotations

from enum import StrEnum

from dashboard.i18n import N_
from dashboard.i18n import gettext as _


class RejectionReason(StrEnum):
    """Why a reviewer refused a case (stored on the decision; its email text says why)."""

    IDENTITY_NOT_ESTABLISHED = "identity_not_established"
    NOT_DECLARED_PERSON = "not_declared_person"
    SUSPECTED_FRAUD = "suspected_fraud"
    DECLARATION_ERROR = "declaration_error"


REASON_LABELS = {
    RejectionReason.IDENTITY_NOT_ESTABLISHED: N_("Identité non établie"),
    RejectionReason.NOT_DECLARED_PERSON: N_("Pas la personne déclarée"),
    RejectionReason.SUSPECTED_FRAUD: N_("Suspicion de fraude"),
    RejectionReason.DECLARATION_ERROR: N_(
        "Erreur de déclaration (nouvelle déclaration nécessaire)"
    ),
}


class LinkEndReason(StrEnum):
    """Why a secretary's access to a professional ended (`account_links.end_reason`)."""

    LEFT_PRACTICE = "left_practice"
    END_OF_CONTRACT = "end_of_contract"
    DECLARED_BY_MISTAKE = "declared_by_mistake"
    PROFESSIONAL_DEACTIVATED = "professional_deactivated"
    OTHER = "other"


LINK_END_LABELS = {
    LinkEndReason.LEFT_PRACTICE: N_("A quitté le cabinet"),
    LinkEndReason.END_OF_CONTRACT: N_("Fin du contrat ou de la mission"),
    LinkEndReason.DECLARED_BY_MISTAKE: N_("Déclarée par erreur"),
    LinkEndReason.PROFESSIONAL_DEACTIVATED: N_("Le professionnel n'exerce plus (compte désactivé)"),
    LinkEndReason.OTHER: N_("Autre motif"),
}

# What a person chooses from when ending an access (the deactivation reason is the system's).
LINK_END_CHOICES = (
    LinkEndReason.LEFT_PRACTICE,
    LinkEndReason.END_OF_CONTRACT,
    LinkEndReason.DECLARED_BY_MISTAKE,
    LinkEndReason.OTHER,
)


class Outcome(StrEnum):
    """How an enrolment was decided (`enrolments.decision`, `decisions.outcome`)."""

    AUTO_MATCH = "auto_match"
    REVIEWER_APPROVED = "reviewer_approved"
    REJECTED = "rejected"


OUTCOME_LABELS = {
    Outcome.AUTO_MATCH: N_("Compte créé automatiquement"),
    Outcome.REVIEWER_APPROVED: N_("Approuvé"),
    Outcome.REJECTED: N_("Refusé"),
}


class DecisionStatus(StrEnum):
    """Where a decision stands: final, or a four-eyes proposal awaiting or withdrawn."""

    FINAL = "final"
    AWAITING_SECOND = "awaiting_second"
    WITHDRAWN = "withdrawn"
    RETURNED = "returned"  # sent back to its author with a comment (issue 22)


DECISION_STATUS_LABELS = {
    DecisionStatus.FINAL: N_("définitive"),
    DecisionStatus.AWAITING_SECOND: N_("en attente d'une seconde validation"),
    DecisionStatus.WITHDRAWN: N_("écartée"),
    DecisionStatus.RETURNED: N_("renvoyée à son auteur(e)"),
}


class LuxTrustDevice(StrEnum):
    """The LuxTrust devices a secretary may use (the Token was switched off end of 2024)."""

    MOBILE = "mobile"
    SCAN = "scan"
    SMARTCARD = "smartcard"
    SIGNING_STICK = "signing_stick"
    EID = "eid"


# Product names: the same in every language.
DEVICE_LABELS = {
    LuxTrustDevice.MOBILE: "LuxTrust Mobile",
    LuxTrustDevice.SCAN: "LuxTrust Scan",
    LuxTrustDevice.SMARTCARD: "SmartCard",
    LuxTrustDevice.SIGNING_STICK: "Signing Stick",
    LuxTrustDevice.EID: "eID",
}


class EventAction(StrEnum):
    """What an event records (`events.action`); `kernel.record_event` refuses any other."""

    # the professional
    DECLARED = "declared"
    INVITATION_RESENT = "invitation_resent"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"
    REDECLARED = "redeclared"
    # the secretary
    LINK_OPENED = "link_opened"
    CGU_ACCEPTED = "cgu_accepted"
    MATRICULE_MISMATCH = "matricule_mismatch"
    MATRICULE_VERIFIED = "matricule_verified"
    LOCKED = "locked"
    IDENTITY_MISMATCH = "identity_mismatch"
    DEVICE_CONFIRMED = "device_confirmed"
    DEVICE_NOT_CONFIRMED = "device_not_confirmed"
    # the account
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_OPENED = "account_opened"
    ACCOUNT_LINKED = "account_linked"
    # the identity platform confirmed the account (its emails go out then)
    ACCOUNT_PROVISIONED = "account_provisioned"
    # the end of access (leaver) and its undoing by a new declaration
    LINK_ENDED = "link_ended"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    ACCOUNT_REACTIVATED = "account_reactivated"
    PROFESSIONAL_DEACTIVATED = "professional_deactivated"
    # the identity-vigilance team
    CASE_OPENED = "case_opened"
    CLAIMED = "claimed"
    ASSIGNED = "assigned"
    RELEASED = "released"
    NOTE_ADDED = "note_added"
    DECISION_PROPOSED = "decision_proposed"
    PROPOSAL_WITHDRAWN = "proposal_withdrawn"
    PROPOSAL_RETURNED = "proposal_returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    # housekeeping
    EXPIRED = "expired"
    PERSONAL_DATA_PURGED = "personal_data_purged"
    # the background worker: a reminder with a fresh link (housekeeping.send_reminders)
    REMINDER_SENT = "reminder_sent"
    # staff accounts (no enrolment)
    STAFF_LOGIN = "staff_login"
    STAFF_LOGIN_FAILED = "staff_login_failed"
    STAFF_ADDED = "staff_added"
    STAFF_ROLES_CHANGED = "staff_roles_changed"
    STAFF_ENABLED = "staff_enabled"
    STAFF_DISABLED = "staff_disabled"
    STAFF_PASSWORD_RESET = "staff_password_reset"  # noqa: S105  # nosec B105 - an event name
    STAFF_SESSIONS_ENDED = "staff_sessions_ended"
    SESSIONS_ENDED_ALL = "sessions_ended_all"
    # operations: an admin acts on a stuck outbox item (no enrolment)
    OUTBOX_RETRIED = "outbox_retried"
    OUTBOX_CANCELLED = "outbox_cancelled"


ACTION_LABELS = {
    EventAction.DECLARED: N_("Déclaration"),
    EventAction.INVITATION_RESENT: N_("Invitation renvoyée"),
    EventAction.CANCELLED: N_("Annulée"),
    EventAction.SUPERSEDED: N_("Remplacée par une nouvelle déclaration"),
    EventAction.REDECLARED: N_("Nouvelle déclaration"),
    EventAction.LINK_OPENED: N_("Lien ouvert"),
    EventAction.CGU_ACCEPTED: N_("CGU acceptées"),
    EventAction.MATRICULE_MISMATCH: N_("Matricule erroné"),
    EventAction.MATRICULE_VERIFIED: N_("Matricule vérifié"),
    EventAction.LOCKED: N_("Bloquée"),
    EventAction.IDENTITY_MISMATCH: N_("Identité LuxTrust différente"),
    EventAction.DEVICE_CONFIRMED: N_("Dispositif personnel confirmé"),
    EventAction.DEVICE_NOT_CONFIRMED: N_("Dispositif non confirmé (nouvel essai)"),
    EventAction.ACCOUNT_CREATED: N_("Compte créé automatiquement"),
    EventAction.ACCOUNT_OPENED: N_("Compte ouvert"),
    EventAction.ACCOUNT_LINKED: N_("Compte existant lié"),
    EventAction.ACCOUNT_PROVISIONED: N_("Compte confirmé par la plateforme d'identité"),
    EventAction.LINK_ENDED: N_("Fin de l'accès auprès d'un professionnel"),
    EventAction.ACCOUNT_DEACTIVATED: N_("Compte désactivé (plus aucun accès)"),
    EventAction.ACCOUNT_REACTIVATED: N_("Compte réactivé"),
    EventAction.PROFESSIONAL_DEACTIVATED: N_("Professionnel désactivé"),
    EventAction.CASE_OPENED: N_("Dossier consulté"),
    EventAction.CLAIMED: N_("Dossier pris en charge"),
    EventAction.ASSIGNED: N_("Dossier attribué"),
    EventAction.RELEASED: N_("Dossier libéré"),
    EventAction.NOTE_ADDED: N_("Note ajoutée"),
    EventAction.DECISION_PROPOSED: N_("Décision proposée (seconde validation requise)"),
    EventAction.PROPOSAL_WITHDRAWN: N_("Proposition écartée"),
    EventAction.PROPOSAL_RETURNED: N_("Proposition renvoyée à son auteur(e) avec un commentaire"),
    EventAction.APPROVED: N_("Approuvé"),
    EventAction.REJECTED: N_("Refusé"),
    EventAction.EXPIRED: N_("Expirée"),
    EventAction.PERSONAL_DATA_PURGED: N_(
        "Données personnelles effacées (fin de la durée de conservation)"
    ),
    EventAction.REMINDER_SENT: N_("Rappel envoyé (nouveau lien)"),
    EventAction.STAFF_LOGIN: N_("Connexion"),
    EventAction.STAFF_LOGIN_FAILED: N_("Échec de connexion"),
    EventAction.STAFF_ADDED: N_("Compte du personnel créé"),
    EventAction.STAFF_ROLES_CHANGED: N_("Rôles modifiés"),
    EventAction.STAFF_ENABLED: N_("Compte réactivé"),
    EventAction.STAFF_DISABLED: N_("Compte désactivé"),
    EventAction.STAFF_PASSWORD_RESET: N_("Nouveau mot de passe donné"),
    EventAction.STAFF_SESSIONS_ENDED: N_("Sessions du compte terminées"),
    EventAction.SESSIONS_ENDED_ALL: N_("Toutes les sessions terminées"),
    # operations
    EventAction.OUTBOX_RETRIED: N_("Envoi en attente relancé"),
    EventAction.OUTBOX_CANCELLED: N_("Envoi en attente annulé"),
}


def _label(table: dict, code: str | None) -> str:
    # Stored rows may hold a code no longer listed: show it as it is rather than nothing.
    return _(table[code]) if code in table else (code or "")


def reason_label(code: str | None) -> str:
    return _label(REASON_LABELS, code)


def link_end_label(code: str | None) -> str:
    return _label(LINK_END_LABELS, code)


def outcome_label(code: str | None) -> str:
    return _label(OUTCOME_LABELS, code)


def status_label(code: str | None) -> str:
    return _label(DECISION_STATUS_LABELS, code)


def action_label(code: str | None) -> str:
    return _label(ACTION_LABELS, code)


def device_label(code: str | None) -> str | None:
    return DEVICE_LABELS.get(code) if code else None


REJECTION_REASONS = tuple(RejectionReason)
LINK_END_REASONS = tuple(LinkEndReason)
LUXTRUST_DEVICES = tuple(LuxTrustDevice)
EVENT_ACTIONS = frozenset(EventAction)


# --- the reviewer's starting texts (issue 22) ---------------------------------------------------

# A rejection's note starts from its reason's text, for the reviewer to complete.
REASON_NOTE_TEMPLATES = {
    RejectionReason.IDENTITY_NOT_ESTABLISHED: N_(
        "Identité non établie : l'identité LuxTrust diffère de la déclaration sur … ; vérifié : …"
    ),
    RejectionReason.NOT_DECLARED_PERSON: N_(
        "Pas la personne déclarée : LuxTrust a authentifié … au lieu de … ; vérifié : …"
    ),
    RejectionReason.SUSPECTED_FRAUD: N_(
        "Suspicion de fraude : indices relevés : … ; signalé à : …"
    ),
    RejectionReason.DECLARATION_ERROR: N_(
        "Erreur de déclaration : le professionnel a saisi … ; il doit déclarer à nouveau avec …"
    ),
}


def reason_note_template(code: str | None) -> str:
    return _label(REASON_NOTE_TEMPLATES, code) if code in REASON_NOTE_TEMPLATES else ""
