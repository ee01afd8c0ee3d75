"""Prove the trust works: AssumeRole as the principal, through IAM propagation, then
GetCallerIdentity with the returned credentials must show the role in the target account."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import ClientError

from bootstrap import arns, aws, sessions
from bootstrap.errors import BootstrapError, PreconditionFailed
from bootstrap.results import Verification


def _cannot_verify(principal: arns.Principal, why: str) -> PreconditionFailed:
    return PreconditionFailed(
        f"Cannot verify the trust: {why} Pass --verify-profile with a profile whose credentials are "
        f"{principal.arn}, or --no-verify to skip the verification. Nothing was written."
    )


def open_verify_profile(profile: str) -> aws.Account:
    """The verify profile's session; who it is gets checked (check_verifier) only before writes."""
    return aws.Account(aws.open_session(profile, "verify"), label=f"verify account ({profile})")


def check_verifier(account: aws.Account, principal: arns.Principal, profile: str) -> None:
    """Before any write: the verify profile must be the principal. (With nothing to write, the
    verification itself proves it: only the principal may assume the role.)"""
    identity = aws.get_caller_identity(account)
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
    if principal.kind == "role":
        try:
            creds = aws.assume_role(source, principal.arn, session_name)
        except ClientError as err:
            raise _cannot_verify(
                principal,
                f"the source profile cannot assume the principal role ({aws.error_code(err)}).",
            ) from err
        return source.with_credentials(creds, label=f"principal ({principal.arn})")
    raise _cannot_verify(principal, "the source profile is not the principal, so it cannot act as it.")


def verify(
    verifier: aws.Account,
    *,
    role_arn: str,
    target_account: str,
    session_name: str,
    external_id: str | None,
    mfa_serial: str | None,
    mfa_token: str | None,
    timeout_s: float,
    on_attempt: Callable[[int, float], None] | None = None,
    keep_waiting: Callable[[BaseException], bool] | None = None,
) -> Verification:
    outcome = aws.assume_role_through_propagation(
        verifier,
        role_arn,
        session_name,
        timeout_s,
        external_id=external_id,
        mfa_serial=mfa_serial,
        mfa_token=mfa_token,
        on_attempt=on_attempt,
        keep_waiting=keep_waiting,
    )
    if outcome.credentials is None:
        return Verification(False, None, outcome.attempts, outcome.waited_s, error=outcome.error)
    return check_assumed(verifier, outcome.credentials, role_arn, target_account, outcome.attempts, outcome.waited_s)


def try_assume(
    verifier: aws.Account, role_arn: str, session_name: str, external_id: str | None
) -> aws.Credentials | None:
    """One AssumeRole, sent with the reads when the role already stands as wanted: on a re-run with
    nothing to write it is the proof's first half, a round trip earlier. Any failure is None: the
    proof then runs as usual (with its waiting and its diagnosis) after the plan. Never with MFA:
    a one-time code must not be spent on a guess."""
    try:
        return aws.assume_role(verifier, role_arn, session_name, external_id)
    except (ClientError, BootstrapError):
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
    identity = aws.get_caller_identity(verifier.with_credentials(creds, label="the assumed role"))
    role_name = role_arn.rsplit("/", 1)[-1]
    expected = f":assumed-role/{role_name}/"
    if identity.account != target_account or expected not in identity.arn:
        return Verification(
            False,
            identity.arn,
            attempts,
            waited_s,
            error=f"the assumed credentials are {identity.arn}, not the role in {target_account}",
        )
    return Verification(True, identity.arn, attempts, waited_s)
