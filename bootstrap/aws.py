"""The only place that holds boto3 clients, knows AWS error codes, and retries.

Two kinds of retry, kept apart on purpose:
- throttling and 5xx: botocore's own ``standard`` retry mode (client_config), not hand-written;
- IAM propagation (a new role or principal that AWS does not see everywhere yet): ``propagation``
  below, with tenacity, an explicit deadline, jittered exponential waits and named error codes.

Every ClientError leaves this module as a BootstrapError subclass raised ``from`` it, with AWS's
own message and the operation's name, never with credentials.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import boto3
import botocore.loaders
import botocore.session
import tenacity
from botocore.config import Config as BotoConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    CredentialRetrievalError,
    EndpointConnectionError,
    HTTPClientError,
    InvalidConfigError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from bootstrap import botomodel
from bootstrap.errors import (
    AwsError,
    BootstrapError,
    CredentialsError,
    NetworkError,
    UnexpectedResponse,
)
from bootstrap.facts import OrgLevel, OrgPolicies

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_sts import STSClient

T = TypeVar("T")


# Throttling, 5xx and dropped connections: botocore's standard retry mode, with its default of 3
# attempts unless the user sets AWS_MAX_ATTEMPTS or max_attempts in the profile.
def client_config() -> BotoConfig:
    """A new Config per client: botocore writes the resolved max attempts (AWS_MAX_ATTEMPTS, the
    profile's max_attempts) into the ``retries`` dict it is given, so a shared one would carry one
    client's setting over to every later client of the process."""
    return BotoConfig(retries={"mode": "standard"}, connect_timeout=10, read_timeout=60)


DEFAULT_REGION = "us-east-1"  # IAM is global; STS needs some region to sign for

CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "RequestExpired",
    }
)
# What an endpoint answers for an operation it does not offer (the sandbox, some partitions).
UNAVAILABLE_CODES = frozenset({"NotImplemented", "UnknownOperationException", "InvalidAction", "501"})
# AssumeRole right after a role, its trust or the caller's grant changed: IAM has not caught up yet.
ASSUME_PROPAGATION_CODES = frozenset({"AccessDenied", "InvalidClientTokenId"})

FIRST_RETRY_MAX_S = 0.5
RETRY_CAP_S = 5.0


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    user_id: str


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials. The secret parts never appear in repr() or logs."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)


@dataclass(frozen=True)
class AssumeOutcome:
    """AssumeRole through propagation: the credentials, or the last error when time ran out."""

    credentials: Credentials | None
    attempts: int
    waited_s: float
    error: str = ""  # "Code: message" of the last failure


_LOCKS_GUARD = threading.Lock()


def _session_lock(session: boto3.Session) -> threading.Lock:
    """boto3 Sessions are not thread-safe while making clients: one lock per Session, shared by
    every Account made from it (targets reached through one management session, say)."""
    with _LOCKS_GUARD:
        lock: threading.Lock | None = getattr(session, "_trust_bootstrap_lock", None)
        if lock is None:
            lock = threading.Lock()
            session._trust_bootstrap_lock = lock  # type: ignore[attr-defined]
        return lock


class Account:
    """One side of the trust: a boto3 Session, and its clients, each made on first use.

    Clients are thread-safe once made, so the A and B sides (and fleet targets) run in parallel.
    """

    def __init__(self, session: boto3.Session, label: str, credentials: Credentials | None = None) -> None:
        self.session = session
        self.label = label
        self.credentials = credentials
        self._region = session.region_name or DEFAULT_REGION
        self._keys: dict[str, Any] = {}
        if credentials is not None:
            self._keys = {
                "aws_access_key_id": credentials.access_key_id,
                "aws_secret_access_key": credentials.secret_access_key,
                "aws_session_token": credentials.session_token,
            }
        self._lock = _session_lock(session)
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                with translate_errors(f"{self.label}: creating the {service} client"):
                    make: Callable[..., Any] = self.session.client
                    self._clients[service] = make(
                        service, config=client_config(), region_name=self._region, **self._keys
                    )
            return self._clients[service]

    @property
    def iam(self) -> IAMClient:
        client: IAMClient = self.client("iam")
        return client

    @property
    def sts(self) -> STSClient:
        client: STSClient = self.client("sts")
        return client

    def with_credentials(self, credentials: Credentials, label: str) -> Account:
        """The same profile settings (region, endpoint) with other credentials."""
        return Account(self.session, label, credentials)


def _shared_loader() -> botocore.loaders.Loader:
    """One loader of botocore's service models for all sessions (and the input checks)."""
    return botomodel.shared_loader()


def open_session(profile: str | None, what: str) -> boto3.Session:
    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    try:
        session = boto3.Session(botocore_session=core, profile_name=profile)
        if profile is not None and profile not in session.available_profiles:
            raise ProfileNotFound(profile=profile)
        return session
    except ProfileNotFound as err:
        raise CredentialsError(
            f"The {what} profile '{profile}' is not in your AWS config. Check the name with "
            "'aws configure list-profiles', or set AWS_CONFIG_FILE to the file that has it."
        ) from err


def profile_setting(profile: str | None, key: str) -> str | None:
    """A setting of a profile as the config file has it (e.g. endpoint_url), or None."""
    core = botocore.session.Session(profile=profile)
    try:
        value = core.get_scoped_config().get(key)
    except ProfileNotFound:
        return None
    return str(value) if value is not None else None


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def error_message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", ""))


# Credentials that cannot be had: a failing credential_process, an expired SSO token, half a key.
_CREDENTIAL_FAILURES: tuple[type[Exception], ...] = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    TokenRetrievalError,
    SSOError,
    ProfileNotFound,
    InvalidConfigError,
)
_NETWORK_FAILURES: tuple[type[Exception], ...] = (EndpointConnectionError, HTTPClientError, BotoConnectionError)


# Still failing after botocore's retries: AWS is not serving the call right now.
UNAVAILABLE_AFTER_RETRIES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceFailure", "InternalFailure",
     "ServiceUnavailable", "InternalError"}
)  # fmt: skip


def _classify_client_error(err: ClientError, action: str) -> BootstrapError:
    code, message = error_code(err), error_message(err)
    if code in CREDENTIAL_CODES:
        return CredentialsError(
            f"{action}: the credentials were refused ({code}: {message}). Refresh them "
            "(for SSO: 'aws sso login') or check the profile."
        )
    if not code or code.isdigit():  # an HTTP status with no AWS error in the body
        return UnexpectedResponse(f"{action}: the endpoint answered HTTP {code or '?'} without an AWS error.", code)
    if code in UNAVAILABLE_AFTER_RETRIES:
        return NetworkError(f"{action}: {code}: {message}, still after botocore's retries. Re-run later.", code)
    hint = " The profile needs IAM permission for this call." if code == "AccessDenied" else ""
    return AwsError(f"{action}: {code}: {message}.{hint}", code)


def classify(err: BaseException, action: str) -> BootstrapError | None:
    """The error a user can act on for a botocore failure (None: not botocore's). ClientErrors by
    code; credentials, network and unreadable answers (ResponseParserError is not a BotoCoreError)
    each to their own exit code."""
    mapped: BootstrapError | None = None
    if isinstance(err, ClientError):
        mapped = _classify_client_error(err, action)
    elif isinstance(err, NoCredentialsError):
        mapped = CredentialsError(
            f"{action}: no AWS credentials found for this profile. Configure the profile, or log in "
            "(for SSO: 'aws sso login')."
        )
    elif isinstance(err, _CREDENTIAL_FAILURES):
        mapped = CredentialsError(f"{action}: the profile's credentials could not be obtained: {err}")
    elif isinstance(err, _NETWORK_FAILURES):
        mapped = NetworkError(
            f"{action}: cannot reach AWS ({err}), after botocore's retries. Check the network and the profile's "
            "endpoint, then re-run the same command."
        )
    elif isinstance(err, ResponseParserError):
        mapped = UnexpectedResponse(
            f"{action}: the endpoint's answer is not AWS's (unreadable: {str(err).splitlines()[0][:200]}). A proxy "
            "or captive portal may be in the way; check the profile's endpoint, then re-run."
        )
    elif isinstance(err, BotoCoreError):
        mapped = AwsError(f"{action}: {err}")
    return mapped


@contextmanager
def translate_errors(action: str, client_errors: bool = True) -> Iterator[None]:
    """Turn botocore failures into errors a user can act on, naming what we were doing.
    ``client_errors=False`` lets ClientError through, for callers that judge AWS's code themselves."""
    try:
        yield
    except BootstrapError:
        raise
    except ClientError:
        if not client_errors:
            raise
        raise_classified(action)
    except (BotoCoreError, ResponseParserError):
        raise_classified(action)


def raise_classified(action: str) -> NoReturn:
    """Inside an ``except``: raise the classified error ``from`` the one being handled."""
    err = sys.exc_info()[1]
    assert err is not None
    mapped = classify(err, action)
    if mapped is None:
        raise err
    raise mapped from err


@contextmanager
def _gone_is_fine() -> Iterator[None]:
    """For deletes and detaches: NoSuchEntity means the goal is already reached."""
    try:
        yield
    except ClientError as err:
        if error_code(err) != "NoSuchEntity":
            raise


def _absent_if_no_such_entity(call: Callable[[], T], action: str) -> T | None:
    with translate_errors(action):
        try:
            return call()
        except ClientError as err:
            if error_code(err) == "NoSuchEntity":
                return None
            raise


def propagation(
    deadline_s: float,
    should_retry: Callable[[BaseException], bool],
    on_attempt: Callable[[int, float], None] | None = None,
) -> tenacity.Retrying:
    """Retry while IAM catches up: jittered exponential waits (first within 0.5 s, capped at 5 s)
    until the deadline; the last error is re-raised as it was."""
    started = time.monotonic()

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_attempt is not None:
            on_attempt(state.attempt_number, time.monotonic() - started)

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(should_retry),
        wait=tenacity.wait_random_exponential(multiplier=FIRST_RETRY_MAX_S, max=RETRY_CAP_S),
        stop=tenacity.stop_before_delay(deadline_s),
        before_sleep=before_sleep,
        reraise=True,
    )


def _is_code(*codes: str) -> Callable[[BaseException], bool]:
    return lambda err: isinstance(err, ClientError) and error_code(err) in codes


def _is_invalid_principal(err: BaseException) -> bool:
    """IAM rejects a trust policy naming a principal created moments ago until it propagates."""
    return (
        isinstance(err, ClientError)
        and error_code(err) == "MalformedPolicyDocument"
        and "invalid principal" in error_message(err).lower()
    )


# -- STS -----------------------------------------------------------------------------------------


def get_caller_identity(account: Account) -> Identity:
    with translate_errors(f"{account.label}: checking the credentials (sts:GetCallerIdentity)"):
        reply = account.sts.get_caller_identity()
    return Identity(account=reply["Account"], arn=reply["Arn"], user_id=reply["UserId"])


def assume_role(
    account: Account,
    role_arn: str,
    session_name: str,
    external_id: str | None = None,
    mfa_serial: str | None = None,
    mfa_token: str | None = None,
) -> Credentials:
    """One AssumeRole call; ClientError passes through so callers can judge the code."""
    kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
    if external_id:
        kwargs["ExternalId"] = external_id
    if mfa_serial and mfa_token:
        kwargs["SerialNumber"], kwargs["TokenCode"] = mfa_serial, mfa_token
    with translate_errors(f"{account.label}: assuming {role_arn} (sts:AssumeRole)", client_errors=False):
        creds = account.sts.assume_role(**kwargs)["Credentials"]
    return Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def assume_role_through_propagation(
    account: Account,
    role_arn: str,
    session_name: str,
    deadline_s: float,
    external_id: str | None = None,
    mfa_serial: str | None = None,
    mfa_token: str | None = None,
    on_attempt: Callable[[int, float], None] | None = None,
    keep_waiting: Callable[[BaseException], bool] | None = None,
) -> AssumeOutcome:
    """AssumeRole, retried on the codes IAM gives while a change propagates, until the deadline,
    and only while ``keep_waiting`` (when given) says the denial can still be propagation."""
    started = time.monotonic()
    attempts = 0
    propagating = _is_code(*ASSUME_PROPAGATION_CODES)

    def should_retry(err: BaseException) -> bool:
        return propagating(err) and (keep_waiting is None or keep_waiting(err))

    try:
        for attempt in propagation(deadline_s, should_retry, on_attempt):
            with attempt:
                attempts += 1
                creds = assume_role(account, role_arn, session_name, external_id, mfa_serial, mfa_token)
    except ClientError as err:
        if error_code(err) in CREDENTIAL_CODES - ASSUME_PROPAGATION_CODES:
            raise CredentialsError(f"{account.label}: the credentials were refused ({error_code(err)}).") from err
        return AssumeOutcome(None, attempts, time.monotonic() - started, f"{error_code(err)}: {error_message(err)}")
    return AssumeOutcome(creds, attempts, time.monotonic() - started)


# -- IAM reads -----------------------------------------------------------------------------------


def get_role(account: Account, name: str) -> dict[str, Any] | None:
    reply = _absent_if_no_such_entity(
        lambda: account.iam.get_role(RoleName=name),
        f"{account.label}: reading role {name} (iam:GetRole)",
    )
    return dict(reply["Role"]) if reply else None


def get_user(account: Account, name: str) -> dict[str, Any] | None:
    reply = _absent_if_no_such_entity(
        lambda: account.iam.get_user(UserName=name),
        f"{account.label}: reading user {name} (iam:GetUser)",
    )
    return dict(reply["User"]) if reply else None


def policy_exists(account: Account, arn: str) -> bool:
    found = _absent_if_no_such_entity(
        lambda: account.iam.get_policy(PolicyArn=arn), f"{account.label}: reading policy {arn} (iam:GetPolicy)"
    )
    return found is not None


def list_attached_role_policies(account: Account, role: str) -> list[str]:
    """ARNs of the managed policies attached to a role ([] when the role does not exist)."""
    with translate_errors(f"{account.label}: listing managed policies of role {role}"):
        try:
            pages = account.iam.get_paginator("list_attached_role_policies").paginate(RoleName=role)
            return [p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]]
        except ClientError as err:
            if error_code(err) == "NoSuchEntity":
                return []
            raise


def list_inline_policies(account: Account, kind: str, owner: str) -> list[str]:
    """Names of the inline policies of a user or role ([] when it does not exist)."""
    with translate_errors(f"{account.label}: listing inline policies of {kind} {owner}"):
        try:
            if kind == "user":
                pages: Any = account.iam.get_paginator("list_user_policies").paginate(UserName=owner)
            else:
                pages = account.iam.get_paginator("list_role_policies").paginate(RoleName=owner)
            return [name for page in pages for name in page["PolicyNames"]]
        except ClientError as err:
            if error_code(err) == "NoSuchEntity":
                return []
            raise


def inline_policy_holders(account: Account, wanted: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(holder ARN, policy name) of every user and role inline policy whose name is ``wanted``: one
    paginated iam:GetAccountAuthorizationDetails read, instead of a listing per identity."""
    found: list[tuple[str, str]] = []
    with translate_errors(f"{account.label}: looking for inline policies (iam:GetAccountAuthorizationDetails)"):
        pages = account.iam.get_paginator("get_account_authorization_details").paginate(Filter=["User", "Role"])
        for page in pages:
            for user in page.get("UserDetailList", []):
                found += [(user["Arn"], p["PolicyName"]) for p in user.get("UserPolicyList", [])]
            for role in page.get("RoleDetailList", []):
                found += [(role["Arn"], p["PolicyName"]) for p in role.get("RolePolicyList", [])]
    return [(arn, name) for arn, name in found if wanted(name)]


def list_role_tags(account: Account, role: str) -> list[tuple[str, str]]:
    with translate_errors(f"{account.label}: listing tags of role {role}"):
        pages = account.iam.get_paginator("list_role_tags").paginate(RoleName=role)
        return [(t["Key"], t["Value"]) for page in pages for t in page["Tags"]]


def get_inline_policy(account: Account, kind: str, owner: str, policy: str) -> dict[str, Any] | None:
    """An inline policy document of a role or user, or None when absent."""
    action = f"{account.label}: reading inline policy {policy} of {kind} {owner}"
    if kind == "user":
        user_reply = _absent_if_no_such_entity(
            lambda: account.iam.get_user_policy(UserName=owner, PolicyName=policy), action
        )
        return _document(user_reply["PolicyDocument"]) if user_reply else None
    role_reply = _absent_if_no_such_entity(
        lambda: account.iam.get_role_policy(RoleName=owner, PolicyName=policy), action
    )
    return _document(role_reply["PolicyDocument"]) if role_reply else None


def _document(value: object) -> dict[str, Any]:
    """botocore decodes policy documents to dicts; some endpoints hand back the URL-encoded text."""
    if isinstance(value, str):
        return dict(json.loads(urllib.parse.unquote(value)))
    return cast("dict[str, Any]", dict(value))  # type: ignore[call-overload]


# -- IAM writes ----------------------------------------------------------------------------------


def create_role(
    account: Account,
    *,
    name: str,
    path: str,
    trust_policy: str,
    description: str,
    max_session_duration: int,
    permissions_boundary: str | None,
    tags: tuple[tuple[str, str], ...],
    deadline_s: float,
) -> None:
    kwargs: dict[str, Any] = {
        "RoleName": name,
        "Path": path,
        "AssumeRolePolicyDocument": trust_policy,
        "Description": description,
        "MaxSessionDuration": max_session_duration,
        "Tags": [{"Key": k, "Value": v} for k, v in tags],
    }
    if permissions_boundary:
        kwargs["PermissionsBoundary"] = permissions_boundary
    with translate_errors(f"{account.label}: creating role {name} (iam:CreateRole)"):
        for attempt in propagation(deadline_s, _is_invalid_principal):
            with attempt:
                account.iam.create_role(**kwargs)


def update_trust_policy(account: Account, role: str, trust_policy: str, deadline_s: float) -> None:
    with translate_errors(f"{account.label}: updating the trust policy of role {role} (iam:UpdateAssumeRolePolicy)"):
        for attempt in propagation(deadline_s, _is_invalid_principal):
            with attempt:
                account.iam.update_assume_role_policy(RoleName=role, PolicyDocument=trust_policy)


def update_role(account: Account, role: str, description: str, max_session_duration: int) -> None:
    with translate_errors(f"{account.label}: updating role {role} (iam:UpdateRole)"):
        account.iam.update_role(RoleName=role, Description=description, MaxSessionDuration=max_session_duration)


def put_permissions_boundary(account: Account, role: str, boundary: str | None) -> None:
    with translate_errors(f"{account.label}: setting the permissions boundary of role {role}"):
        if boundary:
            account.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)
        else:
            account.iam.delete_role_permissions_boundary(RoleName=role)


def tag_role(account: Account, role: str, tags: tuple[tuple[str, str], ...]) -> None:
    with translate_errors(f"{account.label}: tagging role {role} (iam:TagRole)"):
        account.iam.tag_role(RoleName=role, Tags=[{"Key": k, "Value": v} for k, v in tags])


def untag_role(account: Account, role: str, keys: tuple[str, ...]) -> None:
    with translate_errors(f"{account.label}: untagging role {role} (iam:UntagRole)"):
        account.iam.untag_role(RoleName=role, TagKeys=list(keys))


def attach_role_policy(account: Account, role: str, policy_arn: str) -> None:
    with translate_errors(f"{account.label}: attaching {policy_arn} to role {role} (iam:AttachRolePolicy)"):
        account.iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)


def detach_role_policy(account: Account, role: str, policy_arn: str) -> None:
    with (
        translate_errors(f"{account.label}: detaching {policy_arn} from role {role} (iam:DetachRolePolicy)"),
        _gone_is_fine(),
    ):
        account.iam.detach_role_policy(RoleName=role, PolicyArn=policy_arn)


def put_inline_policy(account: Account, kind: str, owner: str, policy: str, document: str) -> None:
    with translate_errors(f"{account.label}: writing inline policy {policy} on {kind} {owner}"):
        if kind == "user":
            account.iam.put_user_policy(UserName=owner, PolicyName=policy, PolicyDocument=document)
        else:
            account.iam.put_role_policy(RoleName=owner, PolicyName=policy, PolicyDocument=document)


def delete_inline_policy(account: Account, kind: str, owner: str, policy: str) -> None:
    with translate_errors(f"{account.label}: deleting inline policy {policy} of {kind} {owner}"), _gone_is_fine():
        if kind == "user":
            account.iam.delete_user_policy(UserName=owner, PolicyName=policy)
        else:
            account.iam.delete_role_policy(RoleName=owner, PolicyName=policy)


def delete_role(account: Account, role: str) -> None:
    with translate_errors(f"{account.label}: deleting role {role} (iam:DeleteRole)"), _gone_is_fine():
        account.iam.delete_role(RoleName=role)


# -- diagnose: reads of the principal's policies and of evidence ---------------------------------


class EvidenceUnavailable(AwsError):
    """An optional source of evidence (policy simulator, CloudTrail, Organizations) gave no usable
    answer. Its message is one clean line: never the raw body (an HTML page) of the answer."""


def _clean(text: str, limit: int = 200) -> str:
    """One line of text from anything an endpoint sent: markup dropped, whitespace collapsed."""
    if "<" in text and ">" in text:
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _why_unusable(err: BaseException) -> str:  # noqa: PLR0911 (one line per kind of failure)
    # ResponseParserError is not a BotoCoreError subclass: an HTML 500 page or any non-AWS body.
    if isinstance(err, ResponseParserError):
        return "the endpoint's answer is not an AWS response (an HTML error page or a malformed body)"
    if isinstance(err, ClientError):
        code, message = error_code(err), _clean(error_message(err))
        if code.isdigit() or not code:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or code or "?"
            return f"the endpoint answered HTTP {status} without an AWS error code (an HTML error page?)"
        return f"{code}: {message}" if message else code
    if isinstance(err, ReadTimeoutError):
        return "no answer in time (read timeout)"
    if isinstance(err, (EndpointConnectionError, ConnectionClosedError)):
        return "cannot reach the endpoint"
    if isinstance(err, BootstrapError):
        return _clean(err.message)
    if isinstance(err, (KeyError, TypeError, ValueError)):
        return f"the answer lacks what an AWS answer holds ({type(err).__name__}: {_clean(str(err), 80)})"
    return f"an unexpected answer ({type(err).__name__})"


@contextmanager
def optional_source(action: str) -> Iterator[None]:
    """For evidence a diagnosis can do without: any failure, whatever the endpoint answered,
    becomes EvidenceUnavailable with one clean line (the check that needed it says 'unknown')."""
    try:
        yield
    except BootstrapError as err:  # already says what was being done, unless AWS said nothing
        cause = err.__cause__
        odd = isinstance(cause, ClientError) and not error_code(cause).isalpha()
        message = f"{action}: {_why_unusable(cause)}" if cause is not None and odd else _clean(err.message, 400)
        raise EvidenceUnavailable(message) from err
    except Exception as err:  # any answer of an optional source: see the docstring
        raise EvidenceUnavailable(f"{action}: {_why_unusable(err)}") from err


def try_assume_role(account: Account, kwargs: dict[str, Any]) -> tuple[str | None, str | None]:
    """diagnose's real AssumeRole: ("Code: message", None) when refused, (None, assumed ARN) when
    allowed. An answer that is no AWS answer at all is reported the same way, cleaned."""
    try:
        reply = account.sts.assume_role(**kwargs)
    except ClientError as err:
        return f"{error_code(err)}: {_clean(error_message(err), 500)}", None
    except (BotoCoreError, ResponseParserError) as err:
        return f"NoAnswer: {_why_unusable(err)}", None
    return None, str(reply["AssumedRoleUser"]["Arn"])


def list_role_names(account: Account) -> list[str]:
    with translate_errors(f"{account.label}: listing roles (iam:ListRoles)"):
        pages = account.iam.get_paginator("list_roles").paginate()
        return [r["RoleName"] for page in pages for r in page["Roles"]]


def managed_policy_document(account: Account, arn: str) -> dict[str, Any]:
    with translate_errors(f"{account.label}: reading managed policy {arn}"):
        version = account.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = account.iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return _document(document)


def _inline_documents(account: Account, kind: str, owner: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name in list_inline_policies(account, kind, owner):
        if kind == "group":
            with translate_errors(f"{account.label}: reading inline policy {name} of group {owner}"):
                found: dict[str, Any] | None = _document(
                    account.iam.get_group_policy(GroupName=owner, PolicyName=name)["PolicyDocument"]
                )
        else:
            found = get_inline_policy(account, kind, owner, name)
        if found is not None:
            out.append((f"{kind} {owner} inline policy {name}", found))
    return out


def _attached_arns(account: Account, kind: str, owner: str) -> list[str]:
    with translate_errors(f"{account.label}: listing managed policies of {kind} {owner}"):
        if kind == "user":
            pages: Any = account.iam.get_paginator("list_attached_user_policies").paginate(UserName=owner)
        elif kind == "group":
            pages = account.iam.get_paginator("list_attached_group_policies").paginate(GroupName=owner)
        else:
            pages = account.iam.get_paginator("list_attached_role_policies").paginate(RoleName=owner)
        return [p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]]


def identity_policies(
    account: Account, kind: str, name: str
) -> tuple[list[tuple[str, dict[str, Any]]], tuple[str, dict[str, Any]] | None]:
    """Every identity policy of a user or role (inline, managed, and a user's groups'), and its
    permissions boundary: (label, document) pairs."""
    owners = [(kind, name)]
    if kind == "user":
        with translate_errors(f"{account.label}: listing the groups of user {name}"):
            pages = account.iam.get_paginator("list_groups_for_user").paginate(UserName=name)
            owners += [("group", g["GroupName"]) for page in pages for g in page["Groups"]]
    policies: list[tuple[str, dict[str, Any]]] = []
    for owner_kind, owner in owners:
        policies += _inline_documents(account, owner_kind, owner)
        policies += [
            (f"managed policy {arn}", managed_policy_document(account, arn))
            for arn in _attached_arns(account, owner_kind, owner)
        ]
    principal = get_user(account, name) if kind == "user" else get_role(account, name)
    boundary_arn = ((principal or {}).get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    boundary = (
        (f"permissions boundary {boundary_arn}", managed_policy_document(account, boundary_arn))
        if boundary_arn
        else None
    )
    return policies, boundary


def simulate_assume_role(
    account: Account, principal_arn: str, role_arn: str, context: dict[str, list[str]]
) -> str | None:
    """IAM's policy simulator on the principal's own policies: 'allowed', 'explicitDeny',
    'implicitDeny'; None where the endpoint does not offer the simulator."""
    entries: list[Any] = [
        {"ContextKeyName": key, "ContextKeyValues": values, "ContextKeyType": "stringList"}
        for key, values in context.items()
    ]
    action = f"{account.label}: simulating sts:AssumeRole (iam:SimulatePrincipalPolicy)"
    with optional_source(action):
        try:
            reply = account.iam.simulate_principal_policy(
                PolicySourceArn=principal_arn,
                ActionNames=["sts:AssumeRole"],
                ResourceArns=[role_arn],
                ContextEntries=entries,
            )
        except ClientError as err:
            if error_code(err) in UNAVAILABLE_CODES:
                return None
            raise
        results = reply["EvaluationResults"]  # a body without it is no answer: unknown, not "no result"
        return str(results[0]["EvalDecision"]) if results else None


def assume_role_denials(account: Account, role_arn: str, hours: int = 24) -> list[str] | None:
    """Recent AssumeRole calls on this role that AWS denied, from CloudTrail's event history in the
    role's account; None where LookupEvents is not offered."""
    trail = account.client("cloudtrail")
    since = datetime.now(UTC) - timedelta(hours=hours)
    action = f"{account.label}: reading CloudTrail (cloudtrail:LookupEvents)"
    with optional_source(action):
        try:
            reply = trail.lookup_events(
                LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}],
                StartTime=since,
                MaxResults=50,
            )
        except ClientError as err:
            if error_code(err) in UNAVAILABLE_CODES:
                return None
            raise
        denials = []
        for event in reply["Events"]:  # a body without it is no answer: unknown, never "no denials"
            record = json.loads(event.get("CloudTrailEvent", "{}"))
            if record.get("errorCode") and role_arn in json.dumps(record.get("requestParameters") or {}):
                who = (record.get("userIdentity") or {}).get("arn", "?")
                message = _clean(str(record.get("errorMessage", "")))
                denials.append(f"{record.get('eventTime')}: {who}: {record.get('errorCode')}: {message}")
        return denials


ORG_POLICY_TYPES = {"SCP": "SERVICE_CONTROL_POLICY", "RCP": "RESOURCE_CONTROL_POLICY"}
NOT_A_MEMBER_CODES = frozenset({"AccountNotFoundException", "ChildNotFoundException"})
ORG_DEPTH_MAX = 8  # the root and at most five levels of OUs, with room to spare


def org_policies(management: Account, account_id: str, kind: str) -> OrgPolicies:
    """The SCPs or RCPs ("SCP"/"RCP") that apply to an account: its own, each OU's above it, the
    root's, read with the management account's profile. An optional source: any failure is
    EvidenceUnavailable."""
    policy_type = ORG_POLICY_TYPES[kind]
    org = management.client("organizations")
    documents: dict[str, tuple[str, dict[str, Any]]] = {}  # policy ID -> (label, document)

    def attached(target: str) -> tuple[tuple[str, dict[str, Any]], ...]:
        found = []
        for page in org.get_paginator("list_policies_for_target").paginate(TargetId=target, Filter=policy_type):
            for summary in page["Policies"]:
                policy_id = summary["Id"]
                if policy_id not in documents:
                    content = org.describe_policy(PolicyId=policy_id)["Policy"]["Content"]
                    documents[policy_id] = (
                        f"{kind} {summary.get('Name', '')} ({policy_id})",
                        dict(json.loads(content)),
                    )
                found.append(documents[policy_id])
        return tuple(found)

    with optional_source(f"{management.label}: reading the {kind}s of account {account_id} (organizations)"):
        described = org.describe_organization()["Organization"]
        org_id = str(described.get("Id", ""))
        if described.get("MasterAccountId") == account_id:
            return OrgPolicies(kind, account_id, member=True, management=True, enabled=True, org_id=org_id)
        roots = org.list_roots()["Roots"]
        enabled = any(
            t.get("Type") == policy_type and t.get("Status") == "ENABLED"
            for root in roots
            for t in root.get("PolicyTypes", [])
        )
        try:
            parents = org.list_parents(ChildId=account_id)["Parents"]
        except ClientError as err:
            if error_code(err) in NOT_A_MEMBER_CODES:
                return OrgPolicies(kind, account_id, member=False, management=False, enabled=enabled)
            raise
        levels = [OrgLevel(f"account {account_id}", attached(account_id))]
        for _ in range(ORG_DEPTH_MAX):
            if not parents:
                break
            parent = parents[0]
            label = "root" if parent["Type"] == "ROOT" else "OU"
            levels.append(OrgLevel(f"{label} {parent['Id']}", attached(parent["Id"])))
            if parent["Type"] == "ROOT":
                break
            parents = org.list_parents(ChildId=parent["Id"])["Parents"]
    return OrgPolicies(
        kind, account_id, member=True, management=False, enabled=enabled, levels=tuple(levels), org_id=org_id
    )


# -- a fleet's grant as a customer managed policy in the source account ---------------------------

POLICY_VERSIONS_MAX = 5


def managed_policy(account: Account, arn: str) -> dict[str, Any] | None:
    """The default version's document of a customer managed policy, or None when absent."""
    found = _absent_if_no_such_entity(
        lambda: account.iam.get_policy(PolicyArn=arn), f"{account.label}: reading policy {arn} (iam:GetPolicy)"
    )
    if found is None:
        return None
    return managed_policy_document(account, arn)


def attached_policy_arns(account: Account, kind: str, owner: str) -> list[str]:
    return _attached_arns(account, kind, owner)


def put_managed_policy(account: Account, arn: str, document: str, kind: str, owner: str) -> None:
    """Create the policy or add a new default version (dropping the oldest when IAM's limit of five
    versions is reached), then attach it to the principal. Each step is idempotent."""
    # arn:aws:iam::ACCOUNT:policy/PATH/NAME -> "/PATH/", "NAME"
    path, _, name = arn.split(":", 5)[5].removeprefix("policy").rpartition("/")
    path += "/"
    with translate_errors(f"{account.label}: writing managed policy {arn}"):
        if managed_policy(account, arn) is None:
            account.iam.create_policy(PolicyName=name, Path=path, PolicyDocument=document)
        else:
            versions = account.iam.list_policy_versions(PolicyArn=arn)["Versions"]
            if len(versions) >= POLICY_VERSIONS_MAX:
                oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
                account.iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
            account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
        if kind == "user":
            account.iam.attach_user_policy(UserName=owner, PolicyArn=arn)
        else:
            account.iam.attach_role_policy(RoleName=owner, PolicyArn=arn)


def delete_managed_policy(account: Account, arn: str, kind: str, owner: str) -> None:
    with translate_errors(f"{account.label}: deleting managed policy {arn}"):
        with _gone_is_fine():
            if kind == "user":
                account.iam.detach_user_policy(UserName=owner, PolicyArn=arn)
            else:
                account.iam.detach_role_policy(RoleName=owner, PolicyArn=arn)
        with _gone_is_fine():
            for version in account.iam.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not version["IsDefaultVersion"]:
                    account.iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
            account.iam.delete_policy(PolicyArn=arn)


def accounts_in_ou(management: Account, ou_id: str) -> list[str]:
    """Active accounts of an organization unit and of every unit below it."""
    org = management.client("organizations")
    accounts: list[str] = []
    pending = [ou_id]
    with translate_errors(f"{management.label}: listing the accounts of {ou_id} (organizations)"):
        while pending:
            parent = pending.pop()
            for page in org.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
                accounts += [a["Id"] for a in page["Accounts"] if a.get("Status", "ACTIVE") == "ACTIVE"]
            for page in org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent):
                pending += [unit["Id"] for unit in page["OrganizationalUnits"]]
    return sorted(accounts)
