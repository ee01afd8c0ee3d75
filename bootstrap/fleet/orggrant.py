"""Pure: the StackSets engine's organization-scoped grant as content, so that a run touches only
what is its own.

- Its name has a namespace of its own, ``trust-bootstrap-stackset-NAME``: no single trust
  (``trust-bootstrap-<12 digits>-ROLE``) and no local fleet (``trust-bootstrap-fleet-NAME``) can
  have it. The name before it, ``trust-bootstrap-NAME-org``, is also a single trust's (the role
  ``X-org`` in account ``NNN`` of a StackSet named ``NNN-X``): a grant under it is this StackSet's
  only when its content says so, and is then moved to the new name.
- Its content is this StackSet's when its statement carries the tool's statement id and allows
  sts:AssumeRole on exactly this role in any account (``arn:P:iam::*:role/PATH/NAME``), pinned to
  this organization (aws:ResourceOrgID).
- It lists the organization path of every unit the role is deployed to (aws:ResourceOrgPaths is
  multivalued; ForAnyValue:StringLike matches any of them:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgpaths),
  so that one unit's apply widens it and one unit's teardown narrows it instead of taking the
  other units' access away.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from bootstrap.core.consumers import TAG_SESSION_SID
from bootstrap.core.state import GRANT_SID

GRANT_PREFIX = "trust-bootstrap-stackset-"
LEGACY_SUFFIX = "-org"
POLICY_VERSION = "2012-10-17"
ORG_ID_KEY = "aws:ResourceOrgID"
ORG_PATHS_KEY = "aws:ResourceOrgPaths"


def grant_name(stack_set_name: str, name_prefix: str) -> str:
    return GRANT_PREFIX + stack_set_name.removeprefix(name_prefix)


def legacy_grant_name(stack_set_name: str) -> str:
    """The name the grant had before the namespaces were split (read, migrated, never written)."""
    return stack_set_name + LEGACY_SUFFIX


def resource(partition: str, role_path: str, role_name: str) -> str:
    return f"arn:{partition}:iam::*:role{role_path}{role_name}"


def document(
    partition: str, role_path: str, role_name: str, org_id: str, patterns: Iterable[str], tag_keys: Iterable[str] = ()
) -> str:
    """sts:AssumeRole on the role of that path and name in any account below these organization
    paths, and nowhere else; with ``tag_keys`` (--for github-actions) also sts:TagSession there, for
    those session tag keys only (consumerpolicy.py)."""
    condition: dict[str, Any] = {
        "StringEquals": {ORG_ID_KEY: org_id},
        "ForAnyValue:StringLike": {ORG_PATHS_KEY: sorted(set(patterns))},
    }
    statement = {
        "Sid": GRANT_SID,
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": resource(partition, role_path, role_name),
        "Condition": condition,
    }
    keys = list(tag_keys)
    tagging = {
        **statement,
        "Sid": TAG_SESSION_SID,
        "Action": "sts:TagSession",
        "Condition": {**condition, "ForAllValues:StringEquals": {"aws:TagKeys": keys}},
    }
    statements = [statement, tagging] if keys else [statement]
    return json.dumps({"Version": POLICY_VERSION, "Statement": statements}, separators=(",", ":"))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition(statement: Mapping[str, Any], operator: str, key: str) -> list[str]:
    """The values of a condition, operator and key matched as IAM does (case-insensitively)."""
    for op, block in (statement.get("Condition") or {}).items():
        if op.lower() == operator.lower() and isinstance(block, Mapping):
            for k, values in block.items():
                if k.lower() == key.lower():
                    return [str(v) for v in _as_list(values)]
    return []


def patterns_of(live: Mapping[str, Any] | None, wanted_resource: str, org_id: str) -> tuple[str, ...] | None:
    """The organization path patterns of a live grant whose content is this StackSet's (see the
    module's docstring), or None when it is not (absent, someone else's, another trust's)."""
    if live is None:
        return None
    statements = _as_list(live.get("Statement", []))
    # Ours: the grant statement, and at most our sts:TagSession statement beside it (--for github-actions).
    extra = [t for t in statements[1:] if not (isinstance(t, Mapping) and t.get("Sid") == TAG_SESSION_SID)]
    if not statements or len(statements) > 2 or extra or not isinstance(statements[0], Mapping):
        return None
    s = statements[0]
    actions = [str(a).lower() for a in _as_list(s.get("Action", []))]
    if (
        s.get("Sid") != GRANT_SID
        or s.get("Effect") != "Allow"
        or actions != ["sts:assumerole"]
        or [str(r) for r in _as_list(s.get("Resource", []))] != [wanted_resource]
        or _condition(s, "StringEquals", ORG_ID_KEY) != [org_id]
    ):
        return None
    # A path outside this organization could never match (the organization is pinned): not kept.
    return tuple(p for p in _condition(s, "ForAnyValue:StringLike", ORG_PATHS_KEY) if p.startswith(org_id + "/"))


def unit_of(pattern: str) -> str:
    """The unit (ou-...) or root (r-...) an organization path pattern ends with."""
    return pattern.removesuffix("*").rstrip("/").rsplit("/", 1)[-1]
