"""Exceptions raised by the service layer.

Every exception carries a message a user or coordinator can act on: what went wrong, where,
and what to do next.  The UI catches `IoreviewError` at the action boundary and shows the
message; nothing below the UI shows dialogs.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adjudication.problems import InvalidProtocol

__all__ = [
    "AccountLocked", "AuthenticationFailed", "BackupRejected", "BlindingViolation", "InvalidInput",
    "InvalidProtocol", "IoreviewError", "LoginThrottled", "NotFound", "PasswordChangeRequired",
    "PermissionDenied", "ReadIncomplete",
    "ReadLocked", "SessionExpired", "SignatureRejected",
]


class IoreviewError(Exception):
    """Base class: a problem the user can act on; `str(exc)` is the message to show."""


class AuthenticationFailed(IoreviewError):
    """Wrong user name or password (the message never says which)."""


class AccountLocked(IoreviewError):
    """Too many failed attempts: the account is locked until `until` (epoch seconds)."""

    def __init__(self, message: str, until: float | None = None) -> None:
        super().__init__(message)
        self.until = until


class SessionExpired(IoreviewError):
    """The session was idle too long (unlock with the password) or has ended (log in again)."""


class PermissionDenied(IoreviewError):
    """The user's role does not allow this action."""


class BlindingViolation(IoreviewError):
    """The action would show a reader something blinding forbids (another reader's work,
    identifying data, a case not assigned to them)."""


class SignatureRejected(IoreviewError):
    """The password given to sign did not match (counts towards the lock-out)."""


class ReadLocked(IoreviewError):
    """The read is signed and locked: change it only through a signed amendment."""


class ReadIncomplete(IoreviewError):
    """The read fails validation; `problems` lists what is missing or wrong, per field."""

    def __init__(self, problems: Sequence[Any], message: str | None = None) -> None:
        self.problems = tuple(problems)
        if message is None:
            lines = [str(getattr(p, "message", p)) for p in self.problems]
            message = ("The read cannot be signed yet; fix these fields:\n- "
                       + "\n- ".join(lines)) if lines else "The read cannot be signed yet."
        super().__init__(message)


class InvalidInput(IoreviewError):
    """A value given to a use case is not acceptable (the message says which and why)."""


class NotFound(IoreviewError):
    """The requested record does not exist."""


class LoginThrottled(AuthenticationFailed):
    """Too many failed log-ins for this account or from this workstation: the next attempt is
    accepted only after `retry_after` seconds (the message says how long)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PasswordChangeRequired(IoreviewError):
    """The account's password was set by an administrator or has expired: the session may
    only change it (`change_password`) until then."""


class BackupRejected(IoreviewError):
    """A backup failed verification (its manifest, files, audit trail or signatures): nothing
    was restored.  `problems` lists every finding, each naming what is wrong."""

    def __init__(self, problems: Sequence[str], message: str | None = None) -> None:
        self.problems = tuple(problems)
        if message is None:
            message = ("The backup was refused; nothing was restored:\n- "
                       + "\n- ".join(self.problems))
        super().__init__(message)
