"""Demo people: declarations loaded by the demo, and the LuxTrust simulator's personas.

Each simulator persona is what LuxTrust would return for a demo secretary, either
matching her declaration or differing in one of the ways DESIGN §3 lists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dashboard.enrolment.matricule import make
from dashboard.i18n import N_


@dataclass(frozen=True)
class DemoSecretary:
    key: str
    last_name: str
    first_names: str
    matricule: str
    email: str


@dataclass(frozen=True)
class Persona:
    key: str
    label: str  # French source (marked with N_), translated where the simulator shows it
    secretary: str  # key of the DemoSecretary whose declaration it answers
    expected: str  # comparison kind it illustrates (identical, formatting, typo, ...)
    family_name: str | None
    given_name: str | None
    birthdate: dt.date | None
    matricule: str | None = None

    @property
    def subject(self) -> str:
        return f"sim-{self.key}"

    def claims(self) -> dict:
        claims = {"sub": self.subject}
        if self.family_name is not None:
            claims["family_name"] = self.family_name
        if self.given_name is not None:
            claims["given_name"] = self.given_name
        if self.birthdate is not None:
            claims["birthdate"] = self.birthdate.isoformat()
        if self.matricule is not None:
            claims["matricule"] = self.matricule
        return claims


SECRETARIES = (
    DemoSecretary("marie", "Schmit", "Marie", make("19850412", "123"), "marie.schmit@example.lu"),
    DemoSecretary(
        "sophie", "Müller", "Sophie", make("19900723", "045"), "sophie.muller@example.lu"
    ),
    DemoSecretary("laura", "Weber", "Laura", make("19781130", "210"), "laura.weber@example.lu"),
    DemoSecretary(
        "anne", "D'Angelo", "Anne-Marie", make("19951203", "318"), "anne.dangelo@example.lu"
    ),
)
_BY_KEY = {s.key: s for s in SECRETARIES}


def _birth(key: str) -> dt.date:
    m = _BY_KEY[key].matricule
    return dt.date(int(m[:4]), int(m[4:6]), int(m[6:8]))


PERSONAS = (
    Persona(
        "marie",
        N_("Marie Schmit — identique à la déclaration"),
        "marie",
        "identical",
        "Schmit",
        "Marie",
        _birth("marie"),
        _BY_KEY["marie"].matricule,
    ),
    Persona(
        "marie-louise",
        N_("Marie Louise SCHMIT — prénoms complets, majuscules"),
        "marie",
        "subset",
        "SCHMIT",
        "Marie Louise",
        _birth("marie"),
    ),
    Persona(
        "marie-typo",
        N_("Marie SCHMITT — faute de frappe dans le nom"),
        "marie",
        "typo",
        "SCHMITT",
        "Marie",
        _birth("marie"),
    ),
    Persona(
        "marie-swapped",
        N_("SCHMIT Marie — nom et prénom inversés"),
        "marie",
        "swapped",
        "Marie",
        "Schmit",
        _birth("marie"),
    ),
    Persona(
        "marie-birth",
        N_("Marie Schmit — autre date de naissance"),
        "marie",
        "different",
        "Schmit",
        "Marie",
        dt.date(1985, 12, 4),
    ),
    Persona(
        "marie-other",
        N_("Paul Hansen — une autre personne"),
        "marie",
        "different",
        "Hansen",
        "Paul",
        dt.date(1979, 2, 14),
    ),
    Persona(
        "marie-nobirth",
        N_("Marie Schmit — sans date de naissance"),
        "marie",
        "missing",
        "Schmit",
        "Marie",
        None,
    ),
    Persona(
        "sophie",
        N_("Sophie MUELLER — mise en forme (ü → ue)"),
        "sophie",
        "formatting",
        "MUELLER",
        "SOPHIE",
        _birth("sophie"),
    ),
    Persona(
        "laura",
        N_("Laura Weber — identique à la déclaration"),
        "laura",
        "identical",
        "Weber",
        "Laura",
        _birth("laura"),
    ),
    Persona(
        "laura-cyrillic",
        N_("Laura Wеber — « е » cyrillique (homoglyphe)"),
        "laura",
        "different",
        "W\u0435ber",
        "Laura",
        _birth("laura"),
    ),
    Persona(
        "anne",
        N_("ANNE MARIE DANGELO — mise en forme (tiret, apostrophe)"),
        "anne",
        "formatting",
        "DANGELO",
        "ANNE MARIE",
        _birth("anne"),
    ),
)
PERSONAS_BY_KEY = {p.key: p for p in PERSONAS}
