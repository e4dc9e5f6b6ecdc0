"""Wiring of the service's adapters from settings: one `Backend` per process."""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, inspect

from dashboard.config import Settings
from dashboard.enrolment import mail, provisioning, schema
from dashboard.enrolment.db import make_engine, make_session_factory
from dashboard.enrolment.uow import UnitOfWork, utcnow


@dataclass
class Backend:
    settings: Settings
    engine: Engine
    clock: Callable[[], dt.datetime] = utcnow
    session_factory: object = field(init=False)

    def __post_init__(self):
        self.session_factory = make_session_factory(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings, clock=utcnow) -> Backend:
        return cls(settings, make_engine(settings.database_url), clock)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.settings, self.clock)

    def upgrade_schema(self) -> bool:
        """Create or upgrade the schema; True when the database was empty before."""
        was_empty = not inspect(self.engine).has_table("enrolments")
        schema.upgrade(self.settings.database_url)
        return was_empty

    def deliver_mail(
        self, transport: mail.Transport | None = None, *, stop: threading.Event | None = None
    ) -> mail.DeliveryReport:
        transport = transport or mail.transport_from_settings(self.settings)
        if transport is None:
            return mail.DeliveryReport()
        return mail.deliver_due(
            self.session_factory, self.settings, transport, clock=self.clock, stop=stop
        )

    # --- provisioning ---------------------------------------------------------------------------

    @functools.cached_property
    def directory_app(self):
        """The embedded directory's WSGI application, when SCIM_URL is unset: kept in
        data/ in development, in memory (this backend's own) in tests; None otherwise."""
        from dashboard.enrolment import scim

        if not self.settings.uses_embedded_directory:
            return None
        if self.settings.env == "test":
            return scim.embedded_application(token=scim.DEVELOPMENT_SCIM_TOKEN)
        return scim.development_application()

    @functools.cached_property
    def directory(self) -> provisioning.Directory:
        from dashboard.enrolment import scim

        if self.directory_app is not None:
            return scim.ScimDirectory.in_process(self.directory_app)
        return scim.directory_from_settings(self.settings)

    def deliver_provisioning(
        self,
        directory: provisioning.Directory | None = None,
        *,
        stop: threading.Event | None = None,
    ) -> provisioning.DeliveryReport:
        return provisioning.deliver_due(
            self.session_factory,
            self.settings,
            directory or self.directory,
            clock=self.clock,
            stop=stop,
        )

    def dispose(self) -> None:
        self.engine.dispose()
