"""A reviewer's saved queue views ("mes dossiers en retard"): a name and the view the
queue's URL holds (quick filters, search, sort), kept per reviewer, beside built-in ones.
What a view means is review.py's; this module only keeps them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from dashboard.enrolment.errors import NotFound, ValidationFailed
from dashboard.enrolment.model import SavedView
from dashboard.enrolment.review import QUICK_FILTERS
from dashboard.enrolment.staff import require_reviewer
from dashboard.enrolment.text import has_forbidden
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import N_
from dashboard.i18n import gettext as _

MAX_NAME = 60
MAX_VIEWS = 30  # per reviewer
SORT_COLUMNS = ("waiting_days", "secretary", "professional", "assignee", "state")

# The ones every reviewer has: (key, name, view).
BUILT_IN = (
    ("mine-overdue", N_("Mes dossiers en retard"), {"quick": ["mine", "overdue"]}),
    ("unassigned-oldest", N_("Non attribués, les plus anciens d'abord"), {"quick": ["unassigned"]}),
    ("second", N_("En attente de seconde validation"), {"quick": ["second"]}),
)


@dataclass(frozen=True)
class View:
    key: str  # "builtin:<key>" or "saved:<id>"
    name: str
    view: dict  # {"quick": [...], "q": str, "sort": [[column, direction]]}
    saved: bool


def clean_view(view) -> dict:
    """Only what a view may hold: known quick filters, a search of 200 characters, sorts
    on known columns."""
    view = view if isinstance(view, dict) else {}
    quick = view.get("quick") if isinstance(view.get("quick"), list) else []
    sort = view.get("sort") if isinstance(view.get("sort"), list) else []
    q = view.get("q") if isinstance(view.get("q"), str) else ""
    return {
        "quick": sorted({x for x in quick if x in QUICK_FILTERS}),
        "q": q.strip()[:200],
        "sort": [
            [s[0], s[1]]
            for s in sort
            if isinstance(s, list | tuple)
            and len(s) == 2
            and s[0] in SORT_COLUMNS
            and s[1] in ("asc", "desc")
        ][:3],
    }


def views_of(uow: UnitOfWork, staff_id: int) -> list[View]:
    require_reviewer(uow, staff_id)
    built_in = [View(f"builtin:{k}", _(name), clean_view(v), False) for k, name, v in BUILT_IN]
    saved = uow.session.scalars(
        select(SavedView).where(SavedView.staff_id == staff_id).order_by(SavedView.name)
    ).all()
    return built_in + [View(f"saved:{s.id}", s.name, clean_view(s.view), True) for s in saved]


def view_by_key(uow: UnitOfWork, staff_id: int, key: str) -> View:
    found = next((v for v in views_of(uow, staff_id) if v.key == key), None)
    if found is None:
        raise NotFound(_("Cette vue n'existe pas."))
    return found


def save_view(uow: UnitOfWork, staff_id: int, name: str | None, view) -> View:
    """Keep the view under this name (the same name again replaces it)."""
    require_reviewer(uow, staff_id)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed({"name": _("Donnez un nom à cette vue.")})
    if len(name) > MAX_NAME:
        raise ValidationFailed(
            {"name": _("Le nom est trop long : {n} caractères au plus.", n=MAX_NAME)}
        )
    if has_forbidden(name):
        raise ValidationFailed({"name": _("Le nom contient des caractères non autorisés.")})
    mine = SavedView.staff_id == staff_id
    existing = uow.session.scalars(select(SavedView).where(mine, SavedView.name == name)).first()
    if existing is None:
        count = uow.session.scalar(select(func.count()).select_from(SavedView).where(mine))
        if count >= MAX_VIEWS:
            raise ValidationFailed(
                {"name": _("Vous avez déjà {n} vues : supprimez-en une d'abord.", n=MAX_VIEWS)}
            )
        existing = SavedView(staff_id=staff_id, name=name, created_at=uow.now())
        uow.session.add(existing)
    existing.view = clean_view(view)
    uow.commit()
    return View(f"saved:{existing.id}", existing.name, existing.view, True)


def delete_view(uow: UnitOfWork, staff_id: int, key: str) -> None:
    require_reviewer(uow, staff_id)
    kind, _sep, number = (key or "").partition(":")
    gone = 0
    if kind == "saved" and number.isdigit():
        gone = uow.session.execute(
            delete(SavedView).where(SavedView.id == int(number), SavedView.staff_id == staff_id)
        ).rowcount
    if not gone:
        raise NotFound(_("Seules vos vues enregistrées peuvent être supprimées."))
    uow.commit()
