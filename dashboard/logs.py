"""Logs: readable text by default, or LOG_FORMAT=json — one JSON object per line (time,
level, logger, message, request id, route, status, duration) for the app, gunicorn and the
command line.

No log line may carry a name, an email address, a matricule or a token. The code logs ids
and kinds only; as a second line of defence every line is masked here: invitation tokens
(request_logs.mask), anything shaped like an address, runs of 13 digits (a matricule), long
token-like strings. In JSON mode the request log is the app's own record (route name, never
the raw path or query: the OIDC callback's query carries a code and a state), so the
development server's and gunicorn's access lines, which hold raw request lines, are off.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from contextvars import ContextVar

from dashboard import request_logs

# Set by dashboard.observability for the request being served (request_id, route).
REQUEST: ContextVar[dict | None] = ContextVar("esante_request_log", default=None)

_ADDRESS = re.compile(r"[^\s<>\"'@,;:()\[\]]+@[^\s<>\"'@,;:()\[\]]+")
_MATRICULE = re.compile(r"(?<!\d)\d{13}(?!\d)")
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-]{40,}")
FIELDS = ("request_id", "route", "method", "status", "duration_ms")


def scrub(text: str) -> str:
    """`text` without invitation tokens, addresses, matricules or token-like strings."""
    text = request_logs.mask(text)
    text = _ADDRESS.sub("<adresse>", text)
    text = _MATRICULE.sub("<matricule>", text)
    return _TOKEN_LIKE.sub("***", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        context = REQUEST.get()
        if context:
            entry.update({k: v for k, v in context.items() if k in FIELDS})
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The readable default, masked alike."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure(log_format: str, stream=None) -> None:
    """The root logger writes to stderr (or `stream`) in `log_format`; called once by the
    app and the command line. Text mode with no stream keeps Python's defaults."""
    if log_format != "json" and stream is None:
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "esante", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.esante = True
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    if log_format == "json":
        # The development server's request lines hold the raw path and query.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
