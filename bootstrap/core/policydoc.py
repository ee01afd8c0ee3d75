"""Semantic comparison of IAM policy documents. Pure: no AWS calls.

IAM hands documents back re-serialized: keys reordered, a one-element list as a string, Sids
added or dropped, an account's root ARN written as the bare account ID. ``canonical`` maps every
such rewriting of a document to one text, so equal texts mean the same policy and a change of
effect, action, resource, principal or condition value always gives a different text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bootstrap.core import arns

_ACCOUNT_ID = re.compile(r"\d{12}")
_SET_KEYS = ("Action", "NotAction", "Resource", "NotResource")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _principal_value(kind: str, value: Any) -> str:
    text = _scalar(value)
    if kind == "AWS" and _ACCOUNT_ID.fullmatch(text):
        return f"arn:aws:iam::{text}:root"
    return text


def _statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    """A statement in canonical form: the statement as written (_shown), with what IAM reads
    case-insensitively lowered (action names, condition keys) and an account ID principal as its
    root ARN. Resource ARNs, operators and values keep their case: IAM compares them as written."""
    out = _shown(statement)
    for key in ("Action", "NotAction"):
        if key in out:
            out[key] = sorted({v.lower() for v in out[key]})
    for key in ("Principal", "NotPrincipal"):
        if isinstance(out.get(key), dict):
            out[key] = {kind: sorted({_principal_value(kind, v) for v in values}) for kind, values in out[key].items()}
    if "Condition" in out:
        out["Condition"] = {op: {k.lower(): vs for k, vs in pairs.items()} for op, pairs in out["Condition"].items()}
    return out


def canonical(document: Mapping[str, Any] | str) -> str:
    """One text per meaning (Sid and ordering ignored)."""
    doc = json.loads(document) if isinstance(document, str) else document
    statements = sorted({json.dumps(_statement(s), sort_keys=True) for s in _as_list(doc.get("Statement", []))})
    return json.dumps({"Version": doc.get("Version", "2008-10-17"), "Statement": statements}, sort_keys=True)


def size(document: str) -> int:
    """A policy's size as IAM counts it against its quotas: white space is not counted."""
    return len(re.sub(r"\s", "", document))


def equivalent(a: Mapping[str, Any] | str, b: Mapping[str, Any] | str) -> bool:
    return canonical(a) == canonical(b)


def statements(document: Mapping[str, Any] | str) -> list[dict[str, Any]]:
    """The statements, each in canonical form (for comparing them)."""
    return [json.loads(s) for s in json.loads(canonical(document))["Statement"]]


def aws_principals(document: Mapping[str, Any] | str) -> list[arns.Principal]:
    """The IAM users and roles (and account roots) a policy's statements name under Principal.AWS;
    values that are not such an ARN (a service, a federated provider) are skipped."""
    found = []
    for statement in statements(document):
        principal = statement.get("Principal")
        for value in principal.get("AWS", []) if isinstance(principal, dict) else []:
            try:
                found.append(arns.parse_principal(value))
            except ValueError:
                continue
    return found


def _shown(statement: Mapping[str, Any]) -> dict[str, Any]:
    """A statement as written (AWS's spelling kept: sts:AssumeRole, sts:ExternalId), lists for sets."""
    out: dict[str, Any] = {"Effect": statement.get("Effect")}
    for key in _SET_KEYS:
        if key in statement:
            out[key] = sorted({_scalar(v) for v in _as_list(statement[key])})
    for key in ("Principal", "NotPrincipal"):
        if key in statement:
            value = statement[key]
            out[key] = (
                {k: sorted({_scalar(v) for v in _as_list(vs)}) for k, vs in value.items()}
                if isinstance(value, Mapping)
                else _scalar(value)
            )
    if statement.get("Condition"):
        out["Condition"] = {
            op: {k: sorted({_scalar(v) for v in _as_list(vs)}) for k, vs in pairs.items()}
            for op, pairs in statement["Condition"].items()
        }
    return out


def keyed_statements(document: Mapping[str, Any] | str) -> dict[str, dict[str, Any]]:
    """Each statement as written, keyed by its canonical form: diffs match on meaning and show
    the document's own spelling."""
    doc = json.loads(document) if isinstance(document, str) else document
    return {json.dumps(_statement(s), sort_keys=True): _shown(s) for s in _as_list(doc.get("Statement", []))}


# -- grammar: IAM's JSON policy grammar, checked before any write -------------------------------
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html

VERSIONS = ("2008-10-17", "2012-10-17")
_STATEMENT_KEYS = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
                   "Condition")  # fmt: skip
_COMPARISONS = ("Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals")
_STRING_TESTS = ("Equals", "NotEquals", "EqualsIgnoreCase", "NotEqualsIgnoreCase", "Like", "NotLike")
_OPERATORS = frozenset(
    {
        *(f"String{s}" for s in _STRING_TESTS),
        *(f"Numeric{s}" for s in _COMPARISONS),
        *(f"Date{s}" for s in _COMPARISONS),
        *("Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "Null"),
        *("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"),
    }
)
# IAM policy Sids: ASCII letters and digits only (reference_policies_elements_sid.html).
_SID = re.compile(r"[A-Za-z0-9]*")
_ACTION = re.compile(r"\*|[a-zA-Z0-9*?-]+:[a-zA-Z0-9*?]+")


def check_grammar(document: Any, trust: bool = False) -> None:
    """Raise ValueError naming the statement and the field where ``document`` leaves IAM's policy
    grammar. ``trust``: a role trust policy (Principal required, Resource not allowed); otherwise an
    identity policy (Resource required, Principal not allowed)."""
    if not isinstance(document, Mapping):
        raise ValueError("a policy is a JSON object with a Statement")
    for key in document:
        if key not in ("Version", "Id", "Statement"):
            raise ValueError(f"unknown top-level key '{key}' (a policy has Version, Id and Statement)")
    if "Version" in document and document["Version"] not in VERSIONS:
        raise ValueError(f"Version {document['Version']!r} is not one of {', '.join(VERSIONS)} (use 2012-10-17)")
    if "Statement" not in document:
        raise ValueError("a policy needs a Statement")
    raw = document["Statement"]
    listed = raw if isinstance(raw, list) else [raw]
    if not listed:
        raise ValueError("Statement is empty: a policy needs at least one statement")
    sids: set[str] = set()
    for number, statement in enumerate(listed, start=1):
        try:
            _check_statement(statement, trust, sids)
        except ValueError as err:
            sid = statement.get("Sid") if isinstance(statement, Mapping) else None
            raise ValueError(f"statement {number}{f' ({sid})' if isinstance(sid, str) and sid else ''}: {err}") from err


def _check_statement(statement: Any, trust: bool, sids: set[str]) -> None:
    if not isinstance(statement, Mapping):
        raise ValueError(f"a statement is a JSON object, not {json.dumps(statement)}")
    for key in statement:
        if key not in _STATEMENT_KEYS:
            raise ValueError(f"unknown field '{key}' (a statement has {', '.join(_STATEMENT_KEYS)})")
    _check_sid(statement, sids)
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise ValueError(f"Effect is {json.dumps(statement.get('Effect'))}; it must be Allow or Deny")
    _exactly_one(statement, "Action", "NotAction")
    for key in ("Action", "NotAction"):
        for action in _strings(statement, key):
            if not _ACTION.fullmatch(action):
                raise ValueError(f"{key} '{action}' is not of the form service:action (or *)")
    if trust:
        _exactly_one(statement, "Principal", "NotPrincipal")
        if "Resource" in statement or "NotResource" in statement:
            raise ValueError("a trust policy has no Resource or NotResource (the role itself is the resource)")
    else:
        _check_resources(statement)
    if "Condition" in statement:
        _check_condition(statement["Condition"])


def _check_sid(statement: Mapping[str, Any], sids: set[str]) -> None:
    if "Sid" not in statement:
        return
    sid = statement["Sid"]
    if not isinstance(sid, str) or not _SID.fullmatch(sid):
        raise ValueError(f"Sid {json.dumps(sid)} may hold only ASCII letters and digits")
    if sid and sid in sids:
        raise ValueError(f"Sid '{sid}' is used twice; Sids are unique within a policy")
    sids.add(sid)


def _check_resources(statement: Mapping[str, Any]) -> None:
    if "Principal" in statement or "NotPrincipal" in statement:
        raise ValueError("Principal belongs in a role's trust policy, not in a permissions policy")
    _exactly_one(statement, "Resource", "NotResource")
    for key in ("Resource", "NotResource"):
        for resource in _strings(statement, key):
            if resource != "*" and not resource.startswith("arn:"):
                raise ValueError(f"{key} '{resource}' is not an ARN (arn:...) or *")


def _exactly_one(statement: Mapping[str, Any], one: str, other: str) -> None:
    present = [k for k in (one, other) if k in statement]
    if len(present) != 1:
        raise ValueError(f"a statement needs exactly one of {one} and {other}")


def _strings(statement: Mapping[str, Any], key: str) -> list[str]:
    if key not in statement:
        return []
    values = _as_list(statement[key])
    if not values or not all(isinstance(v, str) and v for v in values):
        raise ValueError(f"{key} must be a non-empty string or a non-empty list of them")
    return list(values)


def _check_condition(condition: Any) -> None:
    if not isinstance(condition, Mapping):
        raise ValueError(f"Condition is {json.dumps(condition)}; it must be an object: operator -> key -> value(s)")
    for operator, pairs in condition.items():
        base = re.sub(r"^For(Any|All)Value:", "", operator)
        base = base.removesuffix("IfExists") if base != "Null" else base
        if base not in _OPERATORS:
            raise ValueError(f"Condition operator '{operator}' is not a condition operator IAM knows")
        if not isinstance(pairs, Mapping) or not pairs:
            raise ValueError(f"Condition {operator} must map condition keys to values")
        for key, values in pairs.items():
            listed = _as_list(values)
            if not listed or not all(isinstance(v, str | bool | int | float) for v in listed):
                raise ValueError(
                    f"Condition {operator} {key}: a value is a string, number or boolean, or a list of them; "
                    f"got {json.dumps(values)}"
                )
