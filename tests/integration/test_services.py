"""The enrolment service on a real database (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from dashboard.enrolment import decisions, declarations, housekeeping, kernel, matricule, secretary
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.errors import (
    DuplicateDeclaration,
    IllegalTransition,
    InvalidLink,
    LimitReached,
    NotFound,
    ValidationFailed,
)
from dashboard.enrolment.model import (
    AccountLink,
    Enrolment,
    Event,
    OutboxEmail,
    SecretaryAccount,
)
from tests import factories as f


def _enrolment(backend, enrolment_id) -> Enrolment:
    with backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id)


def _events(backend, enrolment_id) -> list[tuple[str, str, str]]:
    with backend.uow() as uow:
        rows = uow.session.scalars(
            select(Event).where(Event.enrolment_id == enrolment_id).order_by(Event.id)
        ).all()
        return [(e.action, e.state_before, e.state_after) for e in rows]


def _mail(backend, template=None) -> list[OutboxEmail]:
    with backend.uow() as uow:
        q = select(OutboxEmail).order_by(OutboxEmail.id)
        if template:
            q = q.where(OutboxEmail.template == template)
        return uow.session.scalars(q).all()


def _counts(backend) -> dict[str, int]:
    with backend.uow() as uow:
        return {
            t: uow.session.scalar(select(func.count()).select_from(m))
            for t, m in [("enrolments", Enrolment), ("events", Event), ("outbox", OutboxEmail)]
        }


def test_declaration_stores_state_event_and_invitation(backend):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    e = _enrolment(backend, declared.enrolment_id)
    assert e.state == lc.DECLARED
    assert e.token_hash == kernel.hash_token(declared.token)
    assert declared.token not in (e.token_hash or "")
    assert len(declared.token) >= 43  # 32 random bytes, URL-safe
    assert (e.expires_at - e.created_at).days == 30
    assert _events(backend, e.id) == [("declared", "", lc.DECLARED)]
    [invitation] = _mail(backend, "invitation")
    assert invitation.recipient == "marie.schmit@example.lu"
    # The link is in the outbox only sealed, never in clear.
    assert declared.token not in str(invitation.context)


def test_bad_declaration_lists_every_field_and_writes_nothing(backend):
    prof = f.professional(backend)
    before = _counts(backend)
    with pytest.raises(ValidationFailed) as err, backend.uow() as uow:
        declarations.declare(
            uow,
            prof,
            last_name=" ",
            first_names="Marie",
            matricule="1985041212394",
            email="not-an-email",
        )
    assert set(err.value.errors) == {"last_name", "matricule", "email"}
    assert "13" in err.value.errors["matricule"] or "matricule" in err.value.errors["matricule"]
    assert _counts(backend) == before


def test_match_path_creates_account_at_once(backend):
    prof = f.professional(backend)
    eid, th = f.walk_to(backend, prof, lc.ACCOUNT_CREATED)
    e = _enrolment(backend, eid)
    assert e.state == lc.ACCOUNT_CREATED
    assert e.decision == "auto_match"
    assert [a for a, *_ in _events(backend, eid)] == [
        "declared",
        "cgu_accepted",
        "matricule_verified",
        "account_created",
        "account_opened",
    ]
    with backend.uow() as uow:
        account = uow.session.get(SecretaryAccount, e.account_id)
        assert account.matricule == f.MARIE["matricule"]
    # "Vous pouvez vous connecter" waits for the identity platform's confirmation.
    assert {m.template for m in _mail(backend)} == {"invitation"}
    assert f.provision(backend).done == 1
    assert [a for a, *_ in _events(backend, eid)][-1] == "account_provisioned"
    assert {m.template for m in _mail(backend)} == {
        "invitation",
        "account_created",
        "professional_account_created",
    }
    assert f.provision(backend).handled == 0  # delivered once: no second email
    assert len(_mail(backend)) == 3


@pytest.mark.parametrize("empty", ["last_name", "first_names"])
def test_a_luxtrust_identity_without_a_name_goes_to_manual_review(backend, empty):
    """Twins share a last name and a birth date: an identity that lacks a name never
    creates the account at once, even with the birth date confirmed."""
    prof = f.professional(backend)
    eid, th = f.walk_to(backend, prof, lc.MATRICULE_VERIFIED)
    with backend.uow() as uow:
        result = secretary.record_luxtrust_identity(uow, th, f.identity_of(**{empty: ""}))
    assert not result.matches
    assert result.state == lc.IDENTITY_MISMATCH
    e = _enrolment(backend, eid)
    assert e.account_id is None
    assert "account_created" not in {m.template for m in _mail(backend)}


def test_steps_cannot_be_skipped(backend):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    th = kernel.hash_token(declared.token)
    with pytest.raises(IllegalTransition), backend.uow() as uow:
        secretary.verify_matricule(uow, th, f.MARIE["matricule"])
    with pytest.raises(IllegalTransition), backend.uow() as uow:
        secretary.record_luxtrust_identity(uow, th, f.identity_of())
    with pytest.raises(IllegalTransition), backend.uow() as uow:
        secretary.confirm_personal_device(uow, th, True)
    assert _enrolment(backend, declared.enrolment_id).state == lc.DECLARED
    assert len(_events(backend, declared.enrolment_id)) == 1


def test_replayed_steps_change_nothing_the_second_time(backend):
    prof = f.professional(backend)
    eid, th = f.walk_to(backend, prof, lc.PENDING_REVIEW)
    events_before = _events(backend, eid)
    mail_before = len(_mail(backend))
    # Replays through the secretary's session: the link now says "pending review".
    with pytest.raises(InvalidLink) as err, backend.uow() as uow:
        secretary.accept_cgu(uow, th, uow.settings.cgu_version)
    assert err.value.reason == lc.PENDING_REVIEW
    with backend.uow() as uow:
        assert secretary.confirm_personal_device(uow, th, True) == lc.PENDING_REVIEW
    assert _events(backend, eid) == events_before
    assert len(_mail(backend)) == mail_before


def test_double_submitted_cgu_and_matricule_are_idempotent(backend):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    th = kernel.hash_token(declared.token)
    for _ in range(2):
        with backend.uow() as uow:
            secretary.accept_cgu(uow, th, uow.settings.cgu_version)
    for _ in range(2):
        with backend.uow() as uow:
            assert secretary.verify_matricule(uow, th, f.MARIE["matricule"]).verified
    actions = [a for a, *_ in _events(backend, declared.enrolment_id)]
    assert actions == ["declared", "cgu_accepted", "matricule_verified"]


def test_wrong_matricules_count_down_then_lock_and_mail_the_professional(backend):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    th = kernel.hash_token(declared.token)
    with backend.uow() as uow:
        secretary.accept_cgu(uow, th, uow.settings.cgu_version)
    lefts = []
    for attempt in range(5):
        with backend.uow() as uow:
            result = secretary.verify_matricule(uow, th, f.wrong_matricule(attempt))
        lefts.append(result.attempts_left)
    assert lefts == [4, 3, 2, 1, 0]
    assert result.locked
    assert _enrolment(backend, declared.enrolment_id).state == lc.LOCKED
    assert {m.template for m in _mail(backend)} >= {"locked", "professional_locked"}
    assert [m.recipient for m in _mail(backend, "professional_locked")] == ["dr1@cabinet.lu"]
    with pytest.raises(InvalidLink) as err, backend.uow() as uow:
        secretary.verify_matricule(uow, th, f.MARIE["matricule"])
    assert err.value.reason == lc.LOCKED


def test_the_same_wrong_matricule_again_costs_no_further_attempt(backend):
    enrolment_id, th = f.walk_to(backend, f.professional(backend), lc.CGU_ACCEPTED)
    typed = [f.wrong_matricule(0)] * 3 + [f.wrong_matricule(1)] * 2 + [f.wrong_matricule(0)]
    results = []
    for value in typed:
        with backend.uow() as uow:
            results.append(secretary.verify_matricule(uow, th, value))
    # A double click or a replay gets the same answer; a new value, or going back to an
    # earlier one, is a new attempt.
    assert [r.attempts_left for r in results] == [4, 4, 4, 3, 3, 2]
    assert results[1].message == results[0].message and not results[1].verified
    e = _enrolment(backend, enrolment_id)
    assert (e.state, e.wrong_matricule_count) == (lc.CGU_ACCEPTED, 3)
    assert e.last_wrong_matricule and f.wrong_matricule(0) not in e.last_wrong_matricule
    mismatches = [a for a, *_ in _events(backend, enrolment_id) if a == "matricule_mismatch"]
    assert len(mismatches) == 3
    with backend.uow() as uow:
        assert secretary.verify_matricule(uow, th, f.MARIE["matricule"]).verified


def test_a_key_rotation_does_not_make_a_replayed_wrong_matricule_cost_again(backend):
    """The digest of her last wrong value was made with the previous key: with that key in
    SECRET_KEY_FALLBACKS the same value is still a replay, and the new digest uses the new key."""
    enrolment_id, th = f.walk_to(backend, f.professional(backend), lc.CGU_ACCEPTED)
    with backend.uow() as uow:
        assert secretary.verify_matricule(uow, th, f.wrong_matricule(0)).attempts_left == 4
    old_key = backend.settings.secret_key
    backend.settings = backend.settings.replace(
        secret_key="rotated-key-" + "r" * 40, secret_key_fallbacks=(old_key,)
    )
    with backend.uow() as uow:
        assert secretary.verify_matricule(uow, th, f.wrong_matricule(0)).attempts_left == 4
        assert secretary.verify_matricule(uow, th, f.wrong_matricule(1)).attempts_left == 3
    # Without the fallback the old digest is no longer recognised: a new attempt.
    backend.settings = backend.settings.replace(secret_key_fallbacks=())
    with backend.uow() as uow:
        assert secretary.verify_matricule(uow, th, f.wrong_matricule(1)).attempts_left == 3
        assert secretary.verify_matricule(uow, th, f.wrong_matricule(0)).attempts_left == 2


def test_malformed_matricule_costs_no_attempt(backend):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    th = kernel.hash_token(declared.token)
    with backend.uow() as uow:
        secretary.accept_cgu(uow, th, uow.settings.cgu_version)
    with pytest.raises(matricule.InvalidMatricule), backend.uow() as uow:
        secretary.verify_matricule(uow, th, "12345")
    assert _enrolment(backend, declared.enrolment_id).wrong_matricule_count == 0


def test_mismatch_then_own_device_goes_to_review(backend):
    prof = f.professional(backend)
    eid, th = f.walk_to(backend, prof, lc.IDENTITY_MISMATCH)
    e = _enrolment(backend, eid)
    assert e.state == lc.IDENTITY_MISMATCH
    with backend.uow() as uow:
        assert secretary.confirm_personal_device(uow, th, True) == lc.PENDING_REVIEW
    assert _mail(backend, "pending_review")
    assert _enrolment(backend, eid).device_confirmed_at is not None


def test_not_own_device_returns_to_luxtrust_step(backend):
    prof = f.professional(backend)
    eid, th = f.walk_to(backend, prof, lc.IDENTITY_MISMATCH)
    with backend.uow() as uow:
        assert secretary.confirm_personal_device(uow, th, False) == lc.MATRICULE_VERIFIED
    with backend.uow() as uow:
        result = secretary.record_luxtrust_identity(uow, th, f.identity_of())
    assert result.state == lc.ACCOUNT_CREATED


def test_review_approve_and_reject(backend):
    prof = f.professional(backend)
    rid = f.reviewer(backend)
    a, _ = f.walk_to(backend, prof, lc.PENDING_REVIEW)
    b, _ = f.walk_to(
        backend,
        prof,
        lc.PENDING_REVIEW,
        matricule=matricule.make("19900203", "456"),
        email="other@example.lu",
    )
    with backend.uow() as uow:
        decisions.claim(uow, a, rid)
    with backend.uow() as uow:
        decisions.approve(uow, a, rid)
    with backend.uow() as uow:
        decisions.reject(uow, b, rid, reason_code="declaration_error", note="Nom mal orthographié")
    assert _enrolment(backend, a).state == lc.ACCOUNT_CREATED
    assert _enrolment(backend, a).decision == "reviewer_approved"
    assert _enrolment(backend, b).state == lc.REJECTED
    assert _enrolment(backend, b).reason_code == "declaration_error"
    templates = [m.template for m in _mail(backend)]
    assert "approved" not in templates  # not before the identity platform confirmed it
    f.provision(backend)
    templates = [m.template for m in _mail(backend)]
    assert "approved" in templates and "rejected" in templates
    assert "professional_rejected" in templates
    # A decided case can be neither decided again nor reassigned.
    with pytest.raises(IllegalTransition), backend.uow() as uow:
        decisions.approve(uow, b, rid)
    with pytest.raises(IllegalTransition), backend.uow() as uow:
        decisions.assign(uow, a, rid, rid)


def test_reject_needs_a_known_reason(backend):
    prof = f.professional(backend)
    rid = f.reviewer(backend)
    a, _ = f.walk_to(backend, prof, lc.PENDING_REVIEW)
    with pytest.raises(ValidationFailed), backend.uow() as uow:
        decisions.reject(uow, a, rid, reason_code="because")
    assert _enrolment(backend, a).state == lc.PENDING_REVIEW


def test_stale_version_is_refused(backend):
    from dashboard.enrolment.errors import ConcurrentUpdate

    prof = f.professional(backend)
    rid = f.reviewer(backend)
    a, _ = f.walk_to(backend, prof, lc.PENDING_REVIEW)
    version = _enrolment(backend, a).version
    with backend.uow() as uow:
        decisions.claim(uow, a, rid)
    with pytest.raises(ConcurrentUpdate), backend.uow() as uow:
        decisions.approve(uow, a, rid, expected_version=version)
    assert _enrolment(backend, a).state == lc.PENDING_REVIEW


def test_redeclaring_same_matricule_supersedes_the_open_one(backend):
    prof = f.professional(backend)
    first = f.declare(backend, prof)
    second = f.declare(backend, prof, first_names="Marie Louise")
    old = _enrolment(backend, first.enrolment_id)
    assert old.state == lc.CANCELLED
    assert old.superseded_by_id == second.enrolment_id
    with pytest.raises(InvalidLink) as err, backend.uow() as uow:
        secretary.check_invitation(uow, first.token)
    assert err.value.reason == "superseded"
    with backend.uow() as uow:
        assert secretary.check_invitation(uow, second.token).state == lc.DECLARED


def test_duplicate_can_be_refused_instead(backend):
    prof = f.professional(backend)
    f.declare(backend, prof)
    with pytest.raises(DuplicateDeclaration), backend.uow() as uow:
        declarations.declare(uow, prof, if_open="refuse", **f.MARIE)
    assert _counts(backend)["enrolments"] == 1


def test_second_professional_links_the_same_account(backend):
    p1 = f.professional(backend, 1)
    p2 = f.professional(backend, 2)
    a, _ = f.walk_to(backend, p1, lc.ACCOUNT_CREATED)
    b, _ = f.walk_to(backend, p2, lc.ACCOUNT_CREATED)
    ea, eb = _enrolment(backend, a), _enrolment(backend, b)
    assert ea.account_id == eb.account_id
    with backend.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(SecretaryAccount)) == 1
        links = uow.session.scalars(select(AccountLink.professional_id)).all()
    assert sorted(links) == sorted([p1, p2])


def test_expiry_is_driven_by_the_clock(backend, clock):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    clock.advance(days=29, hours=23)
    with backend.uow() as uow:
        assert housekeeping.expire_stale(uow) == 0
    clock.advance(hours=2)
    # A GET of the link writes nothing but says it expired.
    with pytest.raises(InvalidLink) as err, backend.uow() as uow:
        secretary.check_invitation(uow, declared.token)
    assert err.value.reason == lc.EXPIRED
    assert _enrolment(backend, declared.enrolment_id).state == lc.DECLARED
    with backend.uow() as uow:
        assert housekeeping.expire_stale(uow) == 1
    assert _enrolment(backend, declared.enrolment_id).state == lc.EXPIRED
    with backend.uow() as uow:
        assert housekeeping.expire_stale(uow) == 0


def test_resend_kills_the_old_link_and_is_limited(backend):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    tokens = [declared.token]
    for _ in range(3):
        with backend.uow() as uow:
            tokens.append(declarations.resend_invitation(uow, declared.enrolment_id, prof))
    with pytest.raises(LimitReached), backend.uow() as uow:
        declarations.resend_invitation(uow, declared.enrolment_id, prof)
    for old in tokens[:-1]:
        with pytest.raises(InvalidLink), backend.uow() as uow:
            secretary.check_invitation(uow, old)
    with backend.uow() as uow:
        assert secretary.check_invitation(uow, tokens[-1]).enrolment_id == declared.enrolment_id
    assert len(_mail(backend, "invitation")) == 4


def test_a_professional_cannot_touch_another_ones_declaration(backend):
    p1 = f.professional(backend, 1)
    p2 = f.professional(backend, 2)
    declared = f.declare(backend, p1)
    with pytest.raises(NotFound), backend.uow() as uow:
        declarations.cancel(
            uow, declared.enrolment_id, kernel.Actor("professional", str(p2)), professional_id=p2
        )
    with pytest.raises(NotFound), backend.uow() as uow:
        declarations.resend_invitation(uow, declared.enrolment_id, p2)
    assert _enrolment(backend, declared.enrolment_id).state == lc.DECLARED


def test_cancelled_link_says_so_and_cancel_is_idempotent(backend):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    actor = kernel.Actor("professional", str(prof))
    for _ in range(2):
        with backend.uow() as uow:
            declarations.cancel(uow, declared.enrolment_id, actor, professional_id=prof)
    assert [a for a, *_ in _events(backend, declared.enrolment_id)] == ["declared", "cancelled"]
    with pytest.raises(InvalidLink) as err, backend.uow() as uow:
        secretary.check_invitation(uow, declared.token)
    assert err.value.reason == lc.CANCELLED


def test_events_are_append_only_in_the_database(backend):
    prof = f.professional(backend)
    f.declare(backend, prof)
    with backend.engine.connect() as conn:
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("UPDATE events SET action = 'forged'"))
        conn.rollback()
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("DELETE FROM events"))
        conn.rollback()
    with backend.uow() as uow:
        event = uow.session.scalars(select(Event)).first()
        event.action = "forged"
        with pytest.raises(PermissionError):
            uow.session.flush()


def test_events_hold_no_personal_data(backend):
    prof = f.professional(backend)
    f.walk_to(backend, prof, lc.PENDING_REVIEW)
    with backend.uow() as uow:
        dumped = " ".join(str(e.data) for e in uow.session.scalars(select(Event)))
    for personal in (f.MARIE["last_name"], f.MARIE["matricule"], f.MARIE["email"]):
        assert personal not in dumped
