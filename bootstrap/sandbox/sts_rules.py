"""What STS checks of an AssumeRole besides the trust policy's sts:AssumeRole, and moto does not.

- Parameter constraints (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html;
  the same figures are in botocore's model, botocore/data/sts/2011-06-15/service-2.json, which
  botocore itself checks only for minimums): RoleSessionName 2-64 characters of [\\w+=,.@-];
  DurationSeconds 900-43200; ExternalId 2-1224 of [\\w+=,.@:/-]; SourceIdentity 2-256 of
  [\\w+=,.@-] (the API reference said 64 once; the model says 256); at most 50 Tags and 50
  TransitiveTagKeys; a tag key 1-128 and a value 0-256 characters of letters, separators, digits and
  _.:/=+-@ (https://docs.aws.amazon.com/STS/latest/APIReference/API_Tag.html). A violation answers
  ValidationError (HTTP 400) in AWS's "N validation error(s) detected: ..." form, before any
  authorization. An empty ``TransitiveTagKeys=`` (sent by configure-aws-credentials from v6) is an
  empty list, not a key.
- Durations: the role's MaxSessionDuration caps DurationSeconds (default 3600), and a role session
  assuming a role (role chaining) gets at most one hour: a larger DurationSeconds is refused, not
  cut (IAM user guide, id_roles_manage-assume.html and "Role chaining" in id_roles.html; the STS
  API reference's DurationSeconds; AWS answers "The requested DurationSeconds exceeds the 1 hour
  session limit for roles assumed by role chaining.").
- Session tags and source identity are permissions of their own: Tags (or TransitiveTagKeys) need
  sts:TagSession, SourceIdentity needs sts:SetSourceIdentity, each allowed both by the role's trust
  policy for the caller and by the caller's identity policies
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html#id_credentials_temp_control-access_monitor-perms).
  The trust statement's conditions see aws:TagKeys, aws:RequestTag/KEY and sts:TransitiveTagKeys.
  Same-account callers are held to both sides too, as moto already does for sts:AssumeRole.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bootstrap.sandbox import identity
from bootstrap.sandbox.referee import Caller, Request, context_for, judge

MAX_TAGS = 50
CHAINED_MAX_S = 3600  # role chaining: one hour at most
DEFAULT_DURATION_S = 3600
_NAME = re.compile(r"[\w+=,.@-]*", re.ASCII)  # Java's \w: ASCII letters, digits and _
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]*", re.ASCII)
_TAG_PUNCTUATION = frozenset("_.:/=+-@")


@dataclass(frozen=True)
class Refusal:
    """How STS answers a refused AssumeRole."""

    code: str
    message: str
    reason: str  # for the sandbox's request log
    status: int = 403

    @property
    def status_line(self) -> str:
        return {400: "400 Bad Request", 403: "403 Forbidden"}.get(self.status, f"{self.status} Error")


@dataclass(frozen=True)
class AssumeRoleCall:
    """An AssumeRole request's parameters (Query protocol: Tags.member.N.Key, TransitiveTagKeys.member.N)."""

    role_arn: str
    session_name: str | None
    duration: str | None
    external_id: str | None
    serial_number: str | None
    token_code: str | None
    source_identity: str | None
    tags: tuple[tuple[str, str], ...]
    transitive_tag_keys: tuple[str, ...]

    @property
    def duration_s(self) -> int:
        return (
            int(self.duration) if self.duration and self.duration.strip().lstrip("-").isdigit() else DEFAULT_DURATION_S
        )

    def request(self) -> Request:
        return Request(
            role_arn=self.role_arn,
            external_id=self.external_id,
            mfa_serial=self.serial_number,
            mfa_token=self.token_code,
            session_name=self.session_name,
            source_identity=self.source_identity,
            tags=self.tags,
            transitive_tag_keys=self.transitive_tag_keys,
        )


def _members(params: Mapping[str, str], prefix: str) -> list[tuple[int, str]]:
    """(N, name) of every ``prefix.member.N...`` parameter, in N's order."""
    found = {}
    for name in params:
        number = name[len(prefix) :].split(".", 1)[0] if name.startswith(prefix) else ""
        if number.isdigit():
            found[int(number)] = name
    return sorted(found.items())


def parse(params: Mapping[str, str]) -> AssumeRoleCall:
    tag_numbers = [n for n, _ in _members(params, "Tags.member.")]
    tags = tuple(
        (params.get(f"Tags.member.{n}.Key", ""), params.get(f"Tags.member.{n}.Value", "")) for n in tag_numbers
    )
    transitive = tuple(params[name] for _, name in _members(params, "TransitiveTagKeys.member."))
    return AssumeRoleCall(
        role_arn=params.get("RoleArn", ""),
        session_name=params.get("RoleSessionName"),
        duration=params.get("DurationSeconds"),
        external_id=params.get("ExternalId"),
        serial_number=params.get("SerialNumber"),
        token_code=params.get("TokenCode"),
        source_identity=params.get("SourceIdentity"),
        tags=tags,
        transitive_tag_keys=transitive,
    )


# -- parameter constraints ---------------------------------------------------------------------------


def _tag_text(text: str) -> bool:
    """[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]: letters, separators, digits and those six characters."""
    return all(unicodedata.category(c)[0] in "LZN" or c in _TAG_PUNCTUATION for c in text)


def _length(member: str, value: str, low: int, high: int) -> list[str]:
    if len(value) < low:
        return [f"Value '{value}' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to {low}"]  # fmt: skip
    if len(value) > high:
        return [f"Value '{value}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {high}"]  # fmt: skip
    return []


def _string(member: str, value: str | None, low: int, high: int, pattern: re.Pattern[str]) -> list[str]:
    if value is None:
        return []
    problems = _length(member, value, low, high)
    if pattern.fullmatch(value) is None:
        problems.append(f"Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern.pattern}")  # fmt: skip
    return problems


def _tag_key(member: str, key: str) -> list[str]:
    problems = _length(member, key, 1, 128)
    if not _tag_text(key) or not key:
        problems.append(f"Value '{key}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]+")  # fmt: skip
    return problems


def _problems(call: AssumeRoleCall) -> list[str]:
    problems = _string("roleSessionName", call.session_name, 2, 64, _NAME)
    problems += _string("externalId", call.external_id, 2, 1224, _EXTERNAL_ID)
    problems += _string("sourceIdentity", call.source_identity, 2, 256, _NAME)
    if call.duration is not None:
        try:
            seconds = int(call.duration)
        except ValueError:
            problems.append(f"Value '{call.duration}' at 'durationSeconds' failed to satisfy constraint: Member must be a number")  # fmt: skip
        else:
            if not 900 <= seconds <= 43200:
                bound = "greater than or equal to 900" if seconds < 900 else "less than or equal to 43200"
                problems.append(f"Value '{seconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value {bound}")  # fmt: skip
    for name, count in (("tags", len(call.tags)), ("transitiveTagKeys", len(call.transitive_tag_keys))):
        if count > MAX_TAGS:
            problems.append(f"Value '[...]' at '{name}' failed to satisfy constraint: Member must have length less than or equal to {MAX_TAGS}")  # fmt: skip
    for index, (key, value) in enumerate(call.tags, start=1):
        problems += _tag_key(f"tags.{index}.member.key", key)
        problems += _length(f"tags.{index}.member.value", value, 0, 256)
        if not _tag_text(value):
            problems.append(f"Value '{value}' at 'tags.{index}.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*")  # fmt: skip
    for index, key in enumerate(call.transitive_tag_keys, start=1):
        problems += _tag_key(f"transitiveTagKeys.{index}.member", key)
    return problems


def validation_refusal(call: AssumeRoleCall) -> Refusal | None:
    problems = _problems(call)
    if not problems:
        return None
    count = len(problems)
    detected = f"{count} validation error{'s' if count > 1 else ''} detected: "
    return Refusal("ValidationError", detected + "; ".join(problems), "parameter constraints", 400)


def duration_refusal(call: AssumeRoleCall, caller: Caller, max_session_duration: int | None) -> Refusal | None:
    """A role session assuming a role is role chaining: one hour at most. Else the role's MaxSessionDuration."""
    seconds = call.duration_s
    if caller.temporary and call.duration is not None and seconds > CHAINED_MAX_S:
        return Refusal(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            "role chaining: DurationSeconds over one hour",
            400,
        )
    if seconds > int(max_session_duration or DEFAULT_DURATION_S):
        return Refusal(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            "DurationSeconds exceeds the role's MaxSessionDuration",
            400,
        )
    return None


# -- sts:TagSession and sts:SetSourceIdentity --------------------------------------------------------


def access_denied(caller: Caller, action: str, role_arn: str, reason: str) -> Refusal:
    who = caller.session_arn or caller.principal_arn
    return Refusal(
        "AccessDenied", f"User: {who} is not authorized to perform: {action} on resource: {role_arn}", reason
    )


def extra_actions(call: AssumeRoleCall) -> list[str]:
    """The permissions-only actions this AssumeRole needs besides sts:AssumeRole."""
    actions = []
    if call.tags or call.transitive_tag_keys:
        actions.append("sts:TagSession")
    if call.source_identity is not None:
        actions.append("sts:SetSourceIdentity")
    return actions


def permission_refusal(
    call: AssumeRoleCall,
    caller: Caller,
    trust_policy: Mapping[str, Any],
    identity_documents: Iterable[Mapping[str, Any]] | None,
    resource_context: Mapping[str, tuple[str, ...]] | None = None,
) -> Refusal | None:
    """sts:TagSession / sts:SetSourceIdentity: the trust policy for this caller, then the caller's identity
    policies. ``resource_context``: the role's account and organization keys (aws:ResourceAccount,
    aws:ResourceOrgID, aws:ResourceOrgPaths), which AWS puts in the context of these actions too, so an
    organization-scoped grant (the StackSets engine's) is judged as for sts:AssumeRole (orgscope.py)."""
    actions = extra_actions(call)
    if not actions:
        return None
    request = call.request()
    context = {**context_for(caller, request), **(resource_context or {})}
    documents = list(identity_documents or [])
    for action in actions:
        verdict = judge(trust_policy, caller, request, action)
        if not verdict.allowed:
            return access_denied(caller, action, call.role_arn, f"trust policy, {action}: {verdict.reason}")
        allowed, why = identity.decide(documents, action, call.role_arn, context)
        if not allowed:
            return access_denied(caller, action, call.role_arn, why)
    return None
