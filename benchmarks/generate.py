"""Fill a database with N enrolments quickly: bulk inserts, not the service functions.

The schema comes from the real Alembic migrations (`schema.upgrade`). Rows are then written
directly, in chunks: `COPY … FROM STDIN` on PostgreSQL (foreign-key triggers off for the
load, `session_replication_role = replica`), `executemany` on SQLite (`synchronous=OFF`,
foreign keys off for the load). Secondary indexes are dropped before the load and rebuilt
after it, which is much faster than maintaining them row by row; PostgreSQL then gets a
`VACUUM ANALYZE`, as autovacuum would do after such an insert.

What is written follows the service layer's own rules (dashboard/enrolment/): the states
reached and their order, one `events` row per step with the same actions, actors, states and
data; LuxTrust identities with the comparison JSON from `identity.compare` and its `*_kind`
columns; decisions (auto_match, reviewer_approved with four-eyes confirmation, rejected, proposals
awaiting a second reviewer); one secretary account per person (unique matricule) and one
link per professional; invitations older than INVITATION_DAYS expired by the nightly job.
Everything is deterministic for a given seed; timestamps spread over the last two years,
the volume growing over time.

Open invitations get a token derived from the seed and the enrolment id (`bench_token`),
so the runner can act as the secretary of any open enrolment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from dashboard.config import Settings
from dashboard.enrolment import identity as identity_mod
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule as matricule_mod
from dashboard.enrolment import rollup, schema
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import normalise_url
from dashboard.enrolment.demo import FIRST_NAMES, LAST_NAMES, SECOND_NAMES
from dashboard.enrolment.identity import Comparison, FieldComparison, Identity
from dashboard.enrolment.staff import add_user
from dashboard.progress import bar as progress_bar

DEFAULT_SEED = 2026
CHUNK = 50_000
YEARS = 2
INVITATION_DAYS = Settings().invitation_days
CGU_VERSION = Settings().cgu_version
# The staff member the runner logs in as (reviewer and manager: queue, cases and metrics).
BENCH_STAFF_EMAIL = "bench@esante.lu"
BENCH_STAFF_PASSWORD = "bench-password-not-secret"  # noqa: S105 - benchmark data only
REVIEWERS = 8

# How far each enrolment gets, weighted like dashboard/enrolment/demo.py's OUTCOMES, with
# pending_review at ~4 % so that the queue holds thousands of cases at 1,000,000.
OUTCOMES = [
    ("auto", 46),
    ("approved", 8),
    ("rejected", 3),
    ("pending_review", 4),
    ("identity_mismatch", 3),
    ("matricule_verified", 3),
    ("cgu_accepted", 4),
    ("declared", 11),
    ("locked", 2),
    ("cancelled", 4),
    ("superseded", 2),
]
SPECIALTIES = [
    ("médecine générale", 30),
    ("médecine dentaire", 12),
    ("pédiatrie", 6),
    ("gynécologie", 6),
    ("cardiologie", 5),
    ("dermatologie", 5),
    ("ophtalmologie", 5),
    ("psychiatrie", 5),
    ("orthopédie", 4),
    ("radiologie", 4),
    ("oto-rhino-laryngologie", 3),
    ("gastro-entérologie", 3),
    ("neurologie", 3),
    ("urologie", 3),
    ("kinésithérapie", 6),
]
DEVICES = ("mobile", "scan", "smartcard", "signing_stick", "eid")
DEVICE_WEIGHTS = (55, 10, 15, 5, 15)
REASONS = (
    "identity_not_established",
    "not_declared_person",
    "suspected_fraud",
    "declaration_error",
)
REASON_WEIGHTS = (40, 25, 10, 25)
# Four-eyes (Settings.four_eyes default): a different birth date or matricule needs a second
# reviewer to approve; a suspected fraud a second one to reject.
FOUR_EYES_KINDS = {("birth_date", "different"), ("matricule", "different")}

_SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "da",
    "de",
    "di",
    "fa",
    "fe",
    "ga",
    "ge",
    "ha",
    "ka",
    "ke",
    "la",
    "le",
    "li",
    "lo",
    "ma",
    "me",
    "mi",
    "mo",
    "na",
    "ne",
    "no",
    "pa",
    "pe",
    "ra",
    "re",
    "ri",
    "ro",
    "sa",
    "se",
    "si",
    "ta",
    "te",
    "ti",
    "va",
    "ve",
    "wa",
    "we",
    "za",
]
_ENDINGS = ["", "r", "n", "s", "t", "l", "rt", "ng", "er", "en", "es", "ez", "ini", "ert"]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_token(seed: int, enrolment_id: int) -> str:
    """The invitation token of a generated enrolment (its sha256 is stored in token_hash)."""
    return f"bench-{seed}-{enrolment_id}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- database helpers ------------------------------------------------------------------------


def is_postgresql(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "postgresql"


def _pg_conninfo(url: str, database: str | None = None) -> str:
    parsed = make_url(normalise_url(url))
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> str:
    return make_url(url).database


def ensure_database(url: str, *, fresh: bool = False) -> None:
    """Create the PostgreSQL database (or drop and create it with `fresh`, bench_* only);
    delete the SQLite file with `fresh`."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        from pathlib import Path

        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return
    name = parsed.database
    admin = create_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and fresh:
            if not name.startswith("bench"):
                raise SystemExit(f"refusing to drop database {name!r}: only bench* databases")
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        ensure_database(url, fresh=True)
        return
    if not parsed.database.startswith("bench"):
        raise SystemExit(f"refusing to drop database {parsed.database!r}: only bench* databases")
    admin = create_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def count_enrolments(url: str) -> int | None:
    """Rows in `enrolments`, or None when the schema is not there."""
    engine = create_engine(normalise_url(url), poolclass=NullPool)
    try:
        if not inspect(engine).has_table("enrolments"):
            return None
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM enrolments"))
    finally:
        engine.dispose()


# --- writers: COPY (PostgreSQL) and executemany (SQLite) -----------------------------------

TABLES = {
    "professionals": [
        "id",
        "luxtrust_subject",
        "code",
        "last_name",
        "first_names",
        "email",
        "specialty",
        "language",
        "active",
        "created_at",
    ],
    "secretary_accounts": [
        "id",
        "directory_id",
        "matricule",
        "last_name",
        "first_names",
        "birth_date",
        "email",
        "luxtrust_subject",
        "status",
        "created_at",
    ],
    "account_links": ["id", "account_id", "professional_id", "enrolment_id", "linked_at"],
    "enrolments": [
        "id",
        "professional_id",
        "declared_last_name",
        "declared_first_names",
        "declared_matricule",
        "email",
        "phone",
        "language",
        "state",
        "wrong_matricule_count",
        "token_hash",
        "token_issued_at",
        "expires_at",
        "cgu_version",
        "cgu_accepted_at",
        "matricule_verified_at",
        "device_confirmed_at",
        "decision",
        "reason_code",
        "decided_at",
        "superseded_by_id",
        "account_id",
        "assignee_id",
        "purged_at",
        "created_at",
        "updated_at",
        "version",
    ],
    "luxtrust_identities": [
        "id",
        "enrolment_id",
        "subject",
        "last_name",
        "first_names",
        "birth_date",
        "matricule",
        "device",
        "matches",
        "comparison",
        "last_name_kind",
        "first_names_kind",
        "birth_date_kind",
        "matricule_kind",
        "received_at",
    ],
    "decisions": [
        "id",
        "enrolment_id",
        "outcome",
        "reason_code",
        "note",
        "reviewer_id",
        "confirmed_by_id",
        "status",
        "created_at",
        "confirmed_at",
    ],
    "events": [
        "id",
        "enrolment_id",
        "action",
        "actor_type",
        "actor_id",
        "state_before",
        "state_after",
        "data",
        "created_at",
    ],
    "review_notes": ["id", "enrolment_id", "author_id", "text", "created_at"],
    "outbox": [
        "id",
        "enrolment_id",
        "template",
        "recipient",
        "language",
        "context",
        "message_id",
        "status",
        "attempts",
        "next_attempt_at",
        "turn_at",
        "lease_until",
        "last_error",
        "created_at",
        "sent_at",
    ],
}
# Insert order respects the foreign keys (they are off during the load anyway).
ORDER = [
    "professionals",
    "secretary_accounts",
    "enrolments",
    "account_links",
    "luxtrust_identities",
    "decisions",
    "review_notes",
    "events",
    "outbox",
]
SERIAL_TABLES = list(ORDER)


def _sqlite_value(value):
    if isinstance(value, dt.datetime):
        # SQLAlchemy's SQLite DateTime storage format, always with microseconds.
        s = value.isoformat(" ")
        return s if value.microsecond else s + ".000000"
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is True:
        return 1
    if value is False:
        return 0
    return value


class Writer:
    """Bulk writes for one load; `indexes_off()` / `indexes_on()` around a large one."""

    def __init__(self, url: str):
        self.url = url
        self.postgresql = is_postgresql(url)
        self.saved_indexes: list[tuple[str, str]] = []
        if self.postgresql:
            import psycopg

            self.conn = psycopg.connect(_pg_conninfo(url))
            with self.conn.cursor() as cur:
                cur.execute("SET TimeZone = 'UTC'")
                cur.execute("SET synchronous_commit = off")
                cur.execute("SET maintenance_work_mem = '1GB'")
                try:
                    cur.execute("SET session_replication_role = replica")
                except Exception:  # not a superuser: foreign keys stay checked
                    self.conn.rollback()
                    cur.execute("SET TimeZone = 'UTC'")
            self.conn.commit()
        else:
            self.conn = sqlite3.connect(_sqlite_path(url), isolation_level=None)
            for pragma in (
                "journal_mode=WAL",
                "synchronous=OFF",
                "foreign_keys=OFF",
                "temp_store=MEMORY",
                "cache_size=-262144",
            ):
                self.conn.execute(f"PRAGMA {pragma}")
            self.conn.execute("BEGIN")

    def write(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        columns = TABLES[table]
        if self.postgresql:
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with self.conn.cursor() as cur, cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            convert = _sqlite_value
            self.conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                ([convert(v) for v in row] for row in rows),
            )

    def commit(self) -> None:
        if self.postgresql:
            self.conn.commit()
        else:
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")

    def max_ids(self) -> dict[str, int]:
        out = {}
        for table in SERIAL_TABLES:
            out[table] = self.scalar(f"SELECT coalesce(max(id), 0) FROM {table}")
        return out

    def scalar(self, sql: str):
        if self.postgresql:
            with self.conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchone()[0]
        return self.conn.execute(sql).fetchone()[0]

    def indexes_off(self) -> None:
        """Drop the secondary (non-constraint) indexes of the loaded tables; remember them."""
        if self.postgresql:
            with self.conn.cursor() as cur:
                cur.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                    "AND tablename = ANY(%s) AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint)",
                    (list(TABLES),),
                )
                self.saved_indexes = cur.fetchall()
                for name, _sql in self.saved_indexes:
                    cur.execute(f'DROP INDEX "{name}"')
        else:
            self.saved_indexes = self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name IN ({})".format(", ".join(f"'{t}'" for t in TABLES))
            ).fetchall()
            for name, _sql in self.saved_indexes:
                self.conn.execute(f'DROP INDEX "{name}"')
        self.commit()

    def indexes_on(self) -> None:
        for _name, sql in self.saved_indexes:
            if self.postgresql:
                with self.conn.cursor() as cur:
                    cur.execute(sql)
            else:
                self.conn.execute(sql)
            self.commit()
        self.saved_indexes = []

    def finish(self, *, analyze: bool) -> None:
        """Sequences after explicit ids; statistics; close."""
        if self.postgresql:
            with self.conn.cursor() as cur:
                for table in SERIAL_TABLES:
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
            self.conn.commit()
            self.conn.autocommit = True
            with self.conn.cursor() as cur:
                if analyze:
                    cur.execute("VACUUM ANALYZE")
                # Write the loaded pages out now, not during the measurements that follow.
                try:
                    cur.execute("CHECKPOINT")
                except Exception as exc:  # not a superuser: the next timed checkpoint will
                    log(f"no CHECKPOINT ({exc.__class__.__name__})")
            self.conn.close()
        else:
            self.conn.execute("COMMIT")
            if analyze:
                self.conn.execute("ANALYZE")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.conn.close()


# --- people, professionals, staff ----------------------------------------------------------


def _surnames(rng: random.Random, count: int) -> list[str]:
    """Luxembourgish and Portuguese surnames from demo.py, then synthetic ones."""
    names = list(LAST_NAMES)
    seen = set(names)
    while len(names) < count:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3)))
        word = (word + rng.choice(_ENDINGS)).capitalize()
        if len(word) >= 3 and word not in seen:
            seen.add(word)
            names.append(word)
    return names


def _zipf_cum(count: int, exponent: float) -> list[float]:
    total, cum = 0.0, []
    for rank in range(1, count + 1):
        total += 1.0 / rank**exponent
        cum.append(total)
    return cum


@dataclass
class Person:
    last_name: str
    first_names: str
    matricule: str
    birth: dt.date | None
    email: str
    account_id: int | None = None
    linked: set = field(default_factory=set)  # professional ids linked to the account


class People:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.surnames = _surnames(rng, 3000)
        self.surname_cum = _zipf_cum(len(self.surnames), 0.9)
        self.first_cum = _zipf_cum(len(FIRST_NAMES), 0.6)
        self.taken: set[str] = set()
        self.people: list[Person] = []

    def _matricule(self) -> tuple[str, dt.date | None]:
        rng = self.rng
        while True:
            year, month, day = rng.randint(1955, 2005), rng.randint(1, 12), rng.randint(1, 28)
            first11 = f"{year:04d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
            value = first11 + matricule_mod.calc_check_digits(first11)
            if value not in self.taken:
                self.taken.add(value)
                return value, dt.date(year, month, day)

    def new(self) -> Person:
        rng = self.rng
        last = rng.choices(self.surnames, cum_weights=self.surname_cum)[0]
        if rng.random() < 0.08:  # double-barrelled names
            last = f"{last}-{rng.choices(self.surnames, cum_weights=self.surname_cum)[0]}"
        first = rng.choices(FIRST_NAMES, cum_weights=self.first_cum)[0]
        if rng.random() < 0.1:
            first = f"{first} {rng.choice(SECOND_NAMES)}"
        value, birth = self._matricule()
        email = f"{_ascii(first)}.{_ascii(last)}{len(self.people)}@example.lu"
        person = Person(last, first, value, birth, email)
        self.people.append(person)
        return person

    def pick(self) -> Person:
        """Mostly a new person; sometimes one declared before by another doctor."""
        if self.people and self.rng.random() < 0.05:
            return self.rng.choice(self.people)
        return self.new()


def _ascii(name: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", name.lower())
    return "".join(c for c in folded if c.isascii() and c.isalnum())


def create_staff(url: str, now: dt.datetime) -> dict[str, int]:
    """Staff through the real `staff.add_user` (argon2 hashes): the bench user, reviewers,
    a manager, an admin. Returns {email: id}."""
    settings = Settings(env="test", database_url=url)
    backend = Backend.from_settings(settings, clock=lambda: now - dt.timedelta(days=900))
    users = [(BENCH_STAFF_EMAIL, "Bench Reviewer", ["reviewer", "manager", "admin"])]
    users += [
        (f"reviewer{i}@esante.lu", f"Relecteur·rice {i}", ["reviewer"])
        for i in range(1, REVIEWERS + 1)
    ]
    users += [
        ("manager@esante.lu", "Manager", ["manager"]),
        ("admin@esante.lu", "Admin", ["admin"]),
    ]
    ids = {}
    for email, name, roles in users:
        with backend.uow() as uow:
            ids[email] = add_user(uow, email, BENCH_STAFF_PASSWORD, roles, display_name=name).id
    backend.dispose()
    return ids


# --- the comparison, memoised ----------------------------------------------------------------

_POLICY = Settings().identity_policy
_BIRTH_A = dt.date(1985, 4, 12)
_BIRTH_B = dt.date(1986, 1, 30)


class Comparisons:
    """`identity.compare` costs ~0.2 ms a call, too much for a million rows. Each name kind
    depends only on the two values of that field, so they are memoised field by field
    (through `compare` itself, on identities that differ in that field only), and the policy
    then gives the verdict (`Policy.blocking_fields`, as `compare` does). Swapped names, the
    one cross-field kind, go through the whole `compare`."""

    def __init__(self):
        self.names: dict = {}
        self.births: dict = {}
        self.whole: dict = {}

    def _name(self, declared: str, observed: str, given: bool) -> str:
        key = (declared, observed, given)
        kind = self.names.get(key)
        if kind is None:
            other = "Zzfiller"
            if given:
                pair = (Identity(other, declared, _BIRTH_A), Identity(other, observed, _BIRTH_A))
            else:
                pair = (Identity(declared, other, _BIRTH_A), Identity(observed, other, _BIRTH_A))
            kind = identity_mod.compare(*pair, _POLICY).fields[1 if given else 0].kind
            self.names[key] = kind
        return kind

    def _birth(self, same: bool) -> str:
        kind = self.births.get(same)
        if kind is None:
            other = _BIRTH_A if same else _BIRTH_B
            pair = (Identity("Aa", "Bb", _BIRTH_A), Identity("Aa", "Bb", other))
            kind = identity_mod.compare(*pair, _POLICY).fields[2].kind
            self.births[same] = kind
        return kind

    def get(self, declared: Person, obs_last, obs_first, obs_birth) -> dict:
        if obs_last == declared.first_names and obs_first == declared.last_name:
            key = (declared.last_name, declared.first_names, obs_birth == declared.birth)
            if key not in self.whole:
                self.whole[key] = identity_mod.compare(
                    Identity(declared.last_name, declared.first_names, declared.birth),
                    Identity(obs_last, obs_first, declared.birth),
                    _POLICY,
                )
            kinds = [f.kind for f in self.whole[key].fields]
        else:
            kinds = [
                self._name(declared.last_name, obs_last, False),
                self._name(declared.first_names, obs_first, True),
                self._birth(obs_birth == declared.birth),
            ]
        fields = (
            FieldComparison("last_name", declared.last_name, obs_last, kinds[0]),
            FieldComparison("first_names", declared.first_names, obs_first, kinds[1]),
            FieldComparison("birth_date", declared.birth, obs_birth, kinds[2]),
        )
        blocking = _POLICY.blocking_fields(fields)
        return Comparison(fields, not blocking, blocking).to_dict()


def _typo(rng: random.Random, name: str) -> str:
    i = rng.randrange(1, len(name))
    return name[:i] + name[i - 1] + name[i:] if rng.random() < 0.5 else name[:i] + name[i + 1 :]


def observed_identity(rng: random.Random, person: Person, matching: bool):
    """What LuxTrust returns: the right person in capitals (matching), or one realistic
    difference (demo.py's ways: typo, swapped names, another birth date, another name)."""
    if matching:
        first = person.first_names
        if rng.random() < 0.3 and " " not in first:
            first = f"{first} {rng.choice(SECOND_NAMES)}"
        last = person.last_name.upper() if rng.random() < 0.6 else person.last_name
        return last, (first.upper() if rng.random() < 0.5 else first), person.birth
    way = rng.choice(("typo", "swapped", "birth", "other_last_name"))
    if way == "typo" and len(person.last_name) > 4:
        return _typo(rng, person.last_name).upper(), person.first_names.upper(), person.birth
    if way == "swapped":
        return person.first_names, person.last_name, person.birth
    if way == "birth" and person.birth:
        return (
            person.last_name,
            person.first_names,
            person.birth + dt.timedelta(days=rng.randint(1, 400)),
        )
    return f"{rng.choice(LAST_NAMES)}-{person.last_name}", person.first_names, person.birth


# --- the generator -------------------------------------------------------------------------------


@dataclass
class Stats:
    enrolments: int = 0
    events: int = 0
    identities: int = 0
    decisions: int = 0
    accounts: int = 0
    links: int = 0
    outbox: int = 0
    states: dict = field(default_factory=dict)


class Generator:
    def __init__(self, n: int, seed: int, now: dt.datetime, staff: dict[str, int], first_ids):
        self.n = n
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = now
        self.reviewers = [staff[f"reviewer{i}@esante.lu"] for i in range(1, REVIEWERS + 1)]
        self.reviewers.append(staff[BENCH_STAFF_EMAIL])
        self.people = People(self.rng)
        self.comparisons = Comparisons()
        self.ids = dict(first_ids)  # next id per table
        self.professionals: list[int] = []
        self.prof_cum: list[float] = []
        self.stats = Stats()
        self.forced: tuple[Person, int] | None = None  # the next one replaces a superseded one
        names, weights = zip(*OUTCOMES, strict=True)
        self.outcome_names = names
        self.outcome_cum = list(_cum(weights))

    def next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    # professionals ----------------------------------------------------------------------
    def professional_rows(self, count: int) -> list[tuple]:
        rng = self.rng
        created = self.now - dt.timedelta(days=365 * YEARS + 200)
        specialties, weights = zip(*SPECIALTIES, strict=True)
        rows = []
        for _ in range(count):
            pid = self.next_id("professionals")
            last = rng.choice(self.people.surnames[:400])
            first = rng.choice(
                [
                    "Jean",
                    "Paul",
                    "Claude",
                    "Luc",
                    "Marc",
                    "Nadine",
                    "Martine",
                    "Georges",
                    "Miguel",
                    "Anne",
                    "Sophie",
                    "Pierre",
                    "Tom",
                ]
            )
            rows.append(
                (
                    pid,
                    f"bench-professional-{pid}",
                    f"{pid:08d}",
                    last,
                    first,
                    f"dr.{_ascii(first)}.{_ascii(last)}{pid}@cabinet.lu",
                    rng.choices(specialties, weights)[0],
                    "fr" if rng.random() < 0.8 else rng.choice(["de", "en"]),
                    True,
                    created,
                )
            )
            self.professionals.append(pid)
        # A few busy practices declare much more than the others.
        self.prof_cum = _zipf_cum(len(self.professionals), 0.7)
        return rows

    # one chunk of enrolments --------------------------------------------------------------
    def created_times(self, start: int, stop: int) -> list[dt.datetime]:
        """Declaration times over the last YEARS years, the volume growing linearly (×3)."""
        rng, span = self.rng, 365 * YEARS * 86400
        times = []
        for i in range(start, stop):
            u = (i + rng.random()) / self.n
            x = -0.5 + (0.25 + 2 * u) ** 0.5  # inverse CDF of a density ∝ 0.5 + x on [0, 1]
            times.append(self.now - dt.timedelta(seconds=span * (1 - x) + 60))
        return times

    def chunk(self, start: int, stop: int) -> dict[str, list[tuple]]:
        rng = self.rng
        out = {t: [] for t in TABLES}
        times = self.created_times(start, stop)
        outcomes = rng.choices(self.outcome_names, cum_weights=self.outcome_cum, k=stop - start)
        profs = rng.choices(self.professionals, cum_weights=self.prof_cum, k=stop - start)
        for k in range(stop - start):
            self.one(
                out, times[k], outcomes[k], profs[k], times[k + 1] if k + 1 < len(times) else None
            )
        # Events in time order within the chunk (ids grow with time, as in production); the
        # sort is stable, so one enrolment's simultaneous events keep their order.
        events = out["events"]
        events.sort(key=lambda e: e[7])
        first = self.ids["events"]
        out["events"] = [(first + i, *e) for i, e in enumerate(events)]
        self.ids["events"] = first + len(events)
        self.stats.events += len(events)
        return out

    def one(self, out, created, outcome, prof_id, next_created) -> None:  # noqa: C901
        rng, now, st = self.rng, self.now, self.stats
        eid = self.next_id("enrolments")
        if self.forced is not None:
            person, prof_id = self.forced
            self.forced = None
        else:
            person = self.people.pick()
        if outcome == "superseded" and next_created is None:
            outcome = "cancelled"
        events = out["events"]
        prof_actor = str(prof_id)
        sec_actor = str(eid)

        def ev(action, actor_type, actor_id, before, after, data, at):
            events.append(
                (
                    eid,
                    action,
                    actor_type,
                    actor_id,
                    before,
                    after,
                    json.dumps(data) if data is not None else "null",
                    at,
                )
            )

        t = created
        last = created  # latest update of the row

        def later(low_minutes: float, high_minutes: float) -> dt.datetime:
            nonlocal t
            t = min(t + dt.timedelta(minutes=rng.uniform(low_minutes, high_minutes)), now)
            return t

        state = lc.DECLARED
        version = 1
        issued = created
        wrong = 0
        cgu_at = verified_at = confirmed_at = decided_at = None
        decision = reason = None
        superseded_by = account_id = assignee = None
        ev("declared", "professional", prof_actor, "", lc.DECLARED, None, created)

        def move(target, action, actor_type, actor_id, data, at):
            nonlocal state, version, last
            ev(action, actor_type, actor_id, state, target, data, at)
            state, last = target, at
            version += 1

        # The professional re-sends some invitations before she opens the link.
        if outcome not in ("superseded", "cancelled") and rng.random() < 0.3:
            issued = later(60 * 24, 60 * 24 * 6)
            ev("invitation_resent", "professional", prof_actor, state, state, None, issued)
            last = issued
            version += 1
        expires = issued + dt.timedelta(days=INVITATION_DAYS)

        if outcome in ("cancelled", "superseded"):
            if outcome == "cancelled":
                move(lc.CANCELLED, "cancelled", "professional", prof_actor, None, later(60, 2880))
            else:
                superseded_by = eid + 1
                self.forced = (person, prof_id)
                move(
                    lc.CANCELLED,
                    "superseded",
                    "professional",
                    prof_actor,
                    {"superseded_by": superseded_by},
                    max(next_created, created),
                )
        else:
            reach = outcome
            opened = reach != "declared" or rng.random() < 0.4
            if opened:
                ev("link_opened", "secretary", sec_actor, state, state, None, later(10, 4320))
            if reach != "declared":
                cgu_at = later(1, 5)
                move(
                    lc.CGU_ACCEPTED,
                    "cgu_accepted",
                    "secretary",
                    sec_actor,
                    {"cgu_version": CGU_VERSION},
                    cgu_at,
                )
            if reach == "locked":
                for attempt in range(1, 5):
                    wrong = attempt
                    ev(
                        "matricule_mismatch",
                        "secretary",
                        sec_actor,
                        state,
                        state,
                        {"attempt": attempt},
                        later(0.5, 3),
                    )
                    version += 1
                wrong = 5
                move(lc.LOCKED, "locked", "secretary", sec_actor, {"attempts": 5}, later(0.5, 3))
            elif reach not in ("declared", "cgu_accepted"):
                if rng.random() < 0.25:  # mistyped matricules before the right one
                    for attempt in range(1, rng.choice((1, 1, 2)) + 1):
                        wrong = attempt
                        ev(
                            "matricule_mismatch",
                            "secretary",
                            sec_actor,
                            state,
                            state,
                            {"attempt": attempt},
                            later(0.5, 3),
                        )
                        version += 1
                verified_at = later(1, 4)
                move(
                    lc.MATRICULE_VERIFIED,
                    "matricule_verified",
                    "secretary",
                    sec_actor,
                    None,
                    verified_at,
                )
            if reach in ("auto", "approved", "rejected", "pending_review", "identity_mismatch"):
                account_id, confirmed_at, decision, reason, decided_at, assignee = self.luxtrust(
                    out, eid, person, prof_id, reach, ev, move, later
                )
                state_now = {
                    "auto": lc.ACCOUNT_CREATED,
                    "approved": lc.ACCOUNT_CREATED,
                    "rejected": lc.REJECTED,
                    "pending_review": lc.PENDING_REVIEW,
                    "identity_mismatch": lc.IDENTITY_MISMATCH,
                }[reach]
                assert state == state_now, (state, reach)
            # Invitations still open after INVITATION_DAYS were expired by the nightly job.
            if state in lc.OPEN_FOR_SECRETARY and expires <= now:
                at = min(expires + dt.timedelta(hours=rng.uniform(0, 24)), now)
                move(lc.EXPIRED, "expired", "system", None, None, at)
        st.enrolments += 1
        st.states[state] = st.states.get(state, 0) + 1
        out["enrolments"].append(
            (
                eid,
                prof_id,
                person.last_name,
                person.first_names,
                person.matricule,
                person.email,
                None if rng.random() < 0.7 else f"+352 621 {eid % 1000000:06d}",
                "fr",
                state,
                wrong,
                token_hash(bench_token(self.seed, eid)),
                issued,
                expires,
                CGU_VERSION if cgu_at else None,
                cgu_at,
                verified_at,
                confirmed_at,
                decision,
                reason,
                decided_at,
                superseded_by,
                account_id,
                assignee,
                None,
                created,
                max(last, created),
                version,
            )
        )
        if created >= now - dt.timedelta(days=14):
            self.outbox(out, eid, person, created, state, decided_at)

    def luxtrust(self, out, eid, person, prof_id, reach, ev, move, later):
        """From the LuxTrust step on: identity rows, mismatch, review, decision, account."""
        rng = self.rng
        sec = str(eid)
        device = rng.choices(DEVICES, DEVICE_WEIGHTS)[0]
        matching = reach == "auto"
        # Some secretaries said "not my own device" once and went through LuxTrust again.
        if not matching and rng.random() < 0.05:
            at = later(1, 6)
            self.identity(out, eid, person, False, device, at, ev, move)
            move(
                lc.MATRICULE_VERIFIED, "device_not_confirmed", "secretary", sec, None, later(0.5, 3)
            )
        at = later(1, 6)
        kinds = self.identity(out, eid, person, matching, device, at, ev, move)
        if matching:
            account = self.account(out, eid, person, prof_id, at, ev, "auto_match", None)
            self.decision(out, eid, "auto_match", None, None, None, at)
            return account, None, "auto_match", None, at, None
        if reach == "identity_mismatch":
            return None, None, None, None, None, None
        confirmed = later(0.5, 3)
        move(lc.PENDING_REVIEW, "device_confirmed", "secretary", sec, None, confirmed)
        four_eyes_approve = any((f, k) in FOUR_EYES_KINDS for f, k in kinds.items())
        reviewer = rng.choice(self.reviewers)
        second = rng.choice([r for r in self.reviewers if r != reviewer])

        def staff_event(action, who, data=None, at=None):
            ev(
                action,
                "staff",
                str(who),
                lc.PENDING_REVIEW,
                lc.PENDING_REVIEW,
                data,
                at or later(30, 60 * 24),
            )

        if reach == "pending_review":
            assignee = None
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                staff_event("case_opened", rng.choice(self.reviewers))
            if rng.random() < 0.3:
                assignee = reviewer
                staff_event("claimed", reviewer)
            if four_eyes_approve and rng.random() < 0.5:
                at = later(30, 60 * 24)
                staff_event(
                    "decision_proposed",
                    reviewer,
                    {"outcome": "reviewer_approved", "reason_code": None},
                    at,
                )
                self.decision(
                    out,
                    eid,
                    "reviewer_approved",
                    None,
                    reviewer,
                    None,
                    at,
                    status="awaiting_second",
                )
                assignee = assignee or reviewer
            return None, confirmed, None, None, None, assignee
        for _ in range(rng.choice((1, 2, 2, 3, 4))):
            staff_event("case_opened", rng.choice(self.reviewers))
        staff_event("claimed", reviewer)
        if rng.random() < 0.3:
            at = later(5, 600)
            staff_event("note_added", reviewer, None, at)
            out["review_notes"].append(
                (
                    self.next_id("review_notes"),
                    eid,
                    reviewer,
                    "Pièce d'identité demandée par email.",
                    at,
                )
            )
        if reach == "approved":
            proposal_at = None
            if four_eyes_approve:
                proposal_at = later(30, 60 * 24)
                staff_event(
                    "decision_proposed",
                    reviewer,
                    {"outcome": "reviewer_approved", "reason_code": None},
                    proposal_at,
                )
                staff_event("case_opened", second)
            at = later(30, 60 * 24 * 3)
            decider = second if four_eyes_approve else reviewer
            move(
                lc.ACCOUNT_CREATED,
                "approved",
                "staff",
                str(decider),
                {"decision": "reviewer_approved", "second_of": None},
                at,
            )
            account = self.account(out, eid, person, prof_id, at, ev, "reviewer_approved", reviewer)
            if four_eyes_approve:
                self.decision(
                    out,
                    eid,
                    "reviewer_approved",
                    None,
                    reviewer,
                    second,
                    proposal_at,
                    confirmed_at=at,
                )
            else:
                self.decision(out, eid, "reviewer_approved", None, reviewer, None, at)
            return account, confirmed, "reviewer_approved", None, at, reviewer
        reason_code = rng.choices(REASONS, REASON_WEIGHTS)[0]
        four_eyes_reject = reason_code == "suspected_fraud"
        proposal_at = None
        if four_eyes_reject:
            proposal_at = later(30, 60 * 24)
            staff_event(
                "decision_proposed",
                reviewer,
                {"outcome": "rejected", "reason_code": reason_code},
                proposal_at,
            )
        at = later(30, 60 * 24 * 3)
        decider = second if four_eyes_reject else reviewer
        move(
            lc.REJECTED,
            "rejected",
            "staff",
            str(decider),
            {"reason_code": reason_code, "second_of": None},
            at,
        )
        if four_eyes_reject:
            self.decision(
                out,
                eid,
                "rejected",
                reason_code,
                reviewer,
                second,
                proposal_at,
                confirmed_at=at,
                note="Pièce d'identité non concordante.",
            )
        else:
            self.decision(
                out,
                eid,
                "rejected",
                reason_code,
                reviewer,
                None,
                at,
                note="Pièce d'identité non concordante.",
            )
        return None, confirmed, "rejected", reason_code, at, reviewer

    def identity(self, out, eid, person, matching, device, at, ev, move) -> dict:
        rng = self.rng
        for _ in range(6):  # the drawn difference must give the intended verdict
            last, first, birth = observed_identity(rng, person, matching)
            comparison = self.comparisons.get(person, last, first, birth)
            if comparison["matches"] == matching:
                break
        else:
            last, first, birth = (
                (person.last_name, person.first_names, person.birth)
                if matching
                else (f"Other-{person.last_name}", person.first_names, person.birth)
            )
            comparison = self.comparisons.get(person, last, first, birth)
        kinds = {f["field"]: f["kind"] for f in comparison["fields"]}
        out["luxtrust_identities"].append(
            (
                self.next_id("luxtrust_identities"),
                eid,
                f"lt-{person.matricule}",
                last,
                first,
                birth,
                None,
                device,
                comparison["matches"],
                json.dumps(comparison),
                kinds.get("last_name"),
                kinds.get("first_names"),
                kinds.get("birth_date"),
                kinds.get("matricule"),
                at,
            )
        )
        self.stats.identities += 1
        if comparison["matches"]:
            move(
                lc.ACCOUNT_CREATED,
                "account_created",
                "secretary",
                str(eid),
                {"decision": "auto_match", "kinds": kinds, "device": device},
                at,
            )
        else:
            move(
                lc.IDENTITY_MISMATCH,
                "identity_mismatch",
                "secretary",
                str(eid),
                {"kinds": kinds, "device": device},
                at,
            )
        return kinds

    def account(self, out, eid, person, prof_id, at, ev, outcome, reviewer) -> int:
        created = person.account_id is None
        if created:
            person.account_id = self.next_id("secretary_accounts")
            out["secretary_accounts"].append(
                (
                    person.account_id,
                    str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-account-{person.account_id}")),
                    person.matricule,
                    person.last_name.upper(),
                    person.first_names,
                    person.birth,
                    person.email,
                    f"lt-{person.matricule}",
                    "active",
                    at,
                )
            )
            self.stats.accounts += 1
        if prof_id not in person.linked:
            person.linked.add(prof_id)
            out["account_links"].append(
                (self.next_id("account_links"), person.account_id, prof_id, eid, at)
            )
            self.stats.links += 1
        ev(
            "account_opened" if created else "account_linked",
            "system",
            None,
            lc.ACCOUNT_CREATED,
            lc.ACCOUNT_CREATED,
            {"account_id": person.account_id},
            at,
        )
        # The directory confirms it seconds to minutes later (a spread taken from the id,
        # not from the random stream: the rest of the data stays what it was).
        ev(
            "account_provisioned",
            "system",
            None,
            lc.ACCOUNT_CREATED,
            lc.ACCOUNT_CREATED,
            {"account_id": person.account_id},
            at + dt.timedelta(seconds=2 + (eid * 7919) % 600),
        )
        return person.account_id

    def decision(
        self,
        out,
        eid,
        outcome,
        reason,
        reviewer,
        confirmed_by,
        at,
        *,
        status="final",
        confirmed_at=None,
        note=None,
    ) -> None:
        out["decisions"].append(
            (
                self.next_id("decisions"),
                eid,
                outcome,
                reason,
                note,
                reviewer,
                confirmed_by,
                status,
                at,
                confirmed_at,
            )
        )
        self.stats.decisions += 1

    def outbox(self, out, eid, person, created, state, decided_at) -> None:
        """The recent emails (older ones are long sent; the table is not the subject)."""
        rows = [("invitation", created)]
        if state == lc.ACCOUNT_CREATED and decided_at:
            rows.append(("account_created", decided_at))
        elif state == lc.REJECTED and decided_at:
            rows.append(("rejected", decided_at))
        for template, at in rows:
            oid = self.next_id("outbox")
            sent = at < self.now - dt.timedelta(minutes=10)
            out["outbox"].append(
                (
                    oid,
                    eid,
                    template,
                    person.email,
                    "fr",
                    json.dumps({"first_names": person.first_names, "last_name": person.last_name}),
                    f"<{oid}.{template}@bench.esante.lu>",
                    "sent" if sent else "pending",
                    1 if sent else 0,
                    at,
                    at,
                    None,
                    None,
                    at,
                    at if sent else None,
                )
            )
            self.stats.outbox += 1

    def staff_logins(self, staff_ids: Iterable[int]) -> list[tuple]:
        """Each reviewer logs in most working days (events without an enrolment)."""
        rows = []
        day = (self.now - dt.timedelta(days=365 * YEARS)).replace(hour=8, minute=0)
        while day < self.now:
            if day.weekday() < 5:
                for sid in staff_ids:
                    if self.rng.random() < 0.8:
                        at = day + dt.timedelta(minutes=self.rng.uniform(0, 90))
                        rows.append(
                            (None, "staff_login", "staff", str(sid), None, None, "null", at)
                        )
            day += dt.timedelta(days=1)
        return rows


def _cum(weights) -> Iterable[float]:
    total = 0.0
    for w in weights:
        total += w
        yield total


# --- entry points ----------------------------------------------------------------------------


def generate(
    url: str,
    enrolments: int,
    *,
    seed: int = DEFAULT_SEED,
    professionals: int | None = None,
    fresh: bool = False,
    analyze: bool | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] = log,
) -> Stats:
    """Create the schema and load `enrolments` enrolments (with all their rows) into `url`."""
    started = time.perf_counter()
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    ensure_database(url, fresh=fresh)
    schema.upgrade(url)
    existing = count_enrolments(url)
    if existing:
        raise SystemExit(f"{url} already holds {existing} enrolments: use --fresh to start again")
    if professionals is None:
        professionals = max(20, min(2000, enrolments // 50))
    if analyze is None:
        analyze = is_postgresql(url)  # PostgreSQL's autovacuum would; nothing does on SQLite
    staff = create_staff(url, now.replace(tzinfo=dt.UTC))
    progress(f"schema and {len(staff)} staff users ready ({time.perf_counter() - started:.1f} s)")
    writer = Writer(url)
    first_ids = {t: m + 1 for t, m in writer.max_ids().items()}
    gen = Generator(enrolments, seed, now, staff, first_ids)
    writer.indexes_off()
    writer.write("professionals", gen.professional_rows(professionals))
    writer.commit()
    t0 = time.perf_counter()
    bar = progress_bar(total=enrolments, desc="enrolments", unit="enr.")
    for start in range(0, enrolments, CHUNK):
        stop = min(enrolments, start + CHUNK)
        rows = gen.chunk(start, stop)
        for table in ORDER:
            writer.write(table, rows[table])
        writer.commit()
        bar.update(stop - start)
        rate = stop / max(1e-9, time.perf_counter() - t0)
        progress(
            f"{stop:,}/{enrolments:,} enrolments, {gen.stats.events:,} events "
            f"({rate:,.0f} enrolments/s)"
        )
    bar.close()
    logins = gen.staff_logins(staff.values())
    first = gen.ids["events"]
    writer.write("events", [(first + i, *row) for i, row in enumerate(logins)])
    gen.ids["events"] += len(logins)
    gen.stats.events += len(logins)
    writer.commit()
    t1 = time.perf_counter()
    progress(f"rows written in {t1 - t0:.1f} s; rebuilding {len(writer.saved_indexes)} indexes")
    writer.indexes_on()
    t2 = time.perf_counter()
    progress(f"indexes rebuilt in {t2 - t1:.1f} s" + ("; analysing" if analyze else ""))
    writer.finish(analyze=analyze)
    # As the per-minute `metrics refresh` timer would have: the metrics rollups, built once.
    backend = Backend.from_settings(Settings(env="test", database_url=url))
    try:
        with backend.uow() as uow:
            rollup.refresh(uow, full=True)
    finally:
        backend.dispose()
    progress(f"metrics rollups built in {time.perf_counter() - t2:.1f} s")
    s = gen.stats
    progress(
        f"done in {time.perf_counter() - started:.1f} s: {s.enrolments:,} enrolments, "
        f"{s.events:,} events ({s.events / max(1, s.enrolments):.1f} each), "
        f"{s.identities:,} LuxTrust identities, {s.decisions:,} decisions, "
        f"{s.accounts:,} accounts, {s.links:,} links, {s.outbox:,} emails; states "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(s.states.items(), key=lambda kv: -kv[1]))
    )
    return s


@dataclass(frozen=True)
class Invitation:
    enrolment_id: int
    token_hash: str
    matricule: str


def add_open_invitations(
    url: str, count: int, *, seed: int, state: str = lc.CGU_ACCEPTED, now: dt.datetime | None = None
) -> list[Invitation]:
    """`count` fresh enrolments where the secretary has accepted the CGU (the matricule step
    comes next), with their events; for the runner, which acts as each secretary once."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    writer = Writer(url)
    first_ids = {t: m + 1 for t, m in writer.max_ids().items()}
    rng = random.Random(seed * 7919 + first_ids["enrolments"])
    people = People(rng)
    profs = [1]
    if writer.postgresql:
        with writer.conn.cursor() as cur:
            cur.execute("SELECT id FROM professionals ORDER BY id LIMIT 200")
            profs = [r[0] for r in cur.fetchall()] or profs
    else:
        profs = [
            r[0] for r in writer.conn.execute("SELECT id FROM professionals ORDER BY id LIMIT 200")
        ] or profs
    enrolments, events, out = [], [], []
    event_id = first_ids["events"]
    for k in range(count):
        eid = first_ids["enrolments"] + k
        person = people.new()
        prof = profs[k % len(profs)]
        created = now - dt.timedelta(minutes=30)
        opened, accepted = created + dt.timedelta(minutes=10), created + dt.timedelta(minutes=12)
        th = token_hash(bench_token(seed, eid))
        enrolments.append(
            (
                eid,
                prof,
                person.last_name,
                person.first_names,
                person.matricule,
                person.email,
                None,
                "fr",
                state,
                0,
                th,
                created,
                created + dt.timedelta(days=INVITATION_DAYS),
                CGU_VERSION,
                accepted,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                created,
                accepted,
                2,
            )
        )
        for action, actor, actor_id, before, after, data, at in (
            ("declared", "professional", str(prof), "", lc.DECLARED, None, created),
            ("link_opened", "secretary", str(eid), lc.DECLARED, lc.DECLARED, None, opened),
            (
                "cgu_accepted",
                "secretary",
                str(eid),
                lc.DECLARED,
                lc.CGU_ACCEPTED,
                {"cgu_version": CGU_VERSION},
                accepted,
            ),
        ):
            events.append(
                (
                    event_id,
                    eid,
                    action,
                    actor,
                    actor_id,
                    before,
                    after,
                    json.dumps(data) if data is not None else "null",
                    at,
                )
            )
            event_id += 1
        out.append(Invitation(eid, th, person.matricule))
    writer.write("enrolments", enrolments)
    writer.write("events", events)
    writer.commit()
    writer.finish(analyze=False)
    return out


def professional_ids(url: str, limit: int = 100) -> list[int]:
    engine = create_engine(normalise_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        ids = list(
            conn.scalars(
                text("SELECT id FROM professionals WHERE active ORDER BY id LIMIT :n"),
                {"n": limit},
            )
        )
    engine.dispose()
    return ids
