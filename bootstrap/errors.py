"""Errors a user can act on, each with its documented exit code (see README, "Exit codes")."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1  # a bug: re-run with --debug and report it
    INVALID_INPUT = 2  # flags, config file or policy files are wrong; nothing was written
    CREDENTIALS = 3  # unknown profile, missing/expired/invalid credentials; nothing was written
    PRECONDITION = 4  # AWS state forbids the run (same account, missing principal, ...)
    NOT_CONFIRMED = 5  # not confirmed: non-interactive without --yes, or answered "no"
    APPLY_FAILED = 6  # an AWS write failed part-way; the message lists what was done
    VERIFY_FAILED = 7  # both sides in place, but the principal could not assume the role
    NOT_OWNED = 8  # the role or grant exists but is not managed by trust-bootstrap
    CAUSE_FOUND = 9  # diagnose: a check failed; the findings name the cause and the fix
    INTERRUPTED = 130  # Ctrl-C


class BootstrapError(Exception):
    """An error with a message for the user and an exit code. Never carries secrets."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(BootstrapError):
    exit_code = ExitCode.INVALID_INPUT


class CredentialsError(BootstrapError):
    exit_code = ExitCode.CREDENTIALS


class PreconditionFailed(BootstrapError):
    exit_code = ExitCode.PRECONDITION


class NotConfirmed(BootstrapError):
    exit_code = ExitCode.NOT_CONFIRMED


class ApplyFailed(BootstrapError):
    exit_code = ExitCode.APPLY_FAILED


class VerifyFailed(BootstrapError):
    exit_code = ExitCode.VERIFY_FAILED


class NotOwned(BootstrapError):
    exit_code = ExitCode.NOT_OWNED


class AwsError(BootstrapError):
    """An AWS call failed for a reason the user must fix (AccessDenied, a limit, ...)."""

    exit_code = ExitCode.PRECONDITION

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class Interrupted(BootstrapError):
    """Ctrl-C: the message says what is in place and how to finish."""

    exit_code = ExitCode.INTERRUPTED
