"""Command line of the benchmarks.

    python -m benchmarks generate --enrolments N --database URL [--fresh] [--seed S]
    python -m benchmarks [run] [--enrolments N] [--database URL] --json [options]
    python -m benchmarks explain --database URL [queue|case|metrics|…]   (SQL and plans)
    python -m benchmarks candidates --database URL [--drop]   (candidate indexes, by hand)
    python -m benchmarks rollup --database URL        (pre-aggregated metrics: a probe)
    python -m benchmarks mail [--messages N] [--dispatchers D] [--json]   (outbox drain)
    python -m benchmarks provisioning [--accounts N] [--dispatchers D] [--json]   (SCIM delivery)
    python -m benchmarks worker [--messages N] [--workers 1,4] [--json]   (worker: mail, reminders)
    python -m benchmarks report FILE.jsonl …           (a Markdown table of runs)
    python -m benchmarks drop --database URL          (bench* PostgreSQL databases only)

Without --database the runner uses benchmarks/results/bench-N.sqlite3. When the database
holds no enrolments yet, the runner generates N first. Progress goes to stderr; with --json,
stdout carries one JSON object per measurement and nothing else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def default_url(n: int) -> str:
    RESULTS.mkdir(exist_ok=True)  # ignored by git: absent from a fresh clone
    return f"sqlite:///{RESULTS / f'bench-{n}.sqlite3'}"


def _generate_args(p: argparse.ArgumentParser) -> None:
    from benchmarks.generate import DEFAULT_SEED

    p.add_argument("--enrolments", "-n", type=int, default=10_000)
    p.add_argument("--database", help="SQLAlchemy URL (sqlite:///… or postgresql://…)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--professionals", type=int, default=None)
    p.add_argument("--fresh", action="store_true", help="drop and recreate the database first")
    p.add_argument(
        "--analyze",
        choices=("auto", "yes", "no"),
        default="auto",
        help="statistics after the load (auto: PostgreSQL yes, SQLite no, as in production)",
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = "run"
    commands = (
        "generate",
        "run",
        "drop",
        "explain",
        "candidates",
        "rollup",
        "report",
        "mail",
        "provisioning",
        "worker",
    )
    if argv and argv[0] in commands:
        command = argv.pop(0)
    parser = argparse.ArgumentParser(prog="python -m benchmarks " + command)
    if command == "generate":
        _generate_args(parser)
        args = parser.parse_args(argv)
        from benchmarks.generate import generate

        analyze = {"auto": None, "yes": True, "no": False}[args.analyze]
        generate(
            args.database or default_url(args.enrolments),
            args.enrolments,
            seed=args.seed,
            professionals=args.professionals,
            fresh=args.fresh,
            analyze=analyze,
        )
        return 0
    if command == "report":
        from benchmarks import report

        return report.main(argv)
    if command == "rollup":
        from benchmarks import rollup

        return rollup.main(argv)
    if command == "mail":
        from benchmarks import mail

        return mail.main(argv)
    if command == "provisioning":
        from benchmarks import provisioning

        return provisioning.main(argv)
    if command == "worker":
        from benchmarks import worker

        return worker.main(argv)
    if command == "candidates":
        from benchmarks import candidates

        return candidates.main(argv)
    if command == "explain":
        from benchmarks import explain

        return explain.main(argv)
    if command == "drop":
        parser.add_argument("--database", required=True)
        args = parser.parse_args(argv)
        from benchmarks.generate import drop_database

        drop_database(args.database)
        return 0
    from benchmarks import runner

    runner.add_arguments(parser)
    args = parser.parse_args(argv)
    return runner.main(args)


if __name__ == "__main__":
    raise SystemExit(main())
