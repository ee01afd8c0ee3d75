"""Prove the trust works: AssumeRole as the principal, through IAM propagation, then
GetCallerIdentity with the returned credentials must show the role in the target account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bootstrap.aws import accounts as aws
from bootstrap.aws import sessions
from bootstrap.aws import sts as aws_sts
from bootstrap.aws.errors import AssumeRefused
from bootstrap.core import arns, iamkinds
from bootstrap.core.assumerequest import AssumeRequest
from bootstrap.core.errors import BootstrapError, PreconditionFailed
from bootstrap.core.results import Verification


def _cannot_verify(principal: arns.Principal, why: str) -> PreconditionFailed:
    return PreconditionFailed(
        f"Cannot verify the trust: {why} Pass --verify-profile with a profile whose credentials are "
        f"{principal.arn}, or --no-verify to skip the verification. Nothing was written."
    )


def check_verifier(account: aws.Account, principal: arns.Principal, profile: str) -> None:
    """Before any write: the verify profile must be the principal. (With nothing to write, the
    verification itself proves it: only the principal may assume the role.)"""
    identity = aws_sts.get_caller_identity(account)
    acting_as = sessions.identity_principal(identity, account)
    if acting_as.arn.lower() != principal.arn.lower():
        raise _cannot_verify(principal, f"the verify profile '{profile}' is {identity.arn}, not the principal.")


def choose_verifier(
    source: aws.Account,
    source_principal: arns.Principal | None,
    principal: arns.Principal,
    verify_account: aws.Account | None,
    session_name: str,
) -> aws.Account:
    """Credentials that act as the principal: --verify-profile (``verify_account``), the source
    profile itself, or a session of the principal role assumed from the source profile."""
    if verify_account is not None:
        return verify_account
    if source_principal is not None and source_principal.arn == principal.arn:
        return source
    if iamkinds.of(principal.kind).assumable:
        try:
            creds = aws_sts.assume_role(source, AssumeRequest(principal.arn, session_name))
        except AssumeRefused as err:
            raise _cannot_verify(
                principal, f"the source profile cannot assume the principal role ({err.code})."
            ) from err
        return source.with_credentials(creds, label=f"principal ({principal.arn})")
    raise _cannot_verify(principal, "the source profile is not the principal, so it cannot act as it.")


def verify(
    verifier: aws.Account,
    request: AssumeRequest,
    *,
    target_account: str,
    timeout_s: float,
    on_attempt: Callable[[int, float], None] | None = None,
    keep_waiting: Callable[[BaseException], bool] | None = None,
) -> Verification:
    outcome = aws_sts.assume_role_through_propagation(
        verifier, request, timeout_s, on_attempt=on_attempt, keep_waiting=keep_waiting
    )
    if outcome.credentials is None:
        return Verification(False, None, outcome.attempts, outcome.waited_s, error=outcome.error)
    return check_assumed(
        verifier, outcome.credentials, request.role_arn, target_account, outcome.attempts, outcome.waited_s
    )


def try_assume(verifier: aws.Account, request: AssumeRequest) -> aws.Credentials | None:
    """One AssumeRole, sent with the reads when the role already stands as wanted: on a re-run with
    nothing to write it is the proof's first half, a round trip earlier. Any failure is None: the
    proof then runs as usual (with its waiting and its diagnosis) after the plan. Never with MFA:
    a one-time code must not be spent on a guess."""
    try:
        return aws_sts.assume_role(verifier, replace(request, mfa_serial=None, mfa_token=None))
    except BootstrapError:  # AssumeRefused, or no answer at all
        return None


def check_assumed(
    verifier: aws.Account,
    creds: aws.Credentials,
    role_arn: str,
    target_account: str,
    attempts: int = 1,
    waited_s: float = 0.0,
) -> Verification:
    """The proof's second half: who the assumed credentials are (GetCallerIdentity) must be the role."""
    identity = aws_sts.get_caller_identity(verifier.with_credentials(creds, label="the assumed role"))
    if identity.account != target_account or not arns.is_session_of(identity.arn, arns.name_of(role_arn)):
        return Verification(
            False,
            identity.arn,
            attempts,
            waited_s,
            error=f"the assumed credentials are {identity.arn}, not the role in {target_account}",
        )
    return Verification(True, identity.arn, attempts, waited_s)
