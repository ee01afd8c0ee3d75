"""Pure: is a permission policy admin-equivalent? Attaching one to a cross-account role hands the
whole target account to the source principal, so it needs --allow-admin, like AdministratorAccess.

Admin-equivalent here: an Allow that can perform every IAM action on every role (Action "*" or
"iam:*" with Resource "*", or a NotAction that leaves IAM in). Whoever may do that can give
themselves any permission (attach AdministratorAccess to their own role), so it is admin in all
but name. Wildcards as AWS matches them: '*' and '?' only, case-insensitive for actions.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bootstrap.core import arns

# AWS managed policies known to be admin-equivalent (IAMFullAccess: iam:* on *).
ADMIN_MANAGED = ("AdministratorAccess", "IAMFullAccess")

_ANY_IAM_ACTION = "iam:ZzzAnyIamAction"  # an action only a pattern covering all of IAM matches
_ANY_ROLE = "arn:aws:iam::000000000000:role/zzz-any-role"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _covers(patterns: Any, probe: str, *, ignore_case: bool) -> bool:
    for pattern in _as_list(patterns):
        parts = (
            "." if p == "?" else ".*" if p == "*" else re.escape(p) for p in re.findall(r"[*?]|[^*?]+", str(pattern))
        )
        if re.fullmatch("".join(parts), probe, re.IGNORECASE if ignore_case else 0):
            return True
    return False


def admin_statement(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:
        acts = not _covers(statement["NotAction"], _ANY_IAM_ACTION, ignore_case=True)
    else:
        acts = _covers(statement.get("Action", []), _ANY_IAM_ACTION, ignore_case=True)
    if "NotResource" in statement:
        on = not _covers(statement["NotResource"], _ANY_ROLE, ignore_case=False)
    else:
        on = _covers(statement.get("Resource", []), _ANY_ROLE, ignore_case=False)
    return acts and on


def is_admin_equivalent(document: Any) -> bool:
    """Does any statement of this policy document grant every IAM action on every role?"""
    if not isinstance(document, Mapping):
        return False
    return any(isinstance(s, Mapping) and admin_statement(s) for s in _as_list(document.get("Statement", [])))


def is_admin_managed(arn: str) -> bool:
    """An AWS managed policy known to be admin-equivalent, by its ARN."""
    try:
        parsed = arns.parse_arn(arn)
    except ValueError:
        return False
    return parsed.account == "aws" and arns.name_of(parsed.resource) in ADMIN_MANAGED
