"""AWS calls for CI trusts: IAM OIDC identity providers and sts:AssumeRoleWithWebIdentity.

Part of the aws_* layer (same rules: every ClientError leaves as a BootstrapError raised from it,
through aws_errors.translate_errors; clients come from aws.Account). Provider facts:
https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html
(ThumbprintList is optional: IAM then secures the connection with its own library of trusted CAs).
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from bootstrap.aws import accounts as aws
from bootstrap.aws import errors as aws_errors
from bootstrap.aws import sts as aws_sts
from bootstrap.core.assumerequest import AssumeRequest
from bootstrap.core.errors import CredentialsError

if TYPE_CHECKING:  # at run time imported where a provider is read: apply imports this module for every run
    from bootstrap.core.oidc import Provider

# While a new role, trust or provider propagates, STS answers AccessDenied; InvalidIdentityToken
# ("Couldn't retrieve verification key", "No OpenIDConnect provider found") right after a provider is created.


def get_provider(account: aws.Account, arn: str) -> Provider | None:
    with aws_errors.translate_errors(
        f"{account.label}: reading the OIDC provider {arn} (iam:GetOpenIDConnectProvider)"
    ):
        try:
            reply = account.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except ClientError as err:
            if aws_errors.error_code(err) == "NoSuchEntity":
                return None
            raise
    from bootstrap.core.oidc import Provider  # noqa: PLC0415 (see the imports)

    return Provider(
        arn=arn,
        url=str(reply.get("Url", "")).removeprefix("https://"),
        client_ids=tuple(reply.get("ClientIDList", [])),
        tags=tuple(sorted((t["Key"], t["Value"]) for t in reply.get("Tags", []))),
    )


def create_provider(account: aws.Account, url: str, client_id: str, tags: tuple[tuple[str, str], ...]) -> None:
    with aws_errors.translate_errors(
        f"{account.label}: creating the OIDC provider {url} (iam:CreateOpenIDConnectProvider)"
    ):
        try:
            account.iam.create_open_id_connect_provider(
                Url=url, ClientIDList=[client_id], Tags=[{"Key": k, "Value": v} for k, v in tags]
            )
        except ClientError as err:
            if aws_errors.error_code(err) != "EntityAlreadyExists":  # a concurrent run made it: the goal is reached
                raise


def add_client_id(account: aws.Account, arn: str, client_id: str) -> None:
    with aws_errors.translate_errors(f"{account.label}: adding audience {client_id} to {arn}"):
        account.iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=client_id)


def delete_provider(account: aws.Account, arn: str) -> None:
    with aws_errors.translate_errors(f"{account.label}: deleting the OIDC provider {arn}"):
        try:
            account.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except ClientError as err:
            if aws_errors.error_code(err) != "NoSuchEntity":
                raise


def _names_provider(document: Any, provider_arn: str) -> bool:
    """Whether a trust policy names the provider anywhere (a Federated principal, a condition):
    matched on the whole text, case-insensitively, so any mention keeps the provider."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    return provider_arn.lower() in json.dumps(document).lower()


def roles_naming(account: aws.Account, provider_arn: str) -> list[str]:
    """ARNs of the roles whose trust policy names this provider (it is shared by all of them).

    ListRoles returns each role's trust policy (URL-encoded; it leaves out only the boundary, the
    last use and the tags: https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html),
    so one paginated listing reads them all; a role listed without it is read with GetRole, those
    reads concurrently."""
    found: list[str] = []
    unread: list[Any] = []
    with aws_errors.translate_errors(f"{account.label}: listing roles (iam:ListRoles)"):
        for page in account.iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                document = role.get("AssumeRolePolicyDocument")
                if document is None:
                    unread.append(role)
                elif _names_provider(document, provider_arn):
                    found.append(str(role["Arn"]))

    def read(role: Any) -> str | None:
        with aws_errors.translate_errors(f"{account.label}: reading the role {role['RoleName']} (iam:GetRole)"):
            try:
                got = account.iam.get_role(RoleName=role["RoleName"])["Role"]
            except ClientError as err:
                if aws_errors.error_code(err) == "NoSuchEntity":  # deleted since the listing
                    return None
                raise
        return str(got["Arn"]) if _names_provider(got.get("AssumeRolePolicyDocument", {}), provider_arn) else None

    if unread:
        with ThreadPoolExecutor(max_workers=min(16, len(unread))) as pool:
            found += [arn for arn in pool.map(read, unread) if arn is not None]
    return found


def assume_role_with_web_identity(
    account: aws.Account, role_arn: str, session_name: str, token: str, duration: int = 3600
) -> aws.Credentials:
    """One call (unsigned: the token is the credential); STS's refusal is AssumeRefused, with AWS's
    code, for the caller to judge."""
    action = f"{account.label}: assuming {role_arn} (sts:AssumeRoleWithWebIdentity)"
    try:
        reply = account.sts.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName=session_name, WebIdentityToken=token, DurationSeconds=duration
        )
    except ClientError as err:
        raise aws_sts.refused(err, action) from err
    return aws_sts.credentials_of(reply)


def assume_through_propagation(
    account: aws.Account,
    role_arn: str,
    session_name: str,
    token: str,
    deadline_s: float,
    on_attempt: Callable[[int, float], None] | None = None,
    then: Callable[[aws.Credentials], aws.Credentials] | None = None,
    keep_waiting: Callable[[BaseException], bool] | None = None,
) -> aws_sts.AssumeOutcome:
    """AssumeRoleWithWebIdentity (and ``then``, e.g. the hub's AssumeRole into B), retried while IAM
    propagates, and only while ``keep_waiting`` (when given) says the denial can still be propagation."""
    started = time.monotonic()
    attempts = 0

    def retry(err: BaseException) -> bool:
        if not isinstance(err, aws_errors.AssumeRefused):
            return False
        if keep_waiting is not None and not keep_waiting(err):
            return False
        if err.code == "InvalidIdentityToken":  # only the provider's own propagation; a bad token stays bad
            return "verification key" in err.aws_message or "No OpenIDConnect provider" in err.aws_message
        return err.code in aws_errors.ASSUME_PROPAGATION_CODES

    try:
        for attempt in aws_errors.propagation(deadline_s, retry, on_attempt):
            with attempt:
                attempts += 1
                creds = assume_role_with_web_identity(account, role_arn, session_name, token)
                if then is not None:
                    creds = then(creds)
    except aws_errors.AssumeRefused as err:
        if err.code == "ExpiredTokenException":
            raise CredentialsError(
                "The web identity token has expired: get a fresh one (CI tokens live minutes)."
            ) from err
        return aws_sts.AssumeOutcome(None, attempts, time.monotonic() - started, err.reason)
    except (BotoCoreError, ResponseParserError):
        # ResponseParserError is no BotoCoreError: an endpoint's HTML error page, an odd proxy answer.
        # Each failure to its own exit code: no endpoint (after botocore's retries, each connection
        # attempt bounded by client_config's connect_timeout) is 10, "cannot reach AWS", as for any call.
        aws_errors.raise_classified(f"{account.label}: sts:AssumeRoleWithWebIdentity")
    return aws_sts.AssumeOutcome(creds, attempts, time.monotonic() - started)


def assume_role_then(account: aws.Account, role_arn: str, session_name: str) -> Callable[[Any], aws.Credentials]:
    """For the hub topology: with the hub role's credentials, AssumeRole into the role in B."""

    def chain(creds: aws.Credentials) -> aws.Credentials:
        hub = account.with_credentials(creds, label="the hub role")
        return aws_sts.assume_role(hub, AssumeRequest(role_arn, session_name))

    return chain


def list_providers(account: aws.Account) -> list[Provider]:
    with aws_errors.translate_errors(f"{account.label}: listing OIDC providers (iam:ListOpenIDConnectProviders)"):
        arns = [p["Arn"] for p in account.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    return [p for p in (get_provider(account, arn) for arn in arns) if p is not None]
