"""Settings from the environment and the start-up refusals (issue #7, point 7).

`Settings.from_env()` parses the variables of the README; `Settings.check()` refuses what
must never run, above all in production: the development SECRET_KEY or a short one, the
LuxTrust simulator, the development mailbox (no SMTP_URL), SQLite. `create_app()` calls
`check()` first, so the same settings are refused by the application factory as well.
"""

from __future__ import annotations

import re
import secrets

import pytest

from dashboard import config
from dashboard.app import create_app
from dashboard.config import (
    DEFAULT_DATABASE_URL,
    DEVELOPMENT_SECRET_KEY,
    SIMULATOR,
    ConfigurationError,
    Settings,
)

# A production configuration that check() must accept. Nothing here is contacted when the
# app is built: the database engine connects lazily and the OIDC discovery document is
# fetched at the first login (the .invalid / .example names could not be resolved anyway).
PRODUCTION = {
    "DASHBOARD_ENV": "production",
    "SECRET_KEY": "p" * 16 + secrets.token_urlsafe(32),
    "DATABASE_URL": "postgresql://esante@db.esante.invalid:5432/esante",
    "BASE_URL": "https://enrolment.esante.example/",
    "SMTP_URL": "smtp://mail.esante.invalid:587?starttls=1",
    "OIDC_ISSUER": "https://login.luxtrust.example",
    "OIDC_CLIENT_ID": "esante-enrolment",
    "OIDC_CLIENT_SECRET": "a-client-secret-from-the-broker",
    "SCIM_URL": "https://idp.esante.invalid/scim/v2",
    "SCIM_TOKEN": "a-bearer-token-from-the-identity-platform",
}


def production(**overrides) -> Settings:
    env = {**PRODUCTION, **overrides}
    return Settings.from_env({k: v for k, v in env.items() if v is not None})


# --- from_env: parsing ----------------------------------------------------------------------


def test_an_empty_environment_gives_the_development_defaults():
    s = Settings.from_env({})
    assert s == Settings()
    assert s.env == "development"
    assert s.secret_key == DEVELOPMENT_SECRET_KEY
    assert s.database_url == DEFAULT_DATABASE_URL
    assert s.uses_simulator and s.uses_dev_mailbox and not s.is_production
    assert s.ratelimit_storage_uri is None and s.trusted_proxies == 0
    assert s.check() is s  # development defaults are allowed in development


def test_every_variable_is_read(monkeypatch, tmp_path):
    (tmp_path / "2025-06.fr.md").write_text("# CGU 2025-06", encoding="utf-8")
    monkeypatch.setattr(config, "CGU_DIR", tmp_path)
    s = Settings.from_env(
        {
            **PRODUCTION,
            "MAIL_FROM": "eSanté <noreply@esante.lu>",
            "INVITATION_DAYS": "14",
            "MAX_MATRICULE_ATTEMPTS": "3",
            "RESENDS_PER_DAY": "2",
            "REVIEW_SLA_WORKING_DAYS": "5",
            "CGU_VERSION": "2025-06",
            "IDENTITY_BLOCKING_KINDS": "different",
            "FOUR_EYES": "",
            "OIDC_CLAIM_FAMILY_NAME": "nom",
            "OIDC_CLAIM_GIVEN_NAME": "prenom",
            "OIDC_CLAIM_BIRTHDATE": "date_naissance",
            "OIDC_CLAIM_MATRICULE": "",
            "OIDC_CLAIM_DEVICE": "device",
            "RATELIMIT_STORAGE_URI": "redis://cache:6379/2",
            "TRUSTED_PROXIES": "2",
            "DEMO_ON_FIRST_START": "0",
        }
    )
    assert s.is_production
    assert s.base_url == "https://enrolment.esante.example"  # trailing slash removed
    assert s.smtp_url == PRODUCTION["SMTP_URL"]
    assert s.mail_from == "eSanté <noreply@esante.lu>"
    assert (s.invitation_days, s.max_matricule_attempts, s.resends_per_day) == (14, 3, 2)
    assert s.review_sla_working_days == 5
    assert s.cgu_version == "2025-06"
    assert s.blocking_kinds == "different"
    assert s.four_eyes == ""  # an empty FOUR_EYES switches the rule off (kept, not defaulted)
    assert (s.oidc_claim_family_name, s.oidc_claim_given_name) == ("nom", "prenom")
    assert s.oidc_claim_birthdate == "date_naissance"
    assert s.oidc_claim_matricule == ""  # the broker sends no matricule: explicitly empty
    assert s.oidc_claim_device == "device"
    assert (s.oidc_client_id, s.oidc_client_secret) == (
        "esante-enrolment",
        PRODUCTION["OIDC_CLIENT_SECRET"],
    )
    assert s.ratelimit_storage_uri == "redis://cache:6379/2"
    assert s.trusted_proxies == 2
    assert s.demo_on_first_start is False
    assert s.check() is s


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "SMTP_URL", "OIDC_ISSUER"])
def test_empty_strings_mean_unset(name):
    s = Settings.from_env({name: ""})
    assert s == Settings()


@pytest.mark.parametrize(
    ("raw", "expected"), [("30", 30), (" 7", 7), ("0012", 12), ("-1", -1), ("", 30)]
)
def test_integers_are_parsed(raw, expected):
    assert Settings.from_env({"INVITATION_DAYS": raw}).invitation_days == expected


@pytest.mark.parametrize(
    "name",
    [
        "INVITATION_DAYS",
        "MAX_MATRICULE_ATTEMPTS",
        "RESENDS_PER_DAY",
        "REVIEW_SLA_WORKING_DAYS",
        "RETENTION_DAYS",
        "TRUSTED_PROXIES",
    ],
)
@pytest.mark.parametrize("raw", ["trente", "3.5", "1e3", "0x10", "10 jours", "--1"])
def test_a_bad_integer_is_refused_in_french(name, raw):
    with pytest.raises(ConfigurationError) as err:
        Settings.from_env({name: raw})
    message = str(err.value)
    assert message.startswith(f"{name} doit être un nombre entier")
    assert repr(raw) in message  # the faulty value is quoted, so it can be found


@pytest.mark.parametrize("raw", ["0", "false", "no"])
def test_demo_on_first_start_can_be_switched_off(raw):
    assert Settings.from_env({"DEMO_ON_FIRST_START": raw}).demo_on_first_start is False


@pytest.mark.parametrize("raw", ["1", "true", "yes", ""])
def test_demo_on_first_start_is_on_otherwise(raw):
    assert Settings.from_env({"DEMO_ON_FIRST_START": raw}).demo_on_first_start is True


@pytest.mark.parametrize("raw", ["False", "FALSE", "No", "off"])
def test_demo_on_first_start_off_in_any_spelling(raw):
    assert Settings.from_env({"DEMO_ON_FIRST_START": raw}).demo_on_first_start is False


# --- check(): any environment ---------------------------------------------------------------


@pytest.mark.parametrize("env", ["prod", "Production", "staging", "", "dev"])
def test_an_unknown_dashboard_env_is_refused(env):
    with pytest.raises(ConfigurationError, match="DASHBOARD_ENV doit valoir"):
        Settings.from_env({"DASHBOARD_ENV": env}).check()


@pytest.mark.parametrize(
    ("name", "value"), [("INVITATION_DAYS", "0"), ("MAX_MATRICULE_ATTEMPTS", "0")]
)
def test_counts_below_one_are_refused(name, value):
    with pytest.raises(ConfigurationError, match=f"^{name} doit être un nombre entier entre 1"):
        Settings.from_env({name: value}).check()


@pytest.mark.parametrize("value", ["0", "-2", "261", "100000000"])
def test_a_review_sla_outside_one_year_of_working_days_is_refused(value):
    # A huge one would push the deadlines past the last date a datetime holds: every
    # queue page would fail instead of the start.
    with pytest.raises(ConfigurationError) as err:
        Settings.from_env({"REVIEW_SLA_WORKING_DAYS": value}).check()
    assert str(err.value) == (
        f"REVIEW_SLA_WORKING_DAYS doit être un nombre entier entre 1 et 260 (reçu : {value})."
    )


@pytest.mark.parametrize("value", ["1", "2", "260"])
def test_a_review_sla_within_one_year_is_accepted(value):
    settings = Settings.from_env({"REVIEW_SLA_WORKING_DAYS": value}).check()
    assert settings.review_sla_working_days == int(value)


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.esante.lu:25",
        "mail.esante.lu:25",
        "smtp://",
        "smtp://:25",
        "smtp://mail.esante.lu:99999",
        "smtp://mail.esante.lu:port",
        "smtp://mail.esante.lu:-1",
        "smtps//mail.esante.lu",
    ],
)
def test_a_bad_smtp_url_is_refused(url):
    with pytest.raises(ConfigurationError, match="SMTP_URL doit avoir la forme smtp://"):
        Settings.from_env({"SMTP_URL": url}).check()


@pytest.mark.parametrize(
    "url",
    [
        "smtp://127.0.0.1:2525",
        "smtp://mail.esante.lu",
        "smtps://user:p%40ss@mail.esante.lu:465",
        "smtp://mail.esante.lu:587?starttls=1",
    ],
)
def test_good_smtp_urls_are_accepted(url):
    assert Settings.from_env({"SMTP_URL": url}).check().smtp_url == url


def test_a_negative_trusted_proxies_is_refused():
    with pytest.raises(ConfigurationError):
        Settings.from_env({"TRUSTED_PROXIES": "-1"}).check()


# --- check(): production ----------------------------------------------------------------------


def test_a_proper_production_configuration_is_accepted():
    s = production()
    assert s.check() is s
    assert s.is_production and not s.uses_simulator and not s.uses_dev_mailbox


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY doit être défini"),
        ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "SECRET_KEY doit être défini"),
        ({"SECRET_KEY": "k" * 31}, "SECRET_KEY doit être défini"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY doit être défini"),
        ({"OIDC_ISSUER": None}, "OIDC_ISSUER doit désigner le fournisseur réel"),
        ({"OIDC_ISSUER": SIMULATOR}, "OIDC_ISSUER doit désigner le fournisseur réel"),
        ({"SMTP_URL": None}, "SMTP_URL doit être défini"),
        ({"SMTP_URL": ""}, "SMTP_URL doit être défini"),
        ({"DATABASE_URL": None}, "DATABASE_URL doit désigner PostgreSQL"),
        ({"DATABASE_URL": "sqlite:////srv/esante.sqlite3"}, "DATABASE_URL doit désigner"),
    ],
    ids=[
        "no-secret",
        "development-secret",
        "31-characters",
        "short-secret",
        "no-issuer",
        "simulator",
        "no-smtp",
        "empty-smtp",
        "default-sqlite",
        "sqlite",
    ],
)
def test_production_refuses_to_start(overrides, problem):
    settings = production(**overrides)
    with pytest.raises(ConfigurationError) as err:
        settings.check()
    message = str(err.value)
    assert message.startswith("Refus de démarrer en production : ")
    assert problem in message
    # The application factory refuses the same settings before building anything.
    with pytest.raises(ConfigurationError, match="Refus de démarrer en production"):
        create_app(settings)


def test_a_32_character_secret_is_enough():
    assert production(SECRET_KEY="k" * 32).check().secret_key == "k" * 32


def test_every_production_problem_is_listed_at_once():
    with pytest.raises(ConfigurationError) as err:
        Settings(env="production").check()
    message = str(err.value)
    for problem in ("SECRET_KEY", "OIDC_ISSUER", "SMTP_URL", "DATABASE_URL"):
        assert problem in message


@pytest.mark.parametrize(
    "settings",
    [
        Settings(env="staging"),
        Settings(smtp_url="smtp://mail.esante.lu:70000"),
        Settings(invitation_days=0),
    ],
    ids=["unknown-env", "bad-smtp-port", "zero-days"],
)
def test_create_app_refuses_what_check_refuses(settings):
    with pytest.raises(ConfigurationError):
        create_app(settings)


def test_the_simulator_refuses_production_even_without_check(monkeypatch):
    """Defence in depth: mounting the simulator itself refuses a production app."""
    import flask

    from dashboard.luxtrust import simulator

    with pytest.raises(ConfigurationError, match="simulateur LuxTrust"):
        simulator.init_app(flask.Flask(__name__), Settings(env="production"))


def test_create_app_in_production_contacts_nothing_and_hardens_cookies():
    """The production factory builds without any network or database access (the hosts
    above cannot even be resolved) and turns on the Secure cookie flags."""
    app = create_app(production())
    config = app.server.config
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SECRET_KEY"] == PRODUCTION["SECRET_KEY"]
    assert "luxtrust_simulator" not in app.server.blueprints


@pytest.mark.parametrize("base_url", [None, "http://enrolment.esante.lu"])
def test_production_refuses_a_base_url_that_is_not_https(base_url):
    with pytest.raises(ConfigurationError, match="BASE_URL"):
        production(BASE_URL=base_url).check()


@pytest.mark.parametrize("issuer", ["login.luxtrust.lu", "http://login.luxtrust.lu"])
def test_production_refuses_an_issuer_that_is_not_an_https_url(issuer):
    with pytest.raises(ConfigurationError, match="OIDC_ISSUER"):
        production(OIDC_ISSUER=issuer).check()


# --- every README variable: a bad value refuses to start, naming it (issue #17) ---------------

README = config.PROJECT_ROOT / "README.md"
# Their typed rules have more tests of their own (tests/unit/test_config_rules.py).
# Read by prometheus-client itself (multiprocess mode), not by Settings.
PARSED_ELSEWHERE: set[str] = {"PROMETHEUS_MULTIPROC_DIR"}

# variable -> bad values; each is refused by check() (or already by from_env) in development,
# except where "production" says it is a production refusal.
BAD_VALUES = {
    "DASHBOARD_ENV": ["prod", "Production", "staging", "developpement"],
    "DATABASE_URL": [
        "mysql://esante@db/esante",
        "postgresql+psycopg2://esante@db/esante",  # a driver that is not installed
        "sqlite://",  # in memory: every connection its own empty database
        "sqlite:///:memory:",
        "esante.sqlite3",
        "postgresq://esante@db/esante",
    ],
    "SECRET_KEY": ["production:short", "production:" + "k" * 31],
    "SECRET_KEY_FALLBACKS": ["production:short", "production:" + "d" * 40 + ",tiny"],
    "BASE_URL": [
        "esante.lu",
        "127.0.0.1:8050",
        "http://",
        "ftp://esante.lu",
        "https://esante.lu/inscription",
        "https://esante.lu?x=1",
        "https://esante.lu:99999",
        "https://user:pass@esante.lu",
        "https://esante .lu",
    ],
    "SMTP_URL": [
        "http://mail.esante.lu",
        "smtp://mail.esante.lu:587?starttls=ture",
        "smtp://mail.esante.lu:587?starttls=True",  # the transport reads lower case only
        "smtp://mail.esante.lu:587?startls=1",
        "smtp://mail.esante.lu:587?starttls=1&starttls=0",
        "smtps://mail.esante.lu?starttls=1",
    ],
    "MAIL_FROM": [
        "esante.lu",
        "Agence eSanté <no-reply>",
        "a@esante.lu, b@esante.lu",
        "no-reply@esante.lu\r\nBcc: victim@example.com",
        "Agence eSanté <no-reply@esante.lu",
        "no-reply@",
    ],
    "OIDC_ISSUER": [
        "simulateur",
        "Simulator",
        "login.luxtrust.lu",
        "ftp://login.luxtrust.lu",
        "https://login.luxtrust.lu/realms/esante?x=1",
        "https://login.luxtrust.lu#x",
    ],
    "OIDC_CLIENT_ID": ["esante-enrolment\n", " esante-enrolment", "esante\tenrolment"],
    "OIDC_CLIENT_SECRET": [
        "a-client-secret\n",
        "production:simulator-secret",  # the simulator's own secret, with a real broker
    ],
    "INVITATION_DAYS": ["0", "-1", "366", "9" * 30],
    "MAX_MATRICULE_ATTEMPTS": ["0", "-5", "21"],
    "RESENDS_PER_DAY": ["0", "-1", "101"],
    "CGU_VERSION": ["2099-01", "2024-1", "../cgu/2024-01", "2024-01 ", ".hidden"],
    "REVIEW_SLA_WORKING_DAYS": ["0", "-2", "261"],
    "FOUR_EYES": ["aprove:birth_date=different", "reject:suspected-fraud", "approve:nom=typo"],
    "IDENTITY_BLOCKING_KINDS": ["typo,diferent", "Missing", " , "],
    "RETENTION_DAYS": ["0", "-90", "3651"],
    "SESSION_MAX_HOURS": ["0", "25", "douze"],
    "RATELIMIT_STORAGE_URI": [
        "reddis://cache:6379/0",
        "cache:6379",
        "memcached://cache:11211",  # its client library is not installed
        "async+redis://cache:6379/0",
    ],
    "TRUSTED_PROXIES": ["-1", "11", "un"],
    "OIDC_CLAIM_FAMILY_NAME": ["family name", "family_name,given_name", "nom\n", "given_name"],
    "OIDC_CLAIM_GIVEN_NAME": ["given name", '"given_name"', "family_name"],
    "OIDC_CLAIM_BIRTHDATE": ["birth date", "1990-01-01", "date;naissance"],
    "OIDC_CLAIM_MATRICULE": ["matricule cns", " ", "birthdate"],
    "OIDC_CLAIM_DEVICE": ["luxtrust device", "é", "amr,device"],
    "DEMO_ON_FIRST_START": ["ture", "oui", "2", "yes please", "-1"],
    # operations (issue 21)
    "METRICS_TOKEN": ["short", "x" * 31, "with space " + "x" * 32],
    "LOG_FORMAT": ["xml", "jsonl", "texte"],
    "OUTBOX_STUCK_MINUTES": ["0", "10081", "trente"],
    "SCIM_URL": ["idp.esante.lu/scim/v2", "ftp://idp.esante.lu/scim", "production:http://idp/scim"],
    "SCIM_TOKEN": ["production:with space", "production:line\nbreak"],
    "SCIM_CA_FILE": ["production:/nonexistent/scim-ca.pem"],
    "REMINDER_AFTER_DAYS": ["0", "sept", "-1"],
    "REMINDER_BEFORE_EXPIRY_DAYS": ["0", "trois", "-3"],
    "WORKER_EMBEDDED": ["peut-être"],
    **{
        f"WORKER_{job}_SECONDS": ["0", "86401", "dix"]
        for job in ("MAIL", "PROVISIONING", "EXPIRE", "REMINDERS", "PURGE", "METRICS")
    },
}


def _readme_variables() -> set[str]:
    """The variables of the README's configuration table (first column, in backquotes)."""
    text = README.read_text(encoding="utf-8")
    table = text.split("## Configuration (environment variables)", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_every_readme_variable_has_bad_values_here():
    listed = _readme_variables()
    assert len(listed) >= 25  # the table was found and read
    assert listed - PARSED_ELSEWHERE == set(BAD_VALUES)


def _bad_cases():
    for name, values in BAD_VALUES.items():
        for value in values:
            yield pytest.param(name, value, id=f"{name}={value!r}")


@pytest.mark.parametrize(("name", "value"), _bad_cases())
def test_a_bad_value_refuses_to_start_with_a_french_message_naming_it(name, value):
    environment, _, raw = (
        value.rpartition(":") if value.startswith("production:") else ("", "", value)
    )
    env = {**PRODUCTION, name: raw} if environment == "production" else {name: raw}
    with pytest.raises(ConfigurationError) as err:
        Settings.from_env(env).check()
    message = str(err.value)
    assert name in message
    assert FRENCH_WORDS.search(message), message
    # Nothing else is blamed: the rest of this environment is fine.
    other = {n for n in BAD_VALUES if n != name and re.search(rf"\b{n}\b", message)}
    duplicate_claim = name.startswith("OIDC_CLAIM_") and "même claim" in message
    assert not other or duplicate_claim, message
    # The application factory refuses it too.
    with pytest.raises(ConfigurationError):
        create_app(Settings.from_env(env))


FRENCH_WORDS = re.compile(r"\b(doit|aucun|désignent|Refus de démarrer)\b")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DATABASE_URL", "mysql://esante:s3cr3t-pw@db/esante"),
        ("SMTP_URL", "smtp://mail:s3cr3t-pw@mail.esante.lu:587?starttls=ture"),
        ("RATELIMIT_STORAGE_URI", "reddis://:s3cr3t-pw@cache:6379/0"),
        ("OIDC_CLIENT_SECRET", "s3cr3t-pw\n"),
    ],
)
def test_a_refused_value_that_may_hold_a_password_is_not_echoed(name, secret):
    with pytest.raises(ConfigurationError) as err:
        Settings.from_env({name: secret}).check()
    assert name in str(err.value)
    assert "s3cr3t-pw" not in str(err.value)


def test_every_problem_is_reported_at_once():
    env = {
        "INVITATION_DAYS": "trente",
        "DEMO_ON_FIRST_START": "ture",
        "RETENTION_DAYS": "0",
        "MAIL_FROM": "esante.lu",
        "BASE_URL": "esante.lu",
    }
    with pytest.raises(ConfigurationError) as err:
        Settings.from_env(env)  # unreadable values: refused by from_env, with the others
    assert len(err.value.problems) == 5
    for name in env:
        assert sum(name in p for p in err.value.problems) == 1, name
    assert str(err.value) == "\n".join(err.value.problems)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("Yes", True), ("ON", True), (" 0 ", False), ("off", False)],
)
def test_demo_on_first_start_reads_the_usual_spellings(raw, expected):
    assert Settings.from_env({"DEMO_ON_FIRST_START": raw}).demo_on_first_start is expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgres://esante@db/esante"),
        ("DATABASE_URL", "postgresql+psycopg://esante@db/esante"),
        ("DATABASE_URL", "postgresql:///esante"),  # the local socket
        ("DATABASE_URL", "sqlite:////srv/esante/esante.sqlite3"),
        ("BASE_URL", "https://inscription.esante.lu/"),
        ("BASE_URL", "http://localhost:8050"),
        ("OIDC_ISSUER", "https://login.esante.lu/realms/esante"),
        ("OIDC_ISSUER", "http://127.0.0.1:9000"),  # development: an OIDC provider on loopback
        ("MAIL_FROM", "no-reply@esante.lu"),
        ("MAIL_FROM", '"Agence eSanté, Luxembourg" <no-reply@esante.lu>'),
        ("SMTP_URL", "smtp://mail.esante.lu:587?starttls=true"),
        ("SMTP_URL", "smtp://mail.esante.lu:25?starttls=0"),
        ("RATELIMIT_STORAGE_URI", "rediss://cache.esante.lu:6380/0"),
        ("RATELIMIT_STORAGE_URI", "redis+sentinel://cache:26379/esante"),
        ("RATELIMIT_STORAGE_URI", "memory://"),
        ("OIDC_CLAIM_MATRICULE", "https://esante.lu/claims/matricule"),
        ("OIDC_CLAIM_DEVICE", "acr"),
        ("INVITATION_DAYS", "365"),
        ("MAX_MATRICULE_ATTEMPTS", "1"),
        ("RETENTION_DAYS", "3650"),
        ("TRUSTED_PROXIES", "10"),
        ("CGU_VERSION", "2024-01"),
    ],
)
def test_good_values_are_accepted(name, value):
    assert Settings.from_env({name: value}).check()


# --- SECRET_KEY_FALLBACKS: the previous keys during a rotation -------------------------------

OLD_KEY = "o" * 16 + secrets.token_urlsafe(32)
OLDER_KEY = "q" * 16 + secrets.token_urlsafe(32)


def test_secret_key_fallbacks_are_read_comma_separated():
    assert Settings.from_env({}).secret_key_fallbacks == ()
    assert Settings.from_env({"SECRET_KEY_FALLBACKS": ""}).secret_key_fallbacks == ()
    s = production(SECRET_KEY_FALLBACKS=f" {OLD_KEY} ,{OLDER_KEY},, ")
    assert s.secret_key_fallbacks == (OLD_KEY, OLDER_KEY)  # spaces and empty items dropped
    assert s.check() is s


@pytest.mark.parametrize(
    ("fallbacks", "problem"),
    [
        ("k" * 31, "SECRET_KEY_FALLBACKS : chaque clé doit compter au moins 32 caractères"),
        (f"{OLD_KEY},short", "SECRET_KEY_FALLBACKS : chaque clé doit compter au moins 32"),
        (DEVELOPMENT_SECRET_KEY, "SECRET_KEY_FALLBACKS ne peut contenir la clé de développement"),
        (PRODUCTION["SECRET_KEY"], "SECRET_KEY_FALLBACKS ne doit pas contenir SECRET_KEY"),
    ],
    ids=["short", "one-short", "development-key", "current-key"],
)
def test_production_refuses_weak_or_misplaced_fallback_keys(fallbacks, problem):
    settings = production(SECRET_KEY_FALLBACKS=fallbacks)
    with pytest.raises(ConfigurationError) as err:
        settings.check()
    assert str(err.value).startswith("Refus de démarrer en production : ")
    assert problem in str(err.value)
    assert "k" * 31 not in str(err.value) and OLD_KEY not in str(err.value)  # keys not echoed
    with pytest.raises(ConfigurationError, match="SECRET_KEY_FALLBACKS"):
        create_app(settings)


def test_create_app_accepts_the_previous_keys_for_sessions_and_csrf():
    app = create_app(production(SECRET_KEY_FALLBACKS=f"{OLD_KEY},{OLDER_KEY}"))
    config = app.server.config
    assert config["SECRET_KEY"] == PRODUCTION["SECRET_KEY"]
    assert list(config["SECRET_KEY_FALLBACKS"]) == [OLD_KEY, OLDER_KEY]
    # Flask-WTF's signer: previous keys accepted, the last (the current one) signs.
    assert config["WTF_CSRF_SECRET_KEY"][-1] == PRODUCTION["SECRET_KEY"]
    assert set(config["WTF_CSRF_SECRET_KEY"]) == {PRODUCTION["SECRET_KEY"], OLD_KEY, OLDER_KEY}


# --- sessions --------------------------------------------------------------------------------


def test_sessions_last_twelve_hours_at_most_by_default():
    assert Settings.from_env({}).session_max_hours == 12
    assert Settings.from_env({"SESSION_MAX_HOURS": ""}).session_max_hours == 12
    assert Settings.from_env({"SESSION_MAX_HOURS": " 8"}).check().session_max_hours == 8
    assert Settings.from_env({"SESSION_MAX_HOURS": "24"}).check().session_max_hours == 24


@pytest.mark.parametrize("raw", ["0", "-1", "25", "1000"])
def test_a_session_lifetime_out_of_range_refuses_to_start(raw):
    """0 would not mean "no limit" and 1000 is a typo for 10 more likely than a wish: a
    security limit never turns itself off."""
    with pytest.raises(ConfigurationError) as err:
        Settings.from_env({"SESSION_MAX_HOURS": raw}).check()
    assert str(err.value).startswith("SESSION_MAX_HOURS doit être un nombre d'heures")
    with pytest.raises(ConfigurationError):
        create_app(Settings(env="test", session_max_hours=int(raw)))


@pytest.mark.parametrize("raw", ["douze", "12h", "1.5"])
def test_a_session_lifetime_that_is_not_a_number_is_refused_in_french(raw):
    with pytest.raises(ConfigurationError) as err:
        Settings.from_env({"SESSION_MAX_HOURS": raw})
    assert str(err.value).startswith("SESSION_MAX_HOURS doit être un nombre entier")
    assert repr(raw) in str(err.value)


# --- provisioning (SCIM) ---------------------------------------------------------------------


def test_scim_settings_are_read_and_the_embedded_directory_is_the_default(tmp_path):
    assert Settings.from_env({}).uses_embedded_directory
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----", encoding="utf-8")
    s = production(SCIM_URL="https://idp.esante.invalid/scim/v2/", SCIM_CA_FILE=str(ca))
    assert s.scim_url == "https://idp.esante.invalid/scim/v2"  # trailing slash removed
    assert s.scim_token == PRODUCTION["SCIM_TOKEN"] and s.scim_ca_file == str(ca)
    assert not s.uses_embedded_directory
    assert s.check() is s


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"SCIM_URL": None}, "SCIM_URL doit désigner la plateforme d'identité"),
        (
            {"SCIM_URL": "http://idp.esante.invalid/scim/v2"},
            "SCIM_URL doit être une adresse https://",
        ),
        ({"SCIM_TOKEN": None}, "SCIM_TOKEN doit être défini"),
        ({"SCIM_TOKEN": config.DEVELOPMENT_SCIM_TOKEN}, "SCIM_TOKEN doit être défini"),
    ],
)
def test_production_refuses_to_start_without_its_identity_platform(overrides, problem):
    with pytest.raises(ConfigurationError, match="Refus de démarrer en production") as caught:
        production(**overrides).check()
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SCIM_URL": "ftp://idp/scim"}, "SCIM_URL doit être l'adresse http(s)://"),
        ({"SCIM_URL": "https://user:pw@idp/scim"}, "SCIM_URL doit être l'adresse http(s)://"),
        ({"SCIM_URL": "https://idp/scim", "SCIM_TOKEN": "a b"}, "SCIM_TOKEN ne doit contenir"),
        ({"SCIM_TOKEN": "t0ken"}, "SCIM_TOKEN est défini sans SCIM_URL"),
        ({"SCIM_URL": "https://idp/scim", "SCIM_CA_FILE": "/nowhere/ca.pem"}, "SCIM_CA_FILE"),
    ],
)
def test_bad_scim_settings_are_reported_anywhere(env, problem):
    problems = Settings.from_env(env).problems()
    assert any(problem in p for p in problems), problems
