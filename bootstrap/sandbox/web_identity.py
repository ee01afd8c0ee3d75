"""The sandbox's referee for sts:AssumeRoleWithWebIdentity (moto checks nothing of it).

Judged as AWS documents it (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif):
the token must be a JWT whose `iss` names an IAM OIDC provider of the role's account (the provider URL
is `iss` without https://), whose `aud` (or `azp` when present) is one of the provider's client IDs,
whose signature the issuer's keys verify and which has not expired; then the role's trust policy must
allow sts:AssumeRoleWithWebIdentity to that provider (Federated) with every condition holding on the
request context. Fails closed: an unknown operator denies. Shares no code with the tool.

Only the claims AWS maps into the request context reach the trust policy (``request_context``):
PROVIDER:sub, PROVIDER:aud (the azp claim when present, else aud) and PROVIDER:oaud (aud, when azp
is present) for every issuer, plus each issuer's own list from the Service Authorization Reference
for STS (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html,
condition keys of AssumeRoleWithWebIdentity; the IAM user guide's "Available keys for AWS OIDC
federation" has the same GitHub list): for GitHub's issuers actor, actor_id, enterprise_id,
environment, job_workflow_ref, ref, repository, repository_id, repository_owner_id and workflow (not
repository_owner, event_name, run_id, sha, ...); for gitlab.com namespace_id, pipeline_source,
project_id, ref_protected, runner_environment, user_access_level, user_email, user_id and user_login;
for Cognito amr. Any other claim (HCP Terraform's terraform_workspace_id, GitHub's event_name, ...)
is absent, and a condition on an absent key fails unless it is ...IfExists, a negated operator, or
ForAllValues, as AWS evaluates absent keys
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    code: str = "AccessDenied"
    message: str = "Not authorized to perform sts:AssumeRoleWithWebIdentity"


@dataclass(frozen=True)
class Provider:
    arn: str
    url: str  # without https://
    client_ids: tuple[str, ...]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _invalid(reason: str, message: str) -> Verdict:
    return Verdict(False, reason, "InvalidIdentityToken", message)


def judge(  # noqa: PLR0911 (one answer per check AWS makes, in AWS's order)
    token: str,
    trust_policy: Mapping[str, Any],
    providers: list[Provider],
    signature_valid: Callable[[str, str], bool | None],
    now: float | None = None,
    session_name: str | None = None,
) -> Verdict:
    """``signature_valid(issuer, token)``: True/False, or None when the issuer's keys cannot be had."""
    claims = _claims(token)
    if claims is None:
        return _invalid("not a JWT", "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")  # fmt: skip
    issuer = str(claims.get("iss", ""))
    url = issuer.removeprefix("https://").rstrip("/")
    provider = next((p for p in providers if p.url == url), None)
    if provider is None or not issuer.startswith("https://"):
        return _invalid("no provider for the issuer", f"No OpenIDConnect provider found in your account for {issuer}")
    audiences = [str(a) for a in _as_list(claims.get("azp") or claims.get("aud", []))]
    if not any(a in provider.client_ids for a in audiences):
        return _invalid("audience not a client ID of the provider", "Incorrect token audience")
    valid = signature_valid(issuer, token)
    if valid is None:
        return _invalid(
            "issuer keys unavailable",
            "Couldn't retrieve verification key from your identity provider, please reference "
            "AssumeRoleWithWebIdentity documentation for requirements",
        )
    if not valid:
        return _invalid("bad signature", "The web identity token signature could not be verified")
    moment = time.time() if now is None else now
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= moment:
        return Verdict(False, "token expired", "ExpiredTokenException",
                       f"Token expired: current date/time {int(moment)} must be before the expiration date/time {exp}")  # fmt: skip
    return _evaluate(trust_policy, provider.arn, request_context(url, claims, session_name))


GITHUB_KEYS = ("actor", "actor_id", "enterprise_id", "environment", "job_workflow_ref", "ref", "repository",
               "repository_id", "repository_owner_id", "workflow")  # fmt: skip
GITLAB_KEYS = ("namespace_id", "pipeline_source", "project_id", "ref_protected", "runner_environment",
               "user_access_level", "user_email", "user_id", "user_login")  # fmt: skip
_GITHUB_ISSUERS = re.compile(
    r"token\.actions\.githubusercontent\.com(/.+)?|token\.actions\.[^/]+\.ghe\.com|github\.com/enterprises/[^/]+"
)


def issuer_keys(url: str) -> tuple[str, ...]:
    """The claims, besides sub/aud/oaud, that AWS puts in the request context for tokens of this issuer."""
    if _GITHUB_ISSUERS.fullmatch(url):
        return GITHUB_KEYS
    if url == "gitlab.com":
        return GITLAB_KEYS
    if url == "cognito-identity.amazonaws.com":
        return ("amr",)
    return ()


def _values(value: Any) -> list[str]:
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(value)]


def request_context(url: str, claims: Mapping[str, Any], session_name: str | None = None) -> dict[str, list[str]]:
    """The request context of an AssumeRoleWithWebIdentity (lower-case keys): only the claims AWS maps."""
    audiences = _values(claims.get("azp") or claims.get("aud", []))
    context: dict[str, list[str]] = {f"{url}:aud": audiences}
    if "sub" in claims:
        context[f"{url}:sub"] = _values(claims["sub"])
    if "azp" in claims and "aud" in claims:
        context[f"{url}:oaud"] = _values(claims["aud"])
    for key in issuer_keys(url):
        if key in claims and claims[key] is not None:
            context[f"{url}:{key}"] = _values(claims[key])
    if session_name is not None:
        context["sts:rolesessionname"] = [session_name]
    return {key.lower(): values for key, values in context.items()}


def _evaluate(policy: Mapping[str, Any], provider_arn: str, context: dict[str, list[str]]) -> Verdict:
    allowed_by = None
    for index, statement in enumerate(_as_list(policy.get("Statement", []))):
        name = statement.get("Sid") or f"statement {index}"
        actions = [str(a).lower() for a in _as_list(statement.get("Action", []))]
        if not any(fnmatch.fnmatchcase("sts:assumerolewithwebidentity", a) for a in actions):
            continue
        principal = statement.get("Principal", {})
        federated = _as_list(principal.get("Federated", [])) if isinstance(principal, Mapping) else [principal]
        if provider_arn not in federated and "*" not in federated:
            continue
        try:
            holds = all(
                _holds(operator, key, values, context)
                for operator, pairs in (statement.get("Condition") or {}).items()
                for key, values in pairs.items()
            )
        except ValueError as err:
            return Verdict(False, str(err))
        if not holds:
            continue
        if statement.get("Effect") == "Deny":
            return Verdict(False, f"explicitly denied by {name}")
        allowed_by = name
    if allowed_by is None:
        return Verdict(False, "no trust statement allows this token")
    return Verdict(True, f"allowed by {allowed_by}", "", "")


_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda actual, want: actual == want,
    "StringEqualsIgnoreCase": lambda actual, want: actual.lower() == want.lower(),
    "StringLike": lambda actual, want: fnmatch.fnmatchcase(actual, want.replace("[", "[[]")),
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
            "StringNotLike": "StringLike"}  # fmt: skip


def _holds(operator: str, key: str, expected: Any, context: dict[str, list[str]]) -> bool:
    wanted = [str(v) for v in _as_list(expected)]
    actual = context.get(key.lower())
    if operator == "Null":
        return (actual is None) == (wanted[0].lower() == "true")
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    negated = base in _NEGATED
    matcher = _MATCHERS.get(_NEGATED.get(base, base))
    if matcher is None or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise ValueError(f"operator {operator} is not known to the sandbox referee")
    if actual is None:
        if qualifier == "ForAllValues":
            return True  # AWS: ForAllValues is true when the key is absent
        return if_exists or (negated and qualifier == "")

    def one(value: str) -> bool:
        hit = any(matcher(value, w) for w in wanted)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in actual)
    return any(one(v) for v in actual)


# -- the sandbox's hooks: where the referee gets the role, the providers and the issuer's keys ------

MINT_PATH = "/_sandbox/oidc/mint"


def judge_request(params: Mapping[str, str], find_role: Callable[[str], Any], issuer: Any) -> Verdict:
    """AssumeRoleWithWebIdentity as the sandbox receives it: the role and providers from moto's
    backends, the keys from the sandbox's own issuer (the only one whose keys it can retrieve)."""
    from bootstrap.sandbox import moto_private  # noqa: PLC0415 (the sandbox extra only)

    role_arn = params.get("RoleArn", "")
    role = find_role(role_arn)
    if role is None:
        return Verdict(False, "the role does not exist", message=f"Not authorized to perform sts:AssumeRoleWithWebIdentity on {role_arn}")  # fmt: skip
    providers = [
        Provider(p.arn, p.url.rstrip("/"), tuple(p.client_id_list))
        for p in moto_private.open_id_providers(role.account_id)
    ]

    def signature_valid(iss: str, token: str) -> bool | None:
        if issuer is None or not issuer.vouches_for(iss):
            return None  # the sandbox cannot fetch anyone else's keys
        return bool(issuer.signature_valid(token))

    trust = json.loads(role.assume_role_policy_document)
    return judge(
        params.get("WebIdentityToken", ""),
        trust,
        providers,
        signature_valid,
        session_name=params.get("RoleSessionName"),
    )


def answer_allowed(params: Mapping[str, str], region: str) -> bytes:
    """moto cannot serve this unsigned call with authorization on: the sandbox issues the session
    through moto's STS backend (so the credentials act in the role's account) and answers itself."""
    from bootstrap.sandbox import moto_private  # noqa: PLC0415 (the sandbox extra only)

    session = moto_private.web_identity_session(
        params.get("RoleArn", ""),
        params.get("RoleSessionName", ""),
        params.get("Policy"),
        int(params.get("DurationSeconds") or 3600),
        region,
    )
    claims = _claims(params.get("WebIdentityToken", "")) or {}
    expiration = session.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleWithWebIdentityResult>"
        f"<SubjectFromWebIdentityToken>{_xml(str(claims.get('sub', '')))}</SubjectFromWebIdentityToken>"
        f"<Audience>{_xml(str(claims.get('aud', '')))}</Audience>"
        f"<AssumedRoleUser><Arn>{_xml(session.arn)}</Arn><AssumedRoleId>{_xml(session.user_id)}</AssumedRoleId></AssumedRoleUser>"
        f"<Credentials><AccessKeyId>{session.access_key_id}</AccessKeyId><SecretAccessKey>{session.secret_access_key}"
        f"</SecretAccessKey><SessionToken>{session.session_token}</SessionToken><Expiration>{expiration}</Expiration></Credentials>"
        f"<Provider>{_xml(str(claims.get('iss', '')).removeprefix('https://'))}</Provider>"
        "</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>sandbox-web-identity</RequestId></ResponseMetadata>"
        "</AssumeRoleWithWebIdentityResponse>"
    ).encode()


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def add_client_id(params: Mapping[str, str], account: str) -> tuple[str, bytes]:
    """iam:AddClientIDToOpenIDConnectProvider, which moto lacks: (HTTP status, XML body)."""
    from bootstrap.sandbox import moto_private  # noqa: PLC0415 (the sandbox extra only)

    arn = params.get("OpenIDConnectProviderArn", "")
    provider = moto_private.open_id_provider(account, arn)
    if provider is None:
        return "404 Not Found", (
            '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
            f"<Code>NoSuchEntity</Code><Message>OpenIDConnect Provider not found for arn {_xml(arn)}</Message></Error>"
            "<RequestId>sandbox</RequestId></ErrorResponse>"
        ).encode()
    client_id = params.get("ClientID", "")
    if client_id not in provider.client_id_list:
        provider.client_id_list.append(client_id)
    return "200 OK", (
        b'<AddClientIDToOpenIDConnectProviderResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        b"<ResponseMetadata><RequestId>sandbox</RequestId></ResponseMetadata></AddClientIDToOpenIDConnectProviderResponse>"
    )
