"""The sandbox's trust-policy referee: may this caller AssumeRole under this trust policy?

moto does not evaluate a role's trust policy on cross-account AssumeRole and knows no MFA, so the
sandbox decides itself, as AWS documents it. This referee judges trust-bootstrap's work, so it
shares no code with the tool's own policy evaluator (bootstrap/diagnose/evaluator.py): written separately
from AWS's documentation, tested separately (tests/sandbox/test_referee.py).

Condition operators, set operators and absent keys follow
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html

Fails closed: an operator it does not know makes the statement's condition false for an Allow and
true for a Deny, so an unknown operator can only deny.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Context = Mapping[str, tuple[str, ...]]  # lower-case key -> its values (one, or a set)


@dataclass(frozen=True)
class Caller:
    account: str
    # The ARN a trust policy names for this caller: a user ARN, or a role ARN for a role session.
    principal_arn: str
    temporary: bool
    user_id: str = ""  # aws:userid: the user's unique id, or ROLEID:session for a session
    session_arn: str = ""  # a role session's own ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)


@dataclass(frozen=True)
class Request:
    role_arn: str
    external_id: str | None
    mfa_serial: str | None
    mfa_token: str | None
    session_name: str | None = None
    source_identity: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    now: datetime | None = None  # the request's time; default: now
    transitive_tag_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    code: str = "AccessDenied"  # the error code when not allowed


class UnknownOperator(ValueError):
    pass


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def context_for(caller: Caller, request: Request) -> dict[str, tuple[str, ...]]:
    """The request context AWS builds for AssumeRole (the keys a trust policy can test)."""
    now = request.now or datetime.now(UTC)
    context: dict[str, tuple[str, ...]] = {
        "aws:principalarn": (caller.principal_arn,),
        "aws:principalaccount": (caller.account,),
        "aws:principaltype": ("AssumedRole" if caller.temporary else "User",),
        "aws:currenttime": (now.strftime("%Y-%m-%dT%H:%M:%SZ"),),
        "aws:epochtime": (str(int(now.timestamp())),),
        "aws:securetransport": ("true",),  # STS is reached over HTTPS only
        # Present in every signed request (global condition context keys).
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
        "aws:viaawsservice": ("false",),
        "aws:principalisawsservice": ("false",),
    }
    if caller.user_id:
        context["aws:userid"] = (caller.user_id,)
    if not caller.temporary:
        context["aws:username"] = (caller.principal_arn.rpartition("/")[2],)
    if request.external_id is not None:
        context["sts:externalid"] = (request.external_id,)
    if request.session_name is not None:
        context["sts:rolesessionname"] = (request.session_name,)
    if request.source_identity is not None:
        context["sts:sourceidentity"] = (request.source_identity,)
    if request.mfa_serial and request.mfa_token:
        context["aws:multifactorauthpresent"] = ("true",)
        context["aws:multifactorauthage"] = ("0",)
    elif caller.temporary:
        # Long-term keys carry no MFA key at all; sessions without MFA say "false".
        context["aws:multifactorauthpresent"] = ("false",)
    for key, value in request.tags:
        context[f"aws:requesttag/{key}".lower()] = (value,)
    if request.tags:
        context["aws:tagkeys"] = tuple(key for key, _ in request.tags)
    if request.transitive_tag_keys:
        # sts:TransitiveTagKeys, a multivalued key of AssumeRole and sts:TagSession
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_transitivetagkeys)
        context["sts:transitivetagkeys"] = request.transitive_tag_keys
    return context


# -- matching one context value against one policy value -----------------------------------------


def wildcard(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """AWS's wildcards: '*' any run of characters, '?' one character, nothing else special (no
    character classes). ${*}, ${?} and ${$} are the literal characters."""
    parts: list[str] = []
    for piece in re.findall(r"\$\{[*?$]\}|[*?]|[^*?$]+|\$", pattern):
        if piece in ("${*}", "${?}", "${$}"):
            parts.append(re.escape(piece[2]))
        else:
            parts.append({"*": ".*", "?": "."}.get(piece) or re.escape(piece))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> datetime:
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _arn_like(actual: str, pattern: str) -> bool:
    """ArnEquals/ArnLike: the six colon-separated parts match one by one (the resource part may
    hold colons), each with wildcards."""
    want, got = pattern.split(":", 5), actual.split(":", 5)
    if len(want) != 6 or len(got) != 6:
        return False
    return all(wildcard(w).fullmatch(g) is not None for w, g in zip(want, got, strict=True))


def _ip_in(actual: str, network: str) -> bool:
    return ipaddress.ip_address(actual) in ipaddress.ip_network(network, strict=False)


def _ordered(convert: Callable[[str], Any], compare: Callable[[Any, Any], bool]) -> Callable[[str, str], bool]:
    return lambda actual, wanted: bool(compare(convert(actual), convert(wanted)))


# base operator -> (does one context value match one policy value?, is the operator negated?)
_MATCHERS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda a, w: a == w, False),
    "StringNotEquals": (lambda a, w: a == w, True),
    "StringEqualsIgnoreCase": (lambda a, w: a.lower() == w.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda a, w: a.lower() == w.lower(), True),
    "StringLike": (lambda a, w: wildcard(w).fullmatch(a) is not None, False),
    "StringNotLike": (lambda a, w: wildcard(w).fullmatch(a) is not None, True),
    "NumericEquals": (_ordered(_number, lambda a, w: a == w), False),
    "NumericNotEquals": (_ordered(_number, lambda a, w: a == w), True),
    "NumericLessThan": (_ordered(_number, lambda a, w: a < w), False),
    "NumericLessThanEquals": (_ordered(_number, lambda a, w: a <= w), False),
    "NumericGreaterThan": (_ordered(_number, lambda a, w: a > w), False),
    "NumericGreaterThanEquals": (_ordered(_number, lambda a, w: a >= w), False),
    "DateEquals": (_ordered(_date, lambda a, w: a == w), False),
    "DateNotEquals": (_ordered(_date, lambda a, w: a == w), True),
    "DateLessThan": (_ordered(_date, lambda a, w: a < w), False),
    "DateLessThanEquals": (_ordered(_date, lambda a, w: a <= w), False),
    "DateGreaterThan": (_ordered(_date, lambda a, w: a > w), False),
    "DateGreaterThanEquals": (_ordered(_date, lambda a, w: a >= w), False),
    "Bool": (lambda a, w: a.lower() == w.lower(), False),
    "BinaryEquals": (lambda a, w: a == w, False),
    "IpAddress": (_ip_in, False),
    "NotIpAddress": (_ip_in, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
}


def _matches_any(match: Callable[[str, str], bool], actual: str, wanted: Sequence[str]) -> bool:
    """Several policy values of one key are ORed. A value that cannot be read as the operator's
    type (a number, a date, an address) matches nothing."""
    for value in wanted:
        try:
            if match(actual, value):
                return True
        except (ValueError, TypeError, OverflowError):
            continue
    return False


def _substitute(value: str, context: Context) -> str:
    """Policy variables: ${key} (or ${key, 'default'}) becomes the key's single value; a missing
    key without a default leaves nothing that can match (AWS: the condition does not match)."""

    def one(found: re.Match[str]) -> str:
        key, _, default = found.group(1).partition(",")
        values = context.get(key.strip().lower())
        if values and len(values) == 1:
            return values[0]
        if default.strip():
            return default.strip().strip("'")
        return "\x00unresolved\x00"

    return re.sub(r"\$\{([^*?$}][^}]*)\}", one, value)


def condition_holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    """One operator on one key. Absent keys, as AWS documents: a positive operator is false, a
    negated one (StringNotEquals, ArnNotLike, NotIpAddress, ...) true; ...IfExists is true;
    Null tests presence; ForAllValues is true on an absent key, ForAnyValue false."""
    qualifier, _, name = operator.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnknownOperator(operator)
    if_exists = name.endswith("IfExists") and name != "IfExists"
    base = name[: -len("IfExists")] if if_exists else name
    actual = context.get(key.lower())
    wanted = [_substitute(str(v).lower() if isinstance(v, bool) else str(v), context) for v in _as_list(expected)]
    if base == "Null" and not if_exists:
        present = bool(actual)
        return any((w.lower() == "true") != present for w in wanted)
    if base not in _MATCHERS:
        raise UnknownOperator(operator)
    match, negated = _MATCHERS[base]
    if not actual:  # absent (or an empty set)
        return if_exists or qualifier == "ForAllValues" or (negated and qualifier == "")
    return _present(qualifier, match, negated, actual, wanted)


def _present(
    qualifier: str, match: Callable[[str, str], bool], negated: bool, actual: Sequence[str], wanted: Sequence[str]
) -> bool:
    """An operator on a key the request holds: each context value against the policy values."""

    def one_value(value: str) -> bool:
        hit = _matches_any(match, value, wanted)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one_value(v) for v in actual)
    if qualifier == "ForAnyValue":
        return any(one_value(v) for v in actual)
    if negated:  # a negated operator holds when no context value matches any policy value
        return all(one_value(v) for v in actual)
    return any(one_value(v) for v in actual)


def conditions_hold(conditions: Any, context: Context, effect: str) -> bool:
    """Every operator and every key in a Condition block must hold (AND)."""
    if not conditions:
        return True
    if not isinstance(conditions, Mapping):
        raise UnknownOperator("Condition is not an object")
    for operator, pairs in conditions.items():
        if not isinstance(pairs, Mapping):
            raise UnknownOperator(str(operator))
        for key, expected in pairs.items():
            try:
                holds = condition_holds(str(operator), str(key), expected, context)
            except UnknownOperator:
                holds = effect == "Deny"  # fail closed: an unknown operator can only deny
            if not holds:
                return False
    return True


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    partition = caller.principal_arn.split(":")[1] if caller.principal_arn.count(":") >= 5 else "aws"
    names = {"*", caller.principal_arn, caller.account, f"arn:{partition}:iam::{caller.account}:root"}
    if caller.session_arn:
        names.add(caller.session_arn)  # a trust policy may name one role session
    return any(value in names for value in _as_list(principal.get("AWS", [])))


def action_matches(statement: Mapping[str, Any], action: str) -> bool:
    """Does the statement's Action (or NotAction) cover ``action``? Action names ignore case."""

    def hit(patterns: Any) -> bool:
        return any(wildcard(str(a), ignore_case=True).fullmatch(action) for a in _as_list(patterns))

    if "NotAction" in statement:
        return not hit(statement["NotAction"])
    return hit(statement.get("Action", []))


def judge(trust_policy: Mapping[str, Any], caller: Caller, request: Request, action: str = "sts:AssumeRole") -> Verdict:
    """May this caller assume the role under this trust policy (``action``: sts:AssumeRole, or the
    sts:TagSession / sts:SetSourceIdentity an AssumeRole with tags or a source identity also needs
    of the trust policy)? Explicit Deny wins."""
    context = context_for(caller, request)
    allowed_by: str | None = None
    for index, statement in enumerate(_as_list(trust_policy.get("Statement", []))):
        if not isinstance(statement, Mapping):
            continue
        name = statement.get("Sid") or f"statement {index}"
        effect = str(statement.get("Effect"))
        if "NotPrincipal" in statement:  # everyone except those named
            named = not _principal_matches(statement["NotPrincipal"], caller)
        else:
            named = _principal_matches(statement.get("Principal"), caller)
        if not named or not action_matches(statement, action):
            continue
        if not conditions_hold(statement.get("Condition"), context, effect):
            continue
        if effect == "Deny":
            return Verdict(False, f"explicitly denied by {name}")
        if effect == "Allow":
            allowed_by = allowed_by or name
    if allowed_by is None:
        return Verdict(False, "no trust-policy statement allows this caller with this context")
    return Verdict(True, f"allowed by {allowed_by}")
