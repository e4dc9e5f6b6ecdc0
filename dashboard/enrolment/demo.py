"""Demo data: professionals, staff, and enrolments in every state over the last 90 days.

Enrolments are driven through the real service functions with a moving clock, so their
events, emails and accounts are exactly what production would have written.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import unicodedata
from dataclasses import dataclass, field

from dashboard.enrolment import (
    codes,
    decisions,
    declarations,
    housekeeping,
    kernel,
    matricule,
    personas,
    secretary,
)
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.errors import DomainError
from dashboard.enrolment.identity import Identity
from dashboard.enrolment.professionals import add_professional
from dashboard.enrolment.staff import add_user, generate_password
from dashboard.enrolment.uow import UnitOfWork

log = logging.getLogger(__name__)

LAST_NAMES = [
    "Schmit",
    "Muller",
    "Weber",
    "Hoffmann",
    "Wagner",
    "Thill",
    "Schiltz",
    "Kremer",
    "Reuter",
    "Kieffer",
    "Becker",
    "Klein",
    "Schroeder",
    "Meyer",
    "Hansen",
    "Welter",
    "Majerus",
    "Ries",
    "Da Silva",
    "Pereira",
    "Ferreira",
    "Rodrigues",
    "Dos Santos",
    "Gomes",
    "Martins",
    "Lopes",
    "Goedert",
    "Steffen",
    "Wirtz",
    "Frisch",
    "Lentz",
    "Back",
    "Faber",
    "Konsbruck",
    "D'Angelo",
]
FIRST_NAMES = [
    "Marie",
    "Anne",
    "Claudine",
    "Sandra",
    "Nathalie",
    "Carole",
    "Sylvie",
    "Laura",
    "Sophie",
    "Joëlle",
    "Martine",
    "Tessy",
    "Jill",
    "Lynn",
    "Mandy",
    "Ana",
    "Sarah",
    "Michèle",
    "Josiane",
    "Danielle",
    "Françoise",
    "Liliane",
    "Marie-Paule",
    "Anne-Marie",
    "Léa",
    "Chloé",
]
SECOND_NAMES = ["Louise", "Jeanne", "Thérèse", "Catherine", "Rose", "Hélène"]
PROFESSIONALS = [
    ("Hoffmann", "Jean", "médecine générale"),
    ("Weber", "Paul", "pédiatrie"),
    ("Schmit", "Claude", "cardiologie"),
    ("Kieffer", "Martine", "dermatologie"),
    ("Reuter", "Luc", "gynécologie"),
    ("Majerus", "Nadine", "ophtalmologie"),
    ("Pereira", "Miguel", "médecine dentaire"),
    ("Thill", "Georges", "médecine générale"),
]
DEMO_STAFF = [
    ("reviewer@esante.lu", "Relectrice Demo", ["reviewer"]),
    ("reviewer2@esante.lu", "Relecteur Deux", ["reviewer"]),
    ("manager@esante.lu", "Manager Demo", ["manager"]),
    ("admin@esante.lu", "Admin Demo", ["admin"]),
]
# Outcome weights: how far each demo secretary gets.
OUTCOMES = [
    ("auto", 44),
    ("approved", 8),
    ("rejected", 3),
    ("pending_review", 7),
    ("identity_mismatch", 3),
    ("matricule_verified", 3),
    ("cgu_accepted", 4),
    ("declared", 11),
    ("locked", 2),
    ("cancelled", 4),
    ("superseded", 2),
]


@dataclass
class DemoResult:
    professionals: list[int] = field(default_factory=list)
    staff: list[tuple[str, str, list[str]]] = field(default_factory=list)  # email, password, roles
    enrolments: int = 0  # every declaration stored, corrections included
    corrections: int = 0  # declarations that superseded an earlier one
    invitations: list[tuple[int, str]] = field(default_factory=list)  # open ones: (id, token)

    def declared(self, declared: declarations.Declared) -> declarations.Declared:
        self.enrolments += 1
        if declared.superseded_id is not None:
            self.corrections += 1
        return declared


class MovingClock:
    """Demo time: it moves forward by random steps and never passes `until` (the real now),
    so the demo writes nothing dated in the future."""

    def __init__(self, start: dt.datetime, until: dt.datetime | None = None):
        self.now = start
        self.until = until

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, rng: random.Random, low_minutes: float, high_minutes: float) -> None:
        step = dt.timedelta(minutes=rng.uniform(low_minutes, high_minutes))
        if self.until is not None and step >= self.until - self.now:
            # A recent scenario goes on in half the time that is left, however short.
            step = max(dt.timedelta(0), (self.until - self.now) / 2)
        self.now += step


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.lower())
    return "".join(c for c in folded if c.isascii() and c.isalnum())


def random_matricule(rng: random.Random, today: dt.date) -> str:
    while True:
        year = rng.randint(1960, 2004)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        if rng.random() < 0.02:
            day = 0  # unknown day of birth, as some matricules have
        try:
            return matricule.make(f"{year:04d}{month:02d}{day:02d}", f"{rng.randint(0, 999):03d}")
        except matricule.InvalidMatricule:
            continue


def _typo(rng: random.Random, name: str) -> str:
    i = rng.randrange(1, len(name))
    return name[:i] + name[i - 1] + name[i:] if rng.random() < 0.5 else name[:i] + name[i + 1 :]


def _mismatching(rng: random.Random, declared: Identity) -> Identity:
    """A LuxTrust identity that differs from the declaration in one realistic way."""
    way = rng.choice(["typo", "swapped", "birth", "other_last_name"])
    if way == "typo" and len(declared.last_name) > 4:
        return Identity(
            _typo(rng, declared.last_name).upper(),
            declared.first_names.upper(),
            declared.birth_date,
            None,
        )
    if way == "swapped":
        return Identity(declared.first_names, declared.last_name, declared.birth_date, None)
    if way == "birth" and declared.birth_date:
        return Identity(
            declared.last_name,
            declared.first_names,
            declared.birth_date + dt.timedelta(days=rng.randint(1, 400)),
            None,
        )
    return Identity(
        rng.choice(LAST_NAMES) + "-" + declared.last_name,
        declared.first_names,
        declared.birth_date,
        None,
    )


def _matching(rng: random.Random, declared: Identity) -> Identity:
    """What LuxTrust typically returns for the right person: capitals, more given names."""
    first = declared.first_names
    if rng.random() < 0.3:
        first = f"{first} {rng.choice(SECOND_NAMES)}"
    last = declared.last_name.upper() if rng.random() < 0.6 else declared.last_name
    return Identity(last, first.upper() if rng.random() < 0.5 else first, declared.birth_date, None)


def load(backend: Backend, enrolments: int = 150, seed: int = 2026, progress=None) -> DemoResult:
    """`progress(n)`, when given, is told of each enrolment driven (a bar on the CLI)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets  # nosec B311
    real_now = backend.clock()
    result = DemoResult()
    clock = MovingClock(real_now - dt.timedelta(days=95), until=real_now)

    def uow() -> UnitOfWork:
        return UnitOfWork(backend.session_factory, backend.settings, clock)

    for email, name, roles in DEMO_STAFF:
        password = generate_password()
        with uow() as u:
            add_user(u, email, password, roles, display_name=name)
        result.staff.append((email, password, roles))
    with uow() as u:
        from sqlalchemy import select

        from dashboard.enrolment.model import StaffUser

        reviewer_id = u.session.scalar(
            select(StaffUser.id).where(StaffUser.email == DEMO_STAFF[0][0])
        )
        second_reviewer_id = u.session.scalar(
            select(StaffUser.id).where(StaffUser.email == DEMO_STAFF[1][0])
        )
    for i, (last, first, specialty) in enumerate(PROFESSIONALS, start=1):
        with uow() as u:
            prof = add_professional(
                u,
                last_name=last,
                first_names=first,
                specialty=specialty,
                email=f"{first.lower()}.{last.lower()}@cabinet.lu",
                code=f"{i:02d}{i * 1234:06d}",
                luxtrust_subject=f"demo-professional-{i}",
            )
        result.professionals.append(prof.id)

    weights = [w for _, w in OUTCOMES]
    names = [o for o, _ in OUTCOMES]
    starts = sorted(real_now - dt.timedelta(days=rng.uniform(0, 90)) for _ in range(enrolments))
    people: list[dict] = []
    outcomes = rng.choices(names, weights, k=enrolments)
    # The most recent ones cover every state, so each page has something to show.
    every_state = [o for o, _ in OUTCOMES]
    outcomes[-len(every_state) :] = every_state[: len(outcomes)]
    for start, outcome in zip(starts, outcomes, strict=True):
        clock.now = start
        if people and rng.random() < 0.05:
            person = dict(rng.choice(people))  # the same secretary declared by another doctor
        else:
            last, first = rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES)
            person = {
                "last_name": last,
                "first_names": first,
                "matricule": random_matricule(rng, real_now.date()),
                "email": f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@example.lu",
            }
            people.append(person)
        prof_id = rng.choice(result.professionals)
        try:
            token = _drive(
                uow, clock, rng, result, prof_id, person, outcome, reviewer_id, second_reviewer_id
            )
        except DomainError as exc:  # e.g. a duplicate the dice produced: skip the rest
            log.debug("demo enrolment stopped: %s", exc)
            if progress is not None:
                progress(1)
            continue
        if token:
            result.invitations.append(token)
        if progress is not None:
            progress(1)
    clock.now = real_now
    with uow() as u:
        housekeeping.expire_stale(u)
    # The simulator's personas answer these declarations: open invitations to try at once.
    clock.now = real_now - dt.timedelta(hours=1)
    for persona in personas.SECRETARIES:
        with uow() as u:
            declared = result.declared(
                declarations.declare(
                    u,
                    result.professionals[0],
                    last_name=persona.last_name,
                    first_names=persona.first_names,
                    matricule=persona.matricule,
                    email=persona.email,
                )
            )
        result.invitations.append((declared.enrolment_id, declared.token))
    clock.now = real_now
    return result


def _drive(uow, clock, rng, result, prof_id, person, outcome, reviewer_id, second_reviewer_id):
    with uow() as u:
        declared = result.declared(declarations.declare(u, prof_id, **person))
    token = declared.token
    th = kernel.hash_token(token)
    if outcome == "declared":
        return (declared.enrolment_id, token)
    if outcome in ("cancelled", "superseded"):
        clock.advance(rng, 60, 60 * 48)
        with uow() as u:
            if outcome == "cancelled":
                declarations.cancel(
                    u,
                    declared.enrolment_id,
                    kernel.Actor("professional", str(prof_id)),
                    professional_id=prof_id,
                )
            else:  # the professional declares her again: a correction
                result.declared(declarations.declare(u, prof_id, **person))
        return None
    clock.advance(rng, 10, 60 * 72)
    with uow() as u:
        secretary.open_invitation(u, th)
    clock.advance(rng, 1, 5)
    with uow() as u:
        secretary.accept_cgu(u, th, u.settings.cgu_version)
    if outcome == "cgu_accepted":
        return (declared.enrolment_id, token)
    if outcome == "locked":
        for _ in range(u.settings.max_matricule_attempts):
            clock.advance(rng, 0.5, 3)
            other = random_matricule(rng, clock.now.date())
            with uow() as u:
                secretary.verify_matricule(u, th, other)
        return None
    clock.advance(rng, 1, 4)
    with uow() as u:
        secretary.verify_matricule(u, th, person["matricule"])
    if outcome == "matricule_verified":
        return (declared.enrolment_id, token)
    declared_identity = Identity(
        person["last_name"],
        person["first_names"],
        matricule.birth_date(person["matricule"]),
        person["matricule"],
    )
    matches = outcome == "auto"
    observed = (
        _matching(rng, declared_identity) if matches else _mismatching(rng, declared_identity)
    )
    clock.advance(rng, 1, 6)
    with uow() as u:
        secretary.record_luxtrust_identity(
            u,
            th,
            observed,
            subject=f"lt-{person['matricule']}",
            device=rng.choice(codes.LUXTRUST_DEVICES),
        )
    if outcome in ("auto", "identity_mismatch"):
        return (declared.enrolment_id, token) if outcome == "identity_mismatch" else None
    clock.advance(rng, 0.5, 3)
    with uow() as u:
        secretary.confirm_personal_device(u, th, True)
    if outcome == "pending_review":
        return None
    clock.advance(rng, 60, 60 * 24 * 4)
    with uow() as u:
        if outcome == "approved":
            proposed = decisions.approve(u, declared.enrolment_id, reviewer_id)
            # Some four-eyes proposals are confirmed; the others still wait for a second look.
            if proposed == "awaiting_second" and rng.random() < 0.5:
                clock.advance(rng, 30, 60 * 24)
                with uow() as u2:
                    decisions.approve(u2, declared.enrolment_id, second_reviewer_id)
        else:
            decisions.reject(
                u,
                declared.enrolment_id,
                reviewer_id,
                reason_code=rng.choice(codes.REJECTION_REASONS),
                note="Pièce d'identité non concordante (démo).",
            )
    return None


def existing_demo_accounts(uow: UnitOfWork) -> list[str]:
    """Demo staff emails already taken (the demo then refuses before writing anything)."""
    from sqlalchemy import select

    from dashboard.enrolment.model import StaffUser

    emails = [email for email, _, _ in DEMO_STAFF]
    return list(uow.session.scalars(select(StaffUser.email).where(StaffUser.email.in_(emails))))
