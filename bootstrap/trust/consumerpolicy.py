"""The statements a consumer's call needs besides sts:AssumeRole: sts:TagSession, in the trust of the
role (B) and in the grant on the principal (A), limited to the tag keys the consumer sends.

AWS asks for sts:TagSession on both sides whenever AssumeRole carries Tags or TransitiveTagKeys
(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required),
and `ForAllValues:StringEquals` on `aws:TagKeys` admits a request only when each of its keys is in the
list (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
Nothing here is a wildcard: the keys are exactly those of core/consumers.py.
"""

from __future__ import annotations

from typing import Any

from bootstrap.core import consumers

TAG_SESSION_SID = consumers.TAG_SESSION_SID


def tag_keys(named: tuple[str, ...]) -> tuple[str, ...]:
    """The tag keys the named consumers send (empty: no consumer tags its sessions)."""
    return consumers.GITHUB_TAG_KEYS if consumers.tags_session(named) else ()


def _condition(keys: tuple[str, ...]) -> dict[str, Any]:
    return {"ForAllValues:StringEquals": {"aws:TagKeys": list(keys)}}


def trust_statement(principal_arn: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """The trust's statement: this principal may tag its session, with these keys only."""
    return {
        "Sid": TAG_SESSION_SID,
        "Effect": "Allow",
        "Principal": {"AWS": principal_arn},
        "Action": "sts:TagSession",
        "Condition": _condition(keys),
    }


def grant_statement(role_arn: str | list[str], keys: tuple[str, ...]) -> dict[str, Any]:
    """The grant's statement: the principal's own policy allows tagging sessions of exactly these roles."""
    return {
        "Sid": TAG_SESSION_SID,
        "Effect": "Allow",
        "Action": "sts:TagSession",
        "Resource": role_arn,
        "Condition": _condition(keys),
    }


def allows(document: Any, action: str) -> bool:
    """Whether any Allow statement of a policy document names ``action`` (read back from IAM or desired)."""
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in statements if isinstance(statements, list) else [statements]:
        listed = statement.get("Action", []) if isinstance(statement, dict) else []
        if statement.get("Effect") == "Allow" and action in (listed if isinstance(listed, list) else [listed]):
            return True
    return False
