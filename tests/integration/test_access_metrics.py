"""The managers' figures on accounts and access (issue 20), on SQLite and PostgreSQL:
active accounts, links ended per month and reason, provisioning failures and the median
time from decision to account usable — each checked against a count made here from the
raw rows, in Python, for several filters; then through the metrics page's callback."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from dashboard.app import create_app
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import links, matricule, metrics
from dashboard.enrolment.kernel import Actor
from dashboard.enrolment.model import (
    AccountLink,
    Enrolment,
    Event,
    Professional,
    ProvisioningRequest,
    SecretaryAccount,
)
from tests import dashclient as dc
from tests import factories as f
from tests.integration.test_metrics import REFRESH

LUXEMBOURG = ZoneInfo("Europe/Luxembourg")
UTC = dt.UTC


def _person(n: int) -> dict:
    return {
        "last_name": f"Weber{chr(ord('a') + n)}",
        "first_names": "Anne",
        "matricule": matricule.make("19800101", f"{100 + n:03d}"),
        "email": f"anne{n}@example.lu",
    }


def _link_of(backend, enrolment_id: int) -> int:
    with backend.uow() as uow:
        return uow.session.scalar(
            select(AccountLink.id).where(AccountLink.enrolment_id == enrolment_id)
        )


@pytest.fixture
def practices(backend, clock):
    """Six secretaries made usable after known delays; four links ended on known days
    (one at 00:30 Luxembourg time on 1 April, still 31 March in UTC); two provisioning
    requests in trouble."""
    clock.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    gp = f.professional(backend, 1, code="P1", specialty="médecine générale")
    kids = f.professional(backend, 2, code="P2", specialty="pédiatrie")
    enrolments = []
    for n, (prof, minutes) in enumerate(
        [(gp, 3), (gp, 1), (kids, 10), (gp, 30), (kids, 2), (gp, 7)]
    ):
        enrolment_id, _th = f.walk_to(backend, prof, lc.ACCOUNT_CREATED, **_person(n))
        clock.advance(minutes=minutes)
        f.provision(backend)
        enrolments.append(enrolment_id)
        clock.advance(days=3)
    ends = [
        (0, dt.datetime(2026, 3, 31, 22, 30, tzinfo=UTC), "left_practice"),  # 1 April in LU
        (1, dt.datetime(2026, 3, 20, 10, 0, tzinfo=UTC), "end_of_contract"),
        (2, dt.datetime(2026, 4, 15, 10, 0, tzinfo=UTC), "left_practice"),
        (3, dt.datetime(2026, 5, 2, 10, 0, tzinfo=UTC), "declared_by_mistake"),
    ]
    for index, at, reason in sorted(ends, key=lambda e: e[1]):
        clock.now = at
        with backend.uow() as uow:
            links.end_link(
                uow, _link_of(backend, enrolments[index]), Actor("staff", "1"), reason, admin=True
            )
            uow.commit()
    f.provision(backend)
    with backend.uow() as uow:
        ids = uow.session.scalars(select(ProvisioningRequest.id).order_by("id")).all()
        uow.session.execute(
            update(ProvisioningRequest)
            .where(ProvisioningRequest.id == ids[0])
            .values(status="failed", attempts=8, last_error="503")
        )
        uow.session.execute(
            update(ProvisioningRequest)
            .where(ProvisioningRequest.id == ids[1])
            .values(status="pending", attempts=2, last_error="timeout")
        )
        uow.commit()
    return gp, kids


def _expected(backend, start=None, end=None, specialty=None) -> dict:
    """The same figures from every raw row, counted in Python."""

    def local(moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(LUXEMBOURG)

    def in_period(moment) -> bool:
        day = local(moment).date()
        return (start is None or day >= start) and (end is None or day <= end)

    with backend.uow() as uow:
        s = uow.session
        specialty_of = {p.id: p.specialty for p in s.scalars(select(Professional))}
        chosen = lambda prof_id: specialty is None or specialty_of[prof_id] == specialty  # noqa: E731
        accounts = list(s.scalars(select(SecretaryAccount)))
        all_links = list(s.scalars(select(AccountLink)))
        requests = list(s.scalars(select(ProvisioningRequest)))
        decided = {
            e.id: (e.decided_at, e.professional_id, e.created_at)
            for e in s.scalars(select(Enrolment))
        }
        provisioned = list(s.scalars(select(Event).where(Event.action == "account_provisioned")))
    ended = Counter(
        (local(link.ended_at).date().replace(day=1), link.end_reason)
        for link in all_links
        if link.ended_at and in_period(link.ended_at) and chosen(link.professional_id)
    )
    # The delays of the enrolments declared in the period (the page's cohort).
    delays = [
        round((local(e.created_at) - local(decided[e.enrolment_id][0])).total_seconds())
        for e in provisioned
        if in_period(decided[e.enrolment_id][2]) and chosen(decided[e.enrolment_id][1])
    ]
    return {
        "active_accounts": sum(a.status == "active" for a in accounts),
        "inactive_accounts": sum(a.status != "active" for a in accounts),
        "active_links": sum(link.ended_at is None for link in all_links),  # every specialty
        "ended": sorted((m, r, n) for (m, r), n in ended.items()),
        "failed": sum(r.status == "failed" for r in requests),
        "retrying": sum(r.status == "pending" and r.attempts > 0 for r in requests),
        "usable": len(delays),
        "median": statistics.median(delays) if delays else None,
    }


def _computed(backend, start=None, end=None, specialty=None, *, from_rows=False) -> dict:
    way = metrics.compute_from_rows if from_rows else metrics.compute
    with backend.uow() as uow:
        a = way(uow, metrics.MetricsFilter(start, end, specialty)).access
    return {
        "active_accounts": a.active_accounts,
        "inactive_accounts": a.inactive_accounts,
        "active_links": a.active_links,
        "ended": a.ended,
        "failed": a.provisioning_failed,
        "retrying": a.provisioning_retrying,
        "usable": a.usable,
        "median": a.median_seconds_to_usable,
    }


def _access(backend, start=None, end=None, specialty=None):
    with backend.uow() as uow:
        return metrics.compute(uow, metrics.MetricsFilter(start, end, specialty)).access


FILTERS = [
    {},
    {"start": dt.date(2026, 3, 1), "end": dt.date(2026, 3, 31)},
    {"start": dt.date(2026, 4, 1), "end": dt.date(2026, 4, 30)},
    {"start": dt.date(2026, 3, 10)},
    {"end": dt.date(2026, 3, 9)},
    {"specialty": "pédiatrie"},
    {"specialty": "médecine générale", "start": dt.date(2026, 4, 1)},
    {"specialty": "dermatologie"},
]


@pytest.mark.parametrize("chosen", FILTERS, ids=lambda c: ",".join(map(str, c.values())) or "all")
def test_every_figure_equals_the_count_from_the_raw_rows(backend, practices, chosen):
    expected = _expected(backend, **chosen)
    assert _computed(backend, **chosen) == expected  # from the rollups
    assert _computed(backend, **chosen, from_rows=True) == expected


def test_the_figures_are_those_of_the_scenario(backend, practices):
    a = _access(backend)
    # Six accounts; the links of 0, 1, 2 and 3 ended, each her only one: four inactive.
    assert (a.active_accounts, a.inactive_accounts, a.active_links) == (2, 4, 2)
    april, march, may = dt.date(2026, 4, 1), dt.date(2026, 3, 1), dt.date(2026, 5, 1)
    # 31 March 22:30 UTC is 1 April in Luxembourg: an April end.
    assert a.ended == [
        (march, "end_of_contract", 1),
        (april, "left_practice", 2),
        (may, "declared_by_mistake", 1),
    ]
    assert (a.provisioning_failed, a.provisioning_retrying) == (1, 1)
    # Delays of 3, 1, 10, 30, 2 and 7 minutes: the median is (3 + 7) / 2 minutes.
    assert a.usable == 6
    assert a.median_seconds_to_usable == 300
    # Declared 2, 5 and 8 March (3, 1 and 10 minutes), every three days: the first three.
    first_week = _access(backend, dt.date(2026, 3, 1), dt.date(2026, 3, 9))
    assert (first_week.usable, first_week.median_seconds_to_usable) == (3, 180)
    kids = _access(backend, specialty="pédiatrie")
    assert kids.median_seconds_to_usable == 360  # 10 and 2 minutes
    assert kids.ended == [(april, "left_practice", 1)]


def test_a_reactivated_account_counts_as_active_again(backend, practices):
    gp, _kids = practices
    before = _access(backend)  # the refresh keeps the counts: they must follow the event
    assert (before.active_accounts, before.inactive_accounts) == (2, 4)
    f.walk_to(backend, gp, lc.ACCOUNT_CREATED, **_person(1))  # her new declaration
    f.provision(backend)
    a = _access(backend)
    assert (a.active_accounts, a.inactive_accounts, a.active_links) == (3, 3, 3)
    assert a.usable == 7


def _texts(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [t for child in node for t in _texts(child)]
    if isinstance(node, dict):
        return _texts(node.get("props", {}).get("children"))
    return []


def test_the_metrics_page_shows_them_to_a_manager_only(backend, practices):
    app = create_app(backend.settings, backend=backend)
    manager = f.reviewer(backend, "manager@esante.lu", roles=("manager",))
    reviewer = f.reviewer(backend, "reviewer@esante.lu", roles=("reviewer",))
    inputs = [
        ("metrics-dates", "start_date", "2026-03-01"),
        ("metrics-dates", "end_date", "2026-05-31"),
        ("metrics-specialty", "value", ""),
    ]
    denied = f.signed_in(app.server.test_client(), "staff", reviewer)
    assert dc.call(denied, REFRESH, inputs).status_code in (401, 403)

    client = f.signed_in(app.server.test_client(), "staff", manager)
    values = dc.values(dc.call(client, REFRESH, inputs))
    texts = _texts(values[("metrics-kpis", "children")])
    at = texts.index("Comptes actifs (ce jour)")
    assert texts[at + 1] == "2"
    assert texts[at + 2] == "2 accès en cours ; 4 compte(s) inactif(s)"
    at = texts.index("Accès terminés dans la période")
    assert texts[at + 1] == "4"
    at = texts.index("Provisionnement en échec (ce jour)")
    assert texts[at + 1 : at + 3] == ["1", "1 en nouvelle tentative"]
    at = texts.index("Décision → compte utilisable (médiane)")
    assert texts[at + 1 : at + 3] == ["5,0 min", "6 compte(s) confirmé(s) par l'annuaire"]

    figure = values[("metrics-links-ended", "figure")]
    bars = {bar["name"]: dict(zip(bar["x"], bar["y"], strict=True)) for bar in figure["data"]}
    assert bars == {
        "A quitté le cabinet": {"mars 2026": 0, "avr. 2026": 2, "mai 2026": 0},
        "Fin du contrat ou de la mission": {"mars 2026": 1, "avr. 2026": 0, "mai 2026": 0},
        "Déclarée par erreur": {"mars 2026": 0, "avr. 2026": 0, "mai 2026": 1},
    }
