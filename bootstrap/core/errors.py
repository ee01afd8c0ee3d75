"""Errors a user can act on, each with its documented exit code (see README, "Exit codes")."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1  # a bug: re-run with --debug and report it
    INVALID_INPUT = 2  # flags, config file or policy files are wrong; nothing was written
    CREDENTIALS = 3  # unknown profile, missing/expired/invalid credentials; nothing was written
    PRECONDITION = 4  # AWS state forbids the run (same account, missing principal, ...)
    NOT_CONFIRMED = 5  # not confirmed: non-interactive without --yes, or answered "no"
    APPLY_FAILED = 6  # an AWS write failed part-way; the message lists what was done
    VERIFY_FAILED = 7  # both sides in place, but the principal could not assume the role
    NOT_OWNED = 8  # the role exists but is not managed by trust-bootstrap
    CAUSE_FOUND = 9  # diagnose: a check failed; the findings name the cause and the fix
    UNREACHABLE = 10  # AWS could not be reached, or answered something unreadable (after retries)
    INTERRUPTED = 130  # Ctrl-C


class BootstrapError(Exception):
    """An error with a message for the user and an exit code. Never carries secrets.

    ``kind`` names the class of failure for programs (`--output json`); ``done`` lists the writes
    this run made before failing, so nobody has to guess what is in place."""

    exit_code: ExitCode = ExitCode.INTERNAL
    kind: str = "internal"

    def __init__(self, message: str, done: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.done = tuple(done)
        self.extra: dict[str, Any] = {}  # more top-level keys of the JSON error document (a result)


def error_document(error: BootstrapError, exit_code: int) -> dict[str, Any]:
    """``--output json``: the one document an error prints on stdout."""
    body = {"exit_code": exit_code, "kind": error.kind, "message": error.message, "done": list(error.done)}
    return {**error.extra, "error": body}


class InvalidInput(BootstrapError):
    exit_code = ExitCode.INVALID_INPUT
    kind = "invalid-input"


class CredentialsError(BootstrapError):
    exit_code = ExitCode.CREDENTIALS
    kind = "credentials"


class PreconditionFailed(BootstrapError):
    exit_code = ExitCode.PRECONDITION
    kind = "precondition"


class NotConfirmed(BootstrapError):
    exit_code = ExitCode.NOT_CONFIRMED
    kind = "not-confirmed"


class ApplyFailed(BootstrapError):
    exit_code = ExitCode.APPLY_FAILED
    kind = "apply-failed"


class VerifyFailed(BootstrapError):
    exit_code = ExitCode.VERIFY_FAILED
    kind = "verify-failed"


class NotOwned(BootstrapError):
    exit_code = ExitCode.NOT_OWNED
    kind = "not-owned"


class AwsError(BootstrapError):
    """An AWS call failed for a reason the user must fix (AccessDenied, a limit, ...)."""

    exit_code = ExitCode.PRECONDITION
    kind = "aws"

    def __init__(self, message: str, code: str = "", done: Sequence[str] = ()) -> None:
        super().__init__(message, done)
        self.code = code


class NetworkError(AwsError):
    """The endpoint could not be reached, or the connection dropped, after botocore's retries."""

    exit_code = ExitCode.UNREACHABLE
    kind = "network"


class UnexpectedResponse(AwsError):
    """The endpoint answered something that is not AWS's protocol (an HTML page, a proxy's reply)."""

    exit_code = ExitCode.UNREACHABLE
    kind = "unexpected-response"


class Interrupted(BootstrapError):
    """Ctrl-C: the message says what is in place and how to finish."""

    exit_code = ExitCode.INTERRUPTED
    kind = "interrupted"
