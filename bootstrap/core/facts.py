"""The facts of one AssumeRole, as diagnose gathers them: pure values, no AWS calls.

diagnose.py fills them from both accounts; checks.py judges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bootstrap.core import arns
from bootstrap.core.assumerequest import AssumeRequest

# Keys a real AssumeRole carries (or may carry) whose values diagnose cannot know: a condition on
# one is left to AWS ("unknown"), never decided as if the key were absent. A trailing "/" is a
# prefix. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
UNKNOWN_KEYS = frozenset(
    {
        "aws:sourceip",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principaltag/",
        "aws:userid",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:vpcsourceip",
        "aws:requestedregion",
        "aws:tokenissuetime",
        "aws:resourceorgid",
        "aws:resourceorgpaths",
        "aws:resourcetag/",
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
    }
)


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
class OrgLevel:
    """One place in the organization whose policies of a type apply: the account, an OU, the root."""

    target: str  # "account 111111111111", "OU ou-ab12-cdef3456", "root r-ab12"
    policies: tuple[tuple[str, dict[str, Any]], ...]  # (name and id, document)


@dataclass(frozen=True)
class OrgPolicies:
    """The service or resource control policies that apply to one account, as Organizations says."""

    kind: str  # "SCP" or "RCP"
    account: str
    member: bool  # the account belongs to the organization that was read
    management: bool  # it is the organization's management account (exempt from SCPs and RCPs)
    enabled: bool  # the policy type is enabled on the root
    levels: tuple[OrgLevel, ...] = ()  # the account first, then each OU upwards, the root last
    org_id: str = ""  # o-...: the organization that was read

    def org_context(self, side: str) -> dict[str, list[str]]:
        """aws:PrincipalOrgID/OrgPaths (side "Principal") or aws:ResourceOrgID/OrgPaths ("Resource")
        of a member account, as AWS sets them: "o-id/r-root/ou-1/.../" for the paths."""
        if not (self.member and self.org_id):
            return {}
        ids = [level.target.split()[-1] for level in reversed(self.levels) if not level.target.startswith("account")]
        keys = {f"aws:{side}OrgID": [self.org_id]}
        if ids:
            keys[f"aws:{side}OrgPaths"] = ["/".join([self.org_id, *ids]) + "/"]
        return keys


@dataclass(frozen=True)
class Facts:
    params: AssumeRequest  # the call being diagnosed
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
    scp: OrgPolicies | None = None  # None: not read (scp_note says why)
    scp_note: str = "no --management-profile: the organization's SCPs were not read"
    rcp: OrgPolicies | None = None
    rcp_note: str = "no --management-profile: the organization's RCPs were not read"

    @property
    def live_code(self) -> str:
        """AWS's error code for the real AssumeRole ('' when it succeeded)."""
        return (self.live_error or "").partition(":")[0].strip()

    def context(self) -> dict[str, list[str]]:
        keys = request_context(self.params, self.caller) | ambient_context(self.params, self.caller)
        # What the organization read says about both sides' organization (when it was read).
        if self.scp is not None:
            keys |= self.scp.org_context("Principal")
        if self.rcp is not None:
            keys |= self.rcp.org_context("Resource")
        return keys


def request_context(p: AssumeRequest, c: Caller | None) -> dict[str, list[str]]:
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


def ambient_context(p: AssumeRequest, c: Caller | None) -> dict[str, list[str]]:
    """Keys AWS adds to every such request, with the values a call made now has. Kept apart from
    request_context: IAM's policy simulator fills these itself."""
    keys: dict[str, list[str]] = {}
    if c is not None:
        keys["aws:PrincipalType"] = ["AssumedRole" if c.session_arn else "User"]
    now = datetime.now(UTC)
    keys["aws:CurrentTime"] = [now.strftime("%Y-%m-%dT%H:%M:%SZ")]
    keys["aws:EpochTime"] = [str(int(now.timestamp()))]
    keys["aws:SecureTransport"] = ["true"]
    keys["aws:ViaAWSService"] = ["false"]
    keys["aws:PrincipalIsAWSService"] = ["false"]
    if resource_account := arns.account_of(p.role_arn):
        keys["aws:ResourceAccount"] = [resource_account]
    return keys
