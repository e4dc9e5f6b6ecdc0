"""Provisioning: the secretary's account made real in the agency's identity platform.

This module holds the provisioning outbox's writing side: `request` adds a row in the
caller's unit of work, in the transaction that changed the account or its links, so the
directory is asked to change if and only if the change committed (transactional outbox, as
for mail). What the directory must then hold is read from the database when the row is
delivered (`accounts.directory_state`), not from the row: a replay converges.
"""

from __future__ import annotations

from dashboard.enrolment.model import ProvisioningRequest, SecretaryAccount
from dashboard.enrolment.uow import UnitOfWork


def request(
    uow: UnitOfWork,
    account: SecretaryAccount,
    reason: str,
    *,
    enrolment_id: int | None = None,
) -> ProvisioningRequest:
    """Ask for the account's directory state to be brought up to date.

    `reason` is the event that asked (e.g. account_opened, account_linked, link_ended);
    `enrolment_id` the enrolment whose emails wait for the directory's confirmation.
    """
    now = uow.now()
    row = ProvisioningRequest(
        account_id=account.id,
        enrolment_id=enrolment_id,
        reason=reason,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    uow.session.add(row)
    return row
