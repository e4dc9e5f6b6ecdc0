"""The identity-vigilance back-office on a real database (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set): the queue, the case file, the decisions with their four-eyes
rule and optimistic versions, real concurrent sessions on PostgreSQL, and the Dash
callbacks as the browser calls them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import threading
import time

import pytest
from plotly.io.json import to_json_plotly
from sqlalchemy import event, select, text, update

from dashboard import case_layout
from dashboard.app import create_app
from dashboard.config import Settings
from dashboard.enrolment import (
    case_file,
    codes,
    decisions,
    kernel,
    mail,
    matricule,
    review,
    secretary,
    working_days,
)
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import make_engine
from dashboard.enrolment.errors import (
    ConcurrentUpdate,
    Forbidden,
    IllegalTransition,
    NotFound,
    ValidationFailed,
)
from dashboard.enrolment.model import (
    Decision,
    Enrolment,
    Event,
    LuxTrustIdentity,
    OutboxEmail,
    ReviewNote,
    SecretaryAccount,
)
from dashboard.enrolment.review import QueueQuery
from tests import dashclient as dc
from tests import factories as f
from tests.conftest import _truncate_pg

LUX = working_days.LUXEMBOURG

# People with distinct names, matricules and emails; walk_to's LuxTrust identity adds a "t"
# to the last name (a typo), the default mismatch.
PEOPLE = {
    "marie": ("Schmit", "Marie", "19850412", "123", "marie.schmit@example.lu"),
    "laura": ("Weber", "Laura", "19781130", "210", "laura.weber@example.lu"),
    "sophie": ("Muller", "Sophie", "19900723", "045", "sophie.muller@example.lu"),
    "paula": ("Hansen", "Paula", "19921105", "310", "paula.hansen@example.lu"),
    "anne": ("Kieffer", "Anne", "19880214", "111", "anne.kieffer@example.lu"),
    "nora": ("Thill", "Nora", "19950630", "222", "nora.thill@example.lu"),
    "claire": ("Reuter", "Claire", "19830909", "333", "claire.reuter@example.lu"),
}


def person(key: str, **overrides) -> dict:
    last, first, birth, serial, email = PEOPLE[key]
    data = {
        "last_name": last,
        "first_names": first,
        "matricule": matricule.make(birth, serial),
        "email": email,
    }
    return {**data, **overrides}


def pending(backend, prof: int, key: str = "marie", **overrides) -> int:
    enrolment_id, _ = f.walk_to(backend, prof, lc.PENDING_REVIEW, **person(key, **overrides))
    return enrolment_id


def pending_with_identity(backend, prof: int, key: str = "marie", observed=None, **overrides):
    """A case under review whose LuxTrust identity is `observed` (overrides of the declared
    identity, e.g. another birth date): the secretary's steps through the real services."""
    data = person(key, **overrides)
    declared = f.declare(backend, prof, **data)
    th = kernel.hash_token(declared.token)
    with backend.uow() as uow:
        secretary.accept_cgu(uow, th, uow.settings.cgu_version)
    with backend.uow() as uow:
        secretary.verify_matricule(uow, th, data["matricule"])
    with backend.uow() as uow:
        result = secretary.record_luxtrust_identity(
            uow, th, f.identity_of(data, **(observed or {})), subject=f"sub-{key}", device="eid"
        )
        assert result.state == lc.IDENTITY_MISMATCH
    with backend.uow() as uow:
        assert secretary.confirm_personal_device(uow, th, True) == lc.PENDING_REVIEW
    return declared.enrolment_id


OTHER_BIRTH = {"birth_date": dt.date(1985, 12, 4)}


def with_settings(backend, **changes) -> Backend:
    """The same database and clock under other settings (e.g. FOUR_EYES="")."""
    return dataclasses.replace(backend, settings=backend.settings.replace(**changes))


def enrolment(backend, enrolment_id) -> Enrolment:
    with backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id)


def events(backend, enrolment_id) -> list[Event]:
    with backend.uow() as uow:
        return uow.session.scalars(
            select(Event).where(Event.enrolment_id == enrolment_id).order_by(Event.id)
        ).all()


def actions(backend, enrolment_id) -> list[str]:
    return [e.action for e in events(backend, enrolment_id)]


def decisions_of(backend, enrolment_id) -> list[Decision]:
    with backend.uow() as uow:
        return uow.session.scalars(
            select(Decision).where(Decision.enrolment_id == enrolment_id).order_by(Decision.id)
        ).all()


def outbox(backend, enrolment_id) -> list[OutboxEmail]:
    with backend.uow() as uow:
        return uow.session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.enrolment_id == enrolment_id)
            .order_by(OutboxEmail.id)
        ).all()


def decision_mail(backend, enrolment_id) -> list[tuple[str, str]]:
    """(template, recipient) of the mail queued after the invitation and pending_review."""
    return [
        (m.template, m.recipient)
        for m in outbox(backend, enrolment_id)
        if m.template not in ("invitation", "pending_review")
    ]


def queue(backend, staff_id, **query) -> tuple[list[review.QueueRow], int]:
    with backend.uow() as uow:
        return review.queue_page(uow, QueueQuery(**query), staff_id)


def names(rows) -> list[str]:
    return [r.secretary for r in rows]


def is_sqlite(backend) -> bool:
    return backend.engine.dialect.name == "sqlite"


def xfail_on_sqlite(request, backend, reason: str) -> None:
    """Formerly marked known SQLite bugs; all fixed. Kept so the call sites read as history."""
    del request, backend, reason


@pytest.fixture
def prof(backend) -> int:
    return f.professional(backend)


@pytest.fixture
def alice(backend) -> int:
    return f.reviewer(backend, "alice@esante.lu")


@pytest.fixture
def bob(backend) -> int:
    return f.reviewer(backend, "bob@esante.lu")


@pytest.fixture
def manager(backend) -> int:
    return f.reviewer(backend, "manon@esante.lu", roles=("manager",))


# --- the queue ------------------------------------------------------------------------------


def test_the_queue_holds_only_cases_under_review(backend, clock, prof, alice):
    under_review = pending(backend, prof, "marie")
    f.walk_to(backend, prof, lc.DECLARED, **person("laura"))
    f.walk_to(backend, prof, lc.IDENTITY_MISMATCH, **person("sophie"))
    f.walk_to(backend, prof, lc.ACCOUNT_CREATED, **person("paula"))
    approved = pending(backend, prof, "anne")
    rejected = pending(backend, prof, "nora")
    with backend.uow() as uow:
        decisions.approve(uow, approved, alice)
    with backend.uow() as uow:
        decisions.reject(uow, rejected, alice, reason_code="identity_not_established")

    rows, total = queue(backend, alice)
    assert [r.enrolment_id for r in rows] == [under_review]
    assert total == 1
    assert rows[0].state_label == "Vérification manuelle en cours"


def test_the_queue_is_for_reviewers_only(backend, prof, manager):
    pending(backend, prof)
    with pytest.raises(Forbidden), backend.uow() as uow:
        review.queue_page(uow, QueueQuery(), manager)


def test_rows_carry_the_french_summary_and_who_declared(backend, prof, alice):
    pending(backend, prof)
    birth = pending_with_identity(backend, prof, "laura", observed=OTHER_BIRTH)
    rows, _ = queue(backend, alice)
    by_id = {r.enrolment_id: r for r in rows}
    first = next(r for r in rows if r.enrolment_id != birth)
    assert first.summary == "nom : faute de frappe"
    assert first.secretary == "Marie Schmit"
    assert first.professional == "Dr Jean Hoffmann1"
    assert by_id[birth].summary == "date de naissance : différente"


def test_the_summary_is_the_latest_identitys_even_from_before_the_kind_columns(
    backend, prof, alice
):
    data = person("marie")
    th = kernel.hash_token(f.declare(backend, prof, **data).token)
    with backend.uow() as uow:
        secretary.accept_cgu(uow, th, uow.settings.cgu_version)
    with backend.uow() as uow:
        secretary.verify_matricule(uow, th, data["matricule"])
    with backend.uow() as uow:  # first try: another birth date; not her own device
        secretary.record_luxtrust_identity(uow, th, f.identity_of(data, **OTHER_BIRTH))
    with backend.uow() as uow:
        secretary.confirm_personal_device(uow, th, False)
    with backend.uow() as uow:  # second try, on her own device: a typo in the name
        secretary.record_luxtrust_identity(uow, th, f.identity_of(data, last_name="Schmitt"))
    with backend.uow() as uow:
        assert secretary.confirm_personal_device(uow, th, True) == lc.PENDING_REVIEW
    [row] = queue(backend, alice)[0]
    assert row.summary == "nom : faute de frappe"

    # Identities stored before migration 0002 have no per-field kind: read from the JSON.
    kinds = {f"{name}_kind": None for name in ("last_name", "first_names", "birth_date")}
    with backend.uow() as uow:
        uow.session.execute(update(LuxTrustIdentity).values(matricule_kind=None, **kinds))
        uow.commit()
    [row] = queue(backend, alice)[0]
    assert row.summary == "nom : faute de frappe"


def _seven_cases(backend, clock, prof) -> list[int]:
    ids = []
    for key in PEOPLE:
        ids.append(pending(backend, prof, key))
        clock.advance(hours=1)
    return ids


def test_paging_is_done_in_sql_with_the_right_total(backend, clock, prof, alice):
    ids = _seven_cases(backend, clock, prof)
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(backend.engine, "before_cursor_execute", remember)
    try:
        pages = [queue(backend, alice, start=s, end=s + 3) for s in (0, 3, 6, 9)]
    finally:
        event.remove(backend.engine, "before_cursor_execute", remember)

    assert [len(rows) for rows, _ in pages] == [3, 3, 1, 0]
    assert {total for _, total in pages} == {7}
    seen = [r.enrolment_id for rows, _ in pages for r in rows]
    assert seen == ids  # oldest confirmation first by default, no duplicate, none missing
    pages_read = [s for s in statements if "OFFSET" in s.upper() and "count(" not in s.lower()]
    assert len(pages_read) == 4  # the page's ids, by LIMIT/OFFSET in SQL
    counts = [s for s in statements if "count(" in s.lower()]
    assert len(counts) == 4


def test_a_search_is_counted_in_the_same_statement_as_its_page(backend, clock, prof, alice):
    ids = _seven_cases(backend, clock, prof)
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(backend.engine, "before_cursor_execute", remember)
    try:
        pages = [
            queue(backend, alice, start=s, end=s + 3, search="example.lu") for s in (0, 3, 6, 9)
        ]
    finally:
        event.remove(backend.engine, "before_cursor_execute", remember)
    assert [len(rows) for rows, _ in pages] == [3, 3, 1, 0]
    assert {total for _, total in pages} == {7}
    assert [r.enrolment_id for rows, _ in pages for r in rows] == ids
    enrolment_reads = [s for s in statements if "FROM enrolments" in s or "enrolments.id" in s]
    assert len([s for s in enrolment_reads if "OVER" in s.upper()]) == 4
    # Counted apart only for the page past the end, which has no row to carry the count.
    assert len([s for s in statements if s.upper().startswith("SELECT COUNT(")]) == 1
    assert queue(backend, alice, search="kieffer")[1] == 1
    assert queue(backend, alice, search="nobody")[1] == 0


@pytest.mark.parametrize(
    ("sort", "search"), [([], ""), ([("professional", "asc")], ""), ([], "schmit")]
)
def test_on_sqlite_the_page_walks_the_queue_index(sqlite_backend, clock, sort, search):
    """Left to itself SQLite takes the plain index on `state` (an equality) and sorts every
    pending case (80 ms for the first page at 1M instead of 0.3 ms)."""
    prof = f.professional(sqlite_backend)
    reviewer = f.reviewer(sqlite_backend, "alice@esante.lu")
    for key in ("marie", "laura"):
        pending(sqlite_backend, prof, key)
        clock.advance(hours=1)
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(sqlite_backend.engine, "before_cursor_execute", remember)
    try:
        rows, total = queue(sqlite_backend, reviewer, sort=tuple(sort), search=search)
    finally:
        event.remove(sqlite_backend.engine, "before_cursor_execute", remember)
    assert total == (1 if search else 2) and len(rows) == total
    [(page, parameters)] = [(s, p) for s, p in statements if "AS page" in s]
    with sqlite_backend.engine.connect() as conn:
        plan = " | ".join(
            row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {page}", parameters).all()
        )
    assert "INDEX ix_enrolments_review_queue" in plan, plan


def test_the_count_stops_at_its_cap_and_says_so(backend, clock, prof, alice, monkeypatch):
    """The count must not grow with the queue: beyond the cap the total is unknown (None),
    and the grid is told to keep scrolling until a block comes back short."""
    ids = _seven_cases(backend, clock, prof)
    monkeypatch.setattr(review, "COUNT_CAP", 5)
    rows, total = queue(backend, alice, start=0, end=3)
    assert total is None and [r.enrolment_id for r in rows] == ids[:3]
    monkeypatch.setattr(review, "COUNT_CAP", 7)
    assert queue(backend, alice, start=0, end=3)[1] == 7


def test_sort_by_waiting_time_longest_first(backend, clock, prof, alice):
    ids = _seven_cases(backend, clock, prof)
    longest_first, _ = queue(backend, alice, sort=(("waiting", "desc"),))
    assert [r.enrolment_id for r in longest_first] == ids
    shortest_first, _ = queue(backend, alice, sort=(("waiting", "asc"),))
    assert [r.enrolment_id for r in shortest_first] == ids[::-1]
    waits = [r.waiting_days for r in longest_first]
    assert waits == sorted(waits, reverse=True)


def test_sort_by_professional(backend, clock, alice):
    profs = {
        name: f.professional(backend, n, last_name=name)
        for n, name in enumerate(("Zimmer", "Arendt", "Muller"), start=1)
    }
    for key, name in zip(("marie", "laura", "sophie"), profs, strict=True):
        pending(backend, profs[name], key)
        clock.advance(minutes=5)
    rows, _ = queue(backend, alice, sort=(("professional", "asc"),))
    assert [r.professional.split()[-1] for r in rows] == ["Arendt", "Muller", "Zimmer"]
    rows, _ = queue(backend, alice, sort=(("professional", "desc"),))
    assert [r.professional.split()[-1] for r in rows] == ["Zimmer", "Muller", "Arendt"]


def test_sort_by_assignee(backend, clock, prof, alice, bob):
    carla = f.reviewer(backend, "carla@esante.lu")
    cases = {key: pending(backend, prof, key) for key in ("marie", "laura", "sophie", "paula")}
    for key, who in (("marie", carla), ("laura", alice), ("sophie", bob)):
        with backend.uow() as uow:
            decisions.assign(uow, cases[key], who, alice)

    rows, total = queue(backend, alice, sort=(("assignee", "asc"),))
    assert total == 4
    assigned = [r.assignee for r in rows if r.assignee]
    assert assigned == ["alice", "bob", "carla"]
    # Where unassigned cases go is up to the database (NULLS FIRST on SQLite, LAST on
    # PostgreSQL): only check that they are kept together at one end.
    assert [r.assignee for r in rows].index("") in (0, 3)
    rows, _ = queue(backend, alice, sort=(("assignee", "desc"),))
    assert [r.assignee for r in rows if r.assignee] == ["carla", "bob", "alice"]


def test_quick_filters(backend, clock, prof, alice, bob):
    mine = pending(backend, prof, "marie")
    bobs = pending(backend, prof, "laura")
    free = pending(backend, prof, "sophie")
    second = pending_with_identity(backend, prof, "paula", observed=OTHER_BIRTH)
    with backend.uow() as uow:
        decisions.claim(uow, mine, alice)
    with backend.uow() as uow:
        decisions.claim(uow, bobs, bob)
    with backend.uow() as uow:
        assert decisions.approve(uow, second, bob) == "awaiting_second"
    clock.advance(days=1)
    fresh = pending(backend, prof, "anne")
    clock.advance(days=2)  # Thursday: the first four are 3 working days old, `fresh` 2

    def ids(*quick):
        rows, total = queue(backend, alice, quick=frozenset(quick))
        assert total == len(rows)
        return {r.enrolment_id for r in rows}

    assert ids() == {mine, bobs, free, second, fresh}
    assert ids("mine") == {mine}
    assert ids("unassigned") == {free, second, fresh}  # a proposal does not assign
    assert ids("overdue") == {mine, bobs, free, second}
    assert ids("second") == {second}
    assert ids("unassigned", "overdue") == {free, second}
    assert ids("mine", "second") == set()
    rows, _ = queue(backend, bob, quick=frozenset({"mine"}))
    assert [r.enrolment_id for r in rows] == [bobs]
    [row] = queue(backend, alice, quick=frozenset({"second"}))[0]
    assert row.awaiting_second
    assert row.state_label == "En attente de seconde validation"


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("schmit", ["Marie Schmit"]),
        ("SCHMIT", ["Marie Schmit"]),
        ("Marie Schmit", ["Marie Schmit"]),
        ("  marie   schmit ", ["Marie Schmit"]),
        ("laura", ["Laura Weber"]),
        ("laura.weber@example.lu", ["Laura Weber"]),
        ("Sophie.Muller@EXAMPLE", ["Sophie Muller"]),
        ("7811", ["Laura Weber"]),  # 4 digits of the matricule (born 1978-11-30)
        (matricule.format_display(matricule.make("19900723", "045")), ["Sophie Muller"]),
        ("1990.07.23", ["Sophie Muller"]),
        ("781", []),  # fewer than 4 digits: no matricule search
        ("Hoffmann", []),  # the professional's name is not the secretary's
        ("nobody", []),
    ],
)
def test_search(backend, clock, prof, alice, search, expected):
    for key in ("marie", "laura", "sophie"):
        pending(backend, prof, key)
    rows, total = queue(backend, alice, search=search)
    assert names(rows) == expected
    assert total == len(expected)


def test_search_by_matricule_finds_every_case_sharing_the_digits(backend, clock, alice):
    p1, p2 = f.professional(backend, 1), f.professional(backend, 2)
    a = pending(backend, p1, "marie")
    b = pending(backend, p2, "marie", email="marie.private@example.lu")
    rows, total = queue(backend, alice, search="1985 0412")
    assert {r.enrolment_id for r in rows} == {a, b} and total == 2


def test_search_finds_an_accented_name_typed_as_displayed(request, backend, prof, alice):
    xfail_on_sqlite(
        request,
        backend,
        "BUG review._queue_conditions: the search lowercases in Python (str.lower) but "
        "compares with SQL lower(), which on SQLite only folds ASCII: 'Élodie'/'DUPRÉ' "
        "typed as displayed never match (PostgreSQL is fine)",
    )
    pending(backend, prof, "marie", last_name="DUPRÉ", first_names="Élodie")
    for typed in ("Élodie", "élodie", "DUPRÉ", "dupré", "Élodie DUPRÉ"):
        rows, _ = queue(backend, alice, search=typed)
        assert names(rows) == ["Élodie DUPRÉ"], typed


def test_search_treats_percent_and_underscore_literally(backend, prof, alice):
    pending(backend, prof, "marie")
    pending(backend, prof, "laura")
    for typed in ("%", "_", "a_b"):
        rows, total = queue(backend, alice, search=typed)
        assert (names(rows), total) == ([], 0), typed


def test_professional_and_assignee_text_filters(backend, clock, alice, bob):
    hoffmann = f.professional(backend, 1)
    arendt = f.professional(backend, 2, last_name="Arendt", first_names="Lucie")
    a = pending(backend, hoffmann, "marie")
    b = pending(backend, arendt, "laura")
    c = pending(backend, arendt, "sophie")
    with backend.uow() as uow:
        decisions.claim(uow, a, alice)
    with backend.uow() as uow:
        decisions.claim(uow, b, bob)

    def ids(**query):
        rows, total = queue(backend, alice, **query)
        assert total == len(rows)
        return {r.enrolment_id for r in rows}

    assert ids(professional="hoff") == {a}
    assert ids(professional="ARENDT") == {b, c}
    assert ids(professional="lucie") == {b, c}  # first names too
    assert ids(professional="  arendt ") == {b, c}
    assert ids(professional="nobody") == set()
    assert ids(assignee="ali") == {a}
    assert ids(assignee="BOB") == {b}
    assert ids(assignee="zed") == set()
    assert ids(professional="arendt", assignee="bob") == {b}
    assert ids(professional="arendt", quick=frozenset({"unassigned"})) == {c}


def test_professional_filter_matches_the_name_as_displayed(backend, prof, alice):
    pending(backend, prof, "marie")
    for typed in ("Jean Hoffmann", "Dr Jean"):
        rows, _ = queue(backend, alice, professional=typed)
        assert names(rows) == ["Marie Schmit"], typed


def test_overdue_follows_the_clock_in_working_days(backend, clock, prof, alice):
    # The clock starts on Monday 2 March 2026, 09:00 UTC (10:00 in Luxembourg).
    case = pending(backend, prof)
    [row], _ = queue(backend, alice)
    assert row.confirmed_at == clock.now
    assert row.due_at.astimezone(LUX) == dt.datetime(2026, 3, 4, 10, 0, tzinfo=LUX)
    assert (row.overdue, row.waiting_days) == (False, 0)

    clock.advance(days=2)  # Wednesday 10:00: exactly due, not yet late
    [row], _ = queue(backend, alice)
    assert (row.overdue, row.waiting_days) == (False, 2.0)
    assert queue(backend, alice, quick=frozenset({"overdue"})) == ([], 0)

    clock.advance(days=1)  # Thursday 10:00: 3 working days
    [row], _ = queue(backend, alice)
    assert (row.overdue, row.waiting_days) == (True, 3.0)
    rows, total = queue(backend, alice, quick=frozenset({"overdue"}))
    assert [r.enrolment_id for r in rows] == [case] and total == 1
    with backend.uow() as uow:
        assert case_file.case_view(uow, case, alice).overdue


def test_the_weekend_does_not_count_towards_the_sla(backend, clock, prof, alice):
    clock.now = dt.datetime(2026, 3, 6, 15, 0, tzinfo=dt.UTC)  # Friday 16:00
    pending(backend, prof)
    clock.now = dt.datetime(2026, 3, 10, 14, 59, tzinfo=dt.UTC)  # Tuesday 15:59
    [row], _ = queue(backend, alice, quick=frozenset())
    assert row.due_at.astimezone(LUX) == dt.datetime(2026, 3, 10, 16, 0, tzinfo=LUX)
    assert not row.overdue
    assert queue(backend, alice, quick=frozenset({"overdue"}))[1] == 0
    clock.advance(minutes=2)
    [row], _ = queue(backend, alice)
    assert row.overdue
    assert queue(backend, alice, quick=frozenset({"overdue"}))[1] == 1


def test_the_overdue_filter_and_the_row_flag_agree_after_a_weekend(backend, clock, prof):
    weekly = with_settings(backend, review_sla_working_days=5)
    reviewer = f.reviewer(weekly)
    clock.now = dt.datetime(2026, 3, 7, 9, 0, tzinfo=dt.UTC)  # Saturday
    pending(weekly, prof)
    clock.now = dt.datetime(2026, 3, 14, 11, 0, tzinfo=dt.UTC)  # the next Saturday
    [row], _ = queue(weekly, reviewer)
    filtered, _ = queue(weekly, reviewer, quick=frozenset({"overdue"}))
    assert bool(filtered) == row.overdue


# --- claim, assign, release ------------------------------------------------------------------


def test_claim_assign_and_release(backend, prof, alice, bob, manager):
    case = pending(backend, prof)
    with backend.uow() as uow:
        decisions.claim(uow, case, alice)
    assert enrolment(backend, case).assignee_id == alice
    with backend.uow() as uow:
        decisions.claim(uow, case, alice)  # again: nothing changes
    assert actions(backend, case).count("claimed") == 1

    with pytest.raises(IllegalTransition, match="déjà pris en charge"), backend.uow() as uow:
        decisions.claim(uow, case, bob)
    assert enrolment(backend, case).assignee_id == alice

    with backend.uow() as uow:  # a colleague may hand it over explicitly
        decisions.assign(uow, case, bob, alice)
    assert enrolment(backend, case).assignee_id == bob
    [assigned] = [e for e in events(backend, case) if e.action == "assigned"]
    assert assigned.data == {"assignee_id": bob}

    with pytest.raises(Forbidden), backend.uow() as uow:  # only to a reviewer
        decisions.assign(uow, case, manager, alice)
    with pytest.raises(Forbidden), backend.uow() as uow:  # only by a reviewer
        decisions.claim(uow, case, manager)
    with pytest.raises(Forbidden), backend.uow() as uow:
        decisions.assign(uow, case, alice, manager)
    assert enrolment(backend, case).assignee_id == bob

    with backend.uow() as uow:
        decisions.release(uow, case, bob)
    assert enrolment(backend, case).assignee_id is None
    with backend.uow() as uow:
        decisions.release(uow, case, bob)  # already free: nothing
    assert actions(backend, case).count("released") == 1
    with backend.uow() as uow:
        decisions.claim(uow, case, alice)  # free again for anyone
    assert enrolment(backend, case).assignee_id == alice


@pytest.mark.parametrize("decided", ["approved", "rejected"])
def test_a_decided_case_can_be_neither_claimed_nor_reassigned_nor_released(
    backend, prof, alice, bob, decided
):
    case = pending(backend, prof)
    with backend.uow() as uow:
        if decided == "approved":
            decisions.approve(uow, case, alice)
        else:
            decisions.reject(uow, case, alice, reason_code="not_declared_person")
    before = (enrolment(backend, case).assignee_id, len(events(backend, case)))
    for attempt in (
        lambda uow: decisions.claim(uow, case, bob),
        lambda uow: decisions.assign(uow, case, bob, alice),
        lambda uow: decisions.release(uow, case, alice),
    ):
        with pytest.raises(IllegalTransition, match="déjà été traité"), backend.uow() as uow:
            attempt(uow)
    assert (enrolment(backend, case).assignee_id, len(events(backend, case))) == before
    assert before[0] == alice  # the decider is recorded as the assignee


def test_notes_are_validated_and_kept_with_their_author(backend, clock, prof, alice, bob):
    case = pending(backend, prof)
    for empty in ("", "   "):
        with pytest.raises(ValidationFailed, match="vide"), backend.uow() as uow:
            decisions.add_note(uow, case, alice, empty)
    with pytest.raises(ValidationFailed, match="5000"), backend.uow() as uow:
        decisions.add_note(uow, case, alice, "x" * 5001)
    with backend.uow() as uow:
        decisions.add_note(uow, case, alice, "  Appelée le 2/3 : confirme le nom.  ")
    clock.advance(minutes=3)
    with backend.uow() as uow:
        decisions.add_note(uow, case, bob, "D'accord.")
    with backend.uow() as uow:
        view = case_file.case_view(uow, case, alice)
    assert [(who, note) for _, who, note in view.notes] == [
        ("alice", "Appelée le 2/3 : confirme le nom."),
        ("bob", "D'accord."),
    ]
    assert view.notes[1][0] - view.notes[0][0] == dt.timedelta(minutes=3)


# --- the case file ---------------------------------------------------------------------------


def test_open_case_is_audited_and_case_view_is_not(backend, prof, alice, manager):
    case = pending(backend, prof)
    before = len(events(backend, case))
    with backend.uow() as uow:
        case_file.case_view(uow, case, alice)
    assert len(events(backend, case)) == before

    with backend.uow() as uow:
        view = case_file.open_case(uow, case, alice)
    opened = events(backend, case)[-1]
    assert len(events(backend, case)) == before + 1
    assert (opened.action, opened.actor_type, opened.actor_id) == (
        "case_opened",
        "staff",
        str(alice),
    )
    assert opened.state_before == opened.state_after == lc.PENDING_REVIEW
    assert view.timeline[-1].action == "Dossier consulté"
    assert view.timeline[-1].actor == "alice"

    with pytest.raises(Forbidden), backend.uow() as uow:
        case_file.open_case(uow, case, manager)
    with pytest.raises(Forbidden), backend.uow() as uow:
        case_file.case_view(uow, case, manager)
    with pytest.raises(NotFound), backend.uow() as uow:
        case_file.open_case(uow, 999_999, alice)
    assert len(events(backend, case)) == before + 1  # refused openings leave no trace


def test_a_declaration_without_luxtrust_identity_opens_without_a_diff(backend, prof, alice):
    # Reached from "Autres demandes liées" of her case under review: it opens, with
    # nothing to compare yet.
    case = pending(backend, prof)
    declared = f.declare(backend, f.professional(backend, 2), **person("marie")).enrolment_id
    with backend.uow() as uow:
        view = case_file.open_case(uow, declared, alice, via=case)
    assert view.fields == [] and view.state == "declared"
    assert "pas encore" in view.device


# --- least privilege: the cases that reached review, and their related requests ----------------


def test_an_enrolment_that_never_reached_review_is_not_browsable_by_number(backend, prof, alice):
    case = pending(backend, prof)
    other = pending(backend, prof, "laura")  # under review, but not related to Marie's
    declared = f.declare(backend, f.professional(backend, 2), **person("marie")).enrolment_id
    stranger = f.declare(backend, prof, **person("sophie")).enrolment_id
    created, _th = f.walk_to(backend, prof, lc.ACCOUNT_CREATED, **person("anne"))
    for read in (case_file.open_case, case_file.case_view):
        for enrolment_id, via in (
            (declared, None),  # by number
            (declared, other),  # through a case it is not related to
            (declared, stranger),  # through an enrolment that never reached review
            (declared, declared),
            (stranger, case),  # not related to Marie's case
            (created, None),  # matched at once: never a reviewer's
            (999_999, case),
        ):
            with pytest.raises(NotFound, match="n'existe pas"), backend.uow() as uow:
                read(uow, enrolment_id, alice, via)
        with backend.uow() as uow:
            assert read(uow, declared, alice, case).enrolment_id == declared
            assert read(uow, case, alice).enrolment_id == case  # reached review: by number
    # Nothing was audited for the refused openings; one for each allowed opening.
    assert actions(backend, declared).count("case_opened") == 1
    assert "case_opened" not in actions(backend, stranger) + actions(backend, created)
    # A note goes to a case under review, not to an enrolment that never reached it.
    with pytest.raises(NotFound), backend.uow() as uow:
        decisions.add_note(uow, declared, alice, "Vu en passant.")


def test_the_case_page_opens_a_related_request_read_only(backend, app, prof, alice):
    case = pending(backend, prof)
    declared = f.declare(backend, f.professional(backend, 2), **person("marie")).enrolment_id
    client = client_for(app, alice)
    page = json.dumps(dc.render_page(client, f"/backoffice/dossier/{case}").get_json())
    assert f"/backoffice/dossier/{declared}?via={case}" in page  # the related request's link
    refused = json.dumps(
        dc.render_page(client, f"/backoffice/dossier/{declared}").get_json(), ensure_ascii=False
    )
    assert "Ce dossier n'existe pas." in refused and "marie.schmit@example.lu" not in refused
    related = json.dumps(
        dc.render_page(client, f"/backoffice/dossier/{declared}?via={case}").get_json(),
        ensure_ascii=False,
    )
    assert "marie.schmit@example.lu" in related and '"case-read-only"' in related


def test_case_view_shows_the_diff_in_order_with_kinds(backend, clock, prof, alice):
    case = pending(backend, prof)
    with backend.uow() as uow:
        view = case_file.case_view(uow, case, alice)
    assert [d.field for d in view.fields] == ["last_name", "first_names", "birth_date"]
    assert [(d.kind, d.kind_label, d.blocking) for d in view.fields] == [
        ("typo", "faute de frappe", True),
        ("identical", "identique", False),
        ("identical", "identique", False),
    ]
    last, first, birth = view.fields
    assert (last.label, last.declared, last.observed) == ("nom", "Schmit", "Schmitt")
    assert last.declared_segments == [("Schmit", False)]
    assert last.observed_segments == [("Schmit", False), ("t", True)]
    assert (first.declared, first.observed) == ("Marie", "Marie")
    assert (birth.label, birth.declared, birth.observed) == (
        "date de naissance",
        "12/04/1985",
        "12/04/1985",
    )
    assert view.matches is False
    assert view.state == lc.PENDING_REVIEW
    assert view.secretary == "Marie Schmit"
    assert view.email == "marie.schmit@example.lu"
    assert view.matricule == matricule.format_display(f.MARIE["matricule"])
    assert view.professional == "Dr Jean Hoffmann1"
    assert view.professional_email == "dr1@cabinet.lu"
    assert view.device == "LuxTrust Mobile"
    assert view.confirmed_at == clock.now
    assert view.due_at == clock.now + dt.timedelta(days=2)
    assert (view.needs_second, view.proposal, view.decision) == (False, None, None)


def test_case_view_of_a_birth_date_case_needs_a_second_reviewer(backend, prof, alice):
    case = pending_with_identity(backend, prof, observed=OTHER_BIRTH)
    with backend.uow() as uow:
        view = case_file.case_view(uow, case, alice)
    birth = view.fields[2]
    assert (birth.field, birth.kind, birth.kind_label, birth.blocking) == (
        "birth_date",
        "different",
        "différente",
        True,
    )
    assert (birth.declared, birth.observed) == ("12/04/1985", "04/12/1985")
    assert [d.kind for d in view.fields[:2]] == ["identical", "identical"]
    assert view.device == "eID"
    assert view.needs_second


def test_the_diff_marks_only_the_typo_when_luxtrust_writes_in_capitals(backend, prof, alice):
    case = pending_with_identity(backend, prof, observed={"last_name": "SCHMITT"})
    with backend.uow() as uow:
        last = case_file.case_view(uow, case, alice).fields[0]
    assert (last.field, last.kind, last.observed) == ("last_name", "typo", "SCHMITT")
    marked = (
        "".join(text for text, differs in last.declared_segments if differs),
        "".join(text for text, differs in last.observed_segments if differs),
    )
    assert marked == ("", "T")


def test_case_view_lists_related_enrolments_by_matricule_or_email(backend, clock, alice):
    p1 = f.professional(backend, 1)
    p2 = f.professional(backend, 2, last_name="Arendt")
    p3 = f.professional(backend, 3, last_name="Biver")
    case = pending(backend, p1, "marie")
    clock.advance(minutes=1)
    same_matricule = f.declare(backend, p2, **person("marie", email="m.s@example.lu"))
    clock.advance(minutes=1)
    same_email = f.declare(backend, p1, **person("laura", email="marie.schmit@example.lu"))
    clock.advance(minutes=1)
    both = f.declare(backend, p3, **person("marie"))
    clock.advance(minutes=1)
    f.declare(backend, p2, **person("sophie"))  # unrelated

    with backend.uow() as uow:
        view = case_file.case_view(uow, case, alice)
    assert [(r.enrolment_id, r.same, r.professional) for r in view.related] == [
        (both.enrolment_id, "matricule + email", "Dr Jean Biver"),
        (same_email.enrolment_id, "email", "Dr Jean Hoffmann1"),
        (same_matricule.enrolment_id, "matricule", "Dr Jean Arendt"),
    ]
    assert {r.state_label for r in view.related} == {"Invitation envoyée"}


def test_related_enrolments_show_their_decision(backend, clock, alice):
    p1, p2 = f.professional(backend, 1), f.professional(backend, 2)
    earlier = pending(backend, p1, "marie")
    with backend.uow() as uow:
        decisions.reject(uow, earlier, alice, reason_code="declaration_error")
    clock.advance(days=1)
    case = pending(backend, p2, "marie")
    with backend.uow() as uow:
        [related] = case_file.case_view(uow, case, alice).related
    assert (related.enrolment_id, related.state_label) == (earlier, "Refusée")
    assert related.reason == "Erreur de déclaration (nouvelle déclaration nécessaire)"


def test_every_related_enrolment_can_be_opened(backend, clock, alice):
    p1, p2 = f.professional(backend, 1), f.professional(backend, 2)
    case = pending(backend, p1, "marie")
    f.declare(backend, p2, **person("marie"))
    with backend.uow() as uow:
        related = case_file.case_view(uow, case, alice).related
    assert related
    for other in related:  # from the case that lists them
        with backend.uow() as uow:
            case_file.open_case(uow, other.enrolment_id, alice, via=case)


def test_case_view_timeline_tells_who_did_what(backend, clock, prof, alice):
    case = pending(backend, prof)
    with backend.uow() as uow:
        decisions.claim(uow, case, alice)
    with backend.uow() as uow:
        decisions.add_note(uow, case, alice, "Vu")
    with backend.uow() as uow:
        view = case_file.open_case(uow, case, alice)
    assert [(t.action, t.actor) for t in view.timeline] == [
        ("Déclaration", "le professionnel"),
        ("CGU acceptées", "la secrétaire"),
        ("Matricule vérifié", "la secrétaire"),
        ("Identité LuxTrust différente", "la secrétaire"),
        ("Dispositif personnel confirmé", "la secrétaire"),
        ("Dossier pris en charge", "alice"),
        ("Note ajoutée", "alice"),
        ("Dossier consulté", "alice"),
    ]
    confirmed = view.timeline[4]
    assert (confirmed.before, confirmed.after) == (
        "Données LuxTrust différentes",
        "Vérification manuelle en cours",
    )
    assert view.assignee == "alice" and view.assignee_id == alice


def test_repeated_consultations_are_all_audited_and_read_as_one_line(
    backend, clock, prof, alice, bob
):
    case = pending(backend, prof)
    for who in (alice, alice, alice, bob, alice):
        clock.advance(minutes=5)
        with backend.uow() as uow:
            view = case_file.open_case(uow, case, who)
    assert actions(backend, case).count("case_opened") == 5
    consulted = [(t.actor, t.times) for t in view.timeline if t.action == "Dossier consulté"]
    assert consulted == [("alice", 3), ("bob", 1), ("alice", 1)]
    first = next(t for t in view.timeline if t.action == "Dossier consulté")
    assert first.last_at - first.at == dt.timedelta(minutes=10)
    shown = to_json_plotly(case_layout.case_body(view, view.colleagues, alice))
    assert shown.count("Dossier consult") == 3 and "(3 fois, derni" in shown


# --- decisions ---------------------------------------------------------------------------------


def test_approve_creates_the_account_and_mails_both(backend, prof, alice):
    case = pending(backend, prof)
    with backend.uow() as uow:
        assert decisions.approve(uow, case, alice, note="Pièce d'identité vérifiée") == (
            lc.ACCOUNT_CREATED
        )
    e = enrolment(backend, case)
    assert (e.state, e.decision, e.assignee_id) == (lc.ACCOUNT_CREATED, "reviewer_approved", alice)
    assert e.account_id is not None and e.decided_at is not None
    [decision] = decisions_of(backend, case)
    assert (decision.outcome, decision.status, decision.reviewer_id) == (
        "reviewer_approved",
        "final",
        alice,
    )
    with backend.uow() as uow:
        account = uow.session.get(SecretaryAccount, e.account_id)
        assert (account.matricule, account.status) == (f.MARIE["matricule"], "active")
        notes = uow.session.scalars(select(ReviewNote.text)).all()
    assert notes == ["Pièce d'identité vérifiée"]
    assert decision_mail(backend, case) == []  # until the identity platform confirms it
    f.provision(backend)
    assert decision_mail(backend, case) == [
        ("approved", "marie.schmit@example.lu"),
        ("professional_account_created", "dr1@cabinet.lu"),
    ]
    rendered = {
        m.template: mail.render(m, backend.settings)
        for m in outbox(backend, case)
        if m.template in ("approved", "professional_account_created")
    }
    assert "vérifié votre identité" in rendered["approved"].text
    assert "Marie Schmit" in rendered["professional_account_created"].text
    with backend.uow() as uow:
        view = case_file.case_view(uow, case, alice)
    assert view.decision["outcome"] == "reviewer_approved"
    assert (view.decision["by"], view.decision["second"]) == ("alice", "")


@pytest.mark.parametrize("reason", codes.REJECTION_REASONS)
def test_reject_with_each_reason_mails_the_secretary_and_the_professional(
    backend, prof, alice, bob, reason
):
    case = pending(backend, prof)
    with backend.uow() as uow:
        outcome = decisions.reject(uow, case, alice, reason_code=reason, note="Note interne")
    if reason == "suspected_fraud":  # four-eyes by default
        assert outcome == "awaiting_second"
        assert decision_mail(backend, case) == []
        with backend.uow() as uow:
            outcome = decisions.reject(uow, case, bob, reason_code=reason)
    assert outcome == lc.REJECTED
    e = enrolment(backend, case)
    assert (e.state, e.decision, e.reason_code) == (lc.REJECTED, "rejected", reason)
    assert e.account_id is None
    final = [d for d in decisions_of(backend, case) if d.status == "final"]
    assert [(d.outcome, d.reason_code, d.note) for d in final] == [
        ("rejected", reason, "Note interne")
    ]
    assert decision_mail(backend, case) == [
        ("rejected", "marie.schmit@example.lu"),
        ("professional_rejected", "dr1@cabinet.lu"),
    ]
    texts = {
        m.template: mail.render(m, backend.settings).text
        for m in outbox(backend, case)
        if m.template in ("rejected", "professional_rejected")
    }
    assert "n'a pas pu accepter" in texts["rejected"]
    assert "Note interne" not in texts["rejected"] + texts["professional_rejected"]
    asks_again = "Merci d'effectuer une nouvelle déclaration"
    assert (asks_again in texts["professional_rejected"]) == (reason == "declaration_error")
    assert asks_again not in texts["rejected"]


def test_reject_needs_a_known_reason_and_writes_nothing_otherwise(backend, prof, alice):
    case = pending(backend, prof)
    before = (len(events(backend, case)), len(outbox(backend, case)))
    for reason in ("", "because", None):
        with pytest.raises(ValidationFailed, match="motif"), backend.uow() as uow:
            decisions.reject(uow, case, alice, reason_code=reason)
    assert enrolment(backend, case).state == lc.PENDING_REVIEW
    assert (len(events(backend, case)), len(outbox(backend, case))) == before


def test_a_manager_cannot_decide(backend, prof, manager):
    case = pending(backend, prof)
    with pytest.raises(Forbidden), backend.uow() as uow:
        decisions.approve(uow, case, manager)
    with pytest.raises(Forbidden), backend.uow() as uow:
        decisions.reject(uow, case, manager, reason_code="identity_not_established")
    assert enrolment(backend, case).state == lc.PENDING_REVIEW


# --- four eyes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "observed",
    [OTHER_BIRTH, {"matricule": matricule.make("19850412", "124")}],
    ids=["birth_date", "matricule"],
)
def test_four_eyes_approval_needs_a_second_reviewer(backend, prof, alice, bob, observed):
    case = pending_with_identity(backend, prof, observed=observed)
    with backend.uow() as uow:
        assert decisions.approve(uow, case, alice) == "awaiting_second"
    e = enrolment(backend, case)
    assert (e.state, e.account_id, e.decision) == (lc.PENDING_REVIEW, None, None)
    [proposal] = decisions_of(backend, case)
    assert (proposal.status, proposal.outcome, proposal.reviewer_id) == (
        "awaiting_second",
        "reviewer_approved",
        alice,
    )
    assert decision_mail(backend, case) == []
    proposed = events(backend, case)[-1]
    assert (proposed.action, proposed.state_before, proposed.state_after) == (
        "decision_proposed",
        lc.PENDING_REVIEW,
        lc.PENDING_REVIEW,
    )
    with backend.uow() as uow:
        view = case_file.case_view(uow, case, bob)
    assert view.proposal["by"] == "alice" and view.proposal["outcome"] == "reviewer_approved"

    with pytest.raises(Forbidden, match="autre membre"), backend.uow() as uow:
        decisions.approve(uow, case, alice)
    assert enrolment(backend, case).state == lc.PENDING_REVIEW

    with backend.uow() as uow:
        assert decisions.approve(uow, case, bob) == lc.ACCOUNT_CREATED
    e = enrolment(backend, case)
    assert (e.state, e.decision) == (lc.ACCOUNT_CREATED, "reviewer_approved")
    [final] = decisions_of(backend, case)
    assert (final.status, final.reviewer_id, final.confirmed_by_id) == ("final", alice, bob)
    assert final.confirmed_at is not None
    f.provision(backend)
    assert decision_mail(backend, case) == [
        ("approved", "marie.schmit@example.lu"),
        ("professional_account_created", "dr1@cabinet.lu"),
    ]
    approved = next(ev for ev in events(backend, case) if ev.action == "approved")
    assert approved.actor_id == str(bob)
    assert approved.data["second_of"] == final.id
    with backend.uow() as uow:
        view = case_file.case_view(uow, case, alice)
    assert (view.decision["by"], view.decision["second"]) == ("alice", "bob")


def test_suspected_fraud_needs_a_second_reviewer(backend, prof, alice, bob):
    case = pending(backend, prof)
    with backend.uow() as uow:
        assert (
            decisions.reject(uow, case, alice, reason_code="suspected_fraud", note="Photo")
            == "awaiting_second"
        )
    assert enrolment(backend, case).state == lc.PENDING_REVIEW
    with pytest.raises(Forbidden), backend.uow() as uow:
        decisions.reject(uow, case, alice, reason_code="suspected_fraud")
    with backend.uow() as uow:
        assert decisions.reject(uow, case, bob, reason_code="suspected_fraud") == lc.REJECTED
    [final] = decisions_of(backend, case)
    assert (final.status, final.reviewer_id, final.confirmed_by_id, final.reason_code) == (
        "final",
        alice,
        bob,
        "suspected_fraud",
    )
    assert [t for t, _ in decision_mail(backend, case)] == ["rejected", "professional_rejected"]


def test_a_contradicting_decision_waits_for_the_proposal_to_be_withdrawn(backend, prof, alice, bob):
    case = pending_with_identity(backend, prof, observed=OTHER_BIRTH)
    with backend.uow() as uow:
        decisions.approve(uow, case, alice)
    with pytest.raises(IllegalTransition, match="écartez-la"), backend.uow() as uow:
        decisions.reject(uow, case, bob, reason_code="not_declared_person")
    # A rejection with another reason than the proposal's is also a contradiction.
    with backend.uow() as uow:
        decisions.withdraw_proposal(uow, case, bob)
    assert [d.status for d in decisions_of(backend, case)] == ["withdrawn"]
    assert actions(backend, case)[-1] == "proposal_withdrawn"
    assert queue(backend, bob, quick=frozenset({"second"})) == ([], 0)
    with backend.uow() as uow:
        decisions.withdraw_proposal(uow, case, bob)  # nothing left: no-op
    assert actions(backend, case).count("proposal_withdrawn") == 1

    with backend.uow() as uow:
        assert decisions.reject(uow, case, bob, reason_code="not_declared_person") == lc.REJECTED
    assert [(d.status, d.outcome) for d in decisions_of(backend, case)] == [
        ("withdrawn", "reviewer_approved"),
        ("final", "rejected"),
    ]


def test_a_fraud_proposal_is_not_confirmed_by_an_approval_or_another_reason(
    backend, prof, alice, bob
):
    case = pending(backend, prof)
    with backend.uow() as uow:
        decisions.reject(uow, case, alice, reason_code="suspected_fraud")
    with pytest.raises(IllegalTransition), backend.uow() as uow:
        decisions.approve(uow, case, bob)
    with pytest.raises(IllegalTransition), backend.uow() as uow:
        decisions.reject(uow, case, bob, reason_code="identity_not_established")
    assert enrolment(backend, case).state == lc.PENDING_REVIEW
    with backend.uow() as uow:  # the proposer herself changes her mind
        decisions.withdraw_proposal(uow, case, alice)
    with backend.uow() as uow:
        assert decisions.approve(uow, case, alice) == lc.ACCOUNT_CREATED


def test_empty_four_eyes_setting_disables_the_rule(backend, prof, alice):
    single = with_settings(backend, four_eyes="")
    birth = pending_with_identity(single, prof, observed=OTHER_BIRTH)
    fraud = pending(single, prof, "laura")
    with single.uow() as uow:
        assert decisions.approve(uow, birth, alice) == lc.ACCOUNT_CREATED
    with single.uow() as uow:
        assert decisions.reject(uow, fraud, alice, reason_code="suspected_fraud") == lc.REJECTED
    assert [d.status for d in decisions_of(single, birth) + decisions_of(single, fraud)] == [
        "final",
        "final",
    ]
    with single.uow() as uow:
        assert decisions.four_eyes_rules(uow) == (set(), set())


def test_four_eyes_rules_come_from_the_setting(backend, prof, alice, bob):
    strict = with_settings(
        backend, four_eyes=" approve:last_name = typo , reject:declaration_error ,"
    )
    with strict.uow() as uow:
        assert decisions.four_eyes_rules(uow) == (
            {("last_name", "typo")},
            {"declaration_error"},
        )
    typo = pending(strict, prof)
    with strict.uow() as uow:
        assert decisions.approve(uow, typo, alice) == "awaiting_second"
    with strict.uow() as uow:
        assert decisions.approve(uow, typo, bob) == lc.ACCOUNT_CREATED


# --- optimistic versions ---------------------------------------------------------------------


def test_a_stale_version_is_refused_with_a_french_message(backend, clock, prof, alice, bob):
    case = pending_with_identity(backend, prof, observed=OTHER_BIRTH)
    seen = enrolment(backend, case).version
    clock.advance(minutes=1)
    with backend.uow() as uow:
        decisions.claim(uow, case, bob)  # a colleague changes the case meanwhile
    assert enrolment(backend, case).version > seen
    for decide in (
        lambda uow: decisions.approve(uow, case, alice, expected_version=seen),
        lambda uow: decisions.reject(
            uow, case, alice, reason_code="identity_not_established", expected_version=seen
        ),
        lambda uow: decisions.withdraw_proposal(uow, case, alice, expected_version=seen),
    ):
        with pytest.raises(ConcurrentUpdate) as caught, backend.uow() as uow:
            decide(uow)
        assert caught.value.message == (
            "Ce dossier vient d'être modifié par un(e) collègue. Rechargez-le avant de décider."
        )
    assert enrolment(backend, case).state == lc.PENDING_REVIEW
    assert decisions_of(backend, case) == []

    current = enrolment(backend, case).version
    clock.advance(minutes=1)
    with backend.uow() as uow:
        assert decisions.approve(uow, case, alice, expected_version=current) == "awaiting_second"
    with pytest.raises(ConcurrentUpdate), backend.uow() as uow:  # the proposal bumped it
        decisions.approve(uow, case, bob, expected_version=current)
    with backend.uow() as uow:
        decisions.approve(uow, case, bob, expected_version=enrolment(backend, case).version)
    assert enrolment(backend, case).state == lc.ACCOUNT_CREATED


def test_a_proposal_invalidates_the_version_seen_before_it(backend, prof, alice, bob):
    case = pending_with_identity(backend, prof, observed=OTHER_BIRTH)
    seen = enrolment(backend, case).version  # the clock does not move in this test
    with backend.uow() as uow:
        assert decisions.approve(uow, case, alice, expected_version=seen) == "awaiting_second"
    assert enrolment(backend, case).version > seen
    with pytest.raises(ConcurrentUpdate), backend.uow() as uow:
        decisions.approve(uow, case, bob, expected_version=seen)


def test_opening_and_noting_do_not_invalidate_a_colleagues_version(backend, prof, alice, bob):
    case = pending(backend, prof)
    seen = enrolment(backend, case).version
    with backend.uow() as uow:
        case_file.open_case(uow, case, bob)
    with backend.uow() as uow:
        decisions.add_note(uow, case, bob, "Je regarde aussi")
    with backend.uow() as uow:
        assert decisions.approve(uow, case, alice, expected_version=seen) == lc.ACCOUNT_CREATED


# --- the audit trail -------------------------------------------------------------------------

STAFF_ACTIONS = {
    "case_opened",
    "claimed",
    "assigned",
    "released",
    "note_added",
    "decision_proposed",
    "proposal_withdrawn",
    "approved",
    "rejected",
}


def test_every_staff_action_is_an_event_with_its_actor(backend, prof, alice, bob):
    first = pending_with_identity(backend, prof, observed=OTHER_BIRTH)
    second = pending(backend, prof, "laura")
    steps = [
        (alice, lambda uow: case_file.open_case(uow, first, alice), "case_opened"),
        (alice, lambda uow: decisions.claim(uow, first, alice), "claimed"),
        (alice, lambda uow: decisions.add_note(uow, first, alice, "n"), "note_added"),
        (bob, lambda uow: decisions.assign(uow, first, bob, bob), "assigned"),
        (bob, lambda uow: decisions.release(uow, first, bob), "released"),
        (alice, lambda uow: decisions.approve(uow, first, alice), "decision_proposed"),
        (bob, lambda uow: decisions.withdraw_proposal(uow, first, bob), "proposal_withdrawn"),
        (alice, lambda uow: decisions.approve(uow, first, alice), "decision_proposed"),
        (bob, lambda uow: decisions.approve(uow, first, bob), "approved"),
        (
            bob,
            lambda uow: decisions.reject(uow, second, bob, reason_code="declaration_error"),
            "rejected",
        ),
    ]
    for actor, step, action in steps:
        enrolment_id = second if action == "rejected" else first
        before = len(events(backend, enrolment_id))
        with backend.uow() as uow:
            step(uow)
        new = events(backend, enrolment_id)[before:]
        staff_events = [e for e in new if e.action in STAFF_ACTIONS]
        assert [e.action for e in staff_events] == [action]
        assert (staff_events[0].actor_type, staff_events[0].actor_id) == ("staff", str(actor))
        assert all(e.actor_type in ("staff", "system") for e in new)

    for enrolment_id in (first, second):
        for e in events(backend, enrolment_id):
            if e.action in STAFF_ACTIONS:
                assert e.actor_type == "staff" and e.actor_id in (str(alice), str(bob))
                assert "Schmit" not in json.dumps(e.data or {})


# --- real concurrent sessions on PostgreSQL -----------------------------------------------

needs_pg = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="TEST_DATABASE_URL not set (concurrency is tested on PostgreSQL)",
)


@pytest.fixture
def pg_backend(pg_migrated, clock):
    _truncate_pg(pg_migrated)
    settings = Settings(
        env="test",
        database_url=pg_migrated,
        base_url="http://testserver",
        secret_key="test-secret-key-" + "x" * 32,
    )
    be = Backend(settings, make_engine(pg_migrated, pool_size=8), clock)
    yield be
    be.dispose()


def _waiting_on_locks(backend) -> int:
    with backend.engine.connect() as conn:
        return conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )


def race(backend, case: int, attempts: dict, *, gate: bool) -> dict:
    """Run each attempt (name → fn(uow)) in a thread of its own, each with its own unit of
    work and connection, released together by a barrier. With `gate`, the row is held
    FOR UPDATE by a third session until every thread is blocked on it, then let go: both
    are then provably inside the same critical section at the same moment."""
    barrier = threading.Barrier(len(attempts))
    results: dict = {}

    def run(name, fn):
        barrier.wait(timeout=10)
        try:
            with backend.uow() as uow:
                results[name] = fn(uow)
        except Exception as exc:  # recorded, so that an unexpected kind fails the test
            results[name] = exc

    threads = [threading.Thread(target=run, args=item) for item in attempts.items()]
    holder = backend.engine.connect() if gate else None
    try:
        if holder is not None:
            holder.begin()
            holder.execute(
                text("SELECT id FROM enrolments WHERE id = :id FOR UPDATE"), {"id": case}
            )
        for t in threads:
            t.start()
        if holder is not None:
            deadline = time.monotonic() + 10
            while _waiting_on_locks(backend) < len(attempts):
                assert time.monotonic() < deadline, "the deciders never waited for the row lock"
                time.sleep(0.01)
    finally:
        if holder is not None:
            holder.rollback()
            holder.close()
    for t in threads:
        t.join(20)
        assert not t.is_alive()
    return results


def _final_state(backend, case):
    with backend.uow() as uow:
        finals = uow.session.scalars(
            select(Decision).where(Decision.enrolment_id == case, Decision.status == "final")
        ).all()
        changes = uow.session.scalars(
            select(Event).where(
                Event.enrolment_id == case,
                Event.state_before == lc.PENDING_REVIEW,
                Event.state_after != lc.PENDING_REVIEW,
            )
        ).all()
        accounts = uow.session.scalars(select(SecretaryAccount.id)).all()
    return finals, changes, accounts


LOSER_MESSAGES = ("Ce dossier a déjà été traité", "Ce dossier vient d'être modifié")


@needs_pg
@pytest.mark.postgres
@pytest.mark.parametrize("gate", [True, False], ids=["lock-gated", "barrier-only"])
def test_approve_and_reject_at_the_same_moment_one_wins(pg_backend, gate):
    be = pg_backend
    prof = f.professional(be)
    alice, bob = f.reviewer(be, "alice@esante.lu"), f.reviewer(be, "bob@esante.lu")
    winners = []
    for round_ in range(10):
        with be.uow() as uow:
            uow.session.execute(text("TRUNCATE account_links, secretary_accounts CASCADE"))
            uow.commit()
        case = pending(be, prof, "marie" if round_ % 2 else "laura")
        version = enrolment(be, case).version
        results = race(
            be,
            case,
            {
                "approve": lambda uow, c=case, v=version: decisions.approve(
                    uow, c, alice, expected_version=v
                ),
                "reject": lambda uow, c=case, v=version: decisions.reject(
                    uow, c, bob, reason_code="identity_not_established", expected_version=v
                ),
            },
            gate=gate,
        )
        ok = {k: v for k, v in results.items() if not isinstance(v, Exception)}
        lost = {k: v for k, v in results.items() if isinstance(v, Exception)}
        assert len(ok) == 1 and len(lost) == 1, results
        [(winner, outcome)] = ok.items()
        [error] = lost.values()
        winners.append(winner)
        assert outcome == {"approve": lc.ACCOUNT_CREATED, "reject": lc.REJECTED}[winner]
        assert isinstance(error, (IllegalTransition, ConcurrentUpdate)), error
        assert error.message.startswith(LOSER_MESSAGES), error.message

        finals, changes, accounts = _final_state(be, case)
        assert len(finals) == 1 and len(changes) == 1
        assert enrolment(be, case).state == outcome == changes[0].state_after
        assert len(accounts) == (1 if winner == "approve" else 0)
        f.provision(be)  # the account's emails wait for the directory's confirmation
        mails = [t for t, _ in decision_mail(be, case)]
        assert mails == (
            ["approved", "professional_account_created"]
            if winner == "approve"
            else ["rejected", "professional_rejected"]
        )
        # The case went back through the queue for the next round.
        with be.uow() as uow:
            assert review.queue_page(uow, QueueQuery(), alice)[1] == 0


@needs_pg
@pytest.mark.postgres
def test_two_reviewers_approving_at_once_create_one_account(pg_backend):
    be = pg_backend
    prof = f.professional(be)
    alice, bob = f.reviewer(be, "alice@esante.lu"), f.reviewer(be, "bob@esante.lu")
    for key in ("marie", "laura", "sophie", "paula", "anne"):
        case = pending(be, prof, key)
        version = enrolment(be, case).version
        results = race(
            be,
            case,
            {
                who: lambda uow, c=case, v=version, r=rid: decisions.approve(
                    uow, c, r, expected_version=v
                )
                for who, rid in (("alice", alice), ("bob", bob))
            },
            gate=True,
        )
        outcomes = sorted(
            str(v) if not isinstance(v, Exception) else "error" for v in results.values()
        )
        assert outcomes == [lc.ACCOUNT_CREATED, "error"], results
        [error] = [v for v in results.values() if isinstance(v, Exception)]
        assert isinstance(error, IllegalTransition)
        assert error.message == "Ce dossier a déjà été traité (Compte créé)."
        finals, changes, _ = _final_state(be, case)
        assert len(finals) == 1 and len(changes) == 1
    with be.uow() as uow:
        assert len(uow.session.scalars(select(SecretaryAccount.id)).all()) == 5


@needs_pg
@pytest.mark.postgres
def test_two_reviewers_approving_a_four_eyes_case_at_once_make_one_proposal(pg_backend, clock):
    be = pg_backend
    prof = f.professional(be)
    alice, bob = f.reviewer(be, "alice@esante.lu"), f.reviewer(be, "bob@esante.lu")
    case = pending_with_identity(be, prof, observed=OTHER_BIRTH)
    version = enrolment(be, case).version
    clock.advance(seconds=30)  # real time passes between the confirmation and the decisions
    results = race(
        be,
        case,
        {
            "alice": lambda uow: decisions.approve(uow, case, alice, expected_version=version),
            "bob": lambda uow: decisions.approve(uow, case, bob, expected_version=version),
        },
        gate=True,
    )
    assert [v for v in results.values() if v == "awaiting_second"] == ["awaiting_second"]
    [error] = [v for v in results.values() if isinstance(v, Exception)]
    # The loser must not silently confirm a proposal she never saw.
    assert isinstance(error, ConcurrentUpdate)
    assert [d.status for d in decisions_of(be, case)] == ["awaiting_second"]
    assert enrolment(be, case).state == lc.PENDING_REVIEW


# --- the same race on SQLite (no FOR UPDATE there) --------------------------------------------


def _colleague_decides_first(backend, case: int, colleague: int):
    """Run the colleague's whole rejection, committed, just before the first UPDATE of the
    enrolment by the unit of work under test: she read the case before, writes after."""
    fired = []

    def hook(conn, cursor, statement, parameters, context, executemany):
        if not fired and statement.lstrip().upper().startswith("UPDATE ENROLMENTS"):
            fired.append(statement)
            with backend.uow() as uow:
                decisions.reject(uow, case, colleague, reason_code="identity_not_established")

    event.listen(backend.engine, "before_cursor_execute", hook)
    return lambda: event.remove(backend.engine, "before_cursor_execute", hook)


def test_on_sqlite_the_loser_of_a_race_gets_a_french_message(sqlite_backend, clock):
    be = sqlite_backend
    prof = f.professional(be)
    alice, bob = f.reviewer(be, "alice@esante.lu"), f.reviewer(be, "bob@esante.lu")
    case = pending(be, prof)
    clock.advance(minutes=1)

    undo = _colleague_decides_first(be, case, alice)
    try:
        with pytest.raises((ConcurrentUpdate, IllegalTransition)), be.uow() as uow:
            decisions.approve(uow, case, bob)
    finally:
        undo()
    assert enrolment(be, case).state == lc.REJECTED

    # Through the callback the reviewer must read a message, not meet a server error.
    second = pending(be, prof, "laura")
    clock.advance(minutes=1)
    app = create_app(be.settings, backend=be)
    undo = _colleague_decides_first(be, second, alice)
    try:
        response = act(
            client_for(app, bob), "case-approve-confirm", second, enrolment(be, second).version
        )
    finally:
        undo()
    assert response.status_code == 200
    assert dc.values(response)[("case-message", "color")] == "danger"


# --- through the Dash callbacks -----------------------------------------------------------------


@pytest.fixture
def app(backend):
    return create_app(backend.settings, backend=backend)


def client_for(app, staff_id: int | None):
    client = app.server.test_client()
    if staff_id is not None:
        f.signed_in(client, "staff", staff_id)
    return client


def get_rows(client, request=None, quick=(), search=""):
    request = request or {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}
    return dc.call(
        client,
        [("queue-grid", "getRowsResponse")],
        [("queue-grid", "getRowsRequest", request)],
        [("queue-quick", "value", list(quick)), ("queue-search", "value", search)],
    )


ACTION_INPUTS = [
    ("case-claim", "n_clicks"),
    ("case-release", "n_clicks"),
    ("case-assign", "n_clicks"),
    ("case-confirm-yes", "n_clicks"),
    ("case-withdraw", "n_clicks"),
]
CASE_OUTPUTS = [
    ("case-body", "children"),
    ("case-message", "children"),
    ("case-message", "color"),
    ("case-nav", "href"),
    ("case-confirm", "is_open"),
]
# A decision is the confirmation's button, for the decision the confirmation was opened for.
CONFIRMED = {"case-approve-confirm": "approve", "case-reject": "reject"}


def act(client, trigger: str, case_id, version, assignee=None, note=None, reason=None, view=None):
    if trigger == "case-add-note":  # its own callback: notes also go on decided cases
        return dc.call_by_input(
            client,
            "case-add-note",
            [("case-add-note", "n_clicks", 1)],
            [("case-id", "data", str(case_id)), ("case-note", "value", note)],
        )
    confirming = {"decision": CONFIRMED[trigger]} if trigger in CONFIRMED else None
    trigger = "case-confirm-yes" if trigger in CONFIRMED else trigger
    prop = dict(ACTION_INPUTS)[trigger]
    return dc.call(
        client,
        CASE_OUTPUTS,
        [(i, p, 1 if i == trigger else None) for i, p in ACTION_INPUTS],
        [
            ("case-id", "data", str(case_id)),
            ("case-version", "data", version),
            ("case-assignee", "value", assignee),
            ("case-reason", "value", reason),
            ("case-reject-note", "value", note),
            ("case-confirming", "data", confirming),
            ("case-view", "data", view),
        ],
        triggered=f"{trigger}.{prop}",
    )


PERSONAL = ("marie.schmit@example.lu", f.MARIE["matricule"], "1985 0412", "Schmit")


def test_queue_rows_callback_for_a_reviewer(backend, clock, app, prof, alice):
    first = pending(backend, prof, "marie")
    clock.advance(hours=1)
    pending(backend, prof, "laura", last_name="Weber-[Bis]")
    client = client_for(app, alice)

    response = get_rows(
        client,
        {
            "startRow": 0,
            "endRow": 1,
            "sortModel": [{"colId": "waiting_days", "sort": "desc"}],
            "filterModel": {},
        },
    )
    assert response.status_code == 200
    grid = dc.values(response)[("queue-grid", "getRowsResponse")]
    assert grid["rowCount"] == 2
    [row] = grid["rowData"]
    assert row["id"] == first
    # The link keeps the queue view the case was opened from.
    assert row["secretary"] == (
        f"[Marie Schmit](/backoffice/dossier/{first}?from=queue&sort=waiting_days.desc)"
    )
    assert row["summary"] == "nom : faute de frappe"
    assert row["assignee"] == "— non attribué —"
    assert row["due_title"] == "Échéance : 4 mars 2026, 10:00" and row["overdue"] is False
    body = response.get_data(as_text=True)
    assert "marie.schmit@example.lu" not in body and f.MARIE["matricule"] not in body

    grid = dc.values(get_rows(client, search="weber"))[("queue-grid", "getRowsResponse")]
    assert grid["rowCount"] == 1
    # Markdown characters in a name are escaped in the link text.
    assert grid["rowData"][0]["secretary"].startswith(r"[Laura Weber\-\[Bis\]](")

    filtered = {
        "startRow": 0,
        "endRow": 100,
        "sortModel": [],
        "filterModel": {"professional": {"filterType": "text", "type": "contains", "filter": "x"}},
    }
    assert dc.values(get_rows(client, filtered))[("queue-grid", "getRowsResponse")] == {
        "rowData": [],
        "rowCount": 0,
    }
    mine = dc.values(get_rows(client, quick=["mine", "bogus"]))
    assert mine[("queue-grid", "getRowsResponse")]["rowCount"] == 0

    clock.advance(days=3)  # Thursday: the first case is past its 2 working days
    client = client_for(app, alice)  # (a new login: sessions last 12 hours)
    grid = dc.values(get_rows(client))[("queue-grid", "getRowsResponse")]
    late = next(r for r in grid["rowData"] if r["id"] == first)
    assert late["overdue"] is True
    assert late["due_title"] == "Échéance dépassée : 4 mars 2026, 10:00"


def test_a_queue_page_is_kept_until_the_next_event_or_minute(backend, clock, app, prof, alice, bob):
    first = pending(backend, prof, "marie")
    pending(backend, prof, "laura")
    reads = []

    def count_reads(conn, cursor, statement, *args):
        if "FROM enrolments" in statement:
            reads.append(statement)

    event.listen(backend.engine, "before_cursor_execute", count_reads)
    try:
        client = client_for(app, alice)

        def grid(who=client, **kw):
            return dc.values(get_rows(who, **kw))[("queue-grid", "getRowsResponse")]

        before = grid()
        assert before["rowCount"] == 2 and len(reads) > 0
        reads.clear()
        assert grid() == before and reads == []  # nothing changed: not read again

        with backend.uow() as uow:  # a colleague's claim is an event: the page is read anew
            decisions.claim(uow, first, bob)
        after = grid()
        assert reads
        assert next(r for r in after["rowData"] if r["id"] == first)["assignee"] != (
            "— non attribué —"
        )
        # "Mine" depends on who asks, within the same version and minute.
        assert grid(quick=["mine"])["rowCount"] == 0
        assert grid(client_for(app, bob), quick=["mine"])["rowCount"] == 1

        reads.clear()
        grid()
        assert reads == []
        clock.advance(minutes=1)  # waiting times move with the clock
        grid()
        assert reads

        german = client_for(app, alice)
        german.set_cookie("esante_lang", "de")
        row = grid(german)["rowData"][0]
        assert row["summary"] != before["rowData"][0]["summary"]  # not the French page
    finally:
        event.remove(backend.engine, "before_cursor_execute", count_reads)


@pytest.mark.parametrize("who", ["manager", "anonymous"])
def test_a_kept_queue_page_is_still_refused_to_others(backend, app, prof, alice, manager, who):
    pending(backend, prof)
    assert get_rows(client_for(app, alice)).status_code == 200  # the page is now kept
    response = get_rows(client_for(app, manager if who == "manager" else None))
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    for value in PERSONAL:
        assert value not in body


@pytest.mark.parametrize("who", ["manager", "anonymous"])
def test_queue_rows_callback_refuses_others(backend, app, prof, manager, who):
    pending(backend, prof)
    client = client_for(app, manager if who == "manager" else None)
    response = get_rows(client)
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    for value in PERSONAL:
        assert value not in body


def test_act_on_case_claim_then_approve(backend, app, prof, alice):
    case = pending(backend, prof)
    client = client_for(app, alice)
    version = enrolment(backend, case).version

    response = act(client, "case-claim", case, version)
    assert response.status_code == 200
    out = dc.values(response)
    assert out[("case-message", "children")] == "Vous avez pris ce dossier en charge."
    assert out[("case-message", "color")] == "success"
    assert enrolment(backend, case).assignee_id == alice
    body = json.dumps(out[("case-body", "children")], ensure_ascii=False)
    new_version = enrolment(backend, case).version
    assert new_version > version
    assert f'"data": {new_version}' in body  # the re-rendered case-version store
    assert '"id": "case-approve"' in body

    # The stale version from before the claim is refused with the French message.
    out = dc.values(act(client, "case-approve-confirm", case, version))
    assert out[("case-message", "color")] == "danger"
    assert "Rechargez-le" in out[("case-message", "children")]
    assert enrolment(backend, case).state == lc.PENDING_REVIEW

    out = dc.values(act(client, "case-approve-confirm", case, new_version))
    assert out[("case-message", "color")] == "success"
    assert out[("case-message", "children")].startswith("Identité approuvée")
    assert enrolment(backend, case).state == lc.ACCOUNT_CREATED
    body = json.dumps(out[("case-body", "children")], ensure_ascii=False)
    assert '"case-decided"' in body and '"case-approve"' not in body
    assert "Compte créé" in body


def test_act_on_case_reject_without_reason_says_so(backend, app, prof, alice):
    case = pending(backend, prof)
    client = client_for(app, alice)
    out = dc.values(act(client, "case-reject", case, enrolment(backend, case).version))
    assert out[("case-message", "children")] == "Choisissez un motif de refus."
    assert out[("case-message", "color")] == "danger"
    # The case is not redrawn: the note and the other fields keep what the reviewer typed.
    assert ("case-body", "children") not in out
    # A refusal says why (issue 22): the reason alone, or its starting text unchanged, is not
    # enough; nothing is decided and the page keeps what she typed.
    for note in (None, codes.reason_note_template("declaration_error")):
        out = dc.values(
            act(
                client,
                "case-reject",
                case,
                enrolment(backend, case).version,
                reason="declaration_error",
                note=note,
            )
        )
        assert out[("case-message", "children")].startswith("Expliquez ce refus dans la note")
        assert ("case-body", "children") not in out
        assert enrolment(backend, case).state == lc.PENDING_REVIEW
    out = dc.values(
        act(
            client,
            "case-reject",
            case,
            enrolment(backend, case).version,
            reason="declaration_error",
            note="Nom de naissance saisi à la place du nom d'usage",
        )
    )
    assert out[("case-message", "color")] == "success"
    assert enrolment(backend, case).state == lc.REJECTED


def test_act_on_case_after_a_colleague_decided_says_already_handled(backend, app, prof, alice, bob):
    case = pending(backend, prof)
    seen = enrolment(backend, case).version
    with backend.uow() as uow:
        decisions.approve(uow, case, bob)
    out = dc.values(
        act(client_for(app, alice), "case-reject", case, seen, reason="not_declared_person")
    )
    assert out[("case-message", "color")] == "danger"
    assert out[("case-message", "children")] == "Ce dossier a déjà été traité (Compte créé)."
    # The case changed under her: it is redrawn as it now is (decided, no decision buttons).
    body = json.dumps(out[("case-body", "children")], ensure_ascii=False)
    assert '"case-decided"' in body and '"case-reject"' not in body
    assert enrolment(backend, case).state == lc.ACCOUNT_CREATED


@pytest.mark.parametrize("who", ["manager", "anonymous"])
@pytest.mark.parametrize("trigger", ["case-claim", "case-approve-confirm", "case-add-note"])
def test_act_on_case_refuses_others_and_changes_nothing(backend, app, prof, manager, who, trigger):
    case = pending(backend, prof)
    before = (enrolment(backend, case).version, len(events(backend, case)))
    client = client_for(app, manager if who == "manager" else None)
    response = act(
        client, trigger, case, before[0], note="x", reason="declaration_error", assignee=None
    )
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    for value in PERSONAL:
        assert value not in body
    e = enrolment(backend, case)
    assert (e.version, len(events(backend, case))) == before
    assert (e.state, e.assignee_id) == (lc.PENDING_REVIEW, None)
    confirm = dc.call_by_input(
        client,
        "case-approve",
        [
            ("case-approve", "n_clicks", 1),
            ("case-reject", "n_clicks", None),
            ("case-confirm-no", "n_clicks", None),
        ],
        [
            ("case-facts", "data", {}),
            ("case-reason", "value", None),
            ("case-reject-note", "value", None),
        ],
    )
    assert confirm.status_code == 403


def test_the_case_page_layout_is_for_reviewers_only(backend, app, prof, alice, manager):
    case = pending(backend, prof)
    opened_before = actions(backend, case).count("case_opened")
    page = json.dumps(
        dc.render_page(client_for(app, alice), f"/backoffice/dossier/{case}").get_json(),
        ensure_ascii=False,
    )
    assert '"diff-last_name"' in page and "marie.schmit@example.lu" in page
    assert actions(backend, case).count("case_opened") == opened_before + 1
    for staff_id in (manager, None):
        page = json.dumps(
            dc.render_page(client_for(app, staff_id), f"/backoffice/dossier/{case}").get_json(),
            ensure_ascii=False,
        )
        assert '"access-denied"' in page
        for value in PERSONAL:
            assert value not in page
    assert actions(backend, case).count("case_opened") == opened_before + 1


def test_an_opening_is_recorded_with_the_file_it_showed_or_not_at_all(
    backend, prof, alice, monkeypatch
):
    case = pending(backend, prof)
    with backend.uow() as uow:
        view = case_file.open_case(uow, case, alice)
    # The opening and the file are one transaction: the file shown includes this opening.
    assert [t.action for t in view.timeline].count("Dossier consulté") == 1
    assert actions(backend, case).count("case_opened") == 1

    def broken(*_args):
        raise RuntimeError("the file could not be read")

    monkeypatch.setattr(case_file, "_case_view", broken)
    with pytest.raises(RuntimeError), backend.uow() as uow:
        case_file.open_case(uow, case, alice)
    # Nothing was shown, so no opening is recorded.
    assert actions(backend, case).count("case_opened") == 1


# --- a queue that reads at a glance (issue 22) ----------------------------------------------------


def test_each_quick_filter_says_how_many_cases_it_shows(backend, clock, app, prof, alice, bob):
    cases = [pending(backend, prof, key) for key in ("marie", "laura", "sophie", "paula")]
    with backend.uow() as uow:
        decisions.claim(uow, cases[0], alice)
    with backend.uow() as uow:
        decisions.claim(uow, cases[1], bob)
    clock.advance(days=7)  # every case is past its working days now
    fresh = pending(backend, prof, "anne")  # … but this one
    with backend.uow() as uow:
        counts = review.quick_counts(uow, alice)
        # The same counts as the queue itself gives for each filter alone.
        for quick, n in counts.items():
            _rows, total = review.queue_page(uow, QueueQuery(quick=frozenset({quick})), alice)
            assert total == n, quick
    assert counts == {"mine": 1, "unassigned": 3, "overdue": 4, "second": 0}
    assert fresh not in cases
    client = client_for(app, alice)
    options = dc.values(
        dc.call(
            client,
            [("queue-quick", "options")],
            [("queue-grid", "getRowsRequest", None)],
        )
    )[("queue-quick", "options")]
    assert [o["label"] for o in options] == [
        "Mes dossiers (1)",
        "Non attribués (3)",
        "En retard (4)",
        "En attente de seconde validation (0)",
    ]
    assert [o["value"] for o in options] == list(review.QUICK_FILTERS)
    # Not for a manager.
    with pytest.raises(Forbidden), backend.uow() as uow:
        review.quick_counts(uow, f.reviewer(backend, "m@esante.lu", roles=("manager",)))


def test_rows_show_the_waiting_time_with_its_unit_and_the_differences_as_badges(
    backend, clock, app, prof, alice
):
    case = pending(backend, prof)
    clock.advance(days=1, hours=12)  # Monday 9:00 → Tuesday 21:00: 1.5 working days
    [row] = dc.values(get_rows(client_for(app, alice)))[("queue-grid", "getRowsResponse")][
        "rowData"
    ]
    assert row["id"] == case
    assert row["waiting_days"] == "1,5 j"
    assert row["differences"] == [
        {
            "text": "Nom",
            "detail": " : faute de frappe",
            "title": "nom : faute de frappe",
            "tone": "warning",
        }
    ]
    assert row["due_title"] == "Échéance : 4 mars 2026, 10:00"
    clock.advance(days=2)
    client = client_for(app, alice)
    [late] = dc.values(get_rows(client))[("queue-grid", "getRowsResponse")]["rowData"]
    assert late["waiting_days"] == "**⚠ 3,5 j** en retard"  # Thursday 21:00
    assert late["due_title"] == "Échéance dépassée : 4 mars 2026, 10:00"
    client.set_cookie("esante_lang", "en")
    [english] = dc.values(get_rows(client))[("queue-grid", "getRowsResponse")]["rowData"]
    assert english["differences"][0]["text"] == "Last name"


def test_names_sort_as_the_queue_shows_them(backend, app, alice):
    one = f.professional(backend, 1, first_names="Yves", last_name="Arend")
    two = f.professional(backend, 2, first_names="Anne", last_name="Zenner")
    for prof, key, first in (
        (one, "marie", "Marie-Paule"),
        (two, "laura", "élodie"),
        (one, "sophie", "Anne"),
    ):
        pending(backend, prof, key, first_names=first)
    client = client_for(app, alice)

    def column(col_id: str, field: str, direction: str = "asc") -> list[str]:
        request = {
            "startRow": 0,
            "endRow": 100,
            "filterModel": {},
            "sortModel": [{"colId": col_id, "sort": direction}],
        }
        rows = dc.values(get_rows(client, request))[("queue-grid", "getRowsResponse")]["rowData"]
        return [r[field].split("](")[0].lstrip("[").replace("\\", "") for r in rows]

    # By first names then last name, accents and case aside ("élodie" between A and M).
    assert column("secretary", "secretary") == ["Anne Muller", "élodie Weber", "Marie-Paule Schmit"]
    assert column("secretary", "secretary", "desc") == [
        "Marie-Paule Schmit",
        "élodie Weber",
        "Anne Muller",
    ]
    assert column("professional", "professional") == [
        "Dr Anne Zenner",
        "Dr Yves Arend",
        "Dr Yves Arend",
    ]
