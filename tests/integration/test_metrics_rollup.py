"""The metrics' daily rollups (dashboard.enrolment.rollup) against the raw computation.

metrics.compute reads the rollups; metrics.compute_from_rows recomputes everything from
the rows. They must agree exactly, for every filter, on SQLite and PostgreSQL: on the
hand-built data set of test_metrics.py, on a randomised one made through the services
across both daylight-saving changes, after more events (the incremental refresh), after
the retention purge, and when an event commits after a later one (PostgreSQL hands out
ids before commit). Also: the page's response cache and `python -m dashboard metrics
refresh`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import re
import statistics
from dataclasses import dataclass, field
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, text

from dashboard.__main__ import main
from dashboard.app import create_app
from dashboard.enrolment import (
    decisions,
    declarations,
    housekeeping,
    kernel,
    matricule,
    metrics,
    rollup,
    schema,
    secretary,
)
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.kernel import Actor
from dashboard.enrolment.model import (
    Decision,
    Enrolment,
    Event,
    MetricsDaily,
    MetricsDuration,
    MetricsHandling,
    MetricsMismatch,
    MetricsRefresh,
    MetricsReviewer,
    Professional,
    StaffUser,
)
from tests import dashclient as dc
from tests import factories as f
from tests.integration import test_metrics as hand

LUX = ZoneInfo("Europe/Luxembourg")


def both(backend, flt: metrics.MetricsFilter) -> metrics.Metrics:
    """compute and compute_from_rows for one filter: equal, field by field."""
    with backend.uow() as uow:
        fast = metrics.compute(uow, flt)
    with backend.uow() as uow:
        slow = metrics.compute_from_rows(uow, flt)
    for name in ("kpis", "funnel", "endings", "trend", "ageing", "mismatches", "reviewers"):
        assert getattr(fast, name) == getattr(slow, name), (name, flt)
    assert fast == slow, flt
    return fast


def refresh(backend, full: bool = False) -> rollup.Refreshed:
    with backend.uow() as uow:
        return rollup.refresh(uow, full=full)


BY_DECLARATION_DAY = (MetricsDaily, MetricsDuration, MetricsMismatch, MetricsReviewer)


def rollup_rows(backend, tables=BY_DECLARATION_DAY) -> dict[str, list]:
    with backend.uow() as uow:
        return {
            t.__tablename__: sorted(tuple(r) for r in uow.session.execute(select(t.__table__)))
            for t in tables
        }


# --- the statistics module's figures, from the rows, in Python ------------------------------------


def _hundredths(seconds: float) -> int:
    """A duration in whole hundredths of a day: whole seconds, then half up (exactly)."""
    return math.floor(Fraction(round(seconds), 864) + Fraction(1, 2))


def _chosen(flt: metrics.MetricsFilter, when: dt.datetime, specialty) -> bool:
    day = when.astimezone(LUX).date()
    return (
        (flt.start is None or day >= flt.start)
        and (flt.end is None or day <= flt.end)
        and (flt.specialty is None or specialty == flt.specialty)
    )


def statistics_of(backend, flt: metrics.MetricsFilter) -> tuple[dict, dict, list[int]]:
    """The KPIs' medians (statistics.median) and nearest-rank 90th percentiles of the
    cohort's declaration -> account durations; per reviewer, the final decisions she took
    or proposed, those she confirmed (four-eyes), and the median of their handling times,
    each decision dated and timed when it became final; how many values each median had."""
    with backend.uow() as uow:
        decisions = uow.session.execute(
            select(
                Decision.reviewer_id,
                Decision.confirmed_by_id,
                Decision.created_at,
                Decision.confirmed_at,
                Enrolment.device_confirmed_at,
                Professional.specialty,
            )
            .join(Enrolment, Enrolment.id == Decision.enrolment_id)
            .join(Professional, Professional.id == Enrolment.professional_id)
            .where(Decision.status == "final", Decision.outcome != "auto_match")
        ).all()
        names = dict(uow.session.execute(select(StaffUser.id, StaffUser.display_name)).all())
        rows = uow.session.execute(
            select(
                Enrolment.created_at,
                Enrolment.decided_at,
                Enrolment.decision,
                Professional.specialty,
            )
            .join(Professional, Professional.id == Enrolment.professional_id)
            .where(Enrolment.state == lc.ACCOUNT_CREATED)
        ).all()
    kpis, sizes = {}, []
    for decision, key in (("auto_match", "auto"), ("reviewer_approved", "manual")):
        values = sorted(
            _hundredths((decided - created).total_seconds())
            for created, decided, made, specialty in rows
            if made == decision and _chosen(flt, created, specialty)
        )
        kpis[f"median_days_{key}"] = statistics.median(values) / 100 if values else None
        kpis[f"p90_days_{key}"] = values[math.ceil(0.9 * len(values)) - 1] / 100 if values else None
        sizes.append(len(values))
    credited: dict[int, dict[str, list[int]]] = {}
    for proposer, confirmer, created, confirmed, device_confirmed, specialty in decisions:
        final = confirmed or created
        if proposer is None or not _chosen(flt, final, specialty):
            continue
        handled = _hundredths((final - device_confirmed).total_seconds())
        for staff, role in ((proposer, "decisions"), (confirmer, "confirmations")):
            if staff is not None:
                mine = credited.setdefault(staff, {"decisions": [], "confirmations": []})
                mine[role].append(handled)
    reviewers = {}
    for staff, mine in credited.items():
        values = mine["decisions"] + mine["confirmations"]
        reviewers[names[staff]] = (
            len(mine["decisions"]),
            len(mine["confirmations"]),
            statistics.median(values) / 100,
        )
        sizes.append(len(values))
    return kpis, reviewers, sizes


def agrees_with_statistics(backend, flt: metrics.MetricsFilter, m: metrics.Metrics) -> list[int]:
    kpis, reviewers, sizes = statistics_of(backend, flt)
    assert {k: m.kpis[k] for k in kpis} == kpis, flt
    assert {name: tuple(rest) for name, *rest in m.reviewers} == reviewers, flt
    totals = [d + c for _name, d, c, _median in m.reviewers]
    assert totals == sorted(totals, reverse=True)  # the busiest first
    return sizes


# --- the hand-built data set ----------------------------------------------------------------------


def test_every_filter_of_the_hand_built_data_set(backend, clock):
    w = hand.build_world(backend, clock)
    days = [
        None,
        dt.date(2026, 1, 4),
        hand.W1,
        dt.date(2026, 1, 11),
        hand.W2,
        dt.date(2026, 1, 14),
        dt.date(2026, 1, 15),
        dt.date(2026, 1, 18),
        hand.W3,
        dt.date(2026, 1, 23),
        dt.date(2026, 2, 4),
    ]
    seen = set()
    for start, end, specialty in itertools.product(
        days, days, (None, hand.GP, hand.PED, "cardiologie")
    ):
        flt = metrics.MetricsFilter(start, end, specialty)
        m = both(w.backend, flt)
        agrees_with_statistics(w.backend, flt, m)
        seen.add(m.kpis["declarations"])
    assert {0, 1, 5, 8, 18} <= seen  # the filters do select different cohorts
    assert both(w.backend, metrics.MetricsFilter()).kpis == hand.ALL_KPIS


def test_the_first_compute_builds_the_rollups_and_the_next_reads_them(backend, clock):
    w = hand.build_world(backend, clock)
    with backend.uow() as uow:
        assert rollup.status(uow) == rollup.Status(0, 0, True)  # never built
        m = metrics.compute(uow)
    with backend.uow() as uow:
        newest = uow.session.scalar(select(func.max(Event.id)))
        built = rollup.status(uow)
        declared = uow.session.scalar(select(func.sum(MetricsDaily.declared)))
    assert m.kpis == hand.ALL_KPIS
    assert built == rollup.Status(1, newest, False)
    assert declared == 18
    # Nothing new: no refresh, the same version.
    assert refresh(w.backend).days == 0
    with backend.uow() as uow:
        assert rollup.status(uow).version == 1


def test_more_events_refresh_only_their_declaration_days(backend, clock):
    w = hand.build_world(backend, clock)
    both(backend, metrics.MetricsFilter())
    before = rollup_rows(backend)
    # Reading or assigning a case changes no figure: the version stays.
    with backend.uow() as uow:
        decisions.claim(uow, w.ids["E12"], w.staff["R1"])
    with backend.uow() as uow:
        decisions.release(uow, w.ids["E12"], w.staff["R1"])
    done = refresh(backend)
    assert done.days == 0 and done.version == 1
    # E12 (declared Tue 20/01) rejected, E16 (Wed 21/01) approved: two days rebuilt.
    clock.now = hand.NOW + dt.timedelta(hours=2)
    with backend.uow() as uow:
        decisions.reject(uow, w.ids["E12"], w.staff["R2"], reason_code="identity_not_established")
    with backend.uow() as uow:
        decisions.approve(uow, w.ids["E16"], w.staff["R1"])
    done = refresh(backend)
    assert (done.days, done.version) == (2, 2)
    after = rollup_rows(backend)
    changed = {r[0] for t in before for r in set(before[t]).symmetric_difference(after[t])}
    assert changed == {dt.date(2026, 1, 20), dt.date(2026, 1, 21)}
    m = both(backend, metrics.MetricsFilter())
    assert m.kpis["backlog"] == 2
    assert dict(m.funnel)["rejected"] == 2
    # A new declaration, then compute alone: it refreshes before reading.
    clock.now += dt.timedelta(days=1)
    f.declare(backend, w.profs["P2"], **hand.person("E13"))  # supersedes E13
    with backend.uow() as uow:
        assert rollup.status(uow).behind
    m = both(backend, metrics.MetricsFilter())
    assert m.kpis["declarations"] == 19
    assert dict(m.endings)["cancelled"] == 2  # E5 and the superseded E13
    with backend.uow() as uow:
        assert not rollup.status(uow).behind


def test_incremental_refreshes_leave_what_a_full_rebuild_makes(backend, clock):
    w = hand.build_world(backend, clock)
    assert refresh(backend).days is None  # the first one builds every day
    clock.now = hand.NOW + dt.timedelta(hours=1)
    # E15 (Fri 23/01) rejected, E11 (Mon 19/01) approved, E14 (Thu 22/01) superseded by a
    # new declaration (Wed 04/02): four declaration days.
    with backend.uow() as uow:
        decisions.reject(uow, w.ids["E15"], w.staff["R2"], reason_code="declaration_error")
    with backend.uow() as uow:
        decisions.approve(uow, w.ids["E11"], w.staff["R1"])
    f.declare(backend, w.profs["P1"], **hand.person("E14"))  # supersedes E14
    assert refresh(backend).days == 4
    tables = (*BY_DECLARATION_DAY, MetricsHandling)
    incremental = rollup_rows(backend, tables)
    done = refresh(backend, full=True)
    assert done.days is None and done.version == 3
    assert rollup_rows(backend, tables) == incremental


# --- a randomised data set, both daylight-saving changes ------------------------------------------


@dataclass
class Sim:
    backend: object
    clock: object
    rng: random.Random
    profs: list[int]
    staff: list[int]
    people: list[dict] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    prof_of: dict[int, int] = field(default_factory=dict)
    steps: list[tuple] = field(default_factory=list)

    def person(self, i: int) -> dict:
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=self.rng.randrange(15000))
        return {
            "last_name": f"Nom{i}",
            "first_names": f"Prenom{i}",
            "matricule": matricule.make(birth.strftime("%Y%m%d"), f"{i % 1000:03d}"),
            "email": f"s{i}@example.lu",
        }


PATHS = {
    "declared": 2,
    "opened": 2,
    "cgu": 1,
    "locked": 1,
    "verified": 1,
    "auto": 8,
    "mismatch": 2,
    "retry": 1,
    "pending": 2,
    "approved": 4,
    "rejected": 2,
    "cancelled": 1,
    "superseded": 1,
}
MISMATCHES = ("typo", "swapped", "birth_date", "matricule", "first_names")


def _observed(data: dict, kind: str):
    if kind == "typo":
        return f.identity_of(data, last_name=data["last_name"] + "x")
    if kind == "swapped":
        return f.identity_of(data, last_name=data["first_names"], first_names=data["last_name"])
    if kind == "birth_date":
        return f.identity_of(data, birth_date=dt.date(1959, 12, 31))
    if kind == "matricule":
        return f.identity_of(data, matricule=matricule.make("19591231", "999"))
    return f.identity_of(data, first_names=data["first_names"] + "a")


def _plan(sim: Sim, i: int, declared_at: dt.datetime) -> None:
    """Schedule one enrolment's steps, at random but increasing times."""
    rng = sim.rng
    path = rng.choices(list(PATHS), weights=list(PATHS.values()))[0]
    at = declared_at

    def step(action, *args, minutes=(1, 600)):
        nonlocal at
        at += dt.timedelta(minutes=rng.randint(*minutes))
        sim.steps.append((at, i, action, *args))

    sim.steps.append((declared_at, i, "declare"))
    if path == "declared":
        return
    if path in ("cancelled", "superseded"):
        step("cancel" if path == "cancelled" else "redeclare", minutes=(1, 3000))
        return
    step("open")
    if path == "opened":
        return
    step("cgu")
    if path == "cgu":
        return
    if path == "locked":
        for _ in range(5):
            step("wrong_matricule", minutes=(0, 2))
        return
    step("matricule")
    if path == "verified":
        return
    if path == "auto":
        step("luxtrust", None, minutes=(1, 5000))
        return
    kind = rng.choice(MISMATCHES)
    step("luxtrust", kind)
    if path == "mismatch":
        return
    if path == "retry":
        step("confirm", False)
        step("luxtrust", None)
        return
    step("confirm", True)
    if path == "pending":
        return
    first, second = rng.sample(sim.staff, 2)
    if path == "approved":
        step("approve", first, minutes=(10, 6000))
        step("approve", second, minutes=(10, 3000))  # the second look, when four-eyes
    else:
        step("reject", first, minutes=(10, 6000))


def _run(sim: Sim, step: tuple) -> None:
    when, i, action, *args = step
    sim.clock.now = when
    be = sim.backend
    if action == "declare":
        prof = sim.rng.choice(sim.profs)
        data = sim.person(i)
        sim.people.append(data)
        declared = f.declare(be, prof, **data)
        sim.ids.append(declared.enrolment_id)
        sim.hashes.append(kernel.hash_token(declared.token))
        sim.prof_of[i] = prof
        return
    if action == "expire":
        with be.uow() as uow:
            housekeeping.expire_stale(uow)
        return
    th, data, eid = sim.hashes[i], sim.people[i], sim.ids[i]
    with be.uow() as uow:
        state = uow.session.get(Enrolment, eid).state
        if action == "cancel":
            if state in lc.OPEN:
                declarations.cancel(uow, eid, Actor("professional", "x"), sim.prof_of[i])
        elif action == "redeclare":
            if state in lc.OPEN:
                declarations.declare(uow, sim.prof_of[i], **data)  # supersedes it
        elif state not in lc.OPEN:
            return  # expired on the way
        elif action == "open":
            secretary.open_invitation(uow, th)
        elif action == "cgu":
            secretary.accept_cgu(uow, th, uow.settings.cgu_version)
        elif action == "matricule":
            secretary.verify_matricule(uow, th, data["matricule"])
        elif action == "wrong_matricule":
            if state == lc.CGU_ACCEPTED:
                attempt = uow.session.get(Enrolment, eid).wrong_matricule_count
                secretary.verify_matricule(uow, th, f.wrong_matricule(attempt))
        elif action == "luxtrust":
            observed = f.identity_of(data) if args[0] is None else _observed(data, args[0])
            secretary.record_luxtrust_identity(uow, th, observed, device="mobile")
        elif action == "confirm":
            secretary.confirm_personal_device(uow, th, args[0])
        elif action == "approve":
            proposal = decisions.pending_proposal(uow, eid)
            if state == lc.PENDING_REVIEW and not (proposal and proposal.reviewer_id == args[0]):
                decisions.approve(uow, eid, args[0])
        elif action == "reject":
            decisions.reject(uow, eid, args[0], reason_code="identity_not_established")
        else:  # pragma: no cover
            raise AssertionError(action)


def _simulate(sim: Sim, first: int, count: int, start: dt.datetime) -> None:
    at = start
    for i in range(first, first + count):
        _plan(sim, i, at)
        at += dt.timedelta(minutes=sim.rng.randint(0, 600))
    for step in sorted(sim.steps, key=lambda s: (s[0], s[1])):
        _run(sim, step)
    sim.steps.clear()


def _filters(rng: random.Random, days: list[dt.date], specialties) -> list[metrics.MetricsFilter]:
    out = [metrics.MetricsFilter(), *(metrics.MetricsFilter(specialty=s) for s in specialties)]
    for d in days:  # each day alone: the Luxembourg midnights, the daylight-saving days
        out.append(metrics.MetricsFilter(d, d))
    for _ in range(12):
        a, b = sorted(rng.sample(days, 2))
        out.append(metrics.MetricsFilter(a, b, rng.choice([None, *specialties])))
        out.append(metrics.MetricsFilter(a, None, rng.choice([None, *specialties])))
        out.append(metrics.MetricsFilter(None, b))
    return out


@pytest.fixture
def sim(backend, clock) -> Sim:
    clock.now = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    profs = [
        f.professional(backend, 1, specialty=hand.GP),
        f.professional(backend, 2, specialty=hand.PED),
        f.professional(backend, 3, specialty=None),  # no specialty: only in "all"
    ]
    staff = [f.reviewer(backend, f"r{k}@esante.lu") for k in range(3)]
    f.reviewer(backend, "m@esante.lu", roles=("manager",))
    rng = random.Random(8)
    s = Sim(backend, clock, rng, profs, staff)
    # Declarations every 0-10 hours around the spring change (Sun 29 March 2026), then
    # around the autumn one (Sun 25 October 2026): days of 23 and 25 hours.
    _simulate(s, 0, 45, dt.datetime(2026, 3, 26, 18, tzinfo=dt.UTC))
    s.steps.append((dt.datetime(2026, 5, 5, 3, tzinfo=dt.UTC), -1, "expire"))
    _simulate(s, 45, 35, dt.datetime(2026, 10, 22, 18, tzinfo=dt.UTC))
    return s


def _declaration_days(backend) -> list[dt.date]:
    with backend.uow() as uow:
        created = uow.session.scalars(select(Enrolment.created_at)).all()
    return sorted({c.astimezone(LUX).date() for c in created})


def test_randomised_data_incremental_refreshes_and_the_purge(sim):
    be, clock = sim.backend, sim.clock
    days = _declaration_days(be)
    assert dt.date(2026, 3, 29) in days and dt.date(2026, 10, 25) in days
    specialties = [hand.GP, hand.PED]
    filters = _filters(sim.rng, [days[0] - dt.timedelta(1), *days], specialties)
    sizes = []
    for flt in filters:
        sizes += agrees_with_statistics(be, flt, both(be, flt))
    # Even and odd counts, several of each, from one duration to many.
    assert sum(n % 2 == 0 for n in sizes if n) >= 10 and sum(n % 2 for n in sizes) >= 10
    assert max(sizes) >= 10
    m = both(be, metrics.MetricsFilter())
    with be.uow() as uow:
        enrolments = uow.session.scalar(select(func.count()).select_from(Enrolment))
    assert m.kpis["declarations"] == enrolments >= 80  # and the redeclarations
    assert all(m.kpis[k] for k in ("accounts_auto", "accounts_manual", "backlog"))
    assert m.kpis["median_days_manual"] is not None and m.mismatches and m.reviewers
    assert sum(confirmed for _name, _n, confirmed, _median in m.reviewers) >= 2  # four-eyes

    # More events: decisions on the queue, new declarations, expiries.
    clock.now = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    with be.uow() as uow:
        pending = uow.session.scalars(
            select(Enrolment).where(Enrolment.state == lc.PENDING_REVIEW)
        ).all()
    touched = {e.created_at.astimezone(LUX).date() for e in pending[:3]}
    for e, reviewer in zip(pending[:3], sim.staff, strict=False):
        with be.uow() as uow:
            decisions.reject(uow, e.id, reviewer, reason_code="declaration_error")
    done = refresh(be)
    assert done.days == len(touched) < len(days)
    _simulate(sim, 80, 10, dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC))
    for flt in filters[:10]:
        agrees_with_statistics(be, flt, both(be, flt))
    clock.now = dt.datetime(2027, 1, 10, 9, tzinfo=dt.UTC)
    with be.uow() as uow:
        housekeeping.expire_stale(uow)
    before = both(be, metrics.MetricsFilter())

    # The retention purge erases names and keeps every figure.
    clock.now += dt.timedelta(days=be.settings.retention_days + 1)
    with be.uow() as uow:
        assert housekeeping.purge_personal_data(uow) > 0
    for flt in filters:
        both(be, flt)
    after = both(be, metrics.MetricsFilter())
    live = ("backlog", "overdue")
    assert {k: v for k, v in after.kpis.items() if k not in live} == {
        k: v for k, v in before.kpis.items() if k not in live
    }
    assert (after.funnel, after.trend, after.mismatches, after.reviewers) == (
        before.funnel,
        before.trend,
        before.mismatches,
        before.reviewers,
    )


# --- events committed out of order ----------------------------------------------------------------


def _insert_event(backend, event_id: int, enrolment_id: int, action: str, state=None) -> None:
    """Raw SQL, as a transaction that took its id earlier and commits now."""
    with backend.engine.begin() as conn:
        if state:
            conn.execute(
                text("UPDATE enrolments SET state = :s, version = version + 1 WHERE id = :id"),
                {"s": state, "id": enrolment_id},
            )
        conn.execute(
            text(
                "INSERT INTO events (id, enrolment_id, action, actor_type, created_at)"
                " VALUES (:id, :e, :a, 'system', :t)"
            ),
            {"id": event_id, "e": enrolment_id, "a": action, "t": backend.clock()},
        )
        if backend.engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('events', 'id'),"
                    " (SELECT max(id) FROM events))"
                )
            )


def test_an_event_that_commits_after_a_newer_one_is_not_lost(backend, clock):
    w = hand.build_world(backend, clock)
    both(backend, metrics.MetricsFilter())
    with backend.uow() as uow:
        newest = uow.session.scalar(select(func.max(Event.id)))
    # Event newest+2 is committed while newest+1 (which cancels E14) is still in flight.
    _insert_event(backend, newest + 2, w.ids["E13"], "link_opened")
    assert refresh(backend).last_event_id == newest + 2
    with backend.uow() as uow:
        pending = uow.session.scalar(select(MetricsRefresh.pending))
        assert [p[0] for p in pending] == [newest + 1]
        assert not rollup.status(uow).behind  # nothing new visible yet
    _insert_event(backend, newest + 1, w.ids["E14"], "cancelled", state=lc.CANCELLED)
    with backend.uow() as uow:
        assert rollup.status(uow).behind
    m = both(backend, metrics.MetricsFilter())
    assert dict(m.endings)["cancelled"] == 2  # E5 and E14
    with backend.uow() as uow:
        assert uow.session.scalar(select(MetricsRefresh.pending)) == []


def test_an_id_that_never_arrives_is_forgotten(backend, clock):
    w = hand.build_world(backend, clock)
    both(backend, metrics.MetricsFilter())
    with backend.uow() as uow:
        newest = uow.session.scalar(select(func.max(Event.id)))
    _insert_event(backend, newest + 2, w.ids["E13"], "link_opened")  # newest+1 rolled back
    refresh(backend)
    clock.advance(minutes=9)
    refresh(backend)
    with backend.uow() as uow:
        assert [p[0] for p in uow.session.scalar(select(MetricsRefresh.pending))] == [newest + 1]
    clock.advance(minutes=2)
    refresh(backend)
    with backend.uow() as uow:
        assert uow.session.scalar(select(MetricsRefresh.pending)) == []


def test_refresh_refuses_a_unit_of_work_with_pending_changes(backend):
    prof = f.professional(backend)
    with backend.uow() as uow:
        uow.session.get(Professional, prof).email = "changed@cabinet.lu"
        with pytest.raises(RuntimeError, match="unit of work of its own"):
            rollup.refresh(uow)  # it commits: it would write this change too
    with backend.uow() as uow:
        assert uow.session.get(Professional, prof).email == "dr1@cabinet.lu"
        assert uow.session.scalar(select(func.count()).select_from(MetricsRefresh)) == 0


# --- the page's response cache --------------------------------------------------------------------


def test_the_page_is_served_from_the_cache_until_an_event(backend, clock):
    w = hand.build_world(backend, clock)
    app = create_app(backend.settings, backend=backend)
    client = hand.client_as(w, app, "manager")
    first = hand.refresh(client)
    assert first.status_code == 200
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(backend.engine, "before_cursor_execute", record)
    try:
        again = hand.refresh(client)
        cached = list(seen)
        # An approval: a new event, a new version, the page computed again.
        with backend.uow() as uow:
            decisions.approve(uow, w.ids["E16"], w.staff["R1"])
        seen.clear()
        changed = hand.refresh(client)
    finally:
        event.remove(backend.engine, "before_cursor_execute", record)
    assert again.get_json() == first.get_json()
    # The version check only: no rollup nor enrolment read.
    assert any("FROM metrics_refresh" in s for s in cached)
    assert not any(
        re.search(r"metrics_(daily|durations|mismatches|reviewers)|enrolments", s) for s in cached
    ), cached
    assert any("INSERT INTO metrics_daily" in s for s in seen)  # refreshed first
    kpis = dc.values(changed)[("metrics-kpis", "children")]
    assert hand._texts(kpis, "kpi-value")[1] == "7"  # accounts: 6 + E16
    assert hand._texts(kpis, "kpi-value")[7] == "3"  # backlog: 4 - E16
    # Another filter, its own entry; a refused role gets nothing from the cache.
    assert hand.refresh(client, "2026-01-12", "2026-01-18").get_json() != changed.get_json()
    assert hand.refresh(hand.client_as(w, app, "R1")).status_code == 403


def test_the_cached_ageing_follows_the_clock(backend, clock):
    w = hand.build_world(backend, clock)
    app = create_app(backend.settings, backend=backend)
    client = hand.client_as(w, app, "manager")

    def ageing():
        values = dc.values(hand.refresh(client))
        return list(values[("metrics-ageing", "figure")]["data"][0]["y"])

    assert ageing() == [1, 1, 1, 1]
    clock.now = hand.t(2, 5, 9)  # a day later, no event: the ageing moved
    client = hand.client_as(w, app, "manager")  # (a new login: sessions last 12 hours)
    assert ageing() == [0, 1, 2, 1]


# --- the upgrade that gave the reviewers' rollups the second reviewer ---------------------------


def test_the_upgrade_rebuilds_the_rollups_from_the_events(backend, clock):
    from alembic import command
    from alembic.script import ScriptDirectory

    w = hand.build_world(backend, clock)
    refresh(backend)
    url = backend.settings.database_url
    config = schema.alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision("0009").down_revision
    backend.engine.dispose()
    command.downgrade(config, before)
    try:
        # What the code before left: reviewers' rollups without the second reviewers,
        # dated at the proposal, and a bookkeeping row saying they are up to date.
        with backend.engine.begin() as conn:
            newest = conn.scalar(select(func.max(Event.id)))
            conn.execute(
                MetricsRefresh.__table__.insert().values(
                    id=1, last_event_id=newest, pending=[], version=7, refreshed_at=clock()
                )
            )
            conn.execute(
                text(
                    "INSERT INTO metrics_reviewers"
                    " (day, decided_on, specialty, reviewer_id, hundredths, n)"
                    " VALUES ('2026-01-15', '2026-01-16', :sp, :r, 75, 1)"
                ),
                {"sp": hand.PED, "r": w.staff["R1"]},
            )
    finally:
        backend.engine.dispose()
        schema.upgrade(url)
    with backend.uow() as uow:
        assert rollup.status(uow).behind  # the next refresh rebuilds every day
    m = both(backend, metrics.MetricsFilter())
    assert m.reviewers == hand.ALL_REVIEWERS
    assert m.kpis == hand.ALL_KPIS
    built = rollup_rows(backend, (*BY_DECLARATION_DAY, MetricsHandling))
    assert refresh(backend, full=True).days is None  # `metrics refresh --full`: the same
    assert rollup_rows(backend, (*BY_DECLARATION_DAY, MetricsHandling)) == built


# --- the command line -----------------------------------------------------------------------------


def test_the_command_line_refreshes_the_rollups(backend, clock, capsys, monkeypatch):
    w = hand.build_world(backend, clock)
    settings = backend.settings
    monkeypatch.setattr("dashboard.__main__._backend", lambda _settings: backend)
    assert main(["metrics", "refresh"], settings=settings) == 0
    out = capsys.readouterr().out
    with backend.uow() as uow:
        newest = uow.session.scalar(select(func.max(Event.id)))
        assert uow.session.scalar(select(func.sum(MetricsDaily.declared))) == 18
    assert f"jusqu'à l'événement {newest} : tous les jours" in out
    # Then only what changed since: E15's day (Fri 23/01).
    with backend.uow() as uow:
        decisions.approve(uow, w.ids["E15"], w.staff["R1"])  # four-eyes: a proposal
    assert main(["metrics", "refresh"], settings=settings) == 0
    assert ": 1 jour(s) de déclaration recalculé(s)" in capsys.readouterr().out
    assert main(["metrics", "refresh"], settings=settings) == 0
    assert ": 0 jour(s)" in capsys.readouterr().out
    assert main(["metrics", "refresh", "--full"], settings=settings) == 0
    assert "tous les jours" in capsys.readouterr().out
    both(backend, metrics.MetricsFilter())
