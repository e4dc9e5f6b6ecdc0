"""The managers' figures on accounts and access (issue 20): aggregates only.

- accounts active (at least one link) and not, links still open: whole-platform counts
  as of the last rollup refresh (they change only with an event; rollup.access_counts);
- links ended per month and reason: the links whose access ended within the chosen days
  (Luxembourg time), by the month it ended in;
- provisioning (today): requests that failed for good, and those waiting for a retry;
- decision → account usable: for the enrolments declared within the chosen days (the
  cohort of the page's other durations) whose account the directory confirmed (the
  `account_provisioned` event), the time from the decision to that confirmation; the
  median is the middle value, or the mean of the two middle ones, in whole seconds.
  metrics.compute reads it from the rollups; `usable_from_rows` is its reference.

The specialty filter applies to the ended link's professional or to the enrolment's. No
name, email or matricule is read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select

from dashboard.enrolment import rollup
from dashboard.enrolment.codes import LinkEndReason
from dashboard.enrolment.model import (
    AccountLink,
    Enrolment,
    Event,
    MetricsRefresh,
    Professional,
    ProvisioningRequest,
)
from dashboard.enrolment.uow import UnitOfWork
from dashboard.enrolment.working_days import LUXEMBOURG


@dataclass
class AccessMetrics:
    active_accounts: int = 0
    inactive_accounts: int = 0
    active_links: int = 0
    # (first day of the month, codes.LinkEndReason value, links ended)
    ended: list[tuple[dt.date, str, int]] = field(default_factory=list)
    provisioning_failed: int = 0
    provisioning_retrying: int = 0
    usable: int = 0  # accounts the directory confirmed in the period
    median_seconds_to_usable: float | None = None

    @property
    def ended_total(self) -> int:
        return sum(n for _m, _r, n in self.ended)

    def as_kpis(self) -> dict[str, float | int | None]:
        return {
            "active_accounts": self.active_accounts,
            "inactive_accounts": self.inactive_accounts,
            "active_links": self.active_links,
            "links_ended": self.ended_total,
            "provisioning_failed": self.provisioning_failed,
            "provisioning_retrying": self.provisioning_retrying,
            "accounts_usable": self.usable,
            "median_seconds_decision_to_usable": self.median_seconds_to_usable,
        }


def _period(start: dt.date | None, end: dt.date | None, column) -> list:
    """`column` within the chosen Luxembourg days (midnight to midnight, local time)."""
    conditions = []
    if start:
        conditions.append(column >= dt.datetime.combine(start, dt.time(), LUXEMBOURG))
    if end:
        after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), LUXEMBOURG)
        conditions.append(column < after)
    return conditions


def _of_specialty(specialty: str | None, professional_id) -> list:
    if not specialty:
        return []
    return [professional_id.in_(select(Professional.id).where(Professional.specialty == specialty))]


def compute(
    uow: UnitOfWork,
    start: dt.date | None = None,
    end: dt.date | None = None,
    specialty: str | None = None,
    *,
    from_rows: bool = False,
) -> AccessMetrics:
    """Every figure but the delay (see the module's docstring). The accounts' and links'
    counts are those the last rollup refresh took (`from_rows`: counted now)."""
    s = uow.session
    dialect = s.get_bind().dialect.name
    a = AccessMetrics()

    counts = rollup.access_counts(uow) if from_rows else _kept_counts(uow)
    a.active_accounts = counts["active_accounts"]
    a.inactive_accounts = counts["inactive_accounts"]
    a.active_links = counts["active_links"]
    request = ProvisioningRequest
    a.provisioning_failed, a.provisioning_retrying = (
        int(n)
        for n in s.execute(
            select(
                select(func.count())
                .select_from(request)
                .where(request.status == "failed")
                .scalar_subquery(),
                select(func.count())
                .select_from(request)
                .where(request.status == "pending", request.attempts > 0)
                .scalar_subquery(),
            )
        ).one()
    )

    month = rollup.local_month(dialect, AccountLink.ended_at)
    a.ended = [
        (rollup.as_date(first), str(reason or LinkEndReason.OTHER), int(n))
        for first, reason, n in s.execute(
            select(month, AccountLink.end_reason, func.count())
            .where(
                AccountLink.ended_at.is_not(None),
                *_period(start, end, AccountLink.ended_at),
                *_of_specialty(specialty, AccountLink.professional_id),
            )
            .group_by(month, AccountLink.end_reason)
            .order_by(month, AccountLink.end_reason)
        )
    ]

    return a


def _kept_counts(uow: UnitOfWork) -> dict[str, int]:
    kept = uow.session.scalar(
        select(MetricsRefresh.access).where(MetricsRefresh.id == rollup.ROW_ID)
    )
    return kept if kept is not None else rollup.access_counts(uow)


def median_seconds(histogram) -> tuple[int, float | None]:
    """How many delays, and their median, from a histogram of rollup.unpack."""
    total = int(histogram[1].sum()) if histogram else 0
    if not total:
        return 0, None
    low, high = (total - 1) // 2, total // 2
    return total, (rollup.nth(histogram, low) + rollup.nth(histogram, high)) / 2


def usable_from_rows(uow: UnitOfWork, cohort: list) -> tuple[int, float | None]:
    """The same from the raw rows, `cohort` being conditions on Enrolment: the database
    ranks the delays (ORDER BY … OFFSET) and only the middle ones come back."""
    dialect = uow.session.get_bind().dialect.name
    took = rollup.seconds(dialect, Event.created_at, Enrolment.decided_at)
    conditions = [Event.action == rollup.PROVISIONED, Enrolment.decided_at.is_not(None), *cohort]

    def query(*columns):
        return (
            select(*columns)
            .select_from(Event)
            .join(Enrolment, Enrolment.id == Event.enrolment_id)
            .where(*conditions)
        )

    total = int(uow.session.scalar(query(func.count())))
    if not total:
        return 0, None
    low, high = (total - 1) // 2, total // 2
    middle = uow.session.scalars(query(took).order_by(took).offset(low).limit(high - low + 1))
    values = [rollup.whole_seconds(v) for v in middle.all()]
    return total, (values[0] + values[-1]) / 2
