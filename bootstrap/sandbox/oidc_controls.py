"""IAM's identity-provider controls for shared OIDC providers, checked when a trust policy is written.

"For recognized shared OpenID Connect (OIDC) identity providers (IdPs), IAM requires explicit
evaluation of specific claims in role trust policies. [...] evaluated by IAM during role creation and
trust policy updates. If the role trust policy does not evaluate the controls required by the shared
OIDC IdP, the role creation or update would fail." Existing trust policies are not re-evaluated until
they are modified (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_oidc_secure-by-default.html).
So CreateRole and UpdateAssumeRolePolicy are refused here, before moto stores anything, when a
statement allowing a shared provider does not evaluate its claim; a trust stored before the rule
(Sandbox.plant_legacy_trust) stays assumable as it is.

The providers checked are GitHub Actions' (token.actions.githubusercontent.com, and its enterprise
issuers below it) and HCP Terraform's (app.terraform.io), whose control is ``sub``. AWS's list has
more issuers; only these two are checked here. IAM's answer, as users have reported it
(https://github.com/unfunco/terraform-aws-oidc-github/issues/57): "MalformedPolicyDocument: Trust
policy with trusted principal arn:aws:iam::ACCOUNT:oidc-provider/ISSUER must evaluate, using
StringEquals, StringLike or StringEqualsIgnoreCase, ISSUER:sub which is not scoped to all." Hence
a condition on the key with another operator (ForAllValues:..., ...IfExists, Null, StringNotEquals)
does not count, nor a StringLike whose value matches everything ("*").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# issuer (provider URL without https://) -> the claim its trust policies must evaluate
_SHARED = (
    (re.compile(r"token\.actions\.githubusercontent\.com(/.+)?"), "sub"),
    (re.compile(r"app\.terraform\.io"), "sub"),
)
_OPERATORS = ("stringequals", "stringlike", "stringequalsignorecase")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _control(provider_arn: str) -> str | None:
    """``ISSUER:CLAIM`` a trust naming this OIDC provider must evaluate, or None for a private provider."""
    issuer = provider_arn.partition(":oidc-provider/")[2]
    for pattern, claim in _SHARED:
        if issuer and pattern.fullmatch(issuer):
            return f"{issuer}:{claim}"
    return None


def _evaluates(condition: Any, key: str) -> bool:
    """Does the Condition block test ``key`` with StringEquals/StringLike/StringEqualsIgnoreCase, scoped
    narrower than everything?"""
    if not isinstance(condition, Mapping):
        return False
    for operator, pairs in condition.items():
        if str(operator).lower() not in _OPERATORS or not isinstance(pairs, Mapping):
            continue
        for name, values in pairs.items():
            if str(name).lower() != key.lower():
                continue
            wildcard_only = [v for v in _as_list(values) if not str(v).strip("*")]
            if str(operator).lower() == "stringlike" and wildcard_only:
                continue  # scoped to all
            if _as_list(values):
                return True
    return False


def violations(document: str) -> list[tuple[str, str]]:
    """(provider ARN, the key it must evaluate) for each Allow statement trusting a shared provider
    without evaluating its control. A document that is no JSON is left to IAM's own checks."""
    try:
        policy = json.loads(document)
    except ValueError:
        return []
    if not isinstance(policy, Mapping):
        return []
    found = []
    for statement in _as_list(policy.get("Statement", [])):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        federated = _as_list(principal.get("Federated", [])) if isinstance(principal, Mapping) else []
        for arn in (str(a) for a in federated):
            key = _control(arn)
            if key is not None and not _evaluates(statement.get("Condition"), key):
                found.append((arn, key))
    return found


def message(provider_arn: str, key: str) -> str:
    return (
        f"Trust policy with trusted principal {provider_arn} must evaluate, using StringEquals, StringLike "
        f"or StringEqualsIgnoreCase, {key} which is not scoped to all."
    )
