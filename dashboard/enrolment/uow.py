"""Unit of work: one database transaction per service call, with its clock and settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from dashboard.config import Settings
from dashboard.enrolment.errors import ConcurrentUpdate
from dashboard.i18n import gettext as _


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UnitOfWork:
    """`with uow:` opens a session; `uow.commit()` makes the work durable; leaving rolls back.

    Nothing is written unless `commit()` is called, so a domain error raised half-way
    through a service function leaves the database as it was.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ):
        self.session_factory = session_factory
        self.settings = settings or Settings()
        self.clock = clock
        self.session: Session | None = None

    def now(self) -> dt.datetime:
        return self.clock()

    def __enter__(self) -> UnitOfWork:
        if self.session is not None:
            raise RuntimeError("unit of work already open")
        self.session = self.session_factory()
        return self

    def __exit__(self, *exc) -> None:
        # close() rolls back whatever was not committed; loaded objects stay readable.
        try:
            self.session.close()
        finally:
            self.session = None

    def commit(self) -> None:
        self._writing(self.session.commit)

    def flush(self) -> None:
        """Write pending changes now; a version conflict becomes ConcurrentUpdate here."""
        self._writing(self.session.flush)

    def _writing(self, write) -> None:
        # The optimistic version check (Enrolment.version) fails as StaleDataError.
        try:
            write()
        except StaleDataError:
            self.session.rollback()
            raise ConcurrentUpdate(
                _(
                    "Cette demande vient d'être modifiée par quelqu'un d'autre. "
                    "Rechargez la page et recommencez."
                )
            ) from None

    def rollback(self) -> None:
        self.session.rollback()
