"""IAM policy evaluation for one request. Pure: no AWS calls, no boto3.

Written from AWS's documentation of the policy evaluation logic and the condition operators
(IAM User Guide: "Policy evaluation logic", "IAM JSON policy elements: Condition operators"):

- an explicit Deny in any applicable statement wins; otherwise any Allow allows; otherwise the
  request is implicitly denied;
- Principal/NotPrincipal, Action/NotAction (case-insensitive, ``*`` and ``?`` wildcards),
  Resource/NotResource (case-sensitive wildcards);
- within a Condition block every operator and every key must hold (AND); several values for one
  key match if any matches (OR), except for negated operators, where the key must match none;
- a key missing from the request makes a condition false, except: negated operators are true,
  ``...IfExists`` is true, ``Null`` tests presence itself, ``ForAllValues`` is true and
  ``ForAnyValue`` is false;
- condition key names are case-insensitive; string values are case-sensitive unless the operator
  says IgnoreCase; Bool values are not;
- StringLike's only wildcards are ``*`` (any run) and ``?`` (one character).

One decision per request: every statement is judged with the whole request context, all of its
conditions must hold together, and nothing is judged "apart" (a condition on a key that is not in
the request is false for a Deny as for an Allow). Each statement's result keeps every condition
that failed, so a check can explain the decision instead of re-deciding parts of it.

Docs: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html

It is deliberately separate from the sandbox's referee, which judges the tool's work.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bootstrap.core import arns
from bootstrap.core.globs import matches as glob_match

_ACCOUNT = re.compile(r"\d{12}")
# IAM shows a deleted principal in a trust policy as its unique ID: AIDA (user), AROA (role).
UNIQUE_ID = re.compile(r"(AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{12,}")


class UnsupportedCondition(ValueError):
    """A condition this evaluator cannot decide (an unknown operator or a malformed value)."""


class UnknownValue(UnsupportedCondition):
    """A condition on a key AWS puts in the request, whose value the caller of evaluate cannot
    know (the caller's IP, its organization ID, principal tags): deciding it would be a guess."""


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    principal_arn: str  # the user ARN, or the role ARN for a role session
    account: str  # the principal's account
    session_arn: str | None = None  # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION for sessions
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)  # condition keys, any case
    # Keys (lower case; a trailing "/" stands for a prefix such as aws:principaltag/) that the real
    # request carries but whose values are not known here: a condition on one is UnknownValue.
    unknown: frozenset[str] = frozenset()

    def values(self, key: str) -> Sequence[str] | None:
        lowered = {k.lower(): v for k, v in self.context.items()}
        found = lowered.get(key.lower())
        if found is None and self.is_unknown(key):
            raise UnknownValue(f"the value of {key} in the real request is not known to this tool")
        return found

    def is_unknown(self, key: str) -> bool:
        low = key.lower()
        return any(low == u or (u.endswith("/") and low.startswith(u)) for u in self.unknown)


@dataclass(frozen=True)
class FailedCondition:
    """One condition of a statement that does not hold for the request."""

    operator: str
    key: str
    values: tuple[str, ...]
    present: bool  # whether the request carries the key at all

    def describe(self) -> str:
        where = "" if self.present else " (the request does not carry this key)"
        return f"{self.operator} {self.key} = {list(self.values)}{where}"


@dataclass(frozen=True)
class StatementResult:
    label: str  # the Sid, or "statement N" (1-based)
    effect: str
    applies: bool
    why_not: str = ""  # the first element that did not match
    orphaned: tuple[str, ...] = ()  # unique IDs found among its principals
    # Principal, action and resource match (only conditions can keep it from applying).
    named: bool = False
    failed: tuple[FailedCondition, ...] = ()  # every condition that does not hold, when named


@dataclass(frozen=True)
class Decision:
    allowed: bool
    explicit_deny: bool
    deciding: str | None  # the statement that decided, "policy-name: label" where combined
    statements: tuple[StatementResult, ...] = ()

    @property
    def orphaned(self) -> tuple[str, ...]:
        return tuple(u for s in self.statements for u in s.orphaned)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- Principal ------------------------------------------------------------------------------------


def _principal_value_matches(value: str, request: Request) -> bool:
    if value == "*":
        return True
    if _ACCOUNT.fullmatch(value) or re.fullmatch(r"arn:[\w-]+:iam::\d{12}:root", value):
        # The account (its root) as principal: any principal of that account, if that account's
        # own identity policies also allow the request.
        return (arns.account_of(value) if value.startswith("arn:") else value) == request.account
    return value in (request.principal_arn, request.session_arn)


def _principal_matches(principal: Any, request: Request) -> tuple[bool, tuple[str, ...]]:
    """(matches, unique IDs seen). Only the AWS key can name IAM users, roles and sessions."""
    if principal == "*":
        return True, ()
    if not isinstance(principal, Mapping):
        return False, ()
    values = [str(v) for v in _as_list(principal.get("AWS", []))]
    orphaned = tuple(v for v in values if UNIQUE_ID.fullmatch(v))
    return any(_principal_value_matches(v, request) for v in values), orphaned


# -- Condition ------------------------------------------------------------------------------------


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError as err:
        raise UnsupportedCondition(f"'{text}' is not a number") from err


def _date(text: str) -> datetime:
    try:
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), tz=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError as err:
        raise UnsupportedCondition(f"'{text}' is not a date") from err


def _ip_in(address: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(network, strict=False)
    except ValueError as err:
        raise UnsupportedCondition(f"'{address}' or '{network}' is not an IP address") from err


def _arn_like(request_value: str, pattern: str) -> bool:
    # ArnLike/ArnEquals match each of the six colon-separated parts, wildcards within a part.
    value_parts, pattern_parts = arns.fields(request_value), arns.fields(pattern)
    if value_parts is None or pattern_parts is None:
        return False
    return all(glob_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


Matcher = Callable[[str, str], bool]  # (request value, policy value) -> match
_MATCHERS: dict[str, Matcher] = {
    "StringEquals": lambda r, p: r == p,
    "StringEqualsIgnoreCase": lambda r, p: r.lower() == p.lower(),
    "StringLike": lambda r, p: glob_match(p, r),
    "NumericEquals": lambda r, p: _number(r) == _number(p),
    "NumericLessThan": lambda r, p: _number(r) < _number(p),
    "NumericLessThanEquals": lambda r, p: _number(r) <= _number(p),
    "NumericGreaterThan": lambda r, p: _number(r) > _number(p),
    "NumericGreaterThanEquals": lambda r, p: _number(r) >= _number(p),
    "DateEquals": lambda r, p: _date(r) == _date(p),
    "DateLessThan": lambda r, p: _date(r) < _date(p),
    "DateLessThanEquals": lambda r, p: _date(r) <= _date(p),
    "DateGreaterThan": lambda r, p: _date(r) > _date(p),
    "DateGreaterThanEquals": lambda r, p: _date(r) >= _date(p),
    "Bool": lambda r, p: r.lower() == p.lower(),
    "BinaryEquals": lambda r, p: r == p,
    "IpAddress": _ip_in,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
}
# Negated operators: the positive matcher, and the key must match none of the values.
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def condition_holds(operator: str, key: str, policy_values: Any, request: Request) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnsupportedCondition(f"unknown set operator '{qualifier}'")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    wanted = [str(v) for v in _as_list(policy_values)]
    present = request.values(key)
    if base == "Null":
        # Null tests presence itself: "true" holds when the key is absent, "false" when present.
        want_absent = any(v.lower() == "true" for v in wanted)
        return (present is None) == want_absent
    negated = base in _NEGATED
    matcher = _MATCHERS.get(_NEGATED.get(base, base))
    if matcher is None:
        raise UnsupportedCondition(f"unknown condition operator '{operator}'")
    if present is None:
        # Docs (condition operators, "Important"): a missing key makes the condition false, except
        # ...IfExists (true), negated operators (true: nothing matches), Null (above); and for set
        # qualifiers ForAllValues is true on an empty set, ForAnyValue false.
        if if_exists or qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return negated

    def value_ok(value: str) -> bool:
        matched = any(matcher(value, p) for p in wanted)
        return not matched if negated else matched

    if qualifier == "ForAllValues":
        return all(value_ok(v) for v in present)
    return any(value_ok(v) for v in present)


def failed_conditions(conditions: Mapping[str, Any], request: Request) -> tuple[FailedCondition, ...]:
    """Every condition of a block that does not hold (AND over operators and keys)."""
    if not isinstance(conditions, Mapping):
        raise UnsupportedCondition("a Condition element that is not an object")
    failed = []
    for operator, pairs in conditions.items():
        if not isinstance(pairs, Mapping):
            raise UnsupportedCondition(f"the {operator} condition is not an object")
        for key, values in pairs.items():
            if not condition_holds(operator, key, values, request):
                present = request.values(key) is not None
                failed.append(FailedCondition(operator, key, tuple(str(v) for v in _as_list(values)), present))
    return tuple(failed)


# -- statements and policies ------------------------------------------------------------------------


def _matches_any(patterns: Any, value: str, case_sensitive: bool) -> bool:
    return any(glob_match(str(p), value, case_sensitive=case_sensitive) for p in _as_list(patterns))


def _principal_mismatch(statement: Mapping[str, Any], request: Request) -> tuple[str, tuple[str, ...]]:
    """For a resource policy: ('' or why the principal is not covered, unique IDs seen)."""
    if "Principal" in statement:
        matched, orphaned = _principal_matches(statement["Principal"], request)
        return ("" if matched else "the principal is not listed"), orphaned
    if "NotPrincipal" in statement:
        matched, orphaned = _principal_matches(statement["NotPrincipal"], request)
        return ("the principal is excluded by NotPrincipal" if matched else ""), orphaned
    return "it names no principal", ()


def _action_resource_mismatch(statement: Mapping[str, Any], request: Request) -> str:
    checks = [
        ("Action", True, False, f"its Action does not include {request.action}"),
        ("NotAction", False, False, f"its NotAction excludes {request.action}"),
        ("Resource", True, True, f"its Resource does not include {request.resource}"),
        ("NotResource", False, True, f"its NotResource excludes {request.resource}"),
    ]
    for key, must_match, case_sensitive, why in checks:
        if key in statement:
            value = request.resource if key.endswith("Resource") else request.action
            if _matches_any(statement[key], value, case_sensitive) != must_match:
                return why
    return ""


def _statement(statement: Mapping[str, Any], label: str, request: Request, is_resource_policy: bool) -> StatementResult:
    if not isinstance(statement, Mapping):
        raise UnsupportedCondition(f"{label} is not an object")
    effect = str(statement.get("Effect", ""))
    why, orphaned = _principal_mismatch(statement, request) if is_resource_policy else ("", ())
    why = why or _action_resource_mismatch(statement, request)
    if why:
        return StatementResult(label, effect, False, why, orphaned)
    failed = failed_conditions(statement.get("Condition") or {}, request)
    why = f"condition {failed[0].describe()} does not hold" if failed else ""
    return StatementResult(label, effect, not failed, why, orphaned, named=True, failed=failed)


def evaluate(policy: Mapping[str, Any], request: Request, *, is_resource_policy: bool, name: str = "") -> Decision:
    """Decide one policy. ``is_resource_policy``: a trust policy (Principal matters); otherwise an
    identity policy."""
    prefix = f"{name}: " if name else ""
    results = tuple(
        _statement(s, f"{prefix}{_sid(s) or f'statement {i}'}", request, is_resource_policy)
        for i, s in enumerate(_as_list(policy.get("Statement", [])), start=1)
    )
    return _combine(results)


def _sid(statement: Any) -> str:
    return str(statement.get("Sid") or "") if isinstance(statement, Mapping) else ""


def evaluate_all(
    policies: Iterable[tuple[str, Mapping[str, Any]]], request: Request, *, is_resource_policy: bool = False
) -> Decision:
    """Policies of one kind together (a principal's inline, managed and groups' policies; the SCPs
    attached to one place): a Deny anywhere wins, then any Allow."""
    results: list[StatementResult] = []
    for name, policy in policies:
        results += evaluate(policy, request, is_resource_policy=is_resource_policy, name=name).statements
    return _combine(tuple(results))


def _combine(results: tuple[StatementResult, ...]) -> Decision:
    for r in results:
        if r.applies and r.effect == "Deny":
            return Decision(False, True, r.label, results)
    for r in results:
        if r.applies and r.effect == "Allow":
            return Decision(True, False, r.label, results)
    return Decision(False, False, None, results)
