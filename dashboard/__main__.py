"""Command line: `python -m dashboard COMMAND` (see `--help`).

Every command calls the same service functions as the pages. Bad input prints a clear
French message on stderr and exits with status 1, having written nothing.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import os
import signal
import sys
import threading

from alembic.util import CommandError as MigrationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dashboard import i18n, logs, progress
from dashboard.config import ConfigurationError, Settings
from dashboard.enrolment import (
    declarations,
    demo,
    housekeeping,
    kernel,
    links,
    mail,
    provisioning,
    rollup,
)
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.codes import LinkEndReason
from dashboard.enrolment.db import failure_kind
from dashboard.enrolment.errors import DomainError, Forbidden, NotFound, ValidationFailed
from dashboard.enrolment.professionals import active_name, add_professional
from dashboard.enrolment.staff import ROLES, add_user

CLI = kernel.Actor("cli")


class CommandError(Exception):
    """A problem to report to the person at the terminal (exit status 1)."""


def _backend(settings: Settings) -> Backend:
    return Backend.from_settings(settings)


FIELD_LABELS = {
    "last_name": "nom",
    "first_names": "prénom(s)",
    "matricule": "matricule",
    "email": "email",
    "phone": "téléphone",
    "password": "mot de passe",  # nosec B105
    "roles": "rôle",
    "code": "code médecin",
    "specialty": "spécialité",
    "luxtrust_subject": "identité LuxTrust",
}


def _fail_on_validation(exc: ValidationFailed) -> CommandError:
    return CommandError(
        "\n".join(f"  {FIELD_LABELS.get(k, k)} : {msg}" for k, msg in exc.errors.items())
    )


def cmd_db_upgrade(args, settings: Settings) -> int:
    backend = _backend(settings)
    backend.upgrade_schema()
    print(f"Schéma de la base à jour ({backend.engine.url.render_as_string(hide_password=True)}).")
    return 0


def _print_demo(result: demo.DemoResult) -> None:
    print(
        f"Données de démonstration : {len(result.professionals)} professionnels, "
        f"{result.enrolments} déclarations dont {result.corrections} "
        f"correction{'s' if result.corrections > 1 else ''}."
    )
    print("Comptes du personnel (mot de passe affiché une seule fois) :")
    for email, password, roles in result.staff:
        print(f"  {email:<24} {password}   ({', '.join(roles)})")


def cmd_demo(args, settings: Settings) -> int:
    if args.enrolments < 0:
        raise CommandError("--enrolments doit être positif.")
    backend = _backend(settings)
    backend.upgrade_schema()
    with backend.uow() as uow:
        if housekeeping.overview(uow).by_state:
            raise CommandError("La base contient déjà des déclarations : démo non chargée.")
        taken = demo.existing_demo_accounts(uow)
        if taken:
            raise CommandError(
                "Ces comptes de démonstration existent déjà : "
                + ", ".join(taken)
                + ". Démo non chargée."
            )
    with progress.bar(total=args.enrolments, desc="Démonstration", unit="décl.") as bar:
        result = demo.load(backend, args.enrolments, progress=bar.update)
    _print_demo(result)
    return 0


def cmd_professionals_add(args, settings: Settings) -> int:
    backend = _backend(settings)
    try:
        with backend.uow() as uow:
            prof = add_professional(
                uow,
                last_name=args.last_name,
                first_names=args.first_names,
                email=args.email,
                specialty=args.specialty,
                code=args.code,
                luxtrust_subject=args.luxtrust_subject,
            )
    except ValidationFailed as exc:
        raise _fail_on_validation(exc) from None
    print(f"Professionnel créé : {prof.id}")
    return 0


def cmd_professionals_deactivate(args, settings: Settings) -> int:
    backend = _backend(settings)
    try:
        with backend.uow() as uow:
            professional_id = links.professional_by_code(uow, args.code)
            ended = links.deactivate_professional(uow, professional_id, CLI, args.reason)
            uow.commit()
    except (NotFound, Forbidden, ValidationFailed) as exc:
        raise CommandError(f"{exc.message}") from None
    print(
        f"Professionnel {args.code} désactivé : {ended} accès de secrétaire terminé(s) "
        "(l'annuaire suivra au prochain envoi du provisionnement)."
    )
    return 0


CSV_FIELDS = ("last_name", "first_names", "matricule", "email")


def _read_csv(path: str) -> list[tuple[int, dict]]:
    """(line number, row) for every non-empty row; a bad file raises CommandError."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            sample = fh.read(4096)
            fh.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.DictReader(fh, dialect=dialect)
            missing = [f for f in CSV_FIELDS if f not in (reader.fieldnames or [])]
            if missing:
                raise CommandError(
                    f"Colonnes manquantes dans {path} : {', '.join(missing)} "
                    f"(attendu : {', '.join(CSV_FIELDS)}, phone facultatif)."
                )
            rows = []
            for row in reader:
                # A row of empty cells (";;;" as spreadsheets write) is not a declaration.
                if any((v or "").strip() for k, v in row.items() if k is not None):
                    rows.append((reader.line_num, row))  # the line where the row ends
    except OSError as exc:
        raise CommandError(f"Impossible de lire {path} : {exc.strerror}.") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise CommandError(f"Fichier CSV illisible ({path}) : {exc}.") from None
    if not rows:
        raise CommandError(f"Aucune déclaration dans {path} (seulement l'en-tête ?).")
    return rows


def cmd_declare(args, settings: Settings) -> int:
    backend = _backend(settings)
    if args.csv:
        if any([args.last_name, args.first_names, args.matricule, args.email, args.phone]):
            raise CommandError(
                "--csv ne se combine pas avec --last-name, --matricule, --phone, etc."
            )
        rows = _read_csv(args.csv)
    else:
        missing = [
            n for n in ("last_name", "first_names", "matricule", "email") if not getattr(args, n)
        ]
        if missing:
            raise CommandError(
                "Indiquez "
                + ", ".join("--" + m.replace("_", "-") for m in missing)
                + " (ou --csv FICHIER)."
            )
        rows = [
            (
                0,
                {
                    "last_name": args.last_name,
                    "first_names": args.first_names,
                    "matricule": args.matricule,
                    "email": args.email,
                    "phone": args.phone,
                },
            )
        ]
    # Check every row before writing any, so that a bad file writes nothing.
    problems, seen, cleaned = [], {}, []
    checking = progress.bar(total=len(rows), desc="Vérification", unit="ligne")
    for line, row in rows:
        checking.update(1)
        try:
            data = declarations.validate_declaration(
                row.get("last_name"),
                row.get("first_names"),
                row.get("matricule"),
                row.get("email"),
                row.get("phone"),
            )
        except ValidationFailed as exc:
            problems.append((line, exc.errors))
            continue
        if data["matricule"] in seen:
            problems.append((line, {"matricule": f"déjà présent ligne {seen[data['matricule']]}"}))
            continue
        seen[data["matricule"]] = line
        cleaned.append((line, data))
    checking.close()
    if problems:
        where = "ligne {} : " if args.csv else ""
        report = [
            f"{where.format(line)}{FIELD_LABELS.get(k, k)} : {msg}"
            for line, errors in problems
            for k, msg in errors.items()
        ]
        raise CommandError(
            "Déclaration refusée, rien n'a été enregistré :\n  " + "\n  ".join(report)
        )
    with backend.uow() as uow:
        if active_name(uow, args.professional) is None:
            raise CommandError(f"Professionnel {args.professional} inconnu ou inactif.")
    # One transaction for the whole file: a row the service refuses leaves nothing behind.
    with (
        backend.uow() as uow,
        progress.bar(total=len(cleaned) if args.csv else 0, desc="Déclarations") as bar,
    ):
        try:
            results = declarations.declare_many(
                uow,
                args.professional,
                [data for _, data in cleaned],
                actor=CLI,
                progress=bar.update if args.csv else None,
            )
        except DomainError as exc:
            index = exc.details.get("row")
            where = f"ligne {cleaned[index][0]} : " if args.csv and index is not None else ""
            raise CommandError(
                f"Déclaration refusée, rien n'a été enregistré : {where}{exc.message}"
            ) from None
    for result in results:
        extra = f" (remplace la déclaration {result.superseded_id})" if result.superseded_id else ""
        print(f"Déclaration {result.enrolment_id} enregistrée, invitation en file d'envoi{extra}.")
    return 0


def _read_password(args) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Mot de passe : ")
        if first != getpass.getpass("Confirmez le mot de passe : "):
            raise CommandError("Les deux mots de passe diffèrent.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users_add(args, settings: Settings) -> int:
    backend = _backend(settings)
    password = _read_password(args)
    try:
        with backend.uow() as uow:
            user = add_user(uow, args.email, password, args.role, display_name=args.name)
    except ValidationFailed as exc:
        raise _fail_on_validation(exc) from None
    print(f"Compte créé : {user.email} ({', '.join(sorted(user.role_names))}).")
    return 0


def _print_report(report: mail.DeliveryReport) -> None:
    print(
        f"Envoyés : {report.sent} ; à réessayer : {report.retried} ; abandonnés : {report.failed}.",
        flush=True,
    )


def cmd_mail_send(args, settings: Settings) -> int:
    backend = _backend(settings)
    transport = mail.transport_from_settings(settings)
    if transport is None:
        raise CommandError(
            "SMTP_URL n'est pas défini : le courrier reste dans la boîte de "
            "développement (/dev/mailbox)."
        )
    if not args.loop:
        report = backend.deliver_mail(transport)
        _print_report(report)
        return 0 if not report.failed else 1
    stop = threading.Event()
    with _StopOnSignals(stop):
        _mail_loop(backend, transport, args.interval, stop, on_report=_print_report)
    print("Arrêt de l'envoi du courrier.", flush=True)
    return 0


class _StopOnSignals:
    """SIGTERM and Ctrl-C set `stop`: the mail being sent is sent and recorded, then the
    loop ends (a send gives up after mail.SEND_DEADLINE)."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, stop: threading.Event):
        self.stop, self.previous = stop, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self.previous[sig] = signal.signal(sig, lambda _sig, _frame: self.stop.set())
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


MAX_PAUSE = 60.0  # seconds between two tries while the database or the relay is down


def _delivery_loop(
    deliver, batch: int, what: str, backend: Backend, interval: float, stop, on_report=None
) -> None:
    """Run `deliver` until `stop` is set, pausing `interval` seconds whenever a run did not
    fill its batch. A failure (the database gone, a bug) is said on stderr without personal
    data, and tried again after a pause that doubles up to MAX_PAUSE; the outbox keeps the
    work meanwhile. Shared by mail and provisioning."""
    failures = 0
    while not stop.is_set():
        try:
            report = deliver()
        except Exception as exc:
            failures += 1
            pause = min(interval * 2**failures, max(interval, MAX_PAUSE))
            cause = (
                _database_problem(exc, backend.settings)
                if isinstance(exc, SQLAlchemyError)
                else f"erreur inattendue ({type(exc).__name__})"
            )
            print(f"{what} : {cause} ; nouvel essai dans {pause:g} s.", file=sys.stderr, flush=True)
        else:
            # A full batch: more is due, go on at once (a backlog drains at full speed).
            failures, pause = 0, 0 if report.handled >= batch else interval
            if on_report is not None:
                on_report(report)
        stop.wait(pause)


def _mail_loop(
    backend: Backend,
    transport: mail.Transport | None,
    interval: float,
    stop: threading.Event,
    on_report=None,
) -> None:
    """Deliver due mail until `stop` is set (see _delivery_loop)."""
    _delivery_loop(
        lambda: backend.deliver_mail(transport, stop=stop),
        mail.BATCH,
        "Envoi du courrier interrompu",
        backend,
        interval,
        stop,
        on_report,
    )


# --- provisioning (SCIM) ----------------------------------------------------------------------


def _print_provisioning_report(report: provisioning.DeliveryReport) -> None:
    print(
        f"Comptes transmis à l'annuaire : {report.done} ; à réessayer : {report.retried} ; "
        f"abandonnés : {report.failed}.",
        flush=True,
    )


def _provisioning_loop(backend: Backend, interval: float, stop: threading.Event, on_report=None):
    """Deliver due provisioning requests until `stop` is set (see _delivery_loop)."""
    _delivery_loop(
        lambda: backend.deliver_provisioning(stop=stop),
        provisioning.BATCH,
        "Transmission à l'annuaire interrompue",
        backend,
        interval,
        stop,
        on_report,
    )


def cmd_provisioning_send(args, settings: Settings) -> int:
    backend = _backend(settings)
    if not args.loop:
        report = backend.deliver_provisioning()
        _print_provisioning_report(report)
        return 0 if not report.failed else 1
    stop = threading.Event()
    with _StopOnSignals(stop):
        _provisioning_loop(backend, args.interval, stop, on_report=_print_provisioning_report)
    print("Arrêt de la transmission à l'annuaire.", flush=True)
    return 0


def cmd_provisioning_reconcile(args, settings: Settings) -> int:
    backend = _backend(settings)
    with backend.uow() as uow:
        try:
            drifts = provisioning.reconcile(uow, backend.directory, fix=args.fix)
        except provisioning.DirectoryError as exc:
            raise CommandError(f"lecture de l'annuaire impossible : {exc}.") from None
    for drift in drifts:
        who = f"compte {drift.account_id}" if drift.account_id else "annuaire"
        print(f"  {who} ({drift.directory_id}) : {drift.message}")
    if not drifts:
        print("L'annuaire correspond aux comptes et à leurs liens : aucun écart.")
        return 0
    accounts = len({d.directory_id for d in drifts})
    print(f"Écarts : {len(drifts)} ({accounts} compte(s)).")
    if args.fix:
        print(
            "Corrections mises en file d'attente : lancez « python -m dashboard provisioning "
            "send » (ou laissez faire le dispatcher)."
        )
    return 1


def cmd_expire(args, settings: Settings) -> int:
    backend = _backend(settings)
    with backend.uow() as uow:
        count = housekeeping.expire_stale(uow)
    print(f"Invitations expirées : {count}.")
    return 0


def cmd_purge(args, settings: Settings) -> int:
    backend = _backend(settings)
    with backend.uow() as uow, progress.bar(total=None, desc="Effacement", unit="dem.") as bar:
        count = housekeeping.purge_personal_data(uow, args.older_than_days, progress=bar.update)
    days = settings.retention_days if args.older_than_days is None else args.older_than_days
    print(
        f"Données personnelles effacées : {count} demande(s) terminée(s) depuis plus de "
        f"{days} jours (les événements anonymes sont conservés)."
    )
    return 0


def cmd_metrics_refresh(args, settings: Settings) -> int:
    backend = _backend(settings)
    with backend.uow() as uow:
        done = rollup.refresh(uow, full=args.full)
    days = "tous les jours" if done.days is None else f"{done.days} jour(s)"
    print(
        f"Indicateurs à jour jusqu'à l'événement {done.last_event_id} : {days} de déclaration "
        "recalculé(s)."
    )
    return 0


# --- the background worker (issue 21) ---------------------------------------------------------


def _log_to_stderr() -> None:
    import logging

    if not logging.getLogger().handlers:  # LOG_FORMAT's handler, when configured, wins
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")


def cmd_worker(args, settings: Settings) -> int:
    from dashboard import worker

    _log_to_stderr()
    backend = _backend(settings)
    try:
        with worker.single_worker_guard(settings):
            runner = worker.Worker(backend, transport=mail.transport_from_settings(settings))
            if args.once:
                outcomes = runner.run_due()
                print(" ; ".join(f"{name} : {what}" for name, what in outcomes.items()))
                return 0 if "failed" not in outcomes.values() else 1
            with worker.StopOnSignals(runner.stop):
                runner.run_forever()
    except worker.AnotherWorker as exc:
        raise CommandError(str(exc)) from None
    finally:
        backend.dispose()
    print("Arrêt du worker.", flush=True)
    return 0


def cmd_run(args, settings: Settings) -> int:
    from dashboard.app import create_app

    if not os.environ.get("BASE_URL"):
        # Links and the simulator's issuer must point at where this server really listens.
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104  # nosec B104
        settings = settings.replace(base_url=f"http://{host}:{args.port}")
    backend = _backend(settings)
    if backend.upgrade_schema() and settings.demo_on_first_start and not settings.is_production:
        print("Première utilisation : chargement des données de démonstration…", flush=True)
        _print_demo(demo.load(backend))
    app = create_app(settings, backend=backend)
    if settings.worker_embedded and not settings.is_production:
        # Development: mail, expiry, reminders… flow without a second command.
        from dashboard import worker

        _log_to_stderr()
        worker.start_embedded(backend)
    else:
        # WORKER_EMBEDDED=0: mail and provisioning still flow; the rest is the worker's.
        if settings.smtp_url:
            transport = mail.transport_from_settings(settings)
            threading.Thread(
                target=_mail_loop, args=(backend, transport, 5.0, threading.Event()), daemon=True
            ).start()
        # Accounts reach the directory, and only then are their emails queued.
        threading.Thread(
            target=_provisioning_loop, args=(backend, 2.0, threading.Event()), daemon=True
        ).start()
    url = f"http://{args.host}:{args.port}/"
    print(f"\nL'application est prête : ouvrez {url}\n", flush=True)
    app.run(host=args.host, port=args.port, debug=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard", description="Agence eSanté — inscription des secrétaires"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="démarrer l'application")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8050)
    run.set_defaults(func=cmd_run)

    db = sub.add_parser("db", help="schéma de la base").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="créer ou mettre à jour le schéma").set_defaults(
        func=cmd_db_upgrade
    )

    d = sub.add_parser("demo", help="charger des données de démonstration")
    d.add_argument("--enrolments", type=int, default=150)
    d.set_defaults(func=cmd_demo)

    profs = sub.add_parser("professionals").add_subparsers(dest="professionals", required=True)
    pa = profs.add_parser("add", help="enregistrer un professionnel de santé")
    pa.add_argument("--last-name", required=True)
    pa.add_argument("--first-names", required=True)
    pa.add_argument("--email", required=True)
    pa.add_argument("--specialty")
    pa.add_argument("--code")
    pa.add_argument("--luxtrust-subject")
    pa.set_defaults(func=cmd_professionals_add)
    pd = profs.add_parser(
        "deactivate", help="désactiver un professionnel : ses secrétaires perdent leur accès"
    )
    pd.add_argument("code", help="le code du professionnel")
    pd.add_argument(
        "--reason",
        choices=[r.value for r in LinkEndReason],
        default=LinkEndReason.PROFESSIONAL_DEACTIVATED.value,
        help="motif enregistré pour chaque accès terminé",
    )
    pd.set_defaults(func=cmd_professionals_deactivate)

    dec = sub.add_parser("declare", help="déclarer une secrétaire (ou plusieurs avec --csv)")
    dec.add_argument("--professional", type=int, required=True)
    dec.add_argument("--last-name")
    dec.add_argument("--first-names")
    dec.add_argument("--matricule")
    dec.add_argument("--email")
    dec.add_argument("--phone")
    dec.add_argument("--csv", metavar="FICHIER")
    dec.set_defaults(func=cmd_declare)

    users = sub.add_parser("users").add_subparsers(dest="users", required=True)
    ua = users.add_parser("add", help="créer un compte du personnel (mot de passe demandé)")
    ua.add_argument("--email", required=True)
    ua.add_argument("--role", action="append", required=True, choices=ROLES)
    ua.add_argument("--name")
    ua.set_defaults(func=cmd_users_add)

    m = sub.add_parser("mail").add_subparsers(dest="mail", required=True)
    ms = m.add_parser("send", help="envoyer le courrier en attente")
    ms.add_argument("--loop", action="store_true", help="continuer toutes les --interval s")
    ms.add_argument("--interval", type=float, default=10.0)
    ms.set_defaults(func=cmd_mail_send)

    pr = sub.add_parser("provisioning", help="l'annuaire de la plateforme d'identité (SCIM)")
    prs = pr.add_subparsers(dest="provisioning", required=True)
    ps = prs.add_parser("send", help="transmettre à l'annuaire les comptes en attente")
    ps.add_argument("--loop", action="store_true", help="continuer toutes les --interval s")
    ps.add_argument("--interval", type=float, default=10.0)
    ps.set_defaults(func=cmd_provisioning_send)
    rc = prs.add_parser("reconcile", help="comparer l'annuaire aux comptes (code 1 si écart)")
    rc.add_argument("--fix", action="store_true", help="mettre en file les corrections (puis send)")
    rc.set_defaults(func=cmd_provisioning_reconcile)

    sub.add_parser("expire", help="expirer les invitations échues").set_defaults(func=cmd_expire)

    pu = sub.add_parser("purge", help="effacer les données personnelles des demandes closes")
    pu.add_argument(
        "--older-than-days",
        type=int,
        default=None,
        help="ancienneté minimale (défaut : RETENTION_DAYS, 90)",
    )
    pu.set_defaults(func=cmd_purge)

    me = sub.add_parser("metrics").add_subparsers(dest="metrics", required=True)
    mr = me.add_parser(
        "refresh", help="mettre à jour les agrégats des indicateurs (à lancer chaque minute)"
    )
    mr.add_argument(
        "--full", action="store_true", help="tout recalculer, pas seulement les jours modifiés"
    )
    mr.set_defaults(func=cmd_metrics_refresh)

    wk = sub.add_parser(
        "worker", help="travaux de fond : courrier, expiration, rappels, effacement, indicateurs"
    )
    wk.add_argument(
        "--once", action="store_true", help="lancer une fois ce qui est dû, puis sortir"
    )
    wk.set_defaults(func=cmd_worker)
    return parser


def _where(settings: Settings) -> str:
    try:
        return make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: say nothing of it (it may hold a password)
        return "DATABASE_URL"


def _database_problem(exc: SQLAlchemyError, settings: Settings) -> str:
    """The cause of a database error in French: no SQL, no values (personal data), no
    password."""
    kind = failure_kind(exc)
    if kind == "unreachable":
        return (
            f"la base de données est injoignable ({_where(settings)}) : vérifiez DATABASE_URL "
            "et que le serveur répond"
        )
    if kind == "schema":
        return (
            f"la base de données n'a pas le schéma attendu ({_where(settings)}) : lancez "
            "d'abord « python -m dashboard db upgrade »"
        )
    if kind == "integrity":
        return "la base de données a refusé l'écriture (donnée déjà enregistrée ou liée)"
    if kind == "data":
        return "une valeur ne convient pas à la base de données (trop longue ?)"
    if kind == "url":
        return (
            "DATABASE_URL n'est pas une adresse de base de données utilisable "
            "(sqlite:///chemin ou postgresql://utilisateur@hôte/base)"
        )
    return f"la base de données a signalé une erreur ({type(exc).__name__})"


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    i18n.set_language("fr")  # the command line speaks French, whatever ran before in-process
    try:
        settings = (settings or Settings.from_env()).check()
        logs.configure(settings.log_format)  # LOG_FORMAT=json: the CLI's logs too
        return args.func(args, settings)
    except (CommandError, ConfigurationError) as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        # The transaction under way was rolled back by its unit of work.
        problem = _database_problem(exc, settings)
        print(f"Erreur : {problem} ; l'opération en cours a été annulée.", file=sys.stderr)
        return 1
    except MigrationError as exc:
        print(
            f"Erreur : le schéma de la base ne correspond pas à cette version ({exc}).",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
