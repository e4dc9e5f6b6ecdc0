"""The identity-provider port: turning OpenID Connect claims into an `Identity`.

The OIDC client itself (authlib, Flask routes) lives in `dashboard/luxtrust/`; this module
is the pure mapping, with configurable claim names, so it is testable on its own.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from dashboard.enrolment.codes import LUXTRUST_DEVICES
from dashboard.enrolment.identity import Identity


@dataclass(frozen=True)
class ClaimNames:
    family_name: str = "family_name"
    given_name: str = "given_name"
    birthdate: str = "birthdate"
    matricule: str | None = "matricule"  # empty/None: the provider supplies none
    device: str = "luxtrust_device"

    @classmethod
    def from_settings(cls, settings) -> ClaimNames:
        return cls(
            settings.oidc_claim_family_name,
            settings.oidc_claim_given_name,
            settings.oidc_claim_birthdate,
            settings.oidc_claim_matricule or None,
            settings.oidc_claim_device,
        )


_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_birthdate(value) -> dt.date | None:
    """OIDC `birthdate` is YYYY-MM-DD (0000 when the year is withheld); anything else → None."""
    match = _DATE.match(_text(value))
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def identity_from_claims(claims: dict, names: ClaimNames | None = None) -> Identity:
    names = names or ClaimNames()
    matricule = None
    if names.matricule:
        digits = re.sub(r"[\s.-]", "", _text(claims.get(names.matricule)))
        matricule = digits if digits.isascii() and digits.isdigit() and digits else None
    return Identity(
        last_name=_text(claims.get(names.family_name)),
        first_names=_text(claims.get(names.given_name)),
        birth_date=parse_birthdate(claims.get(names.birthdate)),
        matricule=matricule,
    )


def device_from_claims(claims: dict, names: ClaimNames | None = None) -> str | None:
    names = names or ClaimNames()
    device = claims.get(names.device)
    if device in LUXTRUST_DEVICES:
        return device
    amr = claims.get("amr")
    if isinstance(amr, list):
        return next((a for a in amr if a in LUXTRUST_DEVICES), None)
    return None
