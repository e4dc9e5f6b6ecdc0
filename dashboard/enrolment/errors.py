"""Domain errors: each carries a stable `code` and a French message for the person."""

from __future__ import annotations

from dashboard.i18n import gettext as _


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, **details: object):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class Forbidden(DomainError):
    code = "forbidden"


class ConcurrentUpdate(DomainError):
    code = "concurrent_update"


class LimitReached(DomainError):
    code = "limit_reached"


class DuplicateDeclaration(DomainError):
    code = "duplicate_declaration"


class InvalidLink(DomainError):
    """The invitation link cannot be used; `reason` says why (expired, cancelled, ...)."""

    code = "invalid_link"

    def __init__(self, message: str, reason: str):
        super().__init__(message, reason=reason)
        self.reason = reason


class ValidationFailed(DomainError):
    """Bad input: `errors` maps each field to its French message; nothing was written."""

    code = "validation_failed"

    def __init__(self, errors: dict[str, str]):
        super().__init__(_(" ; ").join(errors.values()), errors=errors)
        self.errors = errors
