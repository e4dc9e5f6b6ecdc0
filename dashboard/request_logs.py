"""Request logs without invitation tokens.

The emailed link is `/enrolment/invitation/<token>`, and whoever holds the token can start
the secretary's enrolment: access logs (gunicorn's, the development server's) and error
logs must not keep it. A logging filter replaces the path segment after the prefix with
`***` in the whole record (message, arguments, exception text) of the loggers that write
requests; gunicorn.conf.py installs it on gunicorn's two loggers, create_app() on
werkzeug's and Flask's.
"""

from __future__ import annotations

import logging
import re

INVITATION_PATH = "/enrolment/invitation/"
MASK = "***"
MASKED_PATH = INVITATION_PATH + MASK


def _prefix_pattern(path: str) -> str:
    # A raw request line may percent-encode any character and repeat slashes.
    parts = []
    for char in path:
        part = f"(?:{re.escape(char)}|%{ord(char):02x})"
        parts.append(part + "+" if char == "/" else part)
    return "".join(parts)


# The token runs to the end of the path: a space, a quote, the query or the fragment.
_TOKEN = re.compile(f"(?P<prefix>{_prefix_pattern(INVITATION_PATH)})" + r"[^\s\"'?#&<>]+", re.I)


def mask(text: str) -> str:
    """`text` with every invitation token replaced by `***`."""
    return _TOKEN.sub(lambda m: m.group("prefix") + MASK, text)


class InvitationTokenFilter(logging.Filter):
    """Masks invitation tokens in a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


def install(*loggers: logging.Logger) -> None:
    """Put the filter on each logger, once."""
    for logger in loggers:
        if not any(isinstance(f, InvitationTokenFilter) for f in logger.filters):
            logger.addFilter(InvitationTokenFilter())


def init_app(server) -> None:
    """The development server's request log (werkzeug) and Flask's error log."""
    install(logging.getLogger("werkzeug"), server.logger)
