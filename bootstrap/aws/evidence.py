"""diagnose's reads: a principal's identity policies and boundary, IAM's policy simulator, CloudTrail.

The simulator and CloudTrail are optional sources: any failure is aws_errors.EvidenceUnavailable
with one clean line, and an endpoint that does not offer the API answers None.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from bootstrap.aws.accounts import Account
from bootstrap.aws.errors import UNAVAILABLE_CODES, clean, error_code, optional_source
from bootstrap.aws.iam import (
    attached_policy_arns,
    get_inline_policy,
    get_principal,
    list_groups_for_user,
    list_inline_policies,
    managed_policy_document,
)
from bootstrap.core import iamkinds

Labelled = tuple[str, dict[str, Any]]  # (where the document comes from, the document)


def _inline_documents(account: Account, kind: str, owner: str) -> list[Labelled]:
    out = []
    for name in list_inline_policies(account, kind, owner):
        found = get_inline_policy(account, kind, owner, name)
        if found is not None:
            out.append((f"{kind} {owner} inline policy {name}", found))
    return out


def identity_policies(account: Account, kind: str, name: str) -> tuple[list[Labelled], Labelled | None]:
    """Every identity policy of a user or role (inline, managed, and a user's groups'), and its
    permissions boundary: (label, document) pairs."""
    k = iamkinds.of(kind)
    owners = [(kind, name)]
    if k.has_groups:
        owners += [("group", group) for group in list_groups_for_user(account, name)]
    policies: list[Labelled] = []
    for owner_kind, owner in owners:
        policies += _inline_documents(account, owner_kind, owner)
        policies += [
            (f"managed policy {arn}", managed_policy_document(account, arn))
            for arn in attached_policy_arns(account, owner_kind, owner)
        ]
    principal = get_principal(account, kind, name) if k.has_boundary else None
    boundary_arn = ((principal or {}).get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    boundary = (
        (f"permissions boundary {boundary_arn}", managed_policy_document(account, boundary_arn))
        if boundary_arn
        else None
    )
    return policies, boundary


def simulate_assume_role(
    account: Account, principal_arn: str, role_arn: str, context: dict[str, list[str]]
) -> str | None:
    """IAM's policy simulator on the principal's own policies: 'allowed', 'explicitDeny',
    'implicitDeny'; None where the endpoint does not offer the simulator."""
    entries: list[Any] = [
        {"ContextKeyName": key, "ContextKeyValues": values, "ContextKeyType": "stringList"}
        for key, values in context.items()
    ]
    action = f"{account.label}: simulating sts:AssumeRole (iam:SimulatePrincipalPolicy)"
    with optional_source(action):
        try:
            reply = account.iam.simulate_principal_policy(
                PolicySourceArn=principal_arn,
                ActionNames=["sts:AssumeRole"],
                ResourceArns=[role_arn],
                ContextEntries=entries,
            )
        except ClientError as err:
            if error_code(err) in UNAVAILABLE_CODES:
                return None
            raise
        results = reply["EvaluationResults"]  # a body without it is no answer: unknown, not "no result"
        return str(results[0]["EvalDecision"]) if results else None


def assume_role_denials(account: Account, role_arn: str, hours: int = 24) -> list[str] | None:
    """Recent AssumeRole calls on this role that AWS denied, from CloudTrail's event history in the
    role's account; None where LookupEvents is not offered."""
    trail = account.client("cloudtrail")
    since = datetime.now(UTC) - timedelta(hours=hours)
    action = f"{account.label}: reading CloudTrail (cloudtrail:LookupEvents)"
    with optional_source(action):
        try:
            reply = trail.lookup_events(
                LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}],
                StartTime=since,
                MaxResults=50,
            )
        except ClientError as err:
            if error_code(err) in UNAVAILABLE_CODES:
                return None
            raise
        denials = []
        for event in reply["Events"]:  # a body without it is no answer: unknown, never "no denials"
            record = json.loads(event.get("CloudTrailEvent", "{}"))
            if record.get("errorCode") and role_arn in json.dumps(record.get("requestParameters") or {}):
                who = (record.get("userIdentity") or {}).get("arn", "?")
                message = clean(str(record.get("errorMessage", "")))
                denials.append(f"{record.get('eventTime')}: {who}: {record.get('errorCode')}: {message}")
        return denials
