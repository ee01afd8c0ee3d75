"""The sandbox's trust-policy referee.

moto does not evaluate a role's trust policy on cross-account AssumeRole and knows no MFA, so the
sandbox decides those itself. This module is the referee that judges trust-bootstrap's work: it is
deliberately small, written from AWS's documented rules for the few operators the tool emits, and
shares no code with the tool's own policy handling.

Fails closed: an operator or a condition key it does not understand denies.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Caller:
    account: str
    # The ARN a trust policy names for this caller: a user ARN, or a role ARN for a role session.
    principal_arn: str
    temporary: bool


@dataclass(frozen=True)
class Request:
    role_arn: str
    external_id: str | None
    mfa_serial: str | None
    mfa_token: str | None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    code: str = "AccessDenied"  # the error code when not allowed


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def context_for(caller: Caller, request: Request) -> dict[str, str]:
    context: dict[str, str] = {}
    if request.external_id is not None:
        context["sts:externalid"] = request.external_id
    if request.mfa_serial and request.mfa_token:
        context["aws:multifactorauthpresent"] = "true"
        context["aws:multifactorauthage"] = "0"
    elif caller.temporary:
        # Long-term keys carry no MFA key at all; sessions without MFA say "false".
        context["aws:multifactorauthpresent"] = "false"
    return context


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    for value in _as_list(principal.get("AWS", [])):
        if value in ("*", caller.principal_arn):
            return True
        if value in (caller.account, f"arn:aws:iam::{caller.account}:root"):
            return True
    return False


def _action_matches(action: Any) -> bool:
    return any(fnmatch.fnmatchcase("sts:assumerole", str(a).lower()) for a in _as_list(action))


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, str]) -> bool:
    base = operator[: -len("IfExists")] if operator.endswith("IfExists") else operator
    actual = context.get(key.lower())
    if actual is None:
        return base != operator  # IfExists: a missing key passes; otherwise it fails
    values = [str(v) for v in _as_list(expected)]
    if base == "StringEquals":
        return actual in values
    if base == "StringLike":
        return any(fnmatch.fnmatchcase(actual, v) for v in values)
    if base == "Bool":
        return actual.lower() in [v.lower() for v in values]
    if base == "NumericLessThan":
        return any(float(actual) < float(v) for v in values)
    raise ValueError(f"operator {operator} is not known to the sandbox referee")


def _conditions_hold(conditions: Any, context: Mapping[str, str]) -> bool:
    if not conditions:
        return True
    for operator, pairs in conditions.items():
        for key, expected in pairs.items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


def judge(trust_policy: Mapping[str, Any], caller: Caller, request: Request) -> Verdict:
    """May this caller assume the role under this trust policy? Explicit Deny wins."""
    context = context_for(caller, request)
    allowed_by: str | None = None
    for index, statement in enumerate(_as_list(trust_policy.get("Statement", []))):
        name = statement.get("Sid") or f"statement {index}"
        if not _action_matches(statement.get("Action", [])):
            continue
        if not _principal_matches(statement.get("Principal"), caller):
            continue
        try:
            holds = _conditions_hold(statement.get("Condition"), context)
        except ValueError as err:
            return Verdict(False, str(err))
        if not holds:
            continue
        if statement.get("Effect") == "Deny":
            return Verdict(False, f"explicitly denied by {name}")
        allowed_by = name
    if allowed_by is None:
        return Verdict(False, "no trust-policy statement allows this caller with this context")
    return Verdict(True, f"allowed by {allowed_by}")
