"""Plotly figures for the managers' metrics page (aggregates in, figures out).

The figures are plain dicts (`{"data": [...], "layout": {...}}`, which dcc.Graph takes
as they are): building plotly.graph_objects validates every property, ~30 ms for the
page's five figures, on each view. tests/integration/test_metrics.py checks them against
plotly's validation.
"""

from __future__ import annotations

import plotly.io as pio
from babel.dates import get_day_names, get_month_names
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from plotly.colors import make_colorscale, sequential

from dashboard.enrolment.metrics import OUTCOMES, Metrics
from dashboard.i18n import DATE_LOCALES, N_, current_language
from dashboard.i18n import gettext as _

# Plotly's own texts (the toolbar's tooltips, hints) are English: these are shown instead.
PLOTLY_TEXTS = {
    "Download plot as a PNG": N_("Télécharger le graphique (PNG)"),
    "Download plot as a png": N_("Télécharger le graphique (PNG)"),  # plotly.js before v4
    "Download plot": N_("Télécharger le graphique"),
    "Zoom": N_("Zoomer"),
    "Pan": N_("Déplacer"),
    "Box Select": N_("Sélection rectangulaire"),
    "Lasso Select": N_("Sélection au lasso"),
    "Zoom in": N_("Zoom avant"),
    "Zoom out": N_("Zoom arrière"),
    "Autoscale": N_("Échelle automatique"),
    "Reset axes": N_("Réinitialiser les axes"),
    "Reset view": N_("Réinitialiser la vue"),
    "Toggle Spike Lines": N_("Lignes de repère"),
    "Show closest data on hover": N_("Au survol : la donnée la plus proche"),
    "Compare data on hover": N_("Au survol : comparer les données"),
    "Double-click to zoom back out": N_("Double-cliquez pour revenir au zoom initial"),
}


def graph_config() -> dict:
    """dcc.Graph's config in the page's language: toolbar texts, month and day names on
    the date axes, decimal and thousands separators (from Babel's locale data)."""
    language = current_language()
    locale = DATE_LOCALES.get(language, "fr_LU")
    days = get_day_names("wide", locale=locale)  # 0 is Monday; Plotly starts on Sunday
    short_days = get_day_names("abbreviated", locale=locale)
    return {
        "displaylogo": False,
        # No "Share chart…" button: the figures would leave for Plotly's cloud.
        "showSendToCloud": False,
        "showEditInChartStudio": False,
        "locale": language,
        "locales": {
            language: {
                "dictionary": {english: _(text) for english, text in PLOTLY_TEXTS.items()},
                "format": {
                    "days": [days[(i + 6) % 7] for i in range(7)],
                    "shortDays": [short_days[(i + 6) % 7] for i in range(7)],
                    "months": [get_month_names("wide", locale=locale)[m] for m in range(1, 13)],
                    "shortMonths": [
                        get_month_names("abbreviated", locale=locale)[m] for m in range(1, 13)
                    ],
                    "date": "%d/%m/%Y",
                    "decimal": get_decimal_symbol(locale),
                    "thousands": get_group_symbol(locale),
                },
            }
        },
    }


COLORS = {
    "auto": "#1e7e34",
    "approved": "#5cb85c",
    "rejected": "#c9302c",
    "pending_review": "#f0ad4e",
    "in_progress": "#5bc0de",
    "expired": "#999999",
    "locked": "#6f42c1",
    "cancelled": "#6c757d",
}


def _look() -> dict:
    """The parts of plotly's default template that show on these charts (axes, hover,
    bars, heatmap colour bar): the whole template is ~7 KB of JSON per figure."""
    template = pio.templates["plotly"].to_plotly_json()
    layout, data = template["layout"], template["data"]
    return {
        "layout": {
            key: layout[key]
            for key in ("autotypenumbers", "hovermode", "hoverlabel", "xaxis", "yaxis")
        },
        "data": {
            "bar": [{"marker": {"line": data["bar"][0]["marker"]["line"]}}],
            "heatmap": [{"colorbar": data["heatmap"][0]["colorbar"]}],
        },
    }


TEMPLATE = _look()
# plotly's "Blues" as plotly.graph_objects expands the name (plotly.js has its own "Blues").
BLUES = make_colorscale(sequential.Blues)


def _figure(data: list[dict], title: str, **layout) -> dict:
    return {
        "data": data,
        "layout": {
            "template": TEMPLATE,
            "title": {"text": title, "x": 0, "font": {"size": 16}},
            "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "font": {"family": "system-ui, sans-serif", "color": "#1b1b1b"},
            "legend": {"orientation": "h", "y": -0.15},
            "height": 360,
            **layout,
        },
    }


def _title(text: str) -> dict:
    return {"title": {"text": text}}


def _stacked(series: list[tuple], periods: list, x: list, counts: list[tuple]) -> list[dict]:
    """One bar trace per (key, name, colour) of `series` that has a count, over `periods`
    (shown as `x`); `counts` are (period, key, n)."""
    bars = []
    for key, name, color in series:
        mine = {period: n for period, k, n in counts if k == key}
        if mine:
            y = [mine.get(period, 0) for period in periods]
            bars.append({"type": "bar", "name": name, "x": x, "y": y, "marker": {"color": color}})
    return bars


def funnel(m: Metrics) -> dict:
    labels = {
        "declared": _("Déclarées"),
        "link_opened": _("Lien ouvert"),
        "cgu_accepted": _("CGU acceptées"),
        "matricule_verified": _("Matricule vérifié"),
        "luxtrust_done": _("LuxTrust effectué"),
        "auto": _("Créé automatiquement"),
        "manual": _("Vérification manuelle"),
        "approved": _("Approuvées"),
        "rejected": _("Refusées"),
    }
    trace = {
        "type": "funnel",
        "y": [labels[k] for k, _v in m.funnel],
        "x": [v for _k, v in m.funnel],
        "textinfo": "value+percent initial",
        "marker": {"color": "#00557f"},
    }
    endings = ", ".join(
        _("{label} : {n}", label=lab, n=n)
        for lab, n in zip(
            (_("expirées"), _("bloquées"), _("annulées")), (n for _k, n in m.endings), strict=True
        )
    )
    return _figure([trace], _("Entonnoir d'inscription (autres issues : {e})", e=endings))


def trend(m: Metrics) -> dict:
    weeks = sorted({w for w, _o, _n in m.trend})
    series = [(key, _(label), COLORS[key]) for key, label in OUTCOMES]
    bars = _stacked(series, weeks, [w.isoformat() for w in weeks], m.trend)
    return _figure(
        bars,
        _("Déclarations par semaine, selon leur issue"),
        barmode="stack",
        xaxis=_title(_("Semaine de déclaration")),
        yaxis=_title(_("Déclarations")),
    )


def ageing(m: Metrics) -> dict:
    labels = {
        "0-1": _("0 à 1 jour"),
        "1-2": _("1 à 2 jours"),
        "2-5": _("2 à 5 jours"),
        ">5": _("plus de 5 jours"),
    }
    trace = {
        "type": "bar",
        "x": [labels[b] for b, _n in m.ageing],
        "y": [n for _b, n in m.ageing],
        "marker": {"color": ["#5cb85c", "#f0ad4e", "#e67e22", "#c9302c"]},
        "text": [str(n) for _b, n in m.ageing],
        "textposition": "auto",
    }
    return _figure(
        [trace],
        _("Dossiers en attente de vérification, par ancienneté"),
        xaxis=_title(_("Ancienneté (jours ouvrés, hors jours fériés)")),
        yaxis=_title(_("Dossiers")),
    )


def mismatches(m: Metrics) -> dict:
    from dashboard.enrolment.identity import field_label, kind_label

    fields = sorted({f for f, _k, _n in m.mismatches})
    kinds = sorted({k for _f, k, _n in m.mismatches})
    counts = {(f, k): n for f, k, n in m.mismatches}
    trace = {
        "type": "heatmap",
        "z": [[counts.get((f, k), 0) for k in kinds] for f in fields],
        "x": [kind_label(k) for k in kinds],
        "y": [field_label(f) for f in fields],
        "colorscale": BLUES,
        "texttemplate": "%{z}",
        "hovertemplate": "%{y} — %{x} : %{z}<extra></extra>",
    }
    return _figure([trace], _("Motifs d'écart entre déclaration et LuxTrust (champ × type)"))


def reviewers(m: Metrics) -> dict:
    """Per reviewer, stacked: the decisions she took or proposed and the second approvals
    she confirmed (a four-eyes decision is credited to both); the median handling time."""
    locale = DATE_LOCALES.get(current_language(), "fr_LU")
    names = [name for name, *_rest in m.reviewers]
    medians = [days for *_rest, days in m.reviewers]

    def bar(name: str, y: list, color: str) -> dict:
        return {"type": "bar", "name": name, "x": names, "y": y, "marker": {"color": color}}

    decisions = bar(
        _("Décisions prises ou proposées"), [n for _name, n, _c, _d in m.reviewers], "#00557f"
    )
    confirmations = bar(
        _("Secondes validations"), [c for _name, _n, c, _d in m.reviewers], "#5bc0de"
    )
    points = {
        "type": "scatter",
        "name": _("Délai médian (jours)"),
        "x": names,
        "y": medians,
        "mode": "markers+text",
        "yaxis": "y2",
        "marker": {"size": 12, "color": "#e67e22"},
        "text": [None if v is None else format_decimal(v, "0.0#", locale=locale) for v in medians],
        "textposition": "top center",
    }
    return _figure(
        [decisions, confirmations, points],
        _("Relecteurs : décisions, secondes validations et délai médian de traitement"),
        barmode="stack",
        yaxis=_title(_("Décisions")),
        yaxis2={**_title(_("Délai médian (jours)")), "overlaying": "y", "side": "right"},
    )


REASON_COLORS = {
    "left_practice": "#00557f",
    "end_of_contract": "#5bc0de",
    "declared_by_mistake": "#e67e22",
    "professional_deactivated": "#6c757d",
    "other": "#8e44ad",
}


def links_ended(m: Metrics) -> dict:
    """Links ended per month of the period, stacked by reason."""
    from babel.dates import format_date

    from dashboard.enrolment.codes import LINK_END_LABELS, LinkEndReason

    locale = DATE_LOCALES.get(current_language(), "fr_LU")
    months = sorted({month for month, _r, _n in m.access.ended})
    x = [format_date(month, "MMM y", locale=locale) for month in months]
    series = [(r, _(LINK_END_LABELS[r]), REASON_COLORS[r]) for r in LinkEndReason]
    bars = _stacked(series, months, x, m.access.ended)
    return _figure(
        bars,
        _("Accès terminés par mois, selon le motif"),
        barmode="stack",
        xaxis=_title(_("Mois de fin d'accès")),
        yaxis=_title(_("Accès terminés")),
    )


def team_load(loads) -> dict:
    """Per reviewer (and nobody): open cases, split into on time and overdue."""
    names = [load.name for load in loads]

    def bar(name: str, values: list, color: str) -> dict:
        return {
            "type": "bar",
            "orientation": "h",
            "name": name,
            "y": names,
            "x": values,
            "marker": {"color": color},
        }

    return _figure(
        [
            bar(_("Dans les délais"), [x.open_cases - x.overdue for x in loads], "#00557f"),
            bar(_("En retard"), [x.overdue for x in loads], "#c9302c"),
        ],
        _("Dossiers ouverts par relecteur(rice)"),
        barmode="stack",
        yaxis={"autorange": "reversed"},
        xaxis=_title(_("Dossiers")),
    )
