"""Plotly figures for the managers' metrics page (aggregates in, figures out)."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.enrolment.metrics import OUTCOMES, Metrics
from dashboard.i18n import gettext as _

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


def _layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 16}},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        paper_bgcolor="white",
        plot_bgcolor="white",
        font={"family": "system-ui, sans-serif", "color": "#1b1b1b"},
        legend={"orientation": "h", "y": -0.15},
        height=360,
    )
    return fig


def funnel(m: Metrics) -> go.Figure:
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
    steps = [(labels[k], v) for k, v in m.funnel]
    fig = go.Figure(
        go.Funnel(
            y=[s for s, _v in steps],
            x=[v for _s, v in steps],
            textinfo="value+percent initial",
            marker={"color": "#00557f"},
        )
    )
    endings = ", ".join(
        f"{lab} : {n}"
        for lab, n in zip(
            (_("expirées"), _("bloquées"), _("annulées")), (n for _k, n in m.endings), strict=True
        )
    )
    return _layout(fig, _("Entonnoir d'inscription (autres issues : {e})", e=endings))


def trend(m: Metrics) -> go.Figure:
    weeks = sorted({w for w, _o, _n in m.trend})
    fig = go.Figure()
    for key, label in OUTCOMES:
        counts = {w: n for w, o, n in m.trend if o == key}
        if counts:
            fig.add_bar(
                name=_(label),
                x=weeks,
                y=[counts.get(w, 0) for w in weeks],
                marker_color=COLORS[key],
            )
    fig.update_layout(
        barmode="stack", xaxis_title=_("Semaine de déclaration"), yaxis_title=_("Déclarations")
    )
    return _layout(fig, _("Déclarations par semaine, selon leur issue"))


def ageing(m: Metrics) -> go.Figure:
    labels = {
        "0-1": _("0 à 1 jour"),
        "1-2": _("1 à 2 jours"),
        "2-5": _("2 à 5 jours"),
        ">5": _("plus de 5 jours"),
    }
    fig = go.Figure(
        go.Bar(
            x=[labels[b] for b, _n in m.ageing],
            y=[n for _b, n in m.ageing],
            marker_color=["#5cb85c", "#f0ad4e", "#e67e22", "#c9302c"],
            text=[n for _b, n in m.ageing],
            textposition="auto",
        )
    )
    fig.update_layout(xaxis_title=_("Ancienneté (jours ouvrés)"), yaxis_title=_("Dossiers"))
    return _layout(fig, _("Dossiers en attente de vérification, par ancienneté"))


def mismatches(m: Metrics) -> go.Figure:
    from dashboard.enrolment.identity import field_label, kind_label

    fields = sorted({f for f, _k, _n in m.mismatches})
    kinds = sorted({k for _f, k, _n in m.mismatches})
    counts = {(f, k): n for f, k, n in m.mismatches}
    fig = go.Figure(
        go.Heatmap(
            z=[[counts.get((f, k), 0) for k in kinds] for f in fields],
            x=[kind_label(k) for k in kinds],
            y=[field_label(f) for f in fields],
            colorscale="Blues",
            texttemplate="%{z}",
            hovertemplate="%{y} — %{x} : %{z}<extra></extra>",
        )
    )
    return _layout(fig, _("Motifs d'écart entre déclaration et LuxTrust (champ × type)"))


def reviewers(m: Metrics) -> go.Figure:
    names = [r[0] for r in m.reviewers]
    fig = go.Figure()
    fig.add_bar(name=_("Décisions"), x=names, y=[r[1] for r in m.reviewers], marker_color="#00557f")
    fig.add_scatter(
        name=_("Délai médian (jours)"),
        x=names,
        y=[r[2] for r in m.reviewers],
        mode="markers+text",
        yaxis="y2",
        marker={"size": 12, "color": "#e67e22"},
        text=[r[2] for r in m.reviewers],
        textposition="top center",
    )
    fig.update_layout(
        yaxis={"title": _("Décisions")},
        yaxis2={"title": _("Délai médian (jours)"), "overlaying": "y", "side": "right"},
    )
    return _layout(fig, _("Relecteurs : décisions et délai médian de traitement"))
