"""Domain errors: what went wrong, in terms a client can act on.

Entrypoints map each class to a status code in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a use case may raise on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class InvalidInput(DomainError):
    def __init__(self, message: str, details: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


class Unauthenticated(DomainError):
    def __init__(self, message: str, hint: str | None = None, reason: str = "invalid") -> None:
        super().__init__(message)
        self.hint = hint
        # Why, in one word an operator counts by: missing, empty, expired, invalid.
        self.reason = reason


class PermissionDenied(DomainError):
    def __init__(self, message: str, missing: str | None = None) -> None:
        super().__init__(message)
        # The permission the caller's key lacks, when that is the reason: entrypoints
        # tell the caller how to get it.
        self.missing = missing


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class PreconditionFailed(DomainError):
    pass


class Unprocessable(DomainError):
    pass


class QuotaExceeded(DomainError):
    def __init__(
        self,
        limit: int,
        retry_after: int,
        reset_after: int | None = None,
        per: str = "hour",
        verdict: object = None,
    ) -> None:
        super().__init__(
            f"Rate limit exceeded. Limit: {limit} requests/{per}. "
            f"Try again in {retry_after} seconds."
        )
        self.limit = limit
        self.retry_after = retry_after
        self.reset_after = retry_after if reset_after is None else reset_after
        # The whole verdict (domain.quota.Verdict), for the headers of the refusal.
        self.verdict = verdict


class CreditsExhausted(DomainError):
    """A metered key with no credit left; retry_after: seconds until the refill, None
    when the key has none (waiting does not help)."""

    def __init__(self, retry_after: int | None, verdict: object = None) -> None:
        super().__init__("Usage credits exhausted")
        self.retry_after = retry_after
        self.verdict = verdict


class ServiceUnavailable(DomainError):
    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after
