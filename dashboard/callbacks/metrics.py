"""The managers' metrics page: filters in, aggregates and figures out (no personal data).

The page's response is kept per process, keyed by the filter and the rollups' version
(dashboard.enrolment.rollup), so a new event invalidates it; the minute is in the key
too, because the backlog's ageing moves with the clock.
"""

from __future__ import annotations

import datetime as dt
import json

import dash_bootstrap_components as dbc
import flask
from dash import Dash, Input, Output, State, dcc, html
from plotly.io.json import to_json_plotly

from dashboard import auth, charts, exports, response_cache
from dashboard.callbacks import disabled_while_running
from dashboard.enrolment import metrics, rollup
from dashboard.i18n import current_language
from dashboard.i18n import gettext as _

READERS = (auth.MANAGER,)
CACHE_SIZE = 64


def _cache():
    return response_cache.of_app("metrics", CACHE_SIZE)


def _backend():
    return flask.current_app.extensions["esante"]


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _filter(start, end, specialty) -> metrics.MetricsFilter:
    return metrics.MetricsFilter(
        _date(start), _date(end), specialty if isinstance(specialty, str) and specialty else None
    )


def _compute(f: metrics.MetricsFilter) -> metrics.Metrics:
    with _backend().uow() as uow:
        return metrics.compute(uow, f)


COLUMNS = ["table", "dimension", "category", "value"]


def _file_name(f: metrics.MetricsFilter, suffix: str) -> str:
    """The period as the server read it (never the browser's text)."""
    start = f.start.isoformat() if f.start else "debut"
    end = f.end.isoformat() if f.end else "fin"
    return f"indicateurs-esante-{start}-{end}.{suffix}"


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f} %".replace(".", ",")


def _days(value) -> str:
    return "—" if value is None else _("{n} j", n=f"{value:.1f}".replace(".", ","))


def _delay(seconds) -> str:
    """A short delay in its natural unit (seconds, minutes or hours)."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return _("{n} s", n=f"{seconds:.0f}")
    if seconds < 3600:
        return _("{n} min", n=f"{seconds / 60:.1f}".replace(".", ","))
    return _("{n} h", n=f"{seconds / 3600:.1f}".replace(".", ","))


def kpi_cards(k: dict, reminders: dict | None = None, access: dict | None = None) -> list:
    r = reminders or {}
    a = access or {}
    cards = [
        (_("Déclarations"), str(k["declarations"]), None),
        (
            _("Comptes créés"),
            str(k["accounts"]),
            _(
                "{a} automatiquement, {m} après vérification",
                a=k["accounts_auto"],
                m=k["accounts_manual"],
            ),
        ),
        (_("Taux de correspondance automatique"), _pct(k["auto_match_rate"]), None),
        (_("Taux de vérification manuelle"), _pct(k["manual_review_rate"]), None),
        (_("Taux d'approbation"), _pct(k["approval_rate"]), None),
        (
            _("Délai automatique (médiane / 90e centile)"),
            f"{_days(k['median_days_auto'])} / {_days(k['p90_days_auto'])}",
            None,
        ),
        (
            _("Délai manuel (médiane / 90e centile)"),
            f"{_days(k['median_days_manual'])} / {_days(k['p90_days_manual'])}",
            None,
        ),
        (
            _("Dossiers en attente (toute la file, ce jour)"),
            str(k["backlog"]),
            _("dont {n} en retard", n=k["overdue"]),
        ),
        # The reminders' effect (issue 21).
        (
            _("Rappels envoyés"),
            str(r.get("reminders_sent", 0)),
            _("à {n} secrétaire(s)", n=r.get("reminded", 0)),
        ),
        (
            _("Terminées après un rappel"),
            _pct(r.get("completed_after_reminder_rate")),
            _("{n} demande(s) sur les demandes rappelées", n=r.get("completed_after_reminder", 0)),
        ),
        # Accounts and access (issue 20).
        (
            _("Comptes actifs (ce jour)"),
            str(a.get("active_accounts", 0)),
            _(
                "{n} accès en cours ; {i} compte(s) inactif(s)",
                n=a.get("active_links", 0),
                i=a.get("inactive_accounts", 0),
            ),
        ),
        (
            _("Accès terminés dans la période"),
            str(a.get("links_ended", 0)),
            None,
        ),
        (
            _("Provisionnement en échec (ce jour)"),
            str(a.get("provisioning_failed", 0)),
            _("{n} en nouvelle tentative", n=a.get("provisioning_retrying", 0)),
        ),
        (
            _("Décision → compte utilisable (médiane)"),
            _delay(a.get("median_seconds_decision_to_usable")),
            _("{n} compte(s) confirmé(s) par l'annuaire", n=a.get("accounts_usable", 0)),
        ),
    ]
    return [
        dbc.Col(
            dbc.Card(
                dbc.CardBody(
                    [
                        html.Div(title, className="kpi-title"),
                        html.Div(value, className="kpi-value"),
                        html.Div(note, className="kpi-note") if note else None,
                    ]
                )
            ),
            xs=6,
            md=3,
            className="mb-3",
        )
        for title, value, note in cards
    ]


@auth.require(*READERS)
def refresh(start, end, specialty):
    f = _filter(start, end, specialty)
    with _backend().uow() as uow:
        version = rollup.ensure_fresh(uow)  # a new event: a new version, a new key
        minute = uow.now().replace(second=0, microsecond=0)
        key = (f, version, minute, current_language())
        cached = _cache().get(key)
        if cached is not None:
            return cached
        m = metrics.compute(uow, f)
    options = [{"label": _("Toutes les spécialités"), "value": ""}] + [
        {"label": sp, "value": sp} for sp in m.specialties
    ]
    response = (
        kpi_cards(m.kpis, m.reminders, m.access.as_kpis()),
        charts.funnel(m),
        charts.trend(m),
        charts.ageing(m),
        charts.mismatches(m),
        charts.reviewers(m),
        charts.links_ended(m),
        options,
    )
    # Kept as plain JSON values (components as the renderer receives them): each hit is
    # then encoded by the json module's C code, not component by component.
    plain = tuple(json.loads(to_json_plotly(list(response))))
    _cache().put(key, plain)
    return plain


@auth.require(*READERS)
def export(n_clicks, start, end, specialty):
    f = _filter(start, end, specialty)
    content = exports.to_csv(metrics.as_rows(_compute(f)), COLUMNS, current_language())
    return dcc.send_bytes(content, _file_name(f, "csv"), type=exports.CSV_TYPE)


@auth.require(*READERS)
def export_xlsx(n_clicks, start, end, specialty):
    f = _filter(start, end, specialty)
    content = exports.to_xlsx(metrics.as_rows(_compute(f)), COLUMNS, "indicateurs")
    return dcc.send_bytes(content, _file_name(f, "xlsx"), type=exports.XLSX_TYPE)


def register(app: Dash) -> None:
    filters = [
        Input("metrics-dates", "start_date"),
        Input("metrics-dates", "end_date"),
        Input("metrics-specialty", "value"),
    ]
    app.callback(
        Output("metrics-kpis", "children"),
        Output("metrics-funnel", "figure"),
        Output("metrics-trend", "figure"),
        Output("metrics-ageing", "figure"),
        Output("metrics-mismatches", "figure"),
        Output("metrics-reviewers", "figure"),
        Output("metrics-links-ended", "figure"),
        Output("metrics-specialty", "options"),
        *filters,
    )(refresh)
    for suffix, callback in (("", export), ("-xlsx", export_xlsx)):
        app.callback(
            Output(f"metrics-download{suffix}", "data"),
            Input(f"metrics-export{suffix}", "n_clicks"),
            *[State(i.component_id, i.component_property) for i in filters],
            prevent_initial_call=True,
            running=disabled_while_running(f"metrics-export{suffix}"),
        )(callback)
