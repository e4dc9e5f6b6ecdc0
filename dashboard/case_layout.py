"""Layout of a review case file, shared by its page and by the callback that redraws it."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.enrolment import codes
from dashboard.enrolment.case_file import CaseView
from dashboard.i18n import gettext as _
from dashboard.i18n import long_date_time


def _when(moment) -> str:
    return long_date_time(moment) if moment else "—"


def _segments(parts) -> list:
    return [html.Mark(text, className="diff-mark") if differs else text for text, differs in parts]


def identity_table(view: CaseView) -> html.Table:
    head = html.Thead(
        html.Tr(
            [
                html.Th(_("Champ"), scope="col"),
                html.Th(_("Déclaration du professionnel"), scope="col"),
                html.Th(_("Identité LuxTrust"), scope="col"),
                html.Th(_("Écart"), scope="col"),
            ]
        )
    )
    rows = []
    for f in view.fields:
        badge = dbc.Badge(
            f.kind_label,
            color="danger" if f.blocking else ("secondary" if f.kind == "identical" else "info"),
            className="kind-badge",
        )
        if f.kind == "identical":
            # Identical fields: shown once, muted, so the eye goes to the differences.
            cells = [html.Td(f.declared, colSpan=2, className="text-muted")]
        else:
            cells = [
                html.Td(_segments(f.declared_segments), className="diff-cell"),
                html.Td(_segments(f.observed_segments), className="diff-cell"),
            ]
        rows.append(
            html.Tr(
                [html.Th(f.label, scope="row"), *cells, html.Td(badge)],
                className="row-identical" if f.kind == "identical" else "row-differs",
                id=f"diff-{f.field}",
            )
        )
    if not rows:
        return html.P(
            _("Pas encore d'identité LuxTrust pour cette demande : rien à comparer."),
            id="case-diff",
            className="text-muted",
        )
    return html.Table([head, html.Tbody(rows)], className="table diff-table", id="case-diff")


def _decision_panel(view: CaseView, colleagues, me: int):
    if view.state != "pending_review":
        d = view.decision or {}
        outcome = codes.outcome_label(d.get("outcome"))
        parts = [
            html.Strong(outcome),
            f" — {d.get('reason')}" if d.get("reason") else "",
            html.Br(),
            _("Par {who} le {at}", who=d.get("by", ""), at=_when(d.get("at"))),
        ]
        if d.get("second"):
            parts += [html.Br(), _("Seconde validation : {who}", who=d["second"])]
        return dbc.Alert(parts, color="secondary", id="case-decided")
    proposal = view.proposal
    mine = view.assignee_id == me
    if mine:
        # Said in words, with the one click that gives the case back to the team.
        holder = html.Div(
            [
                html.Strong(_("Vous traitez ce dossier."), className="me-2"),
                # Solid: an outline button on the info background lacks contrast (axe).
                dbc.Button(_("Libérer"), id="case-release", color="secondary", size="sm"),
                html.Button(id="case-claim", hidden=True, disabled=True),
            ],
            id="case-holder",
            className="alert alert-info py-2 d-flex align-items-center flex-wrap gap-2",
        )
    else:
        holder = html.Div(
            [
                html.Span(
                    _("Traité par {who}.", who=view.assignee)
                    if view.assignee_id
                    else _("Personne ne traite ce dossier."),
                    className="me-2",
                ),
                dbc.Button(
                    _("Prendre en charge"),
                    id="case-claim",
                    color="primary",
                    outline=True,
                    size="sm",
                    disabled=view.assignee_id is not None,
                ),
                dbc.Button(
                    _("Libérer"),
                    id="case-release",
                    color="secondary",
                    outline=True,
                    size="sm",
                    disabled=view.assignee_id is None,
                ),
            ],
            id="case-holder",
            className="mb-2 d-flex align-items-center flex-wrap gap-2",
        )
    controls = [
        holder,
        dbc.Label(_("Attribuer à…"), html_for="case-assignee", className="visually-hidden"),
        dbc.InputGroup(
            [
                dbc.Select(
                    id="case-assignee",
                    options=[{"label": name, "value": str(i)} for i, name in colleagues],
                    placeholder=_("Attribuer à…"),
                ),
                dbc.Button(_("Attribuer"), id="case-assign", color="secondary"),
            ],
            className="mb-3",
        ),
    ]
    if proposal:
        if proposal["outcome"] == "reviewer_approved":
            what = _(
                "{who} a proposé d'approuver cette identité le {at}.",
                who=proposal["by"],
                at=_when(proposal["at"]),
            )
        else:
            what = _(
                "{who} a proposé de refuser la demande ({reason}) le {at}.",
                who=proposal["by"],
                reason=proposal["reason"],
                at=_when(proposal["at"]),
            )
        controls.append(
            dbc.Alert(
                [
                    html.Strong(_("Seconde validation requise : ")),
                    what,
                    # Her reasoning before anything else the second reviewer reads.
                    html.Blockquote(
                        proposal["note"] or _("(sans note)"),
                        className="border-start border-3 ps-2 my-2 text-break",
                        id="case-proposal-note",
                    ),
                    _("Vous l'avez proposé : un(e) collègue doit confirmer.")
                    if proposal["by_id"] == me
                    else _(
                        "Confirmez la même décision, écartez la proposition, ou renvoyez-la "
                        "à son auteur(e) avec un commentaire."
                    ),
                ],
                color="warning",
                id="case-proposal",
            )
        )
    elif view.needs_second:
        controls.append(
            dbc.Alert(
                _("Ce dossier exige une seconde validation (règle des quatre yeux)."), color="info"
            )
        )
    controls += [
        html.Div(
            [
                dbc.Button(
                    _("Approuver l'identité"),
                    id="case-approve",
                    color="success",
                    className="me-2 mb-2",
                    # The proposer waits for a colleague: never the same person twice.
                    disabled=bool(proposal and proposal["by_id"] == me),
                ),
                dbc.Button(
                    _("Écarter la proposition"),
                    id="case-withdraw",
                    color="secondary",
                    outline=True,
                    className="mb-2",
                    disabled=proposal is None,
                ),
            ]
        ),
        _return_panel(proposal, me),
        # One note for either decision: required to refuse and to propose (four eyes).
        dbc.Label(
            _(
                "Note de décision (obligatoire pour refuser ou proposer ; "
                "pas envoyée à la secrétaire)"
            ),
            html_for="case-reject-note",
        ),
        dbc.Textarea(id="case-reject-note", maxlength=5000, rows=3),
        html.Fieldset(
            [
                html.Legend(_("Refuser"), className="h6"),
                dbc.Label(_("Motif"), html_for="case-reason"),
                dbc.Select(
                    id="case-reason",
                    options=[
                        {"label": codes.reason_label(code), "value": code}
                        for code in codes.RejectionReason
                    ],
                    placeholder=_("Choisissez un motif…"),
                ),
                dbc.Button(
                    _("Refuser la demande"), id="case-reject", color="danger", className="mt-2"
                ),
            ],
            className="border rounded p-2 mt-2",
        ),
    ]
    return html.Div(controls)


def _return_panel(proposal: dict | None, me: int) -> html.Div:
    """ "Renvoyer avec un commentaire": a colleague's proposal goes back to its author.
    Always laid out (its callback reads the comment), shown only when it applies."""
    return html.Div(
        [
            dbc.Label(
                _("Commentaire pour l'auteur(e) de la proposition"), html_for="case-return-comment"
            ),
            dbc.Textarea(id="case-return-comment", maxlength=5000, rows=2),
            dbc.Button(
                _("Renvoyer avec un commentaire"),
                id="case-return",
                color="warning",
                className="mt-2",
            ),
        ],
        hidden=proposal is None or proposal["by_id"] == me,
        className="border rounded p-2 mb-2",
        id="case-return-panel",
    )


def case_body(view: CaseView, colleagues, me: int) -> html.Div:
    overdue = dbc.Badge(_("En retard"), color="danger", className="ms-2") if view.overdue else None
    context = dbc.Card(
        dbc.CardBody(
            html.Dl(
                [
                    html.Dt(_("Professionnel déclarant")),
                    html.Dd(view.professional),
                    html.Dt(_("Email de la secrétaire")),
                    html.Dd(view.email or "—"),
                    html.Dt(_("Téléphone")),
                    html.Dd(view.phone or "—"),
                    html.Dt(_("Dispositif LuxTrust utilisé")),
                    html.Dd(view.device),
                    html.Dt(_("Dispositif personnel confirmé le")),
                    html.Dd(_when(view.confirmed_at)),
                    html.Dt(_("Échéance")),
                    html.Dd([_when(view.due_at), overdue]),
                    html.Dt(_("Attribué à")),
                    html.Dd(view.assignee or _("personne")),
                ],
                className="case-context mb-0",
            )
        ),
        className="mb-3",
    )
    timeline = html.Ol(
        [
            html.Li(
                [
                    html.Time(_when(t.at), className="text-muted me-2"),
                    html.Strong(t.action),
                    f" — {t.actor}",
                    f" ({t.before} → {t.after})" if t.before and t.before != t.after else "",
                    _(" ({times} fois, dernière le {when})", times=t.times, when=_when(t.last_at))
                    if t.times > 1
                    else "",
                ]
            )
            for t in view.timeline
        ],
        className="timeline",
        id="case-timeline",
    )
    related = (
        html.Ul(
            [
                html.Li(
                    [
                        dcc.Link(
                            f"#{r.enrolment_id}",
                            # A related request opens as such (least privilege: case_file).
                            href=f"/backoffice/dossier/{r.enrolment_id}?via={view.enrolment_id}",
                        ),
                        f" — {r.state_label}",
                        f" ({r.reason})" if r.reason else "",
                        f" — {r.professional}, {_when(r.declared_at)} — ",
                        html.Em(_("même {what}", what=r.same)),
                    ]
                )
                for r in view.related
            ],
            id="case-related",
        )
        if view.related
        else html.P(_("Aucune autre demande avec ce matricule ou cet email."), id="case-related")
    )
    notes = html.Ul(
        [
            html.Li(
                [html.Time(_when(at), className="text-muted me-2"), html.Strong(who), " : ", text]
            )
            for at, who, text in view.notes
        ]
        or [html.Li(_("Aucune note."), className="text-muted")],
        id="case-notes",
    )
    return html.Div(
        [
            dcc.Store(id="case-version", data=view.version),
            dcc.Store(id="case-facts", data=case_facts(view, me)),
            html.Div(
                [
                    html.H1(
                        _("Dossier n° {n} — {who}", n=view.enrolment_id, who=view.secretary),
                        id="page-heading",
                        className="h3",
                    ),
                    dbc.Badge(view.state_label, color="primary", id="case-state"),
                ],
                className="d-flex align-items-center gap-3 flex-wrap",
            ),
            html.P(_("Matricule déclaré : {m}", m=view.matricule), className="text-muted"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H2(_("Déclaration et identité LuxTrust"), className="h5"),
                            identity_table(view),
                            context,
                        ],
                        lg=8,
                    ),
                    dbc.Col(
                        [
                            html.H2(_("Décision"), className="h5"),
                            _decision_panel(view, colleagues, me),
                        ],
                        lg=4,
                    ),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col([html.H2(_("Historique"), className="h5"), timeline], lg=6),
                    dbc.Col(
                        [
                            html.H2(_("Autres demandes liées"), className="h5"),
                            related,
                            html.H2(_("Notes de l'équipe"), className="h5 mt-3"),
                            notes,
                            *_note_form(view),
                        ],
                        lg=6,
                    ),
                ],
                className="mt-3",
            ),
        ]
    )


def _note_form(view: CaseView) -> list:
    """Notes go to the cases that reached review; a related request is read only."""
    read_only = view.confirmed_at is None
    return [
        html.P(
            _("Demande liée, en lecture seule : elle n'est pas passée en vérification manuelle."),
            className="small text-muted",
            id="case-read-only",
        )
        if read_only
        else None,
        dbc.Label(_("Ajouter une note"), html_for="case-note"),
        dbc.Textarea(id="case-note", maxlength=5000, rows=2, disabled=read_only),
        dbc.Button(
            _("Ajouter la note"),
            id="case-add-note",
            color="secondary",
            outline=True,
            className="mt-2",
            disabled=read_only,
        ),
    ]


# --- the in-page confirmation ----------------------------------------------------------------


def case_facts(view: CaseView, me: int) -> dict:
    """What the confirmation needs to name the person and say who decides (no more)."""
    proposal = view.proposal or {}
    return {
        "who": view.secretary,
        "approve_second": view.needs_second,
        "second_reasons": sorted(view.second_reasons),
        "proposal": {
            "outcome": proposal["outcome"],
            "reason_code": proposal["reason_code"],
            "by": proposal["by"],
        }
        if proposal and proposal["by_id"] != me
        else None,
    }


def confirmation(facts: dict, decision: str, reason: str) -> tuple[str, str, str]:
    """(title, text, confirm button) for approving or rejecting (with `reason`)."""
    who = str(facts.get("who") or "")
    proposal = facts.get("proposal") if isinstance(facts.get("proposal"), dict) else None
    if decision == "approve":
        if proposal and proposal.get("outcome") == "reviewer_approved":
            return (
                _("Confirmer l'approbation ?"),
                _(
                    "Vous confirmez la proposition de {by} : l'identité de {who} est approuvée, "
                    "son compte eSanté sera créé et les emails envoyés.",
                    by=proposal.get("by", ""),
                    who=who,
                ),
                _("Confirmer l'approbation"),
            )
        if facts.get("approve_second"):
            return (
                _("Proposer l'approbation ?"),
                _(
                    "Vous proposez d'approuver l'identité de {who}. Un(e) second(e) "
                    "relecteur(rice) confirmera avant que le compte soit créé.",
                    who=who,
                ),
                _("Proposer l'approbation"),
            )
        return (
            _("Approuver l'identité ?"),
            _(
                "Vous approuvez l'identité de {who} : son compte eSanté sera créé, et la "
                "personne et le professionnel déclarant seront informés par email.",
                who=who,
            ),
            _("Approuver l'identité"),
        )
    label = codes.reason_label(reason)
    if proposal and proposal.get("outcome") == "rejected":
        return (
            _("Confirmer le refus ?"),
            _(
                "Vous confirmez le refus proposé par {by} pour {who} (motif : {reason}) ; la "
                "personne et le professionnel déclarant seront informés par email.",
                by=proposal.get("by", ""),
                who=who,
                reason=label,
            ),
            _("Confirmer le refus"),
        )
    if reason in (facts.get("second_reasons") or []):
        return (
            _("Proposer le refus ?"),
            _(
                "Vous proposez de refuser la demande de {who} (motif : {reason}). Un(e) "
                "second(e) relecteur(rice) confirmera avant que le refus soit envoyé.",
                who=who,
                reason=label,
            ),
            _("Proposer le refus"),
        )
    return (
        _("Refuser la demande ?"),
        _(
            "Vous refusez la demande de {who} (motif : {reason}) ; la personne et le "
            "professionnel déclarant seront informés par email.",
            who=who,
            reason=label,
        ),
        _("Refuser la demande"),
    )


def confirm_modal() -> dbc.Modal:
    """The one in-page confirmation of the case page (texts filled when it opens)."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(id="case-confirm-title")),
            dbc.ModalBody(html.P(id="case-confirm-text", className="mb-0")),
            dbc.ModalFooter(
                [
                    dbc.Button(_("Annuler"), id="case-confirm-no", color="secondary", outline=True),
                    dbc.Button(id="case-confirm-yes", color="primary"),
                ]
            ),
        ],
        id="case-confirm",
        is_open=False,
        centered=True,
        labelledby="case-confirm-title",
    )
