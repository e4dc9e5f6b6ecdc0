"""Server-side session handles: a session lives as long as its row in `login_sessions`.

The signed cookie alone cannot be taken back: a copy keeps working after logout. So every
session (staff, professional, the secretary's enrolment and "Mon compte" sessions) holds a
random token whose SHA-256 is a row here; the request's principal is read together with
the row, and ending a session deletes it. The row lives in the database (not in a worker's
memory, nor in Redis, which is optional) so that every worker and machine sees the end at
once. Every session also ends SESSION_MAX_HOURS after it was opened, however busy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import bindparam, delete, insert, select

from dashboard.enrolment.model import LoginSession
from dashboard.enrolment.uow import UnitOfWork

STAFF = "staff"
PROFESSIONAL = "professional"
ENROLMENT = "enrolment"  # the secretary's steps, from her emailed link
ACCOUNT = "account"  # the secretary's "Mon compte", after a LuxTrust login
KINDS = (STAFF, PROFESSIONAL, ENROLMENT, ACCOUNT)
MAX_TOKEN_LENGTH = 64  # what a cookie may claim as a token before it is even hashed


def digest(token: str) -> str:
    # A plain SHA-256 suffices: the token has 256 bits of entropy, nothing to guess.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def not_before(uow: UnitOfWork) -> dt.datetime:
    """Sessions opened before this moment have outlived SESSION_MAX_HOURS."""
    return uow.now() - dt.timedelta(hours=uow.settings.session_max_hours)


_INSERT = insert(LoginSession.__table__)
_LIVE_SUBJECT = select(LoginSession.subject_id).where(
    LoginSession.id == bindparam("session_id"),
    LoginSession.kind == bindparam("kind"),
    LoginSession.created_at > bindparam("not_before"),
)


def open_session(uow: UnitOfWork, kind: str, subject_id: int) -> str:
    """A new session of `kind` for `subject_id`; returns the token for the cookie.

    Commits, with whatever the caller's transaction holds (the login's event)."""
    if kind not in KINDS:
        raise ValueError(f"unknown session kind {kind!r}")
    token = secrets.token_urlsafe(32)
    uow.session.execute(
        _INSERT,
        {"id": digest(token), "kind": kind, "subject_id": subject_id, "created_at": uow.now()},
    )
    # Sessions past their lifetime are refused anyway; logins clear them out as they come.
    uow.session.execute(delete(LoginSession).where(LoginSession.created_at <= not_before(uow)))
    uow.commit()
    return token


def usable(token) -> bool:
    """Whether a value taken from a cookie can be a token of ours at all."""
    return isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_LENGTH


def live_subject(uow: UnitOfWork, kind: str, token) -> int | None:
    """Whom the session behind `token` is for, while it lives; else None (one indexed read)."""
    if not usable(token):
        return None
    return uow.session.scalar(
        _LIVE_SUBJECT, {"session_id": digest(token), "kind": kind, "not_before": not_before(uow)}
    )


def end(uow: UnitOfWork, tokens: Iterable) -> None:
    """End the sessions behind these tokens (logout); unknown or dead ones are ignored."""
    ids = [digest(t) for t in tokens if usable(t)]
    if ids:
        uow.session.execute(delete(LoginSession).where(LoginSession.id.in_(ids)))
        uow.commit()


def end_all_of(uow: UnitOfWork, kind: str, subject_id: int) -> int:
    """End every session of one person, in the caller's transaction (which commits);
    returns how many were still open."""
    return _end_live(uow, LoginSession.kind == kind, LoginSession.subject_id == subject_id)


def end_everyone_but(uow: UnitOfWork, keep_token: str | None) -> int:
    """End every open session of every kind but the one behind `keep_token`, in the
    caller's transaction (which commits); returns how many."""
    keep = [LoginSession.id != digest(keep_token)] if usable(keep_token) else []
    return _end_live(uow, *keep)


def _end_live(uow: UnitOfWork, *where) -> int:
    # Those past their lifetime go as well, but only the open ones are counted.
    uow.session.execute(
        delete(LoginSession).where(*where, LoginSession.created_at <= not_before(uow))
    )
    result = uow.session.execute(delete(LoginSession).where(*where))
    return result.rowcount
