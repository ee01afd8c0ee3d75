"""The checks that make a run safe to start: who each profile is (aws.open_account, then STS), that
A and B differ, and that the principal is a real identity of A."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bootstrap.aws import accounts as aws
from bootstrap.aws import iam as aws_iam
from bootstrap.aws import sts as aws_sts
from bootstrap.core import arns
from bootstrap.core.errors import BootstrapError, PreconditionFailed


@dataclass(frozen=True)
class Sides:
    source: aws.Account
    target: aws.Account
    source_identity: aws.Identity
    target_identity: aws.Identity

    @property
    def partition(self) -> str:
        return arns.parse_arn(self.target_identity.arn).partition


def _open(profile: str | None, what: str) -> tuple[aws.Account, aws.Identity]:
    account = aws.open_account(profile, what)
    return account, aws_sts.get_caller_identity(account)


def connect(source_profile: str | None, target_profile: str | None) -> Sides:
    """Open both profiles and ask STS who they are, both at once."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        source_future = pool.submit(_open, source_profile, "source")
        target_future = pool.submit(_open, target_profile, "target")
        source, source_id = source_future.result()
        target, target_id = target_future.result()
    return sides_of(source, target, source_id, target_id)


def sides_of(source: aws.Account, target: aws.Account, source_id: aws.Identity, target_id: aws.Identity) -> Sides:
    """Both sides, once their identities are known; refused when they are the same account."""
    if source_id.account == target_id.account:
        raise PreconditionFailed(
            f"The source and target profiles are both in account {source_id.account} "
            f"({source_id.arn} and {target_id.arn}). trust-bootstrap sets up access between two "
            "different accounts: pass the target account's profile with --target-profile."
        )
    return Sides(source, target, source_id, target_id)


def open_profile(profile: str | None, what: str) -> tuple[aws.Account, aws.Identity]:
    return _open(profile, what)


def identity_principal(identity: aws.Identity, account: aws.Account) -> arns.Principal:
    """The principal a caller identity stands for: its user, or the role behind a role session
    (looked up so the ARN carries the role's path, which trust policies must match)."""
    arn, named = arns.parse_arn(identity.arn), arns.iam_name(identity.arn)
    if arn.service == "sts" and named.kind == "assumed-role":
        role = aws_iam.get_role(account, named.name)
        path = role["Path"] if role else "/"
        return arns.Principal("role", named.name, path, arn.account, arn.partition)
    if arn.service == "iam" and named.kind == "user":
        return arns.parse_principal(identity.arn)
    raise PreconditionFailed(
        f"The source profile signs in as {identity.arn}, which cannot be a trusted principal "
        "(only IAM users and roles can). Pass the principal to trust with --principal."
    )


def resolve_principal(
    given: str | None, identity: aws.Identity, source: aws.Account, *, own_needed: bool = True
) -> tuple[arns.Principal, arns.Principal | None]:
    """(the principal to trust, the source profile's own principal). The trusted one is --principal
    when given, else the source profile's own identity, which must then resolve. ``own_needed``:
    resolve the source's own principal even when --principal is given (to see whether the source
    can verify as itself); a failure to resolve it then is not an error."""
    own = None
    if given is None or own_needed:
        try:
            own = identity_principal(identity, source)
        except BootstrapError:
            if given is None:
                raise
    principal = arns.parse_principal(given) if given else own
    assert principal is not None
    return principal, own


def check_principal(source: aws.Account, source_account: str, principal: arns.Principal) -> arns.Principal:
    """The principal must live in the source account and exist there, with exactly that ARN."""
    if principal.account != source_account:
        raise PreconditionFailed(
            f"The principal {principal.arn} is in account {principal.account}, but the source profile is "
            f"in account {source_account}. Pass a user or role of account {source_account}, or the "
            "source profile of the principal's account."
        )
    return principal_found(source_account, principal, find_principal(source, principal))


def find_principal(source: aws.Account, principal: arns.Principal) -> dict[str, object] | None:
    """The principal's user or role as the source account has it (None: no such name). A read
    that needs only the input, so it goes out with the first round."""
    return aws_iam.get_principal(source, principal.kind, principal.name)


def principal_found(source_account: str, principal: arns.Principal, found: dict[str, object] | None) -> arns.Principal:
    """check_principal's verdict on what find_principal read."""
    if principal.account != source_account:
        raise PreconditionFailed(
            f"The principal {principal.arn} is in account {principal.account}, but the source profile is "
            f"in account {source_account}. Pass a user or role of account {source_account}, or the "
            "source profile of the principal's account."
        )
    if found is None:
        raise PreconditionFailed(
            f"The principal {principal.arn} does not exist in account {source_account}. Create it first, or "
            "check the name (IAM names are case-sensitive in ARNs)."
        )
    if found["Arn"] != principal.arn:
        raise PreconditionFailed(
            f"The principal is {found['Arn']}, not {principal.arn}: its path differs. Pass --principal {found['Arn']}."
        )
    return principal


def known_profiles() -> list[str]:
    """The profiles of the AWS config and credentials files, in their order (init offers them)."""
    return aws.available_profiles()
