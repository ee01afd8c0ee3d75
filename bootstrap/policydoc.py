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


def _principal(principal: Any) -> Any:
    if not isinstance(principal, Mapping):
        return _scalar(principal)  # "*"
    return {kind: sorted({_principal_value(kind, v) for v in _as_list(values)}) for kind, values in principal.items()}


def _condition(condition: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
    # Condition keys are case-insensitive; operators and values are not.
    return {
        operator: {key.lower(): sorted({_scalar(v) for v in _as_list(values)}) for key, values in pairs.items()}
        for operator, pairs in condition.items()
    }


def _statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": statement.get("Effect")}
    for key in _SET_KEYS:
        if key in statement:
            values = {_scalar(v) for v in _as_list(statement[key])}
            # Action names are case-insensitive; resource ARNs are not.
            out[key] = sorted({v.lower() for v in values} if key.endswith("Action") else values)
    for key in ("Principal", "NotPrincipal"):
        if key in statement:
            out[key] = _principal(statement[key])
    if statement.get("Condition"):
        out["Condition"] = _condition(statement["Condition"])
    return out


def canonical(document: Mapping[str, Any] | str) -> str:
    """One text per meaning (Sid and ordering ignored)."""
    doc = json.loads(document) if isinstance(document, str) else document
    statements = sorted({json.dumps(_statement(s), sort_keys=True) for s in _as_list(doc.get("Statement", []))})
    return json.dumps({"Version": doc.get("Version", "2008-10-17"), "Statement": statements}, sort_keys=True)


def equivalent(a: Mapping[str, Any] | str, b: Mapping[str, Any] | str) -> bool:
    return canonical(a) == canonical(b)


def statements(document: Mapping[str, Any] | str) -> list[dict[str, Any]]:
    """The statements, each in canonical form (for readable diffs)."""
    return [json.loads(s) for s in json.loads(canonical(document))["Statement"]]
