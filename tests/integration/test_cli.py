"""The command line (`python -m dashboard ...`) on a real database.

Commands are called in-process through `dashboard.__main__.main(argv, settings=...)` so each
test gets its own migrated database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set);
one test runs the real program in a subprocess. Every test checks the exit status, the text
shown to the person at the terminal and what the database really holds afterwards.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
import threading
import uuid

import pytest
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

import dashboard.__main__ as cli_module
from dashboard.__main__ import main
from dashboard.config import PROJECT_ROOT, Settings
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import mail, matricule
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import make_engine, normalise_url
from dashboard.enrolment.model import (
    Enrolment,
    Event,
    OutboxEmail,
    Professional,
    StaffRole,
    StaffUser,
)
from dashboard.enrolment.professionals import add_professional
from dashboard.enrolment.staff import authenticate
from tests import factories as f
from tests.conftest import PG_URL, free_port

M1 = matricule.make("19850412", "123")
M2 = matricule.make("19900101", "007")
M3 = matricule.make("19720229", "450")
M4 = matricule.make("20010930", "999")
# Same first 12 digits as M1, wrong Verhoeff digit: fails the checksum.
M1_BAD = M1[:12] + str((int(M1[12]) + 1) % 10)
HEADER = ("last_name", "first_names", "matricule", "email")
PASSWORD = "correct horse battery staple 42"


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _dispose_cli_engines(monkeypatch):
    """The CLI builds one engine per command and, being a short-lived process, never
    disposes of it; in-process we close them so PostgreSQL connections do not pile up."""
    made: list[Backend] = []
    original = cli_module._backend

    def tracking(settings):
        backend = original(settings)
        made.append(backend)
        return backend

    monkeypatch.setattr(cli_module, "_backend", tracking)
    yield
    for backend in made:
        backend.dispose()


@pytest.fixture
def run(settings, capsys, monkeypatch):
    """run(*argv, settings=None, stdin=None) -> (exit status, stdout, stderr)."""

    def _run(*argv: str, settings: Settings = settings, stdin: str | None = None):
        if stdin is not None:
            # Not a TTY: `users add` reads the password as one line.
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()  # drop anything printed before
        rc = main(list(argv), settings=settings)
        out, err = capsys.readouterr()
        return rc, out, err

    return _run


@pytest.fixture
def prof(backend) -> int:
    return f.professional(backend)


def _counts(backend) -> dict[str, int]:
    with backend.uow() as uow:
        return {
            name: uow.session.scalar(select(func.count()).select_from(model))
            for name, model in [
                ("enrolments", Enrolment),
                ("events", Event),
                ("outbox", OutboxEmail),
                ("professionals", Professional),
                ("staff", StaffUser),
            ]
        }


def _enrolments(backend) -> list[Enrolment]:
    with backend.uow() as uow:
        return uow.session.scalars(select(Enrolment).order_by(Enrolment.id)).all()


def _outbox(backend) -> list[OutboxEmail]:
    with backend.uow() as uow:
        return uow.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def _write_csv(path, rows, delimiter=",", encoding="utf-8", newline="\n", header=HEADER):
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return str(path)


def _declare_args(prof_id: int, **overrides) -> list[str]:
    values = {
        "last_name": "Schmit",
        "first_names": "Marie",
        "matricule": M1,
        "email": "Marie.Schmit@Example.lu",
        **overrides,
    }
    args = ["declare", "--professional", str(prof_id)]
    for name, value in values.items():
        if value is not None:
            args += ["--" + name.replace("_", "-"), value]
    return args


# --- db upgrade -------------------------------------------------------------------------------


def test_db_upgrade_creates_the_schema_on_an_empty_database(tmp_path, capsys):
    path = tmp_path / "new" / "dir" / "fresh.sqlite3"  # the directory does not exist yet
    settings = Settings(env="test", database_url=f"sqlite:///{path}")

    assert main(["db", "upgrade"], settings=settings) == 0
    assert "Schéma de la base à jour" in capsys.readouterr().out

    engine = make_engine(settings.database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"enrolments", "professionals", "outbox", "events", "staff_users"} <= tables
        assert "alembic_version" in tables
        # Idempotent: a second run changes nothing and succeeds.
        assert main(["db", "upgrade"], settings=settings) == 0
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()


def test_db_upgrade_twice_keeps_existing_data(run, backend, prof):
    f.declare(backend, prof)
    before = _counts(backend)
    for _ in range(2):
        rc, out, err = run("db", "upgrade")
        assert (rc, err) == (0, "")
        assert "Schéma de la base à jour" in out
    assert _counts(backend) == before


# --- professionals add ------------------------------------------------------------------------


def test_professionals_add_creates_a_professional_and_prints_its_id(run, backend):
    rc, out, err = run(
        "professionals",
        "add",
        "--last-name",
        "  Hoffmann ",
        "--first-names",
        "Jean  Luc",
        "--email",
        "Dr.Hoffmann@Cabinet.LU",
        "--specialty",
        "pédiatrie",
        "--code",
        "01001234",
        "--luxtrust-subject",
        "lt-prof-1",
    )
    assert (rc, err) == (0, "")
    match = re.fullmatch(r"Professionnel créé : (\d+)\n", out)
    assert match, out
    with backend.uow() as uow:
        p = uow.session.get(Professional, int(match.group(1)))
        assert p is not None
        assert (p.last_name, p.first_names, p.email) == (
            "Hoffmann",
            "Jean Luc",
            "dr.hoffmann@cabinet.lu",
        )
        assert (p.specialty, p.code, p.luxtrust_subject, p.active) == (
            "pédiatrie",
            "01001234",
            "lt-prof-1",
            True,
        )


def test_professionals_add_with_a_bad_email_writes_nothing(run, backend):
    before = _counts(backend)
    rc, out, err = run(
        "professionals", "add", "--last-name", "Weber", "--first-names", "Paul", "--email", "paul@"
    )
    assert rc == 1
    assert out == ""
    assert err.startswith("Erreur :")
    assert "L'adresse email n'est pas valide" in err
    assert "Traceback" not in err
    assert _counts(backend) == before


def test_professionals_add_with_a_code_already_used_is_refused_cleanly(run, backend):
    args = ["professionals", "add", "--last-name", "Weber", "--first-names", "Paul"]
    rc, _, _ = run(*args, "--email", "paul@cabinet.lu", "--code", "02002468")
    assert rc == 0
    rc, out, err = run(*args, "--email", "autre@cabinet.lu", "--code", "02002468")
    assert rc == 1
    assert err.startswith("Erreur :")
    assert _counts(backend)["professionals"] == 1


PROF_ARGS = {
    "--last-name": "Weber",
    "--first-names": "Paul",
    "--email": "paul@cabinet.lu",
    "--code": "01001234",
    "--specialty": "pédiatrie",
    "--luxtrust-subject": "lt-prof-7",
}


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        # The declaration's name rules (the names go into emails and onto staff screens).
        ("--last-name", "Weber\u202e", "nom : Le champ « Nom » contient des caractères non"),
        ("--last-name", "\u202eBEW", "caractères non admis"),  # right-to-left override
        ("--first-names", "Pa\u200bul", "prénom(s) : Le champ « Prénom(s) » contient des"),
        ("--last-name", "1234", "Le champ « Nom » doit contenir des lettres"),
        ("--first-names", "-", "Le champ « Prénom(s) » doit contenir des lettres"),
        ("--last-name", "W" * 201, "ne peut dépasser 200 caractères"),
        ("--last-name", "   ", "Le champ « Nom » est obligatoire"),
        # The code goes into a 32-character column.
        ("--code", "0" * 40, "code médecin : Le code médecin ne peut dépasser 32 caractères"),
        ("--code", "0" * 33, "ne peut dépasser 32 caractères"),
        ("--code", "0100 1234", "ne peut contenir que des lettres, des chiffres"),
        ("--code", "01\u202e001234", "ne peut contenir que des lettres, des chiffres"),
        ("--code", "01;001234", "ne peut contenir que des lettres, des chiffres"),
        ("--specialty", "p" * 121, "spécialité : La spécialité ne peut dépasser 120 caractères"),
        ("--specialty", "pédiatrie\u202e", "La spécialité contient des caractères non admis"),
        ("--luxtrust-subject", "lt prof", "L'identité LuxTrust ne peut contenir"),
        ("--luxtrust-subject", "x" * 256, "L'identité LuxTrust ne peut dépasser 255 caractères"),
    ],
)
def test_professionals_add_applies_the_declarations_rules(run, backend, option, value, expected):
    before = _counts(backend)
    args = {**PROF_ARGS, option: value}
    rc, out, err = run("professionals", "add", *(x for kv in args.items() for x in kv))
    assert rc == 1, out
    assert out == ""
    assert err.startswith("Erreur :")
    assert expected in err
    assert "Traceback" not in err
    assert _counts(backend) == before


def test_professionals_add_accepts_the_codes_in_use(run, backend):
    for n, code in enumerate(["01001234", "A-1234/56.7", "z" * 32]):
        args = {**PROF_ARGS, "--code": f"  {code} ", "--luxtrust-subject": f"lt-{n}"}
        rc, out, err = run("professionals", "add", *(x for kv in args.items() for x in kv))
        assert (rc, err) == (0, ""), err
    with backend.uow() as uow:
        assert sorted(uow.session.scalars(select(Professional.code))) == sorted(
            ["01001234", "A-1234/56.7", "z" * 32]
        )


def test_professionals_add_racing_another_for_the_same_code_is_refused_cleanly(
    run, backend, monkeypatch
):
    """Another process registers the same code between the check and the insert: the
    database's unique constraint refuses the second, which gets the same French message."""
    tracking = cli_module._backend
    fired = []

    def racing(settings):
        be = tracking(settings)

        @event.listens_for(be.engine, "before_cursor_execute")
        def other_process_first(conn, cursor, statement, params, context, executemany):
            if statement.lstrip().startswith("INSERT INTO professionals") and not fired:
                fired.append(statement)
                with backend.uow() as uow:
                    add_professional(
                        uow, last_name="Autre", first_names="Anne", email="a@c.lu", code="01001234"
                    )

        return be

    monkeypatch.setattr(cli_module, "_backend", racing)
    args = {**PROF_ARGS}
    rc, out, err = run("professionals", "add", *(x for kv in args.items() for x in kv))
    assert fired
    assert rc == 1, out
    assert "code médecin : Ce code médecin est déjà enregistré." in err
    assert "Traceback" not in err
    with backend.uow() as uow:
        assert uow.session.scalars(select(Professional.last_name)).all() == ["Autre"]


# --- any command, when the database fails -----------------------------------------------------


def _every_command(prof_id: int = 1) -> dict[str, list[str]]:
    return {
        "professionals-add": ["professionals", "add", *(x for kv in PROF_ARGS.items() for x in kv)],
        "declare": _declare_args(prof_id),
        "users-add": ["users", "add", "--email", "a@esante.lu", "--role", "admin"],
        "mail-send": ["mail", "send"],
        "expire": ["expire"],
        "purge": ["purge"],
        "metrics-refresh": ["metrics", "refresh"],
    }


def _main(capsys, monkeypatch, argv, settings):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    capsys.readouterr()
    rc = main(list(argv), settings=settings)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize(
    "command", [*_every_command(), "db-upgrade", "demo", "run"], ids=lambda c: c
)
def test_every_command_against_an_unreachable_database_says_so_in_french(
    capsys, monkeypatch, command
):
    url = f"postgresql://esante:s3cr3t-pw@127.0.0.1:{free_port()}/esante"  # nothing listens
    argv = {
        **_every_command(),
        "db-upgrade": ["db", "upgrade"],
        "demo": ["demo", "--enrolments", "1"],
        "run": ["run", "--port", "1"],
    }[command]
    settings = Settings(env="test", database_url=url, smtp_url="smtp://127.0.0.1:9")
    rc, out, err = _main(capsys, monkeypatch, argv, settings)
    assert rc == 1
    assert err.startswith("Erreur : la base de données est injoignable"), err
    assert "postgresql://esante:***@127.0.0.1" in err  # where, without the password
    assert "s3cr3t-pw" not in out + err and PASSWORD not in out + err
    assert "Traceback" not in err


@pytest.fixture(params=["sqlite", "postgresql"])
def schemaless_url(request, tmp_path):
    """A database that exists but was never migrated (`db upgrade` not run)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set (PostgreSQL tests run in CI)")
    name = f"esante_test_empty_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(normalise_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.parametrize("command", list(_every_command()), ids=lambda c: c)
def test_every_command_against_a_database_without_schema_says_so_and_writes_nothing(
    capsys, monkeypatch, schemaless_url, command
):
    settings = Settings(env="test", database_url=schemaless_url, smtp_url="smtp://127.0.0.1:9")
    rc, out, err = _main(capsys, monkeypatch, _every_command()[command], settings)
    assert rc == 1
    assert err.startswith("Erreur : la base de données n'a pas le schéma attendu"), err
    assert "python -m dashboard db upgrade" in err
    assert "Traceback" not in err
    engine = make_engine(schemaless_url)
    try:
        assert inspect(engine).get_table_names() == []  # nothing written, not even a table
    finally:
        engine.dispose()


def test_the_real_program_against_an_unreachable_database(tmp_path):
    env = {**os.environ, "DASHBOARD_ENV": "test"}
    env["DATABASE_URL"] = f"postgresql://esante@127.0.0.1:{free_port()}/esante"
    for argv in (["expire"], ["db", "upgrade"]):
        p = subprocess.run(
            [sys.executable, "-m", "dashboard", *argv],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == 1, p.stderr
        assert p.stderr.startswith("Erreur : la base de données est injoignable"), p.stderr
        assert "Traceback" not in p.stderr


# --- declare (one secretary) ------------------------------------------------------------------


def test_declare_stores_a_declared_enrolment_and_queues_the_invitation(run, backend, prof):
    rc, out, err = run(*_declare_args(prof, matricule="1985 0412 123 " + M1[11:]))
    assert (rc, err) == (0, "")
    match = re.fullmatch(r"Déclaration (\d+) enregistrée, invitation en file d'envoi\.\n", out)
    assert match, out

    [e] = _enrolments(backend)
    assert e.id == int(match.group(1))
    assert e.professional_id == prof
    assert e.state == lc.DECLARED
    assert (e.declared_last_name, e.declared_first_names) == ("Schmit", "Marie")
    assert e.declared_matricule == M1  # separators removed
    assert e.email == "marie.schmit@example.lu"
    assert e.token_hash and len(e.token_hash) == 64

    [mail] = _outbox(backend)
    assert (mail.template, mail.enrolment_id, mail.status) == ("invitation", e.id, "pending")
    assert mail.recipient == "marie.schmit@example.lu"
    assert "sealed_link" in mail.context  # the link is stored encrypted, never in clear
    assert "/enrolment/invitation/" not in str(mail.context)

    with backend.uow() as uow:
        [ev] = uow.session.scalars(select(Event).where(Event.enrolment_id == e.id)).all()
    assert (ev.action, ev.actor_type, ev.state_after) == ("declared", "cli", lc.DECLARED)


def test_declare_again_supersedes_the_open_declaration(run, backend, prof):
    assert run(*_declare_args(prof))[0] == 0
    rc, out, err = run(*_declare_args(prof, email="marie@other.lu"))
    assert (rc, err) == (0, "")
    first, second = _enrolments(backend)
    assert f"remplace la déclaration {first.id}" in out
    assert first.state == lc.CANCELLED
    assert first.superseded_by_id == second.id
    assert second.state == lc.DECLARED


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (M1_BAD, "chiffre de contrôle incorrect"),
        ("123", "13 chiffres"),
        ("1985O412123" + M1[11:], "que des chiffres"),
        (matricule.make("19850412", "123")[:11], "ancien format"),
    ],
)
def test_declare_with_an_invalid_matricule_writes_nothing(run, backend, prof, value, expected):
    before = _counts(backend)
    rc, out, err = run(*_declare_args(prof, matricule=value))
    assert rc == 1
    assert out == ""
    assert "rien n'a été enregistré" in err
    assert "matricule :" in err
    assert expected in err
    assert "Traceback" not in err
    assert _counts(backend) == before


def test_declare_reports_every_bad_field_at_once(run, backend, prof):
    rc, _, err = run(
        *_declare_args(prof, first_names="   ", email="pas-une-adresse", matricule="1")
    )
    assert rc == 1
    for fragment in ("prénom(s) :", "email :", "matricule :"):
        assert fragment in err
    assert "  nom :" not in err
    assert _counts(backend)["enrolments"] == 0


def test_declare_for_an_unknown_professional_fails(run, backend):
    before = _counts(backend)
    rc, out, err = run(*_declare_args(987654))
    assert rc == 1
    assert out == ""
    assert "Professionnel 987654 inconnu ou inactif" in err
    assert _counts(backend) == before


def test_declare_without_the_identity_options_names_them(run, backend, prof):
    rc, out, err = run("declare", "--professional", str(prof), "--last-name", "Schmit")
    assert rc == 1
    assert out == ""
    assert "--first-names" in err
    assert "--matricule" in err
    assert "--email" in err
    assert "--last-name" not in err
    assert "--csv" in err  # tells about the other way
    assert _counts(backend)["enrolments"] == 0


def test_declare_without_professional_is_an_argparse_error(run, capsys):
    with pytest.raises(SystemExit) as exc:
        run("declare", "--last-name", "Schmit")
    assert exc.value.code == 2
    assert "--professional" in capsys.readouterr().err


def test_declare_csv_and_single_options_do_not_mix(run, backend, prof, tmp_path):
    path = _write_csv(tmp_path / "s.csv", [("Weber", "Anne", M2, "anne@example.lu")])
    rc, _, err = run("declare", "--professional", str(prof), "--csv", path, "--matricule", M1)
    assert rc == 1
    assert "--csv ne se combine pas" in err
    assert _counts(backend)["enrolments"] == 0


# --- declare --csv ----------------------------------------------------------------------------

GOOD_ROWS = [
    ("Müller", "Joëlle", M1, "joelle.muller@example.lu"),
    ("Da Silva", "Anne-Marie Françoise", f"{M2[:4]} {M2[4:8]} {M2[8:11]} {M2[11:]}", "ams@ex.lu"),
    ("D'Angelo", "Léa", M3, "LEA.DANGELO@EXAMPLE.LU"),
]


@pytest.mark.parametrize(
    ("delimiter", "encoding", "newline"),
    [
        (",", "utf-8", "\n"),
        (";", "utf-8", "\n"),
        (";", "utf-8-sig", "\r\n"),  # what Excel writes: BOM and CRLF
        (",", "utf-8-sig", "\n"),
        ("\t", "utf-8", "\n"),
    ],
    ids=["comma", "semicolon", "semicolon-bom-crlf", "comma-bom", "tab"],
)
def test_declare_csv_declares_every_row(run, backend, prof, tmp_path, delimiter, encoding, newline):
    path = _write_csv(tmp_path / "good.csv", GOOD_ROWS, delimiter, encoding, newline)
    rc, out, err = run("declare", "--professional", str(prof), "--csv", path)
    assert (rc, err) == (0, "")
    assert out.count("enregistrée, invitation en file d'envoi") == 3

    rows = _enrolments(backend)
    got = [
        (e.declared_last_name, e.declared_first_names, e.declared_matricule, e.email, e.state)
        for e in rows
    ]
    assert got == [
        ("Müller", "Joëlle", M1, "joelle.muller@example.lu", lc.DECLARED),
        ("Da Silva", "Anne-Marie Françoise", M2, "ams@ex.lu", lc.DECLARED),
        ("D'Angelo", "Léa", M3, "lea.dangelo@example.lu", lc.DECLARED),
    ]
    assert all(e.professional_id == prof for e in rows)
    mails = _outbox(backend)
    assert [(m.template, m.enrolment_id) for m in mails] == [("invitation", e.id) for e in rows]


def test_declare_csv_with_optional_phone_and_extra_columns(run, backend, prof, tmp_path):
    path = tmp_path / "phone.csv"
    path.write_text(
        "email;matricule;phone;first_names;last_name;remarque\n"
        f"marie@example.lu;{M1};+352 621 123 456;Marie;Schmit;à rappeler\n"
        f"anne@example.lu;{M2};;Anne;Weber;\n",
        encoding="utf-8",
    )
    rc, _, err = run("declare", "--professional", str(prof), "--csv", str(path))
    assert (rc, err) == (0, "")
    first, second = _enrolments(backend)
    assert (first.declared_last_name, first.phone) == ("Schmit", "+352 621 123 456")
    assert (second.declared_last_name, second.phone) == ("Weber", None)


def test_declare_csv_reports_each_bad_row_with_its_line_and_writes_nothing(
    run, backend, prof, tmp_path
):
    rows = [
        ("Schmit", "Marie", M1, "marie@example.lu"),  # line 2: good
        ("Weber", "Anne", M1_BAD, "anne@example.lu"),  # line 3: checksum
        ("Thill", "Sophie", M3, "sophie@example.lu"),  # line 4: good
        ("Kremer", "", M4, "not-an-email"),  # line 5: first name and email
    ]
    path = _write_csv(tmp_path / "bad.csv", rows, delimiter=";")
    before = _counts(backend)
    rc, out, err = run("declare", "--professional", str(prof), "--csv", path)
    assert rc == 1
    assert out == ""
    assert "rien n'a été enregistré" in err
    assert re.search(r"ligne 3 : matricule : .*chiffre de contrôle incorrect", err)
    assert re.search(r"ligne 5 : prénom\(s\) : .*obligatoire", err)
    assert re.search(r"ligne 5 : email : .*n'est pas valide", err)
    assert "ligne 2" not in err
    assert "ligne 4" not in err
    assert _counts(backend) == before


def test_declare_csv_reports_duplicate_matricules_inside_the_file(run, backend, prof, tmp_path):
    rows = [
        ("Schmit", "Marie", M1, "marie@example.lu"),
        ("Weber", "Anne", M2, "anne@example.lu"),
        ("Schmit", "Marie", f"{M1[:4]}.{M1[4:8]}.{M1[8:]}", "marie.autre@example.lu"),
        ("Weber", "Anne", M2, "anne@example.lu"),
    ]
    path = _write_csv(tmp_path / "dup.csv", rows)
    rc, out, err = run("declare", "--professional", str(prof), "--csv", path)
    assert rc == 1
    assert out == ""
    assert "ligne 4 : matricule : déjà présent ligne 2" in err
    assert "ligne 5 : matricule : déjà présent ligne 3" in err
    assert _counts(backend)["enrolments"] == 0


def test_declare_csv_missing_a_column_fails(run, backend, prof, tmp_path):
    path = _write_csv(
        tmp_path / "cols.csv",
        [("Schmit", "Marie", "marie@example.lu")],
        header=("last_name", "first_names", "email"),
    )
    rc, out, err = run("declare", "--professional", str(prof), "--csv", path)
    assert rc == 1
    assert out == ""
    assert "Colonnes manquantes" in err
    assert "matricule" in err
    assert _counts(backend)["enrolments"] == 0


@pytest.mark.parametrize("kind", ["missing", "directory", "latin-1", "empty"])
def test_declare_csv_unreadable_file_fails(run, backend, prof, tmp_path, kind):
    if kind == "missing":
        path = str(tmp_path / "nope.csv")
        expected = "Impossible de lire"
    elif kind == "directory":
        path = str(tmp_path)
        expected = "Impossible de lire"
    elif kind == "latin-1":
        path = _write_csv(tmp_path / "l1.csv", GOOD_ROWS, ";", encoding="latin-1")
        expected = "illisible"
    else:
        (tmp_path / "empty.csv").write_bytes(b"")
        path = str(tmp_path / "empty.csv")
        expected = "Colonnes manquantes"
    rc, out, err = run("declare", "--professional", str(prof), "--csv", path)
    assert rc == 1
    assert out == ""
    assert err.startswith("Erreur :")
    assert expected in err
    assert "Traceback" not in err
    assert _counts(backend)["enrolments"] == 0


def test_declare_csv_for_an_unknown_professional_writes_nothing(run, backend, tmp_path):
    path = _write_csv(tmp_path / "good.csv", GOOD_ROWS)
    rc, _, err = run("declare", "--professional", "424242", "--csv", path)
    assert rc == 1
    assert "inconnu ou inactif" in err
    assert _counts(backend)["enrolments"] == 0


def test_declare_csv_line_numbers_count_blank_lines(run, backend, prof, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text(
        "last_name,first_names,matricule,email\n"
        f"Schmit,Marie,{M1},marie@example.lu\n"
        "\n"
        f"Weber,Anne,{M1_BAD},anne@example.lu\n",
        encoding="utf-8",
    )
    rc, _, err = run("declare", "--professional", str(prof), "--csv", str(path))
    assert rc == 1
    assert "ligne 4 : matricule" in err  # the bad row is on line 4 of the file


def test_declare_csv_refused_by_the_service_writes_nothing(run, backend, prof, tmp_path):
    f.walk_to(backend, prof, lc.PENDING_REVIEW)  # MARIE (M1) is with the review team
    before = _counts(backend)
    rows = [
        ("Weber", "Anne", M2, "anne@example.lu"),
        ("Schmit", "Marie", M1, "marie@example.lu"),
    ]
    path = _write_csv(tmp_path / "dup.csv", rows)
    rc, out, err = run("declare", "--professional", str(prof), "--csv", path)
    assert rc == 1
    assert "vérification manuelle est en cours" in err
    assert _counts(backend) == before


# --- users add --------------------------------------------------------------------------------


def test_users_add_creates_the_user_with_roles_and_an_argon2_hash(run, backend):
    rc, out, err = run(
        "users",
        "add",
        "--email",
        "Claire.Weber@esante.lu",
        "--role",
        "reviewer",
        "--role",
        "admin",
        "--name",
        "Claire Weber",
        stdin=PASSWORD + "\n",
    )
    assert (rc, err) == (0, "")
    assert out == "Compte créé : claire.weber@esante.lu (admin, reviewer).\n"
    assert PASSWORD not in out + err

    with backend.uow() as uow:
        user = uow.session.scalar(
            select(StaffUser).where(StaffUser.email == "claire.weber@esante.lu")
        )
        assert user is not None
        assert user.role_names == {"reviewer", "admin"}
        assert user.display_name == "Claire Weber"
        assert user.active
        assert user.password_hash.startswith("$argon2id$")
        # The password is nowhere in the row in clear.
        assert all(PASSWORD not in str(getattr(user, c.key)) for c in StaffUser.__table__.columns)
        assert authenticate(uow, "claire.weber@esante.lu", PASSWORD).id == user.id
        assert authenticate(uow, "claire.weber@esante.lu", PASSWORD + "x") is None


def test_users_add_keeps_inner_and_trailing_spaces_of_the_password(run, backend):
    password = "  mot de passe avec espaces  "
    rc, _, _ = run("users", "add", "--email", "a@esante.lu", "--role", "manager", stdin=password)
    assert rc == 0
    with backend.uow() as uow:
        assert authenticate(uow, "a@esante.lu", password) is not None


@pytest.mark.parametrize("password", ["Tr0ub4dor", ""], ids=["short", "empty"])
def test_users_add_with_a_short_password_fails(run, backend, password):
    rc, out, err = run(
        "users", "add", "--email", "b@esante.lu", "--role", "reviewer", stdin=password + "\n"
    )
    assert rc == 1
    assert out == ""
    assert "au moins 12 caractères" in err
    if password:
        assert password not in out + err
    assert _counts(backend)["staff"] == 0


def test_users_add_twice_with_the_same_email_fails(run, backend):
    args = ("users", "add", "--email", "c@esante.lu", "--role", "reviewer")
    assert run(*args, stdin=PASSWORD + "\n")[0] == 0
    rc, out, err = run("users", "add", "--email", "C@ESANTE.LU", "--role", "admin", stdin=PASSWORD)
    assert rc == 1
    assert "existe déjà" in err
    assert PASSWORD not in out + err
    with backend.uow() as uow:
        assert uow.session.scalars(select(StaffRole.role)).all() == ["reviewer"]


def test_users_add_with_an_unknown_role_is_an_argparse_error(run, backend, capsys):
    with pytest.raises(SystemExit) as exc:
        run("users", "add", "--email", "d@esante.lu", "--role", "superuser", stdin=PASSWORD)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "superuser" in err
    assert PASSWORD not in err
    assert _counts(backend)["staff"] == 0


# --- demo -------------------------------------------------------------------------------------


def test_demo_loads_professionals_staff_and_enrolments_then_refuses(run, backend):
    rc, out, err = run("demo", "--enrolments", "30")
    assert (rc, err) == (0, "")
    summary = re.search(r"(\d+) professionnels, (\d+) déclarations", out)
    assert summary, out
    n_profs, n_enrolments = int(summary.group(1)), int(summary.group(2))

    counts = _counts(backend)
    assert counts["professionals"] == n_profs == 8
    # A few duplicates the dice produce may be skipped; a "superseded" scenario writes two
    # rows (the old declaration and its replacement).
    assert n_enrolments >= 20
    assert counts["enrolments"] >= n_enrolments
    assert counts["staff"] == 4
    assert counts["outbox"] >= n_enrolments  # at least every invitation

    accounts = re.findall(r"^\s+(\S+@esante\.lu)\s+(\S+)\s+\((.+)\)$", out, re.M)
    assert {email for email, _, _ in accounts} == {
        "reviewer@esante.lu",
        "reviewer2@esante.lu",
        "manager@esante.lu",
        "admin@esante.lu",
    }
    with backend.uow() as uow:
        for email, password, roles in accounts:
            user = authenticate(uow, email, password)
            assert user is not None, email
            assert user.role_names == set(roles.split(", "))
            assert password not in user.password_hash
        states = {s for (s,) in uow.session.execute(select(Enrolment.state).distinct())}
    assert {lc.DECLARED, lc.ACCOUNT_CREATED, lc.PENDING_REVIEW} <= states

    rc, out, err = run("demo", "--enrolments", "30")
    assert rc == 1
    assert out == ""
    assert "contient déjà des déclarations" in err
    assert _counts(backend) == counts


def test_demo_with_a_negative_count_fails(run, backend):
    rc, _, err = run("demo", "--enrolments", "-1")
    assert rc == 1
    assert "--enrolments doit être positif" in err
    assert _counts(backend)["staff"] == 0


def test_demo_refuses_without_partial_writes_when_staff_exists(run, backend):
    rc, _, _ = run("users", "add", "--email", "admin@esante.lu", "--role", "admin", stdin=PASSWORD)
    assert rc == 0
    before = _counts(backend)
    rc, _, err = run("demo", "--enrolments", "5")
    assert rc == 1
    assert _counts(backend) == before


# --- expire -----------------------------------------------------------------------------------


def test_expire_expires_stale_invitations_and_prints_the_count(run, settings, backend):
    now = dt.datetime.now(dt.UTC)
    past = Backend(
        settings, make_engine(settings.database_url), clock=lambda: now - dt.timedelta(days=31)
    )
    current = Backend.from_settings(settings)
    try:
        prof = f.professional(past)
        stale = f.declare(past, prof)  # invited 31 days ago: link valid 30 days
        fresh = f.declare(current, prof, matricule=M2, email="anne@example.lu")
    finally:
        past.dispose()
        current.dispose()

    rc, out, err = run("expire")
    assert (rc, err) == (0, "")
    assert out == "Invitations expirées : 1.\n"
    with backend.uow() as uow:
        assert uow.session.get(Enrolment, stale.enrolment_id).state == lc.EXPIRED
        assert uow.session.get(Enrolment, fresh.enrolment_id).state == lc.DECLARED
        [ev] = uow.session.scalars(select(Event).where(Event.action == "expired")).all()
        assert (ev.enrolment_id, ev.actor_type) == (stale.enrolment_id, "system")

    rc, out, _ = run("expire")
    assert (rc, out) == (0, "Invitations expirées : 0.\n")


# --- mail send --------------------------------------------------------------------------------


def test_mail_send_without_smtp_url_points_at_the_dev_mailbox(run, backend, prof):
    assert run(*_declare_args(prof))[0] == 0
    rc, out, err = run("mail", "send")
    assert rc == 1
    assert out == ""
    assert "SMTP_URL n'est pas défini" in err
    assert "boîte de développement" in err
    assert [m.status for m in _outbox(backend)] == ["pending"]


def test_mail_send_delivers_queued_invitations_once(run, settings, backend, prof, smtp_server):
    assert run(*_declare_args(prof))[0] == 0
    assert run(*_declare_args(prof, matricule=M2, email="anne@example.lu"))[0] == 0
    smtp = settings.replace(smtp_url=smtp_server.url)

    rc, out, err = run("mail", "send", settings=smtp)
    assert (rc, err) == (0, "")
    assert out == "Envoyés : 2 ; à réessayer : 0 ; abandonnés : 0.\n"
    messages = smtp_server.inbox.wait_for(2)
    assert sorted(r for rcpt, _ in messages for r in rcpt) == [
        "anne@example.lu",
        "marie.schmit@example.lu",
    ]
    for _, msg in messages:
        body = msg.get_body(preferencelist=("plain",)).get_content()
        assert "http://testserver/enrolment/invitation/" in body

    rows = _outbox(backend)
    assert [m.status for m in rows] == ["sent", "sent"]
    assert all(m.sent_at is not None and m.attempts == 1 for m in rows)
    assert all("sealed_link" not in (m.context or {}) for m in rows)  # link wiped once sent

    rc, out, _ = run("mail", "send", settings=smtp)
    assert (rc, out) == (0, "Envoyés : 0 ; à réessayer : 0 ; abandonnés : 0.\n")
    assert len(smtp_server.inbox.wait_for(3, timeout=0.5)) == 2


def test_mail_send_with_a_malformed_smtp_url_fails_cleanly(run, settings):
    rc, _, err = run("mail", "send", settings=settings.replace(smtp_url="http://mail.example.lu"))
    assert rc == 1
    assert "SMTP_URL doit avoir la forme smtp://" in err


# --- the real program -------------------------------------------------------------------------


def test_python_dash_m_dashboard_end_to_end(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"}
    env["DASHBOARD_ENV"] = "development"
    env.pop("SMTP_URL", None)

    def program(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dashboard", *argv],
            env=env,
            cwd=PROJECT_ROOT,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
        )

    p = program("db", "upgrade")
    assert p.returncode == 0, p.stderr
    assert "Schéma de la base à jour" in p.stdout

    p = program(
        "professionals",
        "add",
        "--last-name",
        "Hoffmann",
        "--first-names",
        "Jean",
        "--email",
        "dr@cabinet.lu",
    )
    assert p.returncode == 0, p.stderr
    prof_id = re.fullmatch(r"Professionnel créé : (\d+)\n", p.stdout).group(1)

    p = program(*_declare_args(int(prof_id), last_name="Müller", first_names="Joëlle"))
    assert p.returncode == 0, p.stderr
    assert "enregistrée, invitation en file d'envoi" in p.stdout

    p = program(*_declare_args(int(prof_id), matricule=M1_BAD))
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.startswith("Erreur : Déclaration refusée, rien n'a été enregistré")
    assert "chiffre de contrôle incorrect" in p.stderr
    assert "Traceback" not in p.stderr

    p = program("users", "add", "--email", "r@esante.lu", "--role", "reviewer", stdin=PASSWORD)
    assert p.returncode == 0, p.stderr
    assert PASSWORD not in p.stdout + p.stderr

    p = program("users", "add", "--email", "s@esante.lu", "--role", "boss", stdin=PASSWORD)
    assert p.returncode == 2
    assert "boss" in p.stderr

    p = program("mail", "send")
    assert p.returncode == 1
    assert "SMTP_URL n'est pas défini" in p.stderr

    p = program("expire")
    assert (p.returncode, p.stdout) == (0, "Invitations expirées : 0.\n")

    p = program()
    assert p.returncode == 2  # a command is required

    settings = Settings(env="test", database_url=env["DATABASE_URL"])
    backend = Backend.from_settings(settings)
    try:
        [e] = _enrolments(backend)
        assert (e.declared_last_name, e.declared_first_names, e.state) == (
            "Müller",
            "Joëlle",
            lc.DECLARED,
        )
        assert _counts(backend)["staff"] == 1
    finally:
        backend.dispose()


def test_mail_send_loop_sends_a_backlog_without_pausing_between_full_batches(
    settings, backend, smtp_server
):
    """A full batch means more is due: the loop goes on at once, and pauses for --interval
    (an hour here) only once the outbox has nothing due."""
    with backend.uow() as uow:
        for n in range(120):
            mail.queue(uow, "approved", f"s{n}@example.lu", {"first_names": "A", "last_name": "B"})
        uow.commit()
    transport = mail.SmtpTransport.from_url(smtp_server.url)
    stop, reports = threading.Event(), []

    def on_report(report):
        reports.append(report.sent)
        if sum(reports) >= 120:
            stop.set()

    loop = threading.Thread(
        target=cli_module._mail_loop, args=(backend, transport, 3600, stop, on_report)
    )
    loop.start()
    loop.join(timeout=120)
    stop.set()
    loop.join(timeout=10)
    assert reports == [mail.BATCH, mail.BATCH, 120 - 2 * mail.BATCH]
    assert len(smtp_server.inbox.wait_for(120)) == 120
