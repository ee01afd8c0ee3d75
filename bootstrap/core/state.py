"""The values that describe both sides: what we want (desired.py) and what is there (live.py).

Both use these same frozen dataclasses, so plan.py can compare them field by field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bootstrap.core.arns import Principal

OWNER_TAG = ("trust-bootstrap:managed", "true")
# Statement ids of what trust-bootstrap writes; the grant's marks an inline policy as ours.
TRUST_SID = "TrustBootstrapAssumeRole"
GRANT_SID = "TrustBootstrapGrant"


@dataclass(frozen=True)
class Role:
    """The role in the target account (B)."""

    name: str
    path: str
    arn: str
    trust_policy: str  # JSON text
    max_session_duration: int
    permissions_boundary: str | None
    description: str
    tags: tuple[tuple[str, str], ...]  # sorted by key
    managed_policies: tuple[str, ...]  # sorted
    inline_policies: tuple[tuple[str, str], ...]  # (name, JSON text), sorted by name
    role_id: str = ""  # live roles only
    created: datetime | None = None  # live roles only: CreateDate

    @property
    def owned(self) -> bool:
        return is_ours(self.tags, json.loads(self.trust_policy))


def is_ours(tags: Iterable[tuple[str, str]], trust_policy: Any) -> bool:
    """A role is trust-bootstrap's when it carries the ownership tag AND its trust policy holds our
    statement id. The tag alone proves nothing: anyone with iam:TagRole can add it to a foreign
    role. Planting the statement needs iam:UpdateAssumeRolePolicy, which already decides who may
    assume the role; console edits of the trust keep the Sid."""
    if OWNER_TAG not in set(tags) or not isinstance(trust_policy, dict):
        return False
    statements = trust_policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return any(isinstance(s, dict) and s.get("Sid") == TRUST_SID for s in statements)


@dataclass(frozen=True)
class Grant:
    """The inline policy on the principal in the source account (A) that allows sts:AssumeRole."""

    principal: Principal
    policy_name: str
    document: str  # JSON text


@dataclass(frozen=True)
class State:
    target_account: str
    source_account: str
    role: Role | None
    grant: Grant | None
