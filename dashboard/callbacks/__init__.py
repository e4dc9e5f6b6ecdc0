"""Callbacks, grouped per page; each module's `register(app)` attaches them to one app."""

from __future__ import annotations

from dash import Dash, Output


def disabled_while_running(*component_ids: str) -> list:
    """Dash `running=` for one request per click: the controls are disabled until it returns."""
    return [(Output(i, "disabled"), True, False) for i in component_ids]


def register_all(app: Dash) -> None:
    from dashboard.callbacks import (
        directory,
        enrolment,
        links,
        mailbox,
        metrics,
        operations,
        professional,
        queue_views,
        review,
        staff_admin,
        team,
    )

    enrolment.register(app)
    professional.register(app)
    mailbox.register(app)
    review.register(app)
    queue_views.register(app)
    metrics.register(app)
    staff_admin.register(app)
    operations.register(app)
    directory.register(app)
    links.register(app)
    team.register(app)
