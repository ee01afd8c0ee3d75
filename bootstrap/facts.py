"""The facts of one AssumeRole, as diagnose gathers them: pure values, no AWS calls.

diagnose.py fills them from both accounts; checks.py judges them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Params:
    """The AssumeRole call being diagnosed: what the caller sends."""

    role_arn: str
    external_id: str | None = None
    mfa_serial: str | None = None
    mfa_token: str | None = field(default=None, repr=False)
    duration_seconds: int = 3600
    session_name: str = "trust-bootstrap-diagnose"
    tags: tuple[tuple[str, str], ...] = ()
    source_identity: str | None = None

    @property
    def mfa_given(self) -> bool:
        return bool(self.mfa_serial and self.mfa_token)


@dataclass(frozen=True)
class Caller:
    arn: str  # as STS says: a user ARN, or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
    account: str
    principal_arn: str  # what a trust policy names: the user, or the role (path included)
    session_arn: str | None
    username: str | None


@dataclass(frozen=True)
class RoleFacts:
    found_arn: str | None  # None: no role of that name in the target account
    trust_policy: dict[str, Any] | None
    max_session_duration: int
    similar_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    params: Params
    role_arn_problem: str | None
    caller: Caller | None
    caller_error: str | None  # "Code: message" when the source credentials were refused
    target_account: str | None  # None: no target profile
    target_error: str | None
    role: RoleFacts | None  # None: not read
    policies: tuple[tuple[str, dict[str, Any]], ...] | None  # the principal's identity policies
    boundary: tuple[str, dict[str, Any]] | None
    policies_error: str | None
    simulator: str | None  # IAM's own decision, or None when not offered / not asked
    simulator_note: str
    live_error: str | None  # AWS's error for the real AssumeRole, None when it succeeded
    live_arn: str | None
    denials: tuple[str, ...] | None  # recent CloudTrail denials; None: not available
    denials_note: str

    def context(self) -> dict[str, list[str]]:
        return request_context(self.params, self.caller)


def request_context(p: Params, c: Caller | None) -> dict[str, list[str]]:
    """The request context the caller's AssumeRole carries, for policy evaluation."""
    keys: dict[str, list[str]] = {"sts:RoleSessionName": [p.session_name]}
    if p.external_id is not None:
        keys["sts:ExternalId"] = [p.external_id]
    if p.mfa_given:
        keys["aws:MultiFactorAuthPresent"] = ["true"]
        keys["aws:MultiFactorAuthAge"] = ["0"]
    elif c is not None and c.session_arn is not None:
        keys["aws:MultiFactorAuthPresent"] = ["false"]  # sessions carry the key; long-term keys do not
    if c is not None:
        keys["aws:PrincipalArn"] = [c.principal_arn]
        keys["aws:PrincipalAccount"] = [c.account]
        if c.username:
            keys["aws:username"] = [c.username]
    if p.tags:
        keys["aws:TagKeys"] = [k for k, _ in p.tags]
        keys.update({f"aws:RequestTag/{k}": [v] for k, v in p.tags})
    if p.source_identity:
        keys["sts:SourceIdentity"] = [p.source_identity]
    return keys
