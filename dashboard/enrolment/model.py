"""SQLAlchemy tables of the enrolment service.

Personal data lives in `enrolments`, `luxtrust_identities`, `secretary_accounts`,
`professionals` and `outbox`; `events` hold ids, states and kinds only, so the
audit trail and the metrics survive the purge of personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

# Stable constraint names so that Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Professional(Base):
    __tablename__ = "professionals"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Subject of the professional's LuxTrust identity at the agency's OIDC broker.
    luxtrust_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)  # medical code
    last_name: Mapped[str] = mapped_column(String(200))
    first_names: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    specialty: Mapped[str | None] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    @property
    def display_name(self) -> str:
        return self.name_of(self.first_names, self.last_name)

    @staticmethod
    def name_of(first_names: str, last_name: str) -> str:
        return f"Dr {first_names} {last_name}"


class SecretaryAccount(Base):
    """One account per person (by matricule), linked to every professional who declared her.

    `directory_id` names her in the agency's identity platform (the SCIM User's externalId):
    random, stable and free of personal data.
    """

    __tablename__ = "secretary_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    directory_id: Mapped[str] = mapped_column(String(36), index=True, unique=True)
    matricule: Mapped[str | None] = mapped_column(String(13), unique=True)
    last_name: Mapped[str | None] = mapped_column(String(200))
    first_names: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(320))
    luxtrust_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    links: Mapped[list[AccountLink]] = relationship(
        back_populates="account", order_by="AccountLink.id"
    )

    @property
    def active_links(self) -> list[AccountLink]:
        return [link for link in self.links if link.ended_at is None]


class AccountLink(Base):
    """Her access to one professional's eHealth space, from `linked_at` until `ended_at`.

    One row per period: a link that ended stays as history, and a later declaration by the
    same professional opens a new row (at most one open row per account and professional).
    """

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("secretary_accounts.id"))
    professional_id: Mapped[int] = mapped_column(ForeignKey("professionals.id"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"))
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(40))  # codes.LinkEndReason
    end_note: Mapped[str | None] = mapped_column(Text)  # personal data: erased with the rest
    ended_by_type: Mapped[str | None] = mapped_column(String(20))  # kernel.Actor.kind
    ended_by_id: Mapped[str | None] = mapped_column(String(64))

    account: Mapped[SecretaryAccount] = relationship(back_populates="links")
    professional: Mapped[Professional] = relationship()

    __table_args__ = (
        Index("ix_account_links_account_id", "account_id"),
        # At most one open link per account and professional.
        Index(
            "ix_account_links_open",
            "account_id",
            "professional_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
        # The managers' "links ended per month" (migration 0016).
        Index(
            "ix_account_links_ended_at",
            "ended_at",
            postgresql_where=text("ended_at IS NOT NULL"),
            sqlite_where=text("ended_at IS NOT NULL"),
        ),
    )


class ProvisioningRequest(Base):
    """The account's state to bring to the identity platform (provisioning outbox).

    Written in the transaction that changed the account or its links; a dispatcher leases
    it, makes the directory match what the database says now (idempotent, so a replay after
    a crash converges), then marks it done. `enrolment_id`: the enrolment whose decision
    waits for this confirmation before its emails go out.
    """

    __tablename__ = "provisioning_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("secretary_accounts.id"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"))
    reason: Mapped[str] = mapped_column(String(40))  # the event that asked for it
    status: Mapped[str] = mapped_column(
        String(12), default="pending"
    )  # pending|done|failed|cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index(
            "ix_provisioning_outbox_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # The failed requests: the Exploitation page and the managers' figures (0016).
        Index(
            "ix_provisioning_outbox_failed",
            "id",
            postgresql_where=text("status = 'failed'"),
            sqlite_where=text("status = 'failed'"),
        ),
    )


# The enrolment whose state `kernel.move` is changing right now (none otherwise).
_MOVING: ContextVar[object | None] = ContextVar("enrolment_state_move", default=None)


@contextmanager
def state_move(enrolment: Enrolment) -> Iterator[None]:
    """Allow one assignment of `enrolment.state`: used by `kernel.move` only."""
    token = _MOVING.set(enrolment)
    try:
        yield
    finally:
        _MOVING.reset(token)


# The states whose link is live (lifecycle.OPEN_FOR_SECRETARY), written out: the reminder
# indexes' condition, which the reminder pass repeats word for word so planners use them.
REMINDABLE_SQL = "state IN ('declared', 'cgu_accepted', 'matricule_verified', 'identity_mismatch')"


class Enrolment(Base):
    """One per declaration; its `state` moves only through lifecycle.TRANSITIONS, by
    `kernel.move` (any other assignment is refused)."""

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    professional_id: Mapped[int] = mapped_column(ForeignKey("professionals.id"), index=True)
    declared_last_name: Mapped[str | None] = mapped_column(String(200))
    declared_first_names: Mapped[str | None] = mapped_column(String(200))
    declared_matricule: Mapped[str | None] = mapped_column(String(13), index=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    state: Mapped[str] = mapped_column(String(24), index=True)
    wrong_matricule_count: Mapped[int] = mapped_column(Integer, default=0)
    # Keyed digest of the last wrong matricule typed: the same value again costs no attempt.
    last_wrong_matricule: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    cgu_version: Mapped[str | None] = mapped_column(String(32))
    cgu_accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    matricule_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    device_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision: Mapped[str | None] = mapped_column(String(24))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("secretary_accounts.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Reminders sent to her (housekeeping.send_reminders): 0, 1 or 2, never more.
    reminders_sent: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )

    professional: Mapped[Professional] = relationship()
    account: Mapped[SecretaryAccount | None] = relationship()
    identities: Mapped[list[LuxTrustIdentity]] = relationship(
        back_populates="enrolment", order_by="LuxTrustIdentity.id"
    )

    # Optimistic locking: a concurrent writer's UPDATE finds no row and raises StaleDataError.
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_enrolments_prof_matricule", "professional_id", "declared_matricule"),
        # The review queue reads only pending cases, oldest confirmation first.
        Index(
            "ix_enrolments_review_queue",
            "device_confirmed_at",
            "id",
            postgresql_where=text("state = 'pending_review'"),
            sqlite_where=text("state = 'pending_review'"),
        ),
        # The queue filtered or sorted by professional (migration 0005).
        Index(
            "ix_enrolments_review_by_professional",
            "professional_id",
            "device_confirmed_at",
            "id",
            postgresql_where=text("state = 'pending_review'"),
            sqlite_where=text("state = 'pending_review'"),
        ),
        # The reminder pass (migration 0015): only live links not yet reminded are indexed.
        Index(
            "ix_enrolments_reminder_first",
            "created_at",
            postgresql_where=text(REMINDABLE_SQL + " AND reminders_sent = 0"),
            sqlite_where=text(REMINDABLE_SQL + " AND reminders_sent = 0"),
        ),
        Index(
            "ix_enrolments_reminder_last",
            "expires_at",
            postgresql_where=text(REMINDABLE_SQL + " AND reminders_sent < 2"),
            sqlite_where=text(REMINDABLE_SQL + " AND reminders_sent < 2"),
        ),
    )

    @validates("state")
    def _state_moves_through_the_kernel(self, key: str, value: str) -> str:
        # A new enrolment gets its first state; after that only kernel.move changes it, so
        # that no change escapes the transition table, its event and its emails.
        if self.state is not None and _MOVING.get() is not self:
            raise PermissionError("Enrolment.state changes only through kernel.move")
        return value

    @property
    def latest_identity(self) -> LuxTrustIdentity | None:
        return self.identities[-1] if self.identities else None


class LuxTrustIdentity(Base):
    """An identity received from the LuxTrust provider, with its comparison verdict."""

    __tablename__ = "luxtrust_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    subject: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(200))
    first_names: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    matricule: Mapped[str | None] = mapped_column(String(13))
    device: Mapped[str | None] = mapped_column(String(40))
    matches: Mapped[bool] = mapped_column(Boolean)
    comparison: Mapped[dict] = mapped_column(JSON)
    # The comparison's kind per field, as columns so that metrics can GROUP BY them in SQL.
    last_name_kind: Mapped[str | None] = mapped_column(String(12))
    first_names_kind: Mapped[str | None] = mapped_column(String(12))
    birth_date_kind: Mapped[str | None] = mapped_column(String(12))
    matricule_kind: Mapped[str | None] = mapped_column(String(12))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    enrolment: Mapped[Enrolment] = relationship(back_populates="identities")


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(5), default="fr")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)


class StaffRole(Base):
    __tablename__ = "staff_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[StaffUser] = relationship(back_populates="roles")


class LoginSession(Base):
    """The server-side handle of a session (staff, professional, or the secretary's
    enrolment or "Mon compte" session): the cookie holds a random token, this table its
    SHA-256. Deleting the row ends the session; nothing else is kept about it."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # staff|professional|enrolment|account
    # The staff user, professional, enrolment or secretary account the session is for.
    subject_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (Index("ix_login_sessions_kind_subject_id", "kind", "subject_id"),)


class StaffLoginThrottle(Base):
    """Failed staff logins per client address (`source`, a keyed digest of it) and typed
    account (`account`, a keyed digest of the email; '' for the address as a whole)."""

    __tablename__ = "staff_login_throttle"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    account: Mapped[str] = mapped_column(String(32), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class Decision(Base):
    """A reviewer's (or the automatic) decision; four-eyes decisions wait for confirmation."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(24))  # auto_match, reviewer_approved, rejected
    reason_code: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    status: Mapped[str] = mapped_column(String(20), default="final")  # final | awaiting_second
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    # "Awaiting second approval" is asked of every queue page: a small partial index.
    __table_args__ = (
        Index(
            "ix_decisions_awaiting_second",
            "enrolment_id",
            postgresql_where=text("status = 'awaiting_second'"),
            sqlite_where=text("status = 'awaiting_second'"),
        ),
    )


class ReviewNote(Base):
    __tablename__ = "review_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SavedView(Base):
    """A reviewer's named queue view (quick filters, search, sort), as the URL holds it."""

    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    name: Mapped[str] = mapped_column(String(60))
    view: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("staff_id", "name", name="uq_saved_views_staff_name"),)


class Event(Base):
    """Append-only audit log: who did what, when, from which state to which.

    `data` never holds personal data (ids, kinds and codes only).
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"))
    action: Mapped[str] = mapped_column(String(40))
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    state_before: Mapped[str | None] = mapped_column(String(24))
    state_after: Mapped[str | None] = mapped_column(String(24))
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_events_enrolment_id_id", "enrolment_id", "id"),
        Index("ix_events_action_created_at", "action", "created_at"),
    )


@event.listens_for(Event, "before_update")
@event.listens_for(Event, "before_delete")
def _events_are_append_only(mapper, connection, target):
    raise PermissionError("events are append-only")


class OutboxEmail(Base):
    """Email written in the same transaction as the state change (transactional outbox)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"), index=True)
    template: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    # Template context; the invitation token inside it is encrypted and wiped once sent.
    context: Mapped[dict | None] = mapped_column(JSON)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The dispatcher run holding the lease: only it may record how the sending went.
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    # The row's place in the queue: when it is due, later by mail.RETRY_YIELD for a retry,
    # so that mail people wait for now goes first and yet no retry waits forever.
    turn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        # The dispatchers take the next pending row in turn order (migration 0010).
        Index(
            "ix_outbox_turn",
            "turn_at",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )


# --- metrics rollups (dashboard.enrolment.rollup) ---------------------------------------------
# Aggregates per declaration day (Europe/Luxembourg) and specialty ('' when none), rebuilt
# day by day from the tables above: no personal data, nothing edited by hand. Durations
# are counted in whole hundredths of a day, the precision the page shows, so medians and
# percentiles read from them are exact; the histograms the page reads are packed, one row
# per day and specialty (rollup.pack), so that 90 days are ~1,400 rows whatever the volume.


class MetricsDaily(Base):
    """Enrolments by outcome (metrics.OUTCOMES) and the funnel steps they reached."""

    __tablename__ = "metrics_daily"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    specialty: Mapped[str] = mapped_column(String(120), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(24), primary_key=True)
    declared: Mapped[int] = mapped_column(Integer)
    link_opened: Mapped[int] = mapped_column(Integer)
    cgu_accepted: Mapped[int] = mapped_column(Integer)
    matricule_verified: Mapped[int] = mapped_column(Integer)
    luxtrust_done: Mapped[int] = mapped_column(Integer)
    device_confirmed: Mapped[int] = mapped_column(Integer)
    # Reminders (migration 0015): enrolments reminded at least once, reminders sent.
    reminded: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    reminders: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class MetricsDuration(Base):
    """Declaration → account: (decision, hundredths of a day, accounts), packed."""

    __tablename__ = "metrics_durations"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    specialty: Mapped[str] = mapped_column(String(120), primary_key=True)
    histogram: Mapped[bytes] = mapped_column()  # LargeBinary


class MetricsMismatch(Base):
    """Non-matching LuxTrust identities: `n` with this kind of difference on this field."""

    __tablename__ = "metrics_mismatches"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    specialty: Mapped[str] = mapped_column(String(120), primary_key=True)
    field: Mapped[str] = mapped_column(String(20), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class MetricsReviewer(Base):
    """Reviewers' final decisions by declaration day (how they are refreshed) and decision
    day (when it became final): `n` handled in `hundredths` / 100 days, credited to the
    reviewer who took or proposed it (role "decision") and to the one who confirmed it
    (role "confirmation", four-eyes). The page reads MetricsHandling."""

    __tablename__ = "metrics_reviewers"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    decided_on: Mapped[dt.date] = mapped_column(Date, primary_key=True, index=True)
    specialty: Mapped[str] = mapped_column(String(120), primary_key=True)
    role: Mapped[str] = mapped_column(String(12), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hundredths: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class MetricsHandling(Base):
    """MetricsReviewer by decision day and role: (reviewer id, hundredths of a day,
    decisions), packed."""

    __tablename__ = "metrics_handling"

    decided_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    specialty: Mapped[str] = mapped_column(String(120), primary_key=True)
    role: Mapped[str] = mapped_column(String(12), primary_key=True)
    histogram: Mapped[bytes] = mapped_column()  # LargeBinary


class MetricsRefresh(Base):
    """One row: how far the rollups have read the event log.

    `pending` lists the ids at or below `last_event_id` that were not visible yet (a
    transaction still in flight on PostgreSQL, or rolled back), as [id, first seen]; they
    are looked for again until they are old enough to be sure they never will be.
    `version` changes whenever a refresh changed a rollup or `access`.
    """

    __tablename__ = "metrics_refresh"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int] = mapped_column(BigInteger)
    pending: Mapped[list] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    # The accounts' and links' counts as of this refresh (rollup.access_counts): they
    # change only with an event, and counting them at 1,000,000 takes ~100 ms.
    access: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# --- the background worker (dashboard/worker.py, migration 0015) -------------------------------


class JobRun(Base):
    """Each background job's last run, whichever worker ran it (jobs.job_status)."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[str | None] = mapped_column(String(12))  # running, ok, failed
    last_count: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))  # a kind, never data
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(120))  # host:pid
