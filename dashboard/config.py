"""Settings from the environment, with safe development defaults.

`Settings.from_env()` reads the variables named in the README; `Settings.check()`
refuses what must never run in production (default secret, simulator, dev mailbox).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'esante.sqlite3'}"
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105  # nosec B105
SIMULATOR = "simulator"
MAX_SESSION_HOURS = 24  # a working day: a session is never meant to outlive it


class ConfigurationError(RuntimeError):
    """The settings cannot be used (raised at start-up, never later)."""


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} doit être un nombre entier (reçu : {raw!r}).") from None


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEVELOPMENT_SECRET_KEY
    base_url: str = "http://127.0.0.1:8050"
    smtp_url: str | None = None
    mail_from: str = "Agence eSanté <no-reply@esante.lu>"
    oidc_issuer: str = SIMULATOR
    oidc_client_id: str = "esante-enrolment"
    oidc_client_secret: str = "simulator-secret"  # noqa: S105
    oidc_claim_family_name: str = "family_name"
    oidc_claim_given_name: str = "given_name"
    oidc_claim_birthdate: str = "birthdate"
    oidc_claim_matricule: str = "matricule"
    oidc_claim_device: str = "luxtrust_device"
    invitation_days: int = 30
    max_matricule_attempts: int = 5
    resends_per_day: int = 3
    cgu_version: str = "2024-01"
    blocking_kinds: str = "swapped,typo,different,missing"
    review_sla_working_days: int = 2
    four_eyes: str = (
        "approve:birth_date=different,approve:matricule=different,reject:suspected_fraud"
    )
    retention_days: int = 90
    ratelimit_storage_uri: str | None = None
    trusted_proxies: int = 0
    session_max_hours: int = 12
    demo_on_first_start: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def uses_simulator(self) -> bool:
        return self.oidc_issuer == SIMULATOR

    @property
    def uses_dev_mailbox(self) -> bool:
        return not self.smtp_url

    @classmethod
    def from_env(cls, environ: dict | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        defaults = cls()
        return cls(
            env=env.get("DASHBOARD_ENV", defaults.env),
            database_url=env.get("DATABASE_URL") or defaults.database_url,
            secret_key=env.get("SECRET_KEY") or defaults.secret_key,
            base_url=(env.get("BASE_URL") or defaults.base_url).rstrip("/"),
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=env.get("MAIL_FROM") or defaults.mail_from,
            oidc_issuer=env.get("OIDC_ISSUER") or defaults.oidc_issuer,
            oidc_client_id=env.get("OIDC_CLIENT_ID") or defaults.oidc_client_id,
            oidc_client_secret=env.get("OIDC_CLIENT_SECRET") or defaults.oidc_client_secret,
            oidc_claim_family_name=env.get("OIDC_CLAIM_FAMILY_NAME")
            or defaults.oidc_claim_family_name,
            oidc_claim_given_name=env.get("OIDC_CLAIM_GIVEN_NAME")
            or defaults.oidc_claim_given_name,
            oidc_claim_birthdate=env.get("OIDC_CLAIM_BIRTHDATE") or defaults.oidc_claim_birthdate,
            oidc_claim_matricule=env.get("OIDC_CLAIM_MATRICULE", defaults.oidc_claim_matricule),
            oidc_claim_device=env.get("OIDC_CLAIM_DEVICE") or defaults.oidc_claim_device,
            invitation_days=_int(env, "INVITATION_DAYS", defaults.invitation_days),
            max_matricule_attempts=_int(
                env, "MAX_MATRICULE_ATTEMPTS", defaults.max_matricule_attempts
            ),
            resends_per_day=_int(env, "RESENDS_PER_DAY", defaults.resends_per_day),
            cgu_version=env.get("CGU_VERSION") or defaults.cgu_version,
            blocking_kinds=env.get("IDENTITY_BLOCKING_KINDS") or defaults.blocking_kinds,
            review_sla_working_days=_int(
                env, "REVIEW_SLA_WORKING_DAYS", defaults.review_sla_working_days
            ),
            four_eyes=env.get("FOUR_EYES", defaults.four_eyes),
            retention_days=_int(env, "RETENTION_DAYS", defaults.retention_days),
            ratelimit_storage_uri=env.get("RATELIMIT_STORAGE_URI") or None,
            trusted_proxies=_int(env, "TRUSTED_PROXIES", 0),
            session_max_hours=_int(env, "SESSION_MAX_HOURS", defaults.session_max_hours),
            demo_on_first_start=(env.get("DEMO_ON_FIRST_START") or "1").strip().lower()
            not in ("0", "false", "no", "off"),
        )

    def replace(self, **changes) -> Settings:
        return replace(self, **changes)

    def check(self) -> Settings:
        """Refuse settings that are unsafe for the declared environment."""
        if self.env not in ("development", "production", "test"):
            raise ConfigurationError(
                f"DASHBOARD_ENV doit valoir development, test ou production (reçu : {self.env!r})."
            )
        if self.trusted_proxies < 0:
            raise ConfigurationError("TRUSTED_PROXIES doit être un nombre positif ou nul.")
        if not 1 <= self.session_max_hours <= MAX_SESSION_HOURS:
            # No "0 = unlimited": a typo must not turn the limit off.
            raise ConfigurationError(
                f"SESSION_MAX_HOURS doit être un nombre d'heures entre 1 et {MAX_SESSION_HOURS} "
                f"(reçu : {self.session_max_hours!r})."
            )
        if self.invitation_days < 1 or self.max_matricule_attempts < 1:
            raise ConfigurationError("INVITATION_DAYS et MAX_MATRICULE_ATTEMPTS doivent être ≥ 1.")
        if self.smtp_url:
            parts = urlsplit(self.smtp_url)
            try:
                parts.port  # noqa: B018 - raises on a port that is not a number in range
            except ValueError:
                parts = urlsplit("invalid://")
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise ConfigurationError(
                    "SMTP_URL doit avoir la forme smtp://hôte:port (ou smtps://hôte:port)."
                )
        if self.is_production:
            problems = []
            if self.secret_key == DEVELOPMENT_SECRET_KEY or len(self.secret_key) < 32:
                problems.append("SECRET_KEY doit être défini (au moins 32 caractères aléatoires)")
            if self.uses_simulator:
                problems.append("OIDC_ISSUER doit désigner le fournisseur réel, pas le simulateur")
            if self.uses_dev_mailbox:
                problems.append(
                    "SMTP_URL doit être défini (pas de boîte aux lettres de développement)"
                )
            # Mailed links, the OIDC redirect and the provider's endpoints carry tokens.
            if not _is_https(self.base_url):
                problems.append("BASE_URL doit être l'adresse publique en https://")
            if not self.uses_simulator and not _is_https(self.oidc_issuer):
                problems.append("OIDC_ISSUER doit être une adresse https://")
            if self.database_url.startswith("sqlite"):
                problems.append("DATABASE_URL doit désigner PostgreSQL")
            if problems:
                raise ConfigurationError(
                    "Refus de démarrer en production : " + " ; ".join(problems) + "."
                )
        return self


def _is_https(url: str | None) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme == "https" and bool(parts.hostname)
