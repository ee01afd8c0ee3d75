"""STS calls: who a profile is (GetCallerIdentity), and AssumeRole, once or through IAM propagation.

An AssumeRole that STS refuses leaves as aws_errors.AssumeRefused (AWS's code and message kept) so
callers judge the refusal without touching botocore; every other failure is translated as usual.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from bootstrap.aws.accounts import Account, Credentials, Identity
from bootstrap.aws.errors import (
    ASSUME_PROPAGATION_CODES,
    CREDENTIAL_CODES,
    AssumeRefused,
    classify,
    clean,
    error_code,
    error_message,
    propagation,
    translate_errors,
    why_unusable,
)
from bootstrap.core.assumerequest import AssumeRequest
from bootstrap.core.errors import CredentialsError


@dataclass(frozen=True)
class AssumeOutcome:
    """AssumeRole through propagation: the credentials, or the last error when time ran out."""

    credentials: Credentials | None
    attempts: int
    waited_s: float
    error: str = ""  # "Code: message" of the last failure


def get_caller_identity(account: Account) -> Identity:
    with translate_errors(f"{account.label}: checking the credentials (sts:GetCallerIdentity)"):
        reply = account.sts.get_caller_identity()
    return Identity(account=reply["Account"], arn=reply["Arn"], user_id=reply["UserId"])


def credentials_of(reply: Any) -> Credentials:
    """The Credentials of an AssumeRole* reply."""
    creds = reply["Credentials"]
    return Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def refused(err: ClientError, action: str) -> AssumeRefused:
    """STS's refusal of an assume call, typed: AWS's code and message kept for the caller to judge."""
    code, message = error_code(err), error_message(err)
    return AssumeRefused(f"{action}: {code}: {message}", code, message)


def assume_role(account: Account, request: AssumeRequest) -> Credentials:
    """One AssumeRole call; a refusal is AssumeRefused (with AWS's code) so callers can judge it."""
    action = f"{account.label}: assuming {request.role_arn} (sts:AssumeRole)"
    with translate_errors(action, client_errors=False):
        try:
            reply = account.sts.assume_role(**request.api_params())
        except ClientError as err:
            raise refused(err, action) from err
    return credentials_of(reply)


def assume_role_through_propagation(
    account: Account,
    request: AssumeRequest,
    deadline_s: float,
    on_attempt: Callable[[int, float], None] | None = None,
    keep_waiting: Callable[[BaseException], bool] | None = None,
) -> AssumeOutcome:
    """AssumeRole, retried on the codes IAM gives while a change propagates, until the deadline,
    and only while ``keep_waiting`` (when given) says the denial can still be propagation."""
    started = time.monotonic()
    attempts = 0

    def should_retry(err: BaseException) -> bool:
        propagating = isinstance(err, AssumeRefused) and err.code in ASSUME_PROPAGATION_CODES
        return propagating and (keep_waiting is None or keep_waiting(err))

    try:
        for attempt in propagation(deadline_s, should_retry, on_attempt):
            with attempt:
                attempts += 1
                creds = assume_role(account, request)
    except AssumeRefused as err:
        if err.code in CREDENTIAL_CODES - ASSUME_PROPAGATION_CODES:
            raise CredentialsError(f"{account.label}: the credentials were refused ({err.code}).") from err
        return AssumeOutcome(None, attempts, time.monotonic() - started, err.reason)
    return AssumeOutcome(creds, attempts, time.monotonic() - started)


def try_assume_role(account: Account, request: AssumeRequest) -> tuple[str | None, str | None]:
    """diagnose's real AssumeRole: ("Code: message", None) when refused, (None, assumed ARN) when
    allowed. An answer that is no AWS answer at all is reported the same way, cleaned."""
    try:
        reply = account.sts.assume_role(**request.api_params())
    except ClientError as err:
        return f"{error_code(err)}: {clean(error_message(err), 500)}", None
    except (BotoCoreError, ResponseParserError) as err:
        return f"NoAnswer: {why_unusable(err)}", None
    return None, str(reply["AssumedRoleUser"]["Arn"])


def assume_role_to_act(account: Account, request: AssumeRequest, action: str) -> Credentials:
    """AssumeRole to act in another account (a fleet target through its access role): a refusal is
    no verdict to judge but a failure of ``action``, classified like any other (credentials, access)."""
    with translate_errors(action, client_errors=True):
        try:
            return assume_role(account, request)
        except AssumeRefused as err:
            cause = err.__cause__
            mapped = classify(cause, action) if cause is not None else None
            if mapped is None:
                raise
            raise mapped from cause
