"""What an operator expects (issue 21): /readyz, /metrics behind its token, route names.

/readyz is driven by a real database: one that answers at the newest migration, one that
is not there at all, one whose schema is a revision behind, and the same database with its
alembic_version dropped. /metrics is scraped after real requests and real outbox rows.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import text, update

from dashboard.app import create_app
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule, schema
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import make_engine
from dashboard.enrolment.model import OutboxEmail
from tests import dashclient as dc
from tests import factories as f

TOKEN = "metrics-token-" + "k" * 32


@pytest.fixture
def app(backend):
    settings = backend.settings.replace(metrics_token=TOKEN)
    return create_app(settings, backend=backend)


@pytest.fixture
def client(app):
    return app.server.test_client()


def _scrape(client, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get("/metrics", headers=headers)


def _value(exposition: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search("^" + pattern + "$", exposition, re.M)
    assert found, f"{name} {labels} not in the exposition"
    return float(found.group(1))


# --- /readyz --------------------------------------------------------------------------------


def test_ready_at_the_newest_migration_and_alive_anyway(client):
    assert client.get("/readyz").status_code == 200
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_not_ready_without_a_database_and_says_nothing_to_strangers(tmp_path, settings, clock):
    # A PostgreSQL server that does not listen, or an SQLite file that is not there.
    url = (
        "postgresql://postgres@127.0.0.1:1/none"
        if settings.database_url.startswith("postgresql")
        else f"sqlite:///{tmp_path}"  # a directory: no database opens there
    )
    broken = Backend(settings.replace(database_url=url), make_engine(url), clock)
    app = create_app(broken.settings.replace(metrics_token=TOKEN), backend=broken)
    client = app.server.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "not ready\n"
    assert "database" in client.get("/readyz", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert client.get("/healthz").status_code == 200  # alive: a restart would not help


def test_not_ready_when_the_schema_is_behind_or_unknown(backend, client):
    head = schema.head_revision(backend.settings.database_url)
    with backend.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0010'"))
    assert schema.current_revision(backend.engine) != head
    response = client.get("/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 503 and "schema" in response.text
    with backend.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert client.get("/readyz").status_code == 200
    with backend.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    assert client.get("/readyz").status_code == 503
    with backend.engine.begin() as conn:  # put back, for the next test on PostgreSQL
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    assert client.get("/readyz").status_code == 200


def test_not_ready_when_the_code_brings_a_newer_migration(backend, app):
    # The head is the code's: read once at start; a deploy of newer code before the
    # migration ran must not take traffic.
    app.server.extensions["esante_head"] = "9999"
    assert app.server.test_client().get("/readyz").status_code == 503


# --- /metrics -------------------------------------------------------------------------------


def test_metrics_absent_without_a_token(backend):
    client = create_app(backend.settings, backend=backend).server.test_client()
    assert _scrape(client).status_code == 404
    assert _scrape(client, None).status_code == 404


@pytest.mark.parametrize("token", [None, "", "wrong-" + "k" * 40, TOKEN[:-1], TOKEN + "x"])
def test_metrics_refused_without_the_right_bearer(client, token):
    response = _scrape(client, token)
    assert response.status_code == 401
    assert "esante_" not in response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_metrics_refuse_another_scheme(client):
    response = client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    assert response.status_code == 401


def test_requests_are_counted_by_route_name_not_by_value(backend, client):
    prof = f.professional(backend)
    case_id, _ = f.walk_to(backend, prof, lc.PENDING_REVIEW)
    declared = f.declare(
        backend, prof, email="laura@example.lu", matricule=matricule.make("19900203", "456")
    )
    client.get(f"/enrolment/invitation/{declared.token}")
    dc.render_page(client, f"/backoffice/dossier/{case_id}")
    dc.call(
        client,
        [("start-nav", "href"), ("start-error", "children")],
        [("start-button", "n_clicks", 1)],
    )
    client.get("/no/such/page/12345")
    body = _scrape(client).text
    routes = set(re.findall(r'route="([^"]*)"', body))
    assert "/enrolment/invitation/<token>" in routes
    assert "layout:/backoffice/dossier/<case_id>" in routes
    assert "callback:enrolment.start" in routes or any(r.startswith("callback:") for r in routes)
    assert declared.token not in body and f"/{case_id}" not in body
    assert "12345" not in body
    for route in routes:  # every label is a name from the code, never a value
        assert re.fullmatch(r"[a-z:]*[/A-Za-z0-9_<>:.\-]*", route), route
    assert (
        _value(
            body,
            "esante_http_requests_total",
            route="/enrolment/invitation/<token>",
            method="GET",
            status="3xx",
        )
        >= 1
    )


def test_outbox_and_review_gauges(backend, client, clock):
    prof = f.professional(backend)
    f.walk_to(backend, prof, lc.PENDING_REVIEW)  # one case in the queue
    body = _scrape(client).text
    assert _value(body, "esante_database_up") == 1
    assert _value(body, "esante_review_queue_size") == 1
    assert _value(body, "esante_review_overdue") == 0
    depth = _value(body, "esante_outbox_depth", kind="mail")
    assert depth >= 1  # the invitation, not sent (no SMTP here)
    assert _value(body, "esante_outbox_depth", kind="provisioning") == 0
    clock.advance(days=7)
    with backend.engine.begin() as conn:
        conn.execute(
            update(OutboxEmail).where(OutboxEmail.id == 1).values(status="failed", attempts=12)
        )
    body = _scrape(client).text
    assert _value(body, "esante_review_overdue") == 1
    assert _value(body, "esante_outbox_failed", kind="mail") == 1
    age = _value(body, "esante_outbox_oldest_due_age_seconds", kind="mail")
    assert age >= dt.timedelta(days=7).total_seconds() - 60
    assert "esante_job_last_success_timestamp_seconds" in body


def test_the_scrape_says_when_the_database_is_gone(tmp_path, settings, clock):
    url = f"sqlite:///{tmp_path}"  # a directory: no database opens there
    broken = Backend(settings.replace(database_url=url), make_engine(url), clock)
    client = create_app(broken.settings.replace(metrics_token=TOKEN), backend=broken)
    body = _scrape(client.server.test_client()).text
    assert _value(body, "esante_database_up") == 0


@pytest.mark.parametrize(
    "token", ["short", "x" * 31, "has space " + "x" * 32, "quote'" + "x" * 32, "é" * 40]
)
def test_a_weak_or_untypeable_metrics_token_refuses_to_start(token):
    from dashboard.config import ConfigurationError, Settings

    problems = Settings.from_env({"METRICS_TOKEN": token}).problems()
    assert any(p.startswith("METRICS_TOKEN") for p in problems)
    assert token not in " ".join(problems)  # a secret is never echoed
    with pytest.raises(ConfigurationError):
        create_app(Settings(metrics_token=token))
    assert Settings.from_env({"METRICS_TOKEN": "k" * 32}).problems() == []
