"""Smoke test of the benchmarks at a tiny N: the generator's rows follow the service's rules,
and the runner prints one JSON object per measurement with the agreed keys."""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3

import pytest

from benchmarks import generate as gen
from benchmarks import runner
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule

KEYS = {"name", "n", "p50_ms", "p95_ms", "ops_per_s", "ratio_to_floor"}
N = 200


@pytest.fixture(scope="module")
def bench_db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('bench') / 'bench.sqlite3'}"
    gen.generate(url, N, seed=7, progress=lambda _m: None)
    return url


def _rows(url: str, sql: str) -> list[tuple]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def test_generated_rows_follow_the_lifecycle(bench_db):
    assert _rows(bench_db, "SELECT count(*) FROM enrolments") == [(N,)]
    states = dict(_rows(bench_db, "SELECT state, count(*) FROM enrolments GROUP BY state"))
    assert set(states) <= set(lc.STATES)
    # A realistic mix: most accounts created, a review queue, old invitations expired.
    assert states[lc.ACCOUNT_CREATED] > N * 0.4
    assert states.get(lc.PENDING_REVIEW, 0) >= 1
    assert states.get(lc.EXPIRED, 0) >= 1
    events = _rows(bench_db, "SELECT count(*) FROM events WHERE enrolment_id IS NOT NULL")[0][0]
    assert 5 * N <= events <= 9 * N
    # Every enrolment's first event is its declaration, and its last one reaches its state.
    firsts = _rows(
        bench_db,
        "SELECT e.action, e.state_after, x.state FROM enrolments x JOIN events e ON e.id = "
        "(SELECT min(id) FROM events WHERE enrolment_id = x.id)",
    )
    assert {(a, s) for a, s, _ in firsts} == {("declared", lc.DECLARED)}
    lasts = _rows(
        bench_db,
        "SELECT x.state, (SELECT state_after FROM events WHERE enrolment_id = x.id "
        "AND state_before IS NOT state_after ORDER BY id DESC LIMIT 1) FROM enrolments x",
    )
    assert all(state == last for state, last in lasts)
    # Those that reached LuxTrust have an identity with its comparison and kinds.
    identities = _rows(
        bench_db,
        "SELECT count(*) FROM enrolments x WHERE x.state IN ('account_created', 'rejected', "
        "'pending_review') AND NOT EXISTS (SELECT 1 FROM luxtrust_identities i "
        "WHERE i.enrolment_id = x.id)",
    )
    assert identities == [(0,)]
    kinds = _rows(bench_db, "SELECT comparison, last_name_kind FROM luxtrust_identities LIMIT 5")
    for comparison, kind in kinds:
        fields = {f["field"]: f["kind"] for f in json.loads(comparison)["fields"]}
        assert fields["last_name"] == kind
    # One account per person, valid matricules, and no dangling foreign key.
    for (value,) in _rows(bench_db, "SELECT declared_matricule FROM enrolments LIMIT 50"):
        assert matricule.validate(value) == value
    assert _rows(bench_db, "PRAGMA foreign_key_check") == []
    # The runner can act as the secretary of an open enrolment: its token is derived.
    eid, stored = _rows(bench_db, "SELECT id, token_hash FROM enrolments LIMIT 1")[0]
    assert stored == hashlib.sha256(gen.bench_token(7, eid).encode()).hexdigest()


def test_open_invitations_for_the_matricule_step(bench_db):
    before = _rows(bench_db, "SELECT count(*) FROM enrolments")[0][0]
    invitations = gen.add_open_invitations(bench_db, 3, seed=7)
    assert len(invitations) == 3
    ids = ",".join(str(i.enrolment_id) for i in invitations)
    states = _rows(bench_db, f"SELECT state FROM enrolments WHERE id IN ({ids})")
    assert states == [(lc.CGU_ACCEPTED,)] * 3
    assert _rows(bench_db, "SELECT count(*) FROM enrolments")[0][0] == before + 3


def _run(bench_db, capsys, *extra) -> list[dict]:
    parser = argparse.ArgumentParser()
    runner.add_arguments(parser)
    args = parser.parse_args(["--database", bench_db, "--json", "--seed", "7", *extra])
    capsys.readouterr()
    assert runner.main(args) == 0
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert lines and len(lines) == len(out.strip().splitlines())  # nothing but JSON lines
    for line in lines:
        assert set(line) >= KEYS, line
    return lines


def test_runner_in_process_json_lines(bench_db, capsys):
    lines = _run(bench_db, capsys, "--skip-http", "--iterations", "2", "--cold-rounds", "1")
    names = {line["name"] for line in lines}
    assert {
        "inproc.queue_first_page",
        "inproc.queue_filtered_name",
        "inproc.queue_sorted_waiting",
        "inproc.case_open",
        "inproc.metrics_cold",
        "inproc.metrics_warm",
    } <= names
    for line in lines:
        assert line["n"] >= N  # (+ the open invitations added above)
        assert line["p50_ms"] > 0 and line["p95_ms"] >= line["p50_ms"]
        assert line["ops_per_s"] > 0


def test_runner_over_http_with_gunicorn(bench_db, capsys):
    """The whole HTTP part at toy settings (a few seconds): every request answered right."""
    lines = _run(
        bench_db,
        capsys,
        "--skip-inproc",
        "--duration",
        "0.2",
        "--floor-duration",
        "0.2",
        "--min-requests",
        "4",
        "--clients",
        "4",
        "--reserve",
        "40",
        "--cold-rounds",
        "1",
        "--max-seconds",
        "20",
    )
    by_name = {line["name"]: line for line in lines}
    for name in (
        "queue_first_page",
        "queue_filtered_name",
        "queue_sorted_waiting",
        "queue_page_uncached",
        "case_open",
        "metrics_warm",
        "metrics_cold",
        "matricule_step",
        "declaration",
        "floor_dash_noop",
    ):
        line = by_name[name]
        assert line["p50_ms"] > 0, line
        assert "errors" not in line["extra"], line
    for name in ("queue_first_page", "case_open", "metrics_cold", "declaration"):
        assert by_name[name]["ratio_to_floor"] > 0
    assert by_name["server_peak_rss_mb"]["value"] > 20


def test_the_default_sqlite_database_has_a_folder_in_a_fresh_clone(tmp_path, monkeypatch):
    import benchmarks.__main__ as cli

    monkeypatch.setattr(cli, "RESULTS", tmp_path / "results")  # ignored by git: not there
    url = cli.default_url(10_000)
    assert (tmp_path / "results").is_dir()
    assert url == f"sqlite:///{tmp_path / 'results' / 'bench-10000.sqlite3'}"


def test_mail_benchmark_json_lines(tmp_path, capsys):
    """`python -m benchmarks mail`: the outbox drained to a local SMTP server, and a fresh
    approval queued behind a backlog of due retries goes out first."""
    from benchmarks.__main__ import main

    url = f"sqlite:///{tmp_path / 'bench-mail.sqlite3'}"
    assert main(["mail", "--messages", "12", "--database", url, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_name = {line["name"]: line for line in lines}
    assert set(by_name) == {"mail_drain", "mail_fresh_behind_backlog"}
    for line in lines:
        assert set(line) >= KEYS and line["n"] == 12 and line["database"] == "sqlite"
    drain = by_name["mail_drain"]
    assert drain["extra"]["requests"] == 12 and drain["ops_per_s"] > 0
    assert drain["extra"]["other_ms_per_mail"] > 0
    assert by_name["mail_fresh_behind_backlog"]["extra"]["position"] == 1


def test_worker_benchmark_json_lines(bench_db, tmp_path, capsys):
    """`python -m benchmarks worker`: its mail job drains the outbox (one worker on SQLite: four
    are skipped), and the reminder pass reminds the due secretaries once, reading its index."""
    from benchmarks.__main__ import main

    url = f"sqlite:///{tmp_path / 'bench-worker.sqlite3'}"
    shutil.copy(bench_db.removeprefix("sqlite:///"), url.removeprefix("sqlite:///"))
    # (other tests of this module may have written to the shared generated database)
    [(before,)] = _rows(url, "SELECT count(*) FROM enrolments")
    argv = ["worker", "--messages", "12", "--workers", "1,4", "--due", "3", "--database", url]
    assert main([*argv, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["name"] for line in lines] == ["worker_mail_drain", "reminder_pass"]
    for line in lines:
        assert set(line) >= KEYS and line["database"] == "sqlite"
    drain, reminders = lines
    assert drain["extra"]["workers"] == 1 and drain["ops_per_s"] > 0
    assert reminders["extra"]["due"] >= 3 and reminders["extra"]["enrolments"] == before + 3
    assert reminders["extra"]["index_scan"] is True and len(reminders["extra"]["plans"]) == 2
    assert reminders["p50_ms"] > 0


@pytest.mark.parametrize("dispatchers", [1, 4])
def test_provisioning_benchmark_json_lines(tmp_path, capsys, dispatchers):
    """`python -m benchmarks provisioning`: accounts delivered to a real scim2-server, each
    once whatever the number of dispatchers, and the outbox row's cost in a decision."""
    from benchmarks.__main__ import main

    url = f"sqlite:///{tmp_path / 'bench-provisioning.sqlite3'}"
    argv = ["provisioning", "--accounts", "8", "--dispatchers", str(dispatchers)]
    assert main([*argv, "--database", url, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_name = {line["name"]: line for line in lines}
    assert set(by_name) == {"provisioning_drain", "provisioning_request_cost"}
    for line in lines:
        assert set(line) >= KEYS and line["n"] == 8 and line["database"] == "sqlite"
    drain = by_name["provisioning_drain"]
    assert drain["extra"]["dispatchers"] == dispatchers and drain["ops_per_s"] > 0
    cost = by_name["provisioning_request_cost"]["extra"]
    assert cost["without_request_p50_ms"] > 0 and "added_ms_p50" in cost
