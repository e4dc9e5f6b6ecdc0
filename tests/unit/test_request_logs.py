"""Invitation tokens are masked in request logs (issue #18): the masking itself, the filter
on log records, and where the application installs it. The servers' real logs after a
whole journey are checked in tests/integration/test_servers.py."""

from __future__ import annotations

import logging
import secrets

import pytest

from dashboard import request_logs
from dashboard.app import create_app
from dashboard.config import Settings
from dashboard.request_logs import MASKED_PATH, InvitationTokenFilter, mask

TOKEN = secrets.token_urlsafe(32)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            f'127.0.0.1 - - [t] "GET /enrolment/invitation/{TOKEN} HTTP/1.1" 303 -',
            f'127.0.0.1 - - [t] "GET {MASKED_PATH} HTTP/1.1" 303 -',
        ),
        (
            f"GET /enrolment/invitation/{TOKEN}?utm=mail HTTP/1.1",
            f"GET {MASKED_PATH}?utm=mail HTTP/1.1",
        ),
        (f'"https://esante.lu/enrolment/invitation/{TOKEN}"', f'"https://esante.lu{MASKED_PATH}"'),
        (f"/enrolment/invitation/{TOKEN}#x", f"{MASKED_PATH}#x"),
        (f"//enrolment//invitation/{TOKEN} ", "//enrolment//invitation/*** "),
        (f"/enrolment%2Finvitation%2f{TOKEN} ", "/enrolment%2Finvitation%2f*** "),
        (f"/%65nrolment/invitation/{TOKEN}", "/%65nrolment/invitation/***"),
        (
            f"next=%2Fenrolment%2Finvitation%2F{TOKEN}&b=1",
            "next=%2Fenrolment%2Finvitation%2F***&b=1",
        ),
        (f"/enrolment/invitation/{TOKEN}/../x", f"{MASKED_PATH}"),
        (f"/enrolment/invitation/a%20b{TOKEN}", f"{MASKED_PATH}"),
        (
            f"two: /enrolment/invitation/{TOKEN} /enrolment/invitation/{TOKEN[::-1]}",
            f"two: {MASKED_PATH} {MASKED_PATH}",
        ),
    ],
)
def test_the_token_is_masked_however_the_path_is_written(line, expected):
    assert mask(line) == expected
    assert TOKEN not in mask(line)


@pytest.mark.parametrize(
    "line",
    [
        '"GET /enrolment/debut HTTP/1.1" 200',
        '"POST /_dash-update-component HTTP/1.1" 200',
        '"GET /enrolment/invitation/ HTTP/1.1" 404',
        "Booting worker with pid: 42",
    ],
)
def test_other_lines_are_left_as_they_are(line):
    assert mask(line) == line


def _record(msg, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, msg, args, exc_info)


def test_the_filter_masks_the_formatted_message_of_a_record():
    record = _record(
        '%s - - [%s] "%s" %s -', "127.0.0.1", "t", f"GET /enrolment/invitation/{TOKEN}", 303
    )
    assert InvitationTokenFilter().filter(record) is True  # masked, never dropped
    assert record.getMessage() == f'127.0.0.1 - - [t] "GET {MASKED_PATH}" 303 -'
    formatted = logging.Formatter("%(message)s").format(record)
    assert TOKEN not in formatted


def test_the_filter_masks_a_mapping_of_atoms_as_gunicorn_logs_them():
    record = _record("%(r)s %(f)s", {"r": f"GET /enrolment/invitation/{TOKEN}", "f": "-"})
    InvitationTokenFilter().filter(record)
    assert record.getMessage() == f"GET {MASKED_PATH} -"


def test_the_filter_masks_exception_text():
    try:
        raise ValueError(f"bad link /enrolment/invitation/{TOKEN}")
    except ValueError:
        import sys

        record = _record("Exception on a request", exc_info=sys.exc_info())
    InvitationTokenFilter().filter(record)
    formatted = logging.Formatter("%(message)s").format(record)
    assert "ValueError: bad link " + MASKED_PATH in formatted
    assert TOKEN not in formatted


def test_a_record_without_token_is_untouched():
    record = _record("%s %s", "GET", "/enrolment/debut")
    InvitationTokenFilter().filter(record)
    assert (record.msg, record.args) == ("%s %s", ("GET", "/enrolment/debut"))


def test_install_puts_one_filter_per_logger():
    logger = logging.getLogger("tests.request_logs.install")
    request_logs.install(logger)
    request_logs.install(logger)
    assert sum(isinstance(f, InvitationTokenFilter) for f in logger.filters) == 1


def test_the_app_masks_werkzeug_and_flask_logs(tmp_path, monkeypatch, caplog):
    """Werkzeug's request log (the development server) and Flask's log of an exception in
    the link's view, which names the requested path."""
    settings = Settings(
        env="test", database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", secret_key="k" * 40
    )
    app = create_app(settings)
    for name in ("werkzeug", app.server.logger.name):
        assert any(isinstance(f, InvitationTokenFilter) for f in logging.getLogger(name).filters)

    def broken(_token):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("dashboard.routes.hash_token", broken)
    with caplog.at_level(logging.ERROR):
        response = app.server.test_client().get(f"/enrolment/invitation/{TOKEN}")
    assert response.status_code == 500
    logged = "\n".join(caplog.messages) + caplog.text
    assert f"Exception on {MASKED_PATH} [GET]" in logged
    assert TOKEN not in logged
