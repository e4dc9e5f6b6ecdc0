"""Small builders for tests: real rows made through the real service functions."""

from __future__ import annotations

from sqlalchemy import select

from dashboard.enrolment import declarations, kernel, matricule, secretary
from dashboard.enrolment.identity import Identity
from dashboard.enrolment.professionals import add_professional
from dashboard.enrolment.staff import add_user

MARIE = {
    "last_name": "Schmit",
    "first_names": "Marie",
    "matricule": matricule.make("19850412", "123"),
    "email": "marie.schmit@example.lu",
}


def wrong_matricule(n: int, birth: str = "19591231") -> str:
    """The n-th of distinct well-formed matricules that are no test person's: a repeated
    wrong value costs one attempt only, so locking takes five different ones."""
    return matricule.make(birth, f"{900 + n:03d}")


def professional(backend, n: int = 1, **kw) -> int:
    with backend.uow() as uow:
        return add_professional(
            uow,
            last_name=kw.get("last_name", f"Hoffmann{n}"),
            first_names=kw.get("first_names", "Jean"),
            email=kw.get("email", f"dr{n}@cabinet.lu"),
            luxtrust_subject=kw.get("luxtrust_subject", f"prof-{n}"),
            specialty=kw.get("specialty", "médecine générale"),
            code=kw.get("code"),
        ).id


def reviewer(backend, email="reviewer@esante.lu", roles=("reviewer",)) -> int:
    with backend.uow() as uow:
        return add_user(uow, email, "correct horse battery staple", list(roles)).id


def declare(backend, prof_id: int, **overrides) -> declarations.Declared:
    data = {**MARIE, **overrides}
    with backend.uow() as uow:
        return declarations.declare(uow, prof_id, **data)


def identity_of(data=MARIE, **overrides) -> Identity:
    base = Identity(
        last_name=data["last_name"],
        first_names=data["first_names"],
        birth_date=matricule.birth_date(data["matricule"]),
        matricule=None,
    )
    return Identity(**{**base.__dict__, **overrides})


def walk_to(backend, prof_id: int, state: str, **declare_overrides) -> tuple[int, str]:
    """Declare, then drive the secretary's steps until `state`; returns (id, token_hash)."""
    data = {**MARIE, **declare_overrides}
    declared = declare(backend, prof_id, **declare_overrides)
    th = kernel.hash_token(declared.token)
    steps = [
        "declared",
        "cgu_accepted",
        "matricule_verified",
        "identity_mismatch",
        "pending_review",
    ]
    if state == "account_created":
        steps = ["declared", "cgu_accepted", "matricule_verified", "account_created"]
    for step in steps[1 : steps.index(state) + 1]:
        with backend.uow() as uow:
            if step == "cgu_accepted":
                secretary.accept_cgu(uow, th, uow.settings.cgu_version)
            elif step == "matricule_verified":
                secretary.verify_matricule(uow, th, data["matricule"])
            elif step == "identity_mismatch":
                secretary.record_luxtrust_identity(
                    uow, th, identity_of(data, last_name=data["last_name"] + "t"), device="mobile"
                )
            elif step == "account_created":
                secretary.record_luxtrust_identity(uow, th, identity_of(data), device="mobile")
            elif step == "pending_review":
                secretary.confirm_personal_device(uow, th, True)
    return declared.enrolment_id, th


def signed_in(client, kind: str, subject_id: int | None = None, *, token_hash=None):
    """Give a Flask test client a live session of `kind` (staff, professional, enrolment,
    account), as its login leaves it: the handle in its app's database, its token in the
    cookie. For an enrolment session, `token_hash` (her link's) is enough."""
    from dashboard import auth
    from dashboard.enrolment import sessions
    from dashboard.enrolment.model import Enrolment

    backend = client.application.extensions["esante"]
    with backend.uow() as uow:
        if subject_id is None:
            subject_id = uow.session.scalar(
                select(Enrolment.id).where(Enrolment.token_hash == token_hash)
            )
        token = sessions.open_session(uow, kind, subject_id)
    with client.session_transaction() as session:
        auth.hold_session(session, kind, subject_id, token, token_hash)
    return client


def provision(backend):
    """The identity platform confirms the accounts waiting for it (the backend's embedded
    directory, in process): the accounts' emails are queued then, not before."""
    report = backend.deliver_provisioning()
    assert not (report.retried or report.failed), report
    return report
