"""The caller's identity policies on one action and one resource, as IAM evaluates them.

moto checks the caller's identity policies for the operation it serves (sts:AssumeRole), but not
for the permissions-only actions STS asks beside it: sts:TagSession when the request carries session
tags, sts:SetSourceIdentity when it sets a source identity. The sandbox evaluates those itself:
an explicit Deny wins, then any Allow, else the implicit deny
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
A statement applies when its Action/NotAction covers the action, its Resource/NotResource the
resource, and every condition holds on the request context (referee.py's operators, absent keys
and set operators, as AWS documents them). Fails closed like the referee.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bootstrap.sandbox.referee import Context, action_matches, conditions_hold, wildcard


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    def hit(patterns: Any) -> bool:
        # Resource ARNs compare case-sensitively, with AWS's wildcards.
        return any(wildcard(str(p)).fullmatch(resource) is not None for p in _as_list(patterns))

    if "NotResource" in statement:
        return not hit(statement["NotResource"])
    return hit(statement.get("Resource", []))


def _statements(documents: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for document in documents:
        for statement in _as_list(document.get("Statement", [])):
            if isinstance(statement, Mapping):
                yield statement


def decide(documents: Iterable[Mapping[str, Any]], action: str, resource: str, context: Context) -> tuple[bool, str]:
    """(allowed, why) for ``action`` on ``resource`` under these identity policy documents."""
    allowed_by = ""
    for index, statement in enumerate(_statements(documents)):
        effect = str(statement.get("Effect"))
        if not action_matches(statement, action) or not _resource_matches(statement, resource):
            continue
        if not conditions_hold(statement.get("Condition"), context, effect):
            continue
        name = str(statement.get("Sid") or f"statement {index}")
        if effect == "Deny":
            return False, f"an identity policy denies {action} ({name})"
        if effect == "Allow":
            allowed_by = allowed_by or name
    if allowed_by:
        return True, f"an identity policy allows {action} ({allowed_by})"
    return False, f"no identity policy allows {action} on {resource}"
