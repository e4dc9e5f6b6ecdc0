"""Settings from the environment, with safe development defaults.

`Settings.from_env()` reads the variables named in the README; `Settings.check()`
refuses what must never run in production (default secret, simulator, dev mailbox).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, replace
from email.headerregistry import HeaderRegistry
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dashboard.enrolment import identity
from dashboard.enrolment.codes import RejectionReason

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
CGU_DIR = DATA_DIR / "cgu"
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'esante.sqlite3'}"
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105  # nosec B105
SIMULATOR = "simulator"
MAX_SESSION_HOURS = 24  # a working day: a session is never meant to outlive it
# The embedded development directory's bearer token (never accepted in production, where
# SCIM_URL and SCIM_TOKEN name the identity platform).
DEVELOPMENT_SCIM_TOKEN = "development-scim-token"  # noqa: S105  # nosec B105


class ConfigurationError(RuntimeError):
    """The settings cannot be used (raised at start-up, never later). `problems` lists every
    reason at once, each naming its variable, so one start-up shows all there is to fix."""

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


# --- rules written in a variable, parsed once into types ---------------------------------------


class FourEyesRules(NamedTuple):
    """FOUR_EYES: which decisions need a second reviewer."""

    approve: frozenset[tuple[str, str]]  # (field, kind): approving such a case
    reject: frozenset[str]  # reason codes: rejecting for such a reason


def parse_four_eyes(raw: str | None) -> FourEyesRules:
    """``approve:<field>=<kind>`` and ``reject:<reason>`` items, comma-separated; empty: none.

    Any item that is not one of these refuses to start: a typo must never switch the
    second reviewer off.
    """
    approve, reject = set(), set()
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        verb, colon, rule = (part.strip() for part in item.partition(":"))
        shown = item.strip()
        if not colon or verb not in ("approve", "reject"):
            raise ConfigurationError(
                f"FOUR_EYES : « {shown} » — chaque règle doit commencer par approve: ou reject: "
                "(exemple : approve:birth_date=different,reject:suspected_fraud)."
            )
        if verb == "reject":
            if rule not in RejectionReason.__members__.values():
                raise ConfigurationError(
                    f"FOUR_EYES : « {shown} » — le motif de refus doit être l'un de : "
                    + ", ".join(RejectionReason)
                    + "."
                )
            reject.add(rule)
            continue
        field_name, equals, kind = (part.strip() for part in rule.partition("="))
        if not equals or field_name not in identity.FIELDS:
            raise ConfigurationError(
                f"FOUR_EYES : « {shown} » — la règle doit avoir la forme "
                "approve:<champ>=<type>, avec un champ parmi " + ", ".join(identity.FIELDS) + "."
            )
        if kind not in identity.KINDS:
            raise ConfigurationError(
                f"FOUR_EYES : « {shown} » — le type de différence doit être l'un de : "
                + ", ".join(identity.KINDS)
                + "."
            )
        approve.add((field_name, kind))
    return FourEyesRules(frozenset(approve), frozenset(reject))


def parse_blocking_kinds(raw: str | None) -> frozenset[str]:
    """IDENTITY_BLOCKING_KINDS: the comparison kinds that send a case to manual review."""
    items = [item.strip() for item in (raw or "").split(",") if item.strip()]
    if not items:
        # An empty list would let every identity through: refuse rather than guess.
        raise ConfigurationError(
            "IDENTITY_BLOCKING_KINDS ne doit pas être vide : laissez-la non définie pour les "
            "valeurs par défaut, ou nommez des types parmi " + ", ".join(identity.KINDS) + "."
        )
    unknown = [item for item in items if item not in identity.KINDS]
    if unknown:
        raise ConfigurationError(
            "IDENTITY_BLOCKING_KINDS : type(s) inconnu(s) "
            + ", ".join(f"« {item} »" for item in unknown)
            + " ; chaque type doit être l'un de : "
            + ", ".join(identity.KINDS)
            + "."
        )
    return frozenset(items)


# Accepted spellings of a boolean; anything else is refused rather than guessed.
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


class _Reader:
    """Reads typed variables, noting each unreadable one instead of stopping at the first."""

    def __init__(self, env: dict):
        self.env = env
        self.problems: list[str] = []

    def integer(self, name: str, default: int) -> int:
        raw = self.env.get(name)
        if raw in (None, ""):
            return default
        try:
            return int(raw)
        except ValueError:
            self.problems.append(f"{name} doit être un nombre entier (reçu : {raw!r}).")
            return default

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.env.get(name) or ""
        word = raw.strip().lower()
        if not word:
            return default
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        self.problems.append(
            f"{name} doit valoir 1 ou 0 (ou true/false, yes/no, on/off) (reçu : {raw!r})."
        )
        return default


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEVELOPMENT_SECRET_KEY
    # The previous keys during a rotation: still accepted (sessions, CSRF tokens, sealed
    # links), never used to sign or seal anything new.
    secret_key_fallbacks: tuple[str, ...] = ()
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
    # --- operations (issue 21: /metrics, logs; issue 20: the "Exploitation" page) ---
    metrics_token: str | None = None  # unset: no /metrics at all
    log_format: str = "text"  # text | json
    outbox_stuck_minutes: int = 30  # a pending outbox item older than this is listed
    # Provisioning (SCIM 2.0): unset SCIM_URL means the embedded development directory.
    scim_url: str | None = None
    scim_token: str | None = None
    scim_ca_file: str | None = None
    # --- the background worker and the reminders (issue 21) ---
    reminder_after_days: int = 7
    reminder_before_expiry_days: int = 3
    worker_embedded: bool = True  # `python -m dashboard run` runs the worker beside the app
    worker_mail_seconds: int = 10
    worker_provisioning_seconds: int = 10
    worker_expire_seconds: int = 300
    worker_reminders_seconds: int = 600
    worker_purge_seconds: int = 3600
    worker_metrics_seconds: int = 60

    # Parsed once per Settings (and at start-up by check()): the use cases read the typed rules.
    @functools.cached_property
    def four_eyes_rules(self) -> FourEyesRules:
        return parse_four_eyes(self.four_eyes)

    @functools.cached_property
    def identity_policy(self) -> identity.Policy:
        return identity.Policy(blocking_kinds=parse_blocking_kinds(self.blocking_kinds))

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def uses_simulator(self) -> bool:
        return self.oidc_issuer == SIMULATOR

    @property
    def uses_dev_mailbox(self) -> bool:
        return not self.smtp_url

    @property
    def uses_embedded_directory(self) -> bool:
        return not self.scim_url

    @classmethod
    def from_env(cls, environ: dict | None = None) -> Settings:
        """The settings the environment gives. A value that cannot be read at all raises
        ConfigurationError at once, listing it with whatever check() would refuse too."""
        env = dict(os.environ if environ is None else environ)
        defaults = cls()
        read = _Reader(env)
        settings = cls(
            env=env.get("DASHBOARD_ENV", defaults.env),
            database_url=env.get("DATABASE_URL") or defaults.database_url,
            secret_key=env.get("SECRET_KEY") or defaults.secret_key,
            secret_key_fallbacks=tuple(
                key.strip() for key in env.get("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()
            ),
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
            invitation_days=read.integer("INVITATION_DAYS", defaults.invitation_days),
            max_matricule_attempts=read.integer(
                "MAX_MATRICULE_ATTEMPTS", defaults.max_matricule_attempts
            ),
            resends_per_day=read.integer("RESENDS_PER_DAY", defaults.resends_per_day),
            cgu_version=env.get("CGU_VERSION") or defaults.cgu_version,
            blocking_kinds=env.get("IDENTITY_BLOCKING_KINDS") or defaults.blocking_kinds,
            review_sla_working_days=read.integer(
                "REVIEW_SLA_WORKING_DAYS", defaults.review_sla_working_days
            ),
            four_eyes=env.get("FOUR_EYES", defaults.four_eyes),
            retention_days=read.integer("RETENTION_DAYS", defaults.retention_days),
            ratelimit_storage_uri=env.get("RATELIMIT_STORAGE_URI") or None,
            trusted_proxies=read.integer("TRUSTED_PROXIES", 0),
            session_max_hours=read.integer("SESSION_MAX_HOURS", defaults.session_max_hours),
            demo_on_first_start=read.boolean("DEMO_ON_FIRST_START", defaults.demo_on_first_start),
            scim_url=(env.get("SCIM_URL") or "").rstrip("/") or None,
            scim_token=env.get("SCIM_TOKEN") or None,
            scim_ca_file=env.get("SCIM_CA_FILE") or None,
        )
        # --- operations ---
        settings = replace(
            settings,
            metrics_token=env.get("METRICS_TOKEN") or None,
            log_format=(env.get("LOG_FORMAT") or defaults.log_format).strip().lower(),
            outbox_stuck_minutes=read.integer(
                "OUTBOX_STUCK_MINUTES", defaults.outbox_stuck_minutes
            ),
        )
        # --- the background worker and the reminders ---
        settings = replace(settings, **_worker_settings(read, defaults))
        if read.problems:
            raise ConfigurationError(read.problems + settings.problems())
        return settings

    def replace(self, **changes) -> Settings:
        return replace(self, **changes)

    def check(self) -> Settings:
        """Refuse settings that are wrong anywhere or unsafe for the declared environment."""
        problems = self.problems()
        if problems:
            raise ConfigurationError(problems)
        return self

    def problems(self) -> list[str]:
        """Every reason not to start with these settings (French, each naming its variable).
        No value is echoed that may hold a password (URLs with credentials, secrets)."""
        found = []
        # FOUR_EYES and IDENTITY_BLOCKING_KINDS: parsed now into typed rules, so that a typo
        # refuses to start instead of silently turning a second reviewer or a kind off.
        for parse in (lambda: self.four_eyes_rules, lambda: self.identity_policy):
            try:
                parse()
            except ConfigurationError as exc:
                found += exc.problems
        if self.env not in ("development", "production", "test"):
            found.append(
                f"DASHBOARD_ENV doit valoir development, test ou production (reçu : {self.env!r})."
            )
        if not 1 <= self.session_max_hours <= MAX_SESSION_HOURS:
            # No "0 = unlimited": a typo must not turn the limit off.
            found.append(
                f"SESSION_MAX_HOURS doit être un nombre d'heures entre 1 et {MAX_SESSION_HOURS} "
                f"(reçu : {self.session_max_hours!r})."
            )
        found += _database_problems(self.database_url)
        if not _is_web_address(self.base_url):
            found.append(
                "BASE_URL doit être une adresse http:// ou https:// avec un nom d'hôte, sans "
                f"chemin ni paramètres (reçu : {self.base_url!r})."
            )
        if self.smtp_url:
            found += _smtp_problems(self.smtp_url)
        if not _is_mail_address(self.mail_from):
            found.append(
                "MAIL_FROM doit être une adresse email, par exemple "
                f"« Agence eSanté <no-reply@esante.lu> » (reçu : {self.mail_from!r})."
            )
        if not self.uses_simulator and not _is_issuer(self.oidc_issuer):
            found.append(
                f"OIDC_ISSUER doit valoir {SIMULATOR} ou être l'adresse https:// du fournisseur "
                f"OpenID Connect (reçu : {self.oidc_issuer!r})."
            )
        for name, value in (
            ("OIDC_CLIENT_ID", self.oidc_client_id),
            ("OIDC_CLIENT_SECRET", self.oidc_client_secret),
        ):
            if value != value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
                found.append(
                    f"{name} ne doit contenir ni espace au début ou à la fin, ni caractère de "
                    "contrôle (un retour à la ligne copié avec la valeur ?)."
                )
        found += self._claim_problems()
        found += _scim_problems(self)
        for name, value, low, high in (
            ("INVITATION_DAYS", self.invitation_days, 1, 365),
            ("MAX_MATRICULE_ATTEMPTS", self.max_matricule_attempts, 1, 20),
            ("RESENDS_PER_DAY", self.resends_per_day, 1, 100),
            # A year of working days at most: deadlines stay datable (working_days.py).
            ("REVIEW_SLA_WORKING_DAYS", self.review_sla_working_days, 1, 260),
            ("RETENTION_DAYS", self.retention_days, 1, 3650),
            ("TRUSTED_PROXIES", self.trusted_proxies, 0, 10),
        ):
            if not low <= value <= high:
                found.append(
                    f"{name} doit être un nombre entier entre {low} et {high} (reçu : {value})."
                )
        found += self._worker_problems()
        if not CGU_VERSION_RE.fullmatch(self.cgu_version):
            found.append(
                "CGU_VERSION doit être un nom de version (lettres, chiffres, « . », « _ », « - »), "
                f"par exemple 2024-01 (reçu : {self.cgu_version!r})."
            )
        elif not (CGU_DIR / f"{self.cgu_version}.fr.md").is_file():
            found.append(
                f"CGU_VERSION : aucun texte pour la version {self.cgu_version!r} "
                f"(fichier data/cgu/{self.cgu_version}.fr.md absent)."
            )
        if self.ratelimit_storage_uri:
            scheme = urlsplit(self.ratelimit_storage_uri).scheme
            if scheme not in RATELIMIT_SCHEMES:
                found.append(
                    "RATELIMIT_STORAGE_URI doit commencer par redis:// (ou rediss://, "
                    f"redis+sentinel://, redis+cluster://, memory://) (reçu : {scheme!r})."
                )
        if self.is_production:
            problems = []
            if self.secret_key == DEVELOPMENT_SECRET_KEY or len(self.secret_key) < 32:
                problems.append("SECRET_KEY doit être défini (au moins 32 caractères aléatoires)")
            problems += _fallback_problems(self.secret_key, self.secret_key_fallbacks)
            if self.uses_simulator:
                problems.append("OIDC_ISSUER doit désigner le fournisseur réel, pas le simulateur")
            elif self.oidc_client_secret == SIMULATOR_CLIENT_SECRET:
                problems.append(
                    "OIDC_CLIENT_SECRET doit être celui du fournisseur, pas celui du simulateur"
                )
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
            problems += _scim_production_problems(self)
            if problems:
                found.append("Refus de démarrer en production : " + " ; ".join(problems) + ".")
        found += self._operations_problems()
        return found

    def _operations_problems(self) -> list[str]:
        found = []
        token = self.metrics_token
        # Whoever holds it reads the service's figures: as strong as a key, and typeable.
        if token is not None and (
            len(token) < MIN_METRICS_TOKEN or not METRICS_TOKEN_RE.fullmatch(token)
        ):
            found.append(
                f"METRICS_TOKEN doit compter au moins {MIN_METRICS_TOKEN} caractères, lettres, "
                "chiffres, « - », « _ », « . », « ~ » (laissez-la vide pour ne pas exposer "
                "/metrics)."
            )
        if self.log_format not in LOG_FORMATS:
            found.append(f"LOG_FORMAT doit valoir text ou json (reçu : {self.log_format!r}).")
        if not 1 <= self.outbox_stuck_minutes <= 10080:
            found.append(
                "OUTBOX_STUCK_MINUTES doit être un nombre entier entre 1 et 10080 "
                f"(reçu : {self.outbox_stuck_minutes})."
            )
        return found

    def _worker_problems(self) -> list[str]:
        """The worker's intervals and the reminders' days (issue 21)."""
        found = []
        for name, value, low, high in (
            ("REMINDER_AFTER_DAYS", self.reminder_after_days, 1, 365),
            ("REMINDER_BEFORE_EXPIRY_DAYS", self.reminder_before_expiry_days, 1, 365),
            *((f"WORKER_{job.upper()}_SECONDS", seconds, 1, 86400) for job, seconds in (
                ("mail", self.worker_mail_seconds),
                ("provisioning", self.worker_provisioning_seconds),
                ("expire", self.worker_expire_seconds),
                ("reminders", self.worker_reminders_seconds),
                ("purge", self.worker_purge_seconds),
                ("metrics", self.worker_metrics_seconds),
            )),
        ):  # fmt: skip
            if not low <= value <= high:
                found.append(
                    f"{name} doit être un nombre entier entre {low} et {high} (reçu : {value})."
                )
        # A reminder due after the link's death would never go: say so rather than skip it.
        for name, value in (
            ("REMINDER_AFTER_DAYS", self.reminder_after_days),
            ("REMINDER_BEFORE_EXPIRY_DAYS", self.reminder_before_expiry_days),
        ):
            if value >= self.invitation_days >= 1:
                found.append(
                    f"{name} doit être inférieur à INVITATION_DAYS ({self.invitation_days}) : "
                    f"sinon le rappel partirait après l'expiration du lien (reçu : {value})."
                )
        return found

    def _claim_problems(self) -> list[str]:
        claims = {
            "OIDC_CLAIM_FAMILY_NAME": self.oidc_claim_family_name,
            "OIDC_CLAIM_GIVEN_NAME": self.oidc_claim_given_name,
            "OIDC_CLAIM_BIRTHDATE": self.oidc_claim_birthdate,
            "OIDC_CLAIM_MATRICULE": self.oidc_claim_matricule,
            "OIDC_CLAIM_DEVICE": self.oidc_claim_device,
        }
        found = []
        for name, claim in claims.items():
            if claim == "" and name == "OIDC_CLAIM_MATRICULE":
                continue  # set and empty: the provider sends no matricule
            if not CLAIM_NAME_RE.fullmatch(claim):
                found.append(
                    f"{name} doit être un nom de claim OpenID Connect (lettres, chiffres, "
                    f"« _ », « . », « : », « / », « - », sans espace) (reçu : {claim!r})."
                )
        by_claim: dict[str, list[str]] = {}
        for name, claim in claims.items():
            if claim:
                by_claim.setdefault(claim, []).append(name)
        for claim, names in by_claim.items():
            if len(names) > 1:
                found.append(f"{' et '.join(names)} désignent le même claim ({claim!r}).")
        return found


SIMULATOR_CLIENT_SECRET = Settings.oidc_client_secret
CGU_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CLAIM_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/#-]{0,199}")
RATELIMIT_SCHEMES = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")
MIN_METRICS_TOKEN = 32
METRICS_TOKEN_RE = re.compile(r"[A-Za-z0-9._~-]+")  # what a Bearer header carries as is
LOG_FORMATS = ("text", "json")
SMTP_BOOLEANS = ("1", "true", "yes", "0", "false", "no")  # what the SMTP transport reads


def _database_problems(url: str) -> list[str]:
    expected = (
        "DATABASE_URL doit désigner SQLite (sqlite:///chemin/fichier.sqlite3) ou PostgreSQL "
        "(postgresql://utilisateur@hôte/base)"
    )
    scheme = url.split("://", 1)[0] if "://" in url else ""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return [f"{expected} (reçu : une adresse illisible)."]
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        return []
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        if not parsed.database or parsed.database == ":memory:":
            # Each connection would get its own empty database.
            return [f"{expected} : une base SQLite en mémoire ne convient pas."]
        return []
    return [f"{expected} (reçu : schéma {scheme!r})."]


def _smtp_problems(url: str) -> list[str]:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        parts = urlsplit("invalid://")
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        return ["SMTP_URL doit avoir la forme smtp://hôte:port (ou smtps://hôte:port)."]
    found = []
    query = parse_qs(parts.query, keep_blank_values=True)
    for key in sorted(set(query) - {"starttls"}):
        found.append(
            f"SMTP_URL ne doit avoir d'autre paramètre que starttls (reçu : {key!r} inconnu)."
        )
    starttls = query.get("starttls", ["0"])
    # A misspelt value would silently send the mail (and the password) unencrypted.
    if len(starttls) != 1 or starttls[0] not in SMTP_BOOLEANS:
        found.append(
            f"SMTP_URL : starttls doit valoir 1 ou 0 (ou true/false, yes/no) (reçu : {starttls!r})."
        )
    elif parts.scheme == "smtps" and starttls[0] in TRUE_WORDS:
        found.append("SMTP_URL ne doit pas demander starttls avec smtps:// (déjà chiffré).")
    return found


def _is_web_address(url: str, *, path: bool = False) -> bool:
    """An http(s) origin: scheme and host, nothing the app could not serve under (with
    `path`, a path is allowed too: a service's base address)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and (path or parts.path in ("", "/"))
        and not (parts.query or parts.fragment or parts.username or parts.password)
        and not any(c.isspace() for c in url)
    )


def _is_issuer(url: str) -> bool:
    """An OpenID Connect issuer: http(s), a host, maybe a path; no query, no fragment."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not (parts.query or parts.fragment or parts.username or parts.password)
        and not any(c.isspace() for c in url)
    )


def _is_mail_address(value: str) -> bool:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return False  # a line break would inject headers
    try:
        header = HeaderRegistry()("From", value)
        addresses = header.addresses
    except Exception:  # noqa: BLE001 - the parser fails on some malformed input (e.g. "a@")
        return False
    return (
        not header.defects
        and len(addresses) == 1
        and bool(addresses[0].username)
        and bool(addresses[0].domain)
    )


def _fallback_problems(secret_key: str, fallbacks: tuple[str, ...]) -> list[str]:
    # A fallback signs nothing new but still opens sessions: it must be as strong as a key.
    problems = []
    if DEVELOPMENT_SECRET_KEY in fallbacks:
        problems.append("SECRET_KEY_FALLBACKS ne peut contenir la clé de développement")
    elif any(len(key) < 32 for key in fallbacks):
        problems.append("SECRET_KEY_FALLBACKS : chaque clé doit compter au moins 32 caractères")
    if secret_key in fallbacks:
        problems.append("SECRET_KEY_FALLBACKS ne doit pas contenir SECRET_KEY (la clé courante)")
    return problems


def _is_https(url: str | None) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme == "https" and bool(parts.hostname)


# --- provisioning (SCIM 2.0) ----------------------------------------------------------------


def _scim_problems(settings: Settings) -> list[str]:
    found = []
    if settings.scim_url and not _is_web_address(settings.scim_url, path=True):
        found.append(
            "SCIM_URL doit être l'adresse http(s):// du service SCIM 2.0, par exemple "
            "https://idp.esante.lu/scim/v2 (sans identifiants ni paramètres)."
        )
    token = settings.scim_token
    if token is not None and (token != token.strip() or any(ord(c) < 33 for c in token)):
        found.append(
            "SCIM_TOKEN ne doit contenir ni espace ni caractère de contrôle (un retour à la "
            "ligne copié avec la valeur ?)."
        )
    if settings.scim_token and not settings.scim_url:
        found.append("SCIM_TOKEN est défini sans SCIM_URL : indiquez l'adresse du service SCIM.")
    if settings.scim_ca_file and not Path(settings.scim_ca_file).is_file():
        found.append(
            f"SCIM_CA_FILE doit désigner un fichier existant (introuvable : "
            f"{settings.scim_ca_file!r}) : le certificat (PEM) de l'autorité du service SCIM, "
            "ou laissez la variable vide."
        )
    return found


def _scim_production_problems(settings: Settings) -> list[str]:
    problems = []
    if not settings.scim_url:
        problems.append("SCIM_URL doit désigner la plateforme d'identité (pas l'annuaire intégré)")
    elif not _is_https(settings.scim_url):
        problems.append("SCIM_URL doit être une adresse https://")
    if not settings.scim_token or settings.scim_token == DEVELOPMENT_SCIM_TOKEN:
        problems.append("SCIM_TOKEN doit être défini (le jeton fourni par la plateforme)")
    return problems


# --- the background worker and the reminders (issue 21) ---------------------------------------


def _worker_settings(read: _Reader, defaults: Settings) -> dict:
    return {
        "reminder_after_days": read.integer("REMINDER_AFTER_DAYS", defaults.reminder_after_days),
        "reminder_before_expiry_days": read.integer(
            "REMINDER_BEFORE_EXPIRY_DAYS", defaults.reminder_before_expiry_days
        ),
        "worker_embedded": read.boolean("WORKER_EMBEDDED", defaults.worker_embedded),
        **{
            f"worker_{job}_seconds": read.integer(
                f"WORKER_{job.upper()}_SECONDS", getattr(defaults, f"worker_{job}_seconds")
            )
            for job in ("mail", "provisioning", "expire", "reminders", "purge", "metrics")
        },
    }
