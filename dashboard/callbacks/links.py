"""Ending an access, from the three places it can be ended: the professional's "Mes
secrétaires", the secretary's "Mon compte", the admin's "Accès". Translate only: who acts
comes from the server-side session, the link the browser names is only an id, and
dashboard.enrolment.links decides whether that actor may end it.
"""

from __future__ import annotations

from dataclasses import dataclass

import flask
from dash import Dash, Input, Output, State, no_update
from flask_login import current_user

from dashboard import auth
from dashboard.callbacks import disabled_while_running
from dashboard.callbacks.browser_input import record_id, text
from dashboard.enrolment import links
from dashboard.enrolment.errors import DomainError, ValidationFailed
from dashboard.enrolment.kernel import Actor
from dashboard.i18n import gettext as _

PROFESSIONAL_BASE = "/professionnel/secretaires"
ACCOUNT_BASE = "/mon-compte"
ADMIN_BASE = "/backoffice/acces"


def _backend():
    return flask.current_app.extensions["esante"]


@dataclass(frozen=True)
class Who:
    actor: Actor
    admin: bool = False


def _professional() -> Who:
    if not auth.has_role(auth.PROFESSIONAL) or getattr(current_user, "kind", None) != (
        "professional"
    ):
        flask.abort(403)
    return Who(Actor("professional", str(current_user.id)))


def _secretary() -> Who:
    account_id = auth.account_id()
    if not account_id:
        flask.abort(403)
    return Who(Actor("secretary", str(account_id)))


def _admin() -> Who:
    if not auth.has_role(auth.ADMIN) or getattr(current_user, "kind", None) != "staff":
        flask.abort(403)
    return Who(Actor("staff", str(current_user.id)), admin=True)


# --- what the layouts show ----------------------------------------------------------------------


def my_secretaries() -> list[links.LinkRow]:
    who = _professional()
    with _backend().uow() as uow:
        return links.professional_links(uow, int(who.actor.id))


def my_professionals() -> list[links.LinkRow]:
    who = _secretary()
    with _backend().uow() as uow:
        return links.account_links(uow, int(who.actor.id))


def _to_end(who: Who, link_id) -> tuple[links.LinkRow | None, str | None]:
    link_id = record_id(link_id)
    if link_id is None:
        return None, None
    with _backend().uow() as uow:
        try:
            return links.link_to_end(uow, link_id, who.actor, admin=who.admin), None
        except DomainError as exc:
            return None, exc.message


def _ended(rows: list[links.LinkRow], link_id) -> links.LinkRow | None:
    link_id = record_id(link_id)
    return next((r for r in rows if r.link_id == link_id and r.ended_at), None)


def professional_view(fin=None, termine=None):
    """(his links, the one to confirm or why not, the one just ended)."""
    rows = my_secretaries()
    row, problem = _to_end(_professional(), fin)
    return rows, row, problem, _ended(rows, termine)


def account_view(fin=None, termine=None):
    rows = my_professionals()
    row, problem = _to_end(_secretary(), fin)
    return rows, row, problem, _ended(rows, termine)


@dataclass(frozen=True)
class AdminView:
    query: str
    found: list[links.ProfessionalRow]
    chosen: links.ProfessionalRow | None
    rows: list[links.LinkRow]
    to_end: links.LinkRow | None
    problem: str | None
    ended: links.LinkRow | None


def admin_view(q=None, pro=None, fin=None, termine=None) -> AdminView:
    who = _admin()
    query = text(q) or ""
    chosen, rows, problem = None, [], None
    with _backend().uow() as uow:
        found = links.find_professionals(uow, query)
        pro_id = record_id(pro)
        if pro_id is not None:
            try:
                chosen = links.professional_row(uow, pro_id)
                rows = links.professional_links(uow, pro_id)
            except DomainError as exc:
                problem = exc.message
    row, end_problem = _to_end(who, fin)
    return AdminView(query, found, chosen, rows, row, problem or end_problem, _ended(rows, termine))


# --- the callbacks --------------------------------------------------------------------------------


def _end(who: Who, base: str, target, reason, note, *, keep: str = ""):
    """(reason error, note error, general error, where to go)."""
    link_id = record_id(target)
    if link_id is None:
        return "", "", _("Cet accès n'existe pas ou ne vous concerne pas."), no_update
    with _backend().uow() as uow:
        try:
            links.end_link(uow, link_id, who.actor, text(reason) or "", text(note), admin=who.admin)
            uow.commit()
        except ValidationFailed as exc:
            return exc.errors.get("reason", ""), exc.errors.get("note", ""), "", no_update
        except DomainError as exc:
            return "", "", _("{reason} Rien n'a été modifié.", reason=exc.message), no_update
    return "", "", "", f"{base}?{keep}termine={link_id}"


@auth.require(auth.PROFESSIONAL)
def end_for_professional(n_clicks, target, reason, note):
    if not n_clicks:
        return (no_update,) * 4
    return _end(_professional(), PROFESSIONAL_BASE, target, reason, note)


@auth.require(auth.ACCOUNT_HOLDER)
def end_for_secretary(n_clicks, target, reason, note):
    if not n_clicks:
        return (no_update,) * 4
    return _end(_secretary(), ACCOUNT_BASE, target, reason, note)


@auth.require(auth.ADMIN)
def end_as_admin(n_clicks, target, reason, note, professional_id):
    if not n_clicks:
        return (no_update,) * 4
    who = _admin()
    pro = record_id(professional_id)
    keep = f"pro={pro}&" if pro is not None else ""  # back to his page
    return _end(who, ADMIN_BASE, target, reason, note, keep=keep)


@auth.require(auth.ADMIN)
def deactivate(n_clicks, professional_id):
    """The admin deactivates a professional: he can no longer log in, all his links end."""
    if not n_clicks:
        return no_update, no_update
    who = _admin()
    pro = record_id(professional_id)
    if pro is None:
        return _("Ce professionnel n'existe pas."), no_update
    with _backend().uow() as uow:
        try:
            links.deactivate_professional(uow, pro, who.actor)
            uow.commit()
        except DomainError as exc:
            return _("{reason} Rien n'a été modifié.", reason=exc.message), no_update
    return "", f"{ADMIN_BASE}?pro={pro}&desactive=1"


def _outputs(prefix: str) -> list[Output]:
    return [
        Output(f"{prefix}-reason-error", "children"),
        Output(f"{prefix}-note-error", "children"),
        Output(f"{prefix}-error", "children"),
        Output(f"{prefix}-go", "href"),
    ]


def _states(prefix: str) -> list[State]:
    return [
        State(f"{prefix}-target", "data"),
        State(f"{prefix}-reason", "value"),
        State(f"{prefix}-note", "value"),
    ]


def register(app: Dash) -> None:
    for prefix, callback in (
        ("pro-link", end_for_professional),
        ("account-link", end_for_secretary),
    ):
        app.callback(
            *_outputs(prefix),
            Input(f"{prefix}-confirm", "n_clicks"),
            *_states(prefix),
            prevent_initial_call=True,
            running=disabled_while_running(f"{prefix}-confirm"),
        )(callback)
    app.callback(
        *_outputs("admin-link"),
        Input("admin-link-confirm", "n_clicks"),
        *_states("admin-link"),
        State("admin-pro", "data"),
        prevent_initial_call=True,
        running=disabled_while_running("admin-link-confirm"),
    )(end_as_admin)
    app.callback(
        Output("admin-deactivate-error", "children"),
        Output("admin-link-go", "href", allow_duplicate=True),
        Input("admin-deactivate-confirm", "n_clicks"),
        State("admin-pro", "data"),
        prevent_initial_call=True,
        running=disabled_while_running("admin-deactivate-confirm"),
    )(deactivate)
