"""Database adapter: engines for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _fold(value):
    from dashboard.enrolment.review import fold_text

    return fold_text(value) if isinstance(value, str) else value


class _SQLiteCompiler(SQLiteCompiler):
    """Writes `Select.with_hint(table, "INDEXED BY …", "sqlite")` into the FROM clause
    (SQLAlchemy's SQLite dialect leaves table hints out)."""

    def get_from_hint_text(self, table, text):
        return text


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        engine.dialect.statement_compiler = _SQLiteCompiler

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # fold(): case and accent folding for searches (SQLite's lower() is ASCII only).
            dbapi_connection.create_function("fold", 1, _fold, deterministic=True)

        return engine
    # pool_pre_ping: a connection dropped by the server is replaced, not handed to a request.
    if "poolclass" not in kwargs:
        kwargs = {"pool_size": 5, "max_overflow": 10, **kwargs}
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


# PostgreSQL's SQLSTATEs for an object the statement expects and the schema lacks.
_MISSING_OBJECT_STATES = {"42P01", "42703", "3F000", "42883"}
_SQLITE_MISSING_OBJECT = re.compile(r"no such (table|column|index|function)")


def failure_kind(exc: sa_exc.SQLAlchemyError) -> str:
    """What went wrong, for a person to act on: "url" (DATABASE_URL unusable), "schema"
    (not migrated, or an older schema), "integrity", "data" (a value the column refuses),
    "unreachable" (no connection, or the server gave up on it) or "other"."""
    if isinstance(exc, sa_exc.ArgumentError):
        return "url"
    if isinstance(exc, sa_exc.IntegrityError):
        return "integrity"
    if isinstance(exc, sa_exc.DataError):
        return "data"
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _MISSING_OBJECT_STATES or (
        isinstance(exc, sa_exc.OperationalError) and _SQLITE_MISSING_OBJECT.match(str(orig))
    ):
        return "schema"
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return "unreachable"
    return "other"
