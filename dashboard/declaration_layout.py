"""The pieces of the professional's "Mes déclarations" and of the end of a declaration:
the cards shown on a phone, the one next action of each state, the confirmation of a
card's action, and the view a declaration ends on.

The cards' actions are plain links, as in dashboard.link_layout: "Corriger" opens the form
(`/professionnel/declarer?corriger=<id>`), "Renvoyer l'invitation" and "Annuler" open the
home page with `?renvoyer=<id>` or `?annuler=<id>`, whose layout asks for a confirmation
(nothing is written by opening an address); the page's callback acts through the same
service call as the grid's buttons, and sends the browser to `?renvoyee=<id>` or
`?annulee=<id>`, whose layout says it is done. The server checks the declaration on every
load and every action (dashboard.enrolment.declarations: his own only).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule
from dashboard.enrolment.declarations import DeclarationRow
from dashboard.i18n import N_, long_date
from dashboard.i18n import gettext as _

HOME = "/professionnel"
DECLARE = "/professionnel/declarer"

RESEND, CANCEL, CORRECT = "resend", "cancel", "correct"

# What each state means for him, in plain words (translated where shown).
STATE_EXPLANATIONS = {
    lc.DECLARED: N_("La personne déclarée n'a pas encore commencé la création de son compte."),
    lc.CGU_ACCEPTED: N_(
        "La personne déclarée a accepté les conditions d'utilisation ; il lui reste à saisir "
        "son matricule et à vérifier son identité avec LuxTrust."
    ),
    lc.MATRICULE_VERIFIED: N_(
        "Le matricule est vérifié ; il reste à la personne déclarée à vérifier son identité "
        "avec LuxTrust."
    ),
    lc.IDENTITY_MISMATCH: N_(
        "Les données de LuxTrust diffèrent de votre déclaration ; la personne déclarée doit "
        "confirmer avoir utilisé son propre dispositif LuxTrust, puis l'Agence eSanté "
        "vérifiera son identité."
    ),
    lc.PENDING_REVIEW: N_(
        "L'Agence eSanté vérifie l'identité de la personne déclarée ; vous recevrez un email "
        "à la décision."
    ),
    lc.ACCOUNT_CREATED: N_("Le compte eSanté est créé ; rien d'autre à faire."),
    lc.REJECTED: N_(
        "La demande n'a pas été acceptée (le motif est dans l'email reçu) ; corrigez la "
        "déclaration si elle comportait une erreur."
    ),
    lc.LOCKED: N_(
        "Trop de matricules erronés : vérifiez le matricule déclaré, puis corrigez la déclaration."
    ),
    lc.EXPIRED: N_("Le lien n'a pas été utilisé à temps."),
    lc.CANCELLED: N_("Le lien envoyé ne fonctionne plus."),
}


def person(row: DeclarationRow) -> str:
    """Who was declared, or what is left once her data was erased (retention)."""
    name = " ".join(part for part in (row.first_names, row.last_name) if part)
    return name or _("(données effacées)")


def grouped_matricule(value: str | None) -> str:
    """The matricule whole, in the groups people read it in: « 1985 0412 123 93 »."""
    if not value:
        return ""
    try:
        return matricule.format_display(value)
    except matricule.InvalidMatricule:
        return value


def corrected(row: DeclarationRow) -> bool:
    # A closed declaration he could correct, but a newer one already replaced it.
    return row.state in (lc.LOCKED, lc.REJECTED, lc.EXPIRED) and not (
        row.can_redeclare or row.can_declare_again
    )


def next_action(row: DeclarationRow) -> str | None:
    """The one action that makes sense in the declaration's state, or None.

    Not started yet: the email may have been missed, resend it. Under way: she holds a
    working link (a new one would cut her off); what is left to him is to withdraw it.
    Expired: declared again in one click (same data), or corrected when the data was
    erased. Locked or refused: corrected. Under review, created, cancelled: nothing.
    """
    if row.state == lc.DECLARED and row.can_resend:
        return RESEND
    if row.state in lc.OPEN_FOR_SECRETARY and row.can_cancel:
        return CANCEL
    if row.can_declare_again:
        return RESEND
    if row.can_redeclare:
        return CORRECT
    return None


def allows(row: DeclarationRow, action: str) -> bool:
    """Whether the service would accept `action` on this row (what the grid enables)."""
    if action == RESEND:
        return row.can_resend or row.can_declare_again
    if action == CANCEL:
        return row.can_cancel
    return False


def action_label(action: str) -> str:
    return {
        RESEND: _("Renvoyer l'invitation"),
        CANCEL: _("Annuler la déclaration"),
        CORRECT: _("Corriger et déclarer à nouveau"),
    }[action]


def action_href(row: DeclarationRow, action: str) -> str:
    return {
        RESEND: f"{HOME}?renvoyer={row.enrolment_id}",
        CANCEL: f"{HOME}?annuler={row.enrolment_id}",
        CORRECT: f"{DECLARE}?corriger={row.enrolment_id}",
    }[action]


def explanation(row: DeclarationRow) -> str | None:
    if corrected(row):
        return None  # its label says it: "… — corrigée par une nouvelle déclaration"
    text = STATE_EXPLANATIONS.get(row.state)
    return _(text) if text else None


def _fact(label: str, value: str, className: str = "") -> list:
    # A <div> per pair inside the <dl> (allowed by HTML): label and value on one line when
    # they fit, the value below otherwise.
    return [html.Div([html.Dt(label), html.Dd(value, className=className)], className="decl-fact")]


def card(row: DeclarationRow) -> dbc.Card:
    """One declaration on a phone: who, the state in plain words, the facts, one action."""
    action = next_action(row)
    who = person(row)
    facts = _fact(_("Matricule"), grouped_matricule(row.matricule), "decl-nowrap")
    facts += _fact(_("Email"), row.email or "")
    facts += _fact(_("Déclarée le"), long_date(row.declared_at))
    if row.can_resend:
        facts += _fact(_("Lien valable jusqu'au"), long_date(row.expires_at))
    facts += _fact(_("Dernier changement"), long_date(row.updated_at))
    why = explanation(row)
    body = [
        html.H2(who, className="h6 mb-1"),
        html.P(
            [
                html.Strong(row.state_label, className="decl-card-state"),
                *([" — ", why] if why else []),
            ],
            className="mb-2",
        ),
        html.Dl(facts, className="decl-card-facts"),
    ]
    if action:
        body.append(
            dcc.Link(
                # The visible text is the same on every card: say whose declaration.
                [action_label(action), html.Span(f" — {who}", className="visually-hidden")],
                href=action_href(row, action),
                id=f"decl-card-{row.enrolment_id}-action",
                className="btn btn-outline-danger" if action == CANCEL else "btn btn-primary",
            )
        )
    return dbc.Card(
        dbc.CardBody(body),
        id=f"decl-card-{row.enrolment_id}",
        className="decl-card",
    )


def cards(rows: list[DeclarationRow]):
    if not rows:
        return html.P(
            _("Aucune déclaration pour l'instant."), id="decl-cards-none", className="text-muted"
        )
    return html.Ul(
        [
            html.Li(
                card(r),
                className="mb-2",
                **{"data-state": r.state, "data-action": next_action(r) or ""},
            )
            for r in rows
        ],
        id="decl-card-list",
        className="list-unstyled",
    )


# --- a card's action: the confirmation ----------------------------------------------------------


def card_confirmation(row: DeclarationRow | None, action: str | None) -> list:
    """The confirmation a card's "Renvoyer l'invitation" or "Annuler" opens (`row` may take
    that action; the page shows why not otherwise)."""
    target = dcc.Store(
        id="decl-next-target",
        data={"id": row.enrolment_id, "action": action} if row is not None else None,
    )
    if row is None or action not in (RESEND, CANCEL):
        return [target]
    who = person(row)
    if action == RESEND:
        title = _("Renvoyer l'invitation à {person} ?", person=who)
        text = _(
            "Une nouvelle invitation sera envoyée à {email} ; le lien précédent ne fonctionnera "
            "plus.",
            email=row.email,
        )
    else:
        title = _("Annuler la déclaration de {person} ?", person=who)
        text = _(
            "Le lien envoyé à {email} ne fonctionnera plus. Vous pourrez déclarer cette "
            "personne à nouveau plus tard.",
            email=row.email,
        )
    modal = dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(title, id="decl-next-title"), close_button=False),
            dbc.ModalBody(
                [
                    html.P(text),
                    html.Div(
                        id="decl-next-error",
                        className="alert alert-warning empty-hidden mb-0",
                        role="alert",
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dcc.Link(_("Retour"), href=HOME, className="btn btn-outline-secondary"),
                    dbc.Button(
                        action_label(action),
                        id="decl-next-confirm",
                        color="danger" if action == CANCEL else "primary",
                    ),
                ]
            ),
        ],
        id="decl-next-modal",
        is_open=True,
        centered=True,
        backdrop="static",  # a tap beside it must not look like a choice
        labelledby="decl-next-title",
    )
    return [target, modal]


# --- the end of a declaration -------------------------------------------------------------------


def sent_message(row: DeclarationRow, days: int) -> str:
    """What the confirmation view says: stored, to whom, until when (`days`: the configured
    validity of the link, INVITATION_DAYS, at least 2 since a reminder goes before it)."""
    return _(
        "La déclaration a été enregistrée. Invitation envoyée à {email} : la personne déclarée "
        "a {days} jours, jusqu'au {date}, pour créer son compte eSanté.",
        email=row.email,
        days=days,
        date=long_date(row.expires_at),
    )


def declared_panel() -> html.Div:
    """Shown instead of the form once a declaration is stored (its text comes with the
    callback's answer, in `decl-result`); the form is emptied meanwhile."""
    return html.Div(
        [
            html.P(id="decl-result", role="status", className="alert alert-success"),
            html.P(
                _(
                    "Avec le lien reçu, la personne déclarée accepte les conditions "
                    "d'utilisation, saisit son matricule puis vérifie son identité avec "
                    "LuxTrust. Vous recevrez un email quand son compte sera créé."
                )
            ),
            html.Div(
                [
                    # A new page load: a new, empty form (whatever this one was).
                    html.A(
                        _("Déclarer une autre secrétaire"),
                        href=DECLARE,
                        id="decl-another",
                        className="btn btn-primary",
                    ),
                    dcc.Link(
                        _("Mes déclarations"),
                        href=HOME,
                        id="decl-done-list",
                        className="btn btn-outline-primary",
                    ),
                ],
                className="d-flex flex-wrap gap-2",
            ),
        ],
        id="decl-done",
        hidden=True,
        className="decl-done",
    )


def problems() -> html.Div:
    """One box for what went wrong with a submission: a sentence (`decl-summary`: nothing
    was stored, or why not when no field is at fault), then the fields' own errors as links
    to them (assets/a11y.js fills `error-summary`, moves focus to the first field). Its
    title is that sentence, so the summary carries none of its own."""
    return html.Div(
        [
            html.Div(id="decl-summary", role="alert"),
            html.Div(
                id="error-summary", className="error-summary", hidden=True, **{"data-title": ""}
            ),
        ],
        className="decl-problems",
    )
