"""Reminders to the secretary who has not finished, and the professional told when her
invitation expires: clock-driven, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from dashboard.enrolment import declarations, housekeeping, kernel, mail, metrics, secretary
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.errors import InvalidLink
from dashboard.enrolment.model import Enrolment, Event, OutboxEmail, Professional
from tests import factories as f

DAY = dt.timedelta(days=1)


def remind(backend) -> int:
    with backend.uow() as uow:
        return housekeeping.send_reminders(uow)


def reminders(backend) -> list[OutboxEmail]:
    with backend.uow() as uow:
        return uow.session.scalars(
            select(OutboxEmail).where(OutboxEmail.template == "reminder").order_by(OutboxEmail.id)
        ).all()


def enrolment(backend, enrolment_id: int) -> Enrolment:
    with backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id)


def token_of(backend, row: OutboxEmail) -> str:
    link = mail.unseal(backend.settings.secret_key, row.context["sealed_link"])
    return link.rsplit("/", 1)[-1]


def opens(backend, token: str) -> bool:
    with backend.uow() as uow:
        try:
            secretary.check_invitation(uow, token)
        except InvalidLink:
            return False
        return True


@pytest.fixture
def declared(backend, clock):
    prof = f.professional(backend)
    d = f.declare(backend, prof)
    return prof, d


def test_the_first_reminder_goes_exactly_seven_days_after_the_declaration(backend, clock, declared):
    prof, d = declared
    before = enrolment(backend, d.enrolment_id)
    clock.advance(days=7, seconds=-1)
    assert remind(backend) == 0
    clock.advance(seconds=1)
    assert remind(backend) == 1
    assert remind(backend) == 0  # never twice
    clock.advance(days=10)  # day 17: nothing between the two days
    assert remind(backend) == 0

    [row] = reminders(backend)
    after = enrolment(backend, d.enrolment_id)
    assert row.recipient == f.MARIE["email"] and row.enrolment_id == d.enrolment_id
    # A fresh link: the old one dies, the new one works; the expiry did not move.
    new = token_of(backend, row)
    assert new != d.token
    assert not opens(backend, d.token)
    assert opens(backend, new)
    assert after.expires_at == before.expires_at
    assert after.token_hash == kernel.hash_token(new)  # only the hash is stored
    assert after.reminders_sent == 1
    with backend.uow() as uow:
        event = uow.session.scalars(select(Event).where(Event.action == "reminder_sent")).one()
    assert event.data == {"stage": "after_declaration"} and event.actor_type == "system"
    rendered = mail.render(row, backend.settings)
    assert new in rendered.text and new in rendered.html
    assert "Rappel" in rendered.subject

    # Not counted against the professional's resends: all three are still his.
    with backend.uow() as uow:
        for _ in range(backend.settings.resends_per_day):
            declarations.resend_invitation(uow, d.enrolment_id, prof)


def test_the_second_reminder_goes_three_days_before_expiry_and_no_third(backend, clock, declared):
    _prof, d = declared
    expires_at = enrolment(backend, d.enrolment_id).expires_at
    clock.advance(days=7)
    assert remind(backend) == 1
    clock.now = expires_at - 3 * DAY - dt.timedelta(seconds=1)
    assert remind(backend) == 0
    clock.advance(seconds=1)
    assert remind(backend) == 1
    clock.advance(days=1)
    assert remind(backend) == 0
    first, second = reminders(backend)
    assert not opens(backend, token_of(backend, first))
    assert opens(backend, token_of(backend, second))
    e = enrolment(backend, d.enrolment_id)
    assert e.reminders_sent == 2 and e.expires_at == expires_at
    clock.now = expires_at  # the link is dead: no reminder, ever
    assert remind(backend) == 0
    assert len(reminders(backend)) == 2


def test_a_worker_that_missed_the_first_day_sends_one_reminder_not_two(backend, clock, declared):
    _prof, d = declared
    expires_at = enrolment(backend, d.enrolment_id).expires_at
    clock.now = expires_at - 2 * DAY  # both days passed: only the later one is sent
    assert remind(backend) == 1
    assert remind(backend) == 0
    assert enrolment(backend, d.enrolment_id).reminders_sent == 2
    assert len(reminders(backend)) == 1


@pytest.mark.parametrize("state", [lc.CGU_ACCEPTED, lc.MATRICULE_VERIFIED, lc.IDENTITY_MISMATCH])
def test_a_secretary_half_way_is_reminded(backend, clock, state):
    prof = f.professional(backend)
    enrolment_id, _th = f.walk_to(backend, prof, state)
    clock.advance(days=7)
    assert remind(backend) == 1
    assert reminders(backend)[0].enrolment_id == enrolment_id


@pytest.mark.parametrize("state", [lc.ACCOUNT_CREATED, lc.PENDING_REVIEW])
def test_no_reminder_once_she_finished(backend, clock, state):
    prof = f.professional(backend)
    f.walk_to(backend, prof, state)
    for days in (7, 20):  # day 7, day 27
        clock.advance(days=days)
        assert remind(backend) == 0
    assert reminders(backend) == []


def test_no_reminder_once_the_link_died(backend, clock):
    prof = f.professional(backend)
    cancelled = f.declare(backend, prof, email="a@example.lu")
    superseded = f.declare(backend, prof, email="b@example.lu", matricule=f.wrong_matricule(1))
    locked, th = f.walk_to(backend, prof, lc.CGU_ACCEPTED, matricule=f.wrong_matricule(2))
    with backend.uow() as uow:
        declarations.cancel(
            uow, cancelled.enrolment_id, kernel.Actor("professional", str(prof)), prof
        )
    with backend.uow() as uow:
        # A corrected declaration supersedes the first one (a new one, reminded on its own).
        declarations.redeclare(
            uow,
            superseded.enrolment_id,
            prof,
            last_name="Schmit",
            first_names="Marie",
            matricule=f.wrong_matricule(1),
            email="b2@example.lu",
        )
    for n in range(3, 3 + backend.settings.max_matricule_attempts):
        with backend.uow() as uow:
            secretary.verify_matricule(uow, th, f.wrong_matricule(n, "19700101"))
    assert enrolment(backend, locked).state == lc.LOCKED
    expired = f.declare(backend, prof, email="c@example.lu", matricule=f.wrong_matricule(9))
    clock.advance(days=31)
    with backend.uow() as uow:
        housekeeping.expire_stale(uow)  # "expired" and the superseding one too (day 31)
    assert enrolment(backend, expired.enrolment_id).state == lc.EXPIRED
    assert remind(backend) == 0
    assert reminders(backend) == []


def test_the_reminder_is_in_the_language_of_the_invitation(backend, clock):
    prof = f.professional(backend)
    with backend.uow() as uow:
        declarations.declare(uow, prof, **f.MARIE, language="de")
    clock.advance(days=7)
    remind(backend)
    [row] = reminders(backend)
    assert row.language == "de"
    assert mail.render(row, backend.settings).subject.startswith("Erinnerung")


# --- the professional told when the invitation expires -------------------------------------


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", "Mes déclarations"), ("de", "Meine Meldungen"), ("en", "My declarations")],
)
def test_the_professional_is_told_in_his_language_when_it_expires(
    backend, clock, declared, language, words
):
    prof, d = declared
    with backend.uow() as uow:
        uow.session.get(Professional, prof).language = language
        uow.commit()
    clock.advance(days=30)
    with backend.uow() as uow:
        assert housekeeping.expire_stale(uow) == 1
    with backend.uow() as uow:
        [row] = uow.session.scalars(
            select(OutboxEmail).where(OutboxEmail.template == "professional_expired")
        ).all()
    assert row.recipient == "dr1@cabinet.lu" and row.language == language
    rendered = mail.render(row, backend.settings)
    assert words in rendered.text and words in rendered.html
    assert "http://testserver/professionnel" in rendered.text
    assert "Marie Schmit" in rendered.text


def test_expired_unused_is_resent_in_one_click_from_his_list(backend, clock, declared):
    prof, d = declared
    clock.advance(days=30)
    with backend.uow() as uow:
        [row] = declarations.list_declarations(uow, prof)
    # Expired for him at once, before the expiry job ran: one click sends a new invitation.
    assert row.state == lc.EXPIRED and row.can_declare_again and not row.can_resend
    with backend.uow() as uow:
        token = declarations.send_new_invitation(uow, d.enrolment_id, prof)
    assert opens(backend, token)
    with backend.uow() as uow:
        rows = declarations.list_declarations(uow, prof)
        assert [r.state for r in rows] == [lc.DECLARED, lc.CANCELLED]
        assert not rows[1].can_declare_again  # corrected: one new declaration only
        assert uow.session.get(Enrolment, d.enrolment_id).superseded_by_id == rows[0].enrolment_id


# --- the metrics -------------------------------------------------------------------------------


def test_metrics_count_reminders_and_completions_after_them(backend, clock):
    prof = f.professional(backend)
    done, _th = f.walk_to(backend, prof, lc.CGU_ACCEPTED)
    f.declare(backend, prof, email="x@example.lu", matricule=f.wrong_matricule(1))
    f.walk_to(
        backend, prof, lc.ACCOUNT_CREATED, email="y@example.lu", matricule=f.wrong_matricule(2)
    )
    clock.advance(days=7)
    assert remind(backend) == 2  # not the one whose account exists
    [first] = [r for r in reminders(backend) if r.enrolment_id == done]
    token = token_of(backend, first)
    th = kernel.hash_token(token)
    with backend.uow() as uow:  # she finishes with the reminder's link
        secretary.verify_matricule(uow, th, f.MARIE["matricule"])
    with backend.uow() as uow:
        secretary.record_luxtrust_identity(uow, th, f.identity_of(), device="mobile")
    clock.advance(days=20)
    assert remind(backend) == 1  # the other one, before expiry
    expected = {
        "reminders_sent": 3,
        "reminded": 2,
        "completed_after_reminder": 1,
        "completed_after_reminder_rate": 0.5,
    }
    with backend.uow() as uow:
        assert metrics.compute_from_rows(uow).reminders == expected
    with backend.uow() as uow:
        assert metrics.compute(uow).reminders == expected


# --- the index -------------------------------------------------------------------------------


def test_the_reminder_pass_reads_its_partial_indexes(backend, database_url):
    """Both queries of the pass can be served by their partial index (PostgreSQL's plan;
    SQLite's query plan names the index too)."""
    from dashboard.enrolment.housekeeping import AFTER_DECLARATION, BEFORE_EXPIRY, _due_reminders

    statements = []
    for stage in (AFTER_DECLARATION, BEFORE_EXPIRY):
        with backend.uow() as uow:
            from sqlalchemy import event

            def capture(conn, cursor, statement, parameters, context, executemany):
                statements.append((statement, parameters))

            event.listen(backend.engine, "before_cursor_execute", capture)
            try:
                _due_reminders(uow, stage, 10)
            finally:
                event.remove(backend.engine, "before_cursor_execute", capture)
    plans = []
    with backend.engine.connect() as conn:
        for statement, parameters in statements:
            if "FROM enrolments" not in statement:
                continue
            if backend.engine.dialect.name == "postgresql":
                conn.execute(text("SET enable_seqscan = off"))
                cursor = conn.connection.cursor()
                cursor.execute("EXPLAIN " + statement, parameters)
                plans.append("\n".join(r[0] for r in cursor.fetchall()))
            else:
                cursor = conn.connection.cursor()
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plans.append("\n".join(str(r[-1]) for r in cursor.fetchall()))
    assert len(plans) == 2
    assert "ix_enrolments_reminder_first" in plans[0], plans[0]
    assert "ix_enrolments_reminder_last" in plans[1], plans[1]


def test_reminders_sent_is_zero_for_a_new_declaration(backend, declared):
    with backend.uow() as uow:
        assert uow.session.scalar(select(func.max(Enrolment.reminders_sent))) == 0


def test_the_written_out_live_states_are_the_lifecycles():
    """model.REMINDABLE_SQL (the partial indexes' and the pass's condition) names exactly the
    states whose link is live: a state added to the lifecycle must be added there too."""
    import re

    from dashboard.enrolment.model import REMINDABLE_SQL

    assert set(re.findall(r"'(\w+)'", REMINDABLE_SQL)) == set(lc.OPEN_FOR_SECRETARY)
