"""Callbacks, grouped per page; each module's `register(app)` attaches them to one app."""

from __future__ import annotations

from dash import Dash


def register_all(app: Dash) -> None:
    from dashboard.callbacks import (
        enrolment,
        mailbox,
        metrics,
        professional,
        review,
        staff_admin,
    )

    enrolment.register(app)
    professional.register(app)
    mailbox.register(app)
    review.register(app)
    metrics.register(app)
    staff_admin.register(app)
