"""The checks of the organization: scp (service control policies on the caller's account) and rcp
(resource control policies on the role's account). Pure: judges the OrgPolicies diagnose read.

AWS's rules (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html,
and the same for RCPs, orgs_manage_policies_rcps_evaluation.html):
- an explicit Deny in any SCP attached to the account, one of its OUs or the root wins;
- otherwise at every level (the account, each OU above it, the root) at least one attached SCP
  must allow the action: an allow-list SCP that leaves sts:AssumeRole out blocks it;
- the management account is not affected by SCPs or RCPs.
A level with nothing attached cannot exist in AWS once the type is enabled (the last policy cannot
be detached); an emulator may show one, and it is read as not restricting.
"""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.core import awswords
from bootstrap.core.facts import Facts, OrgPolicies
from bootstrap.core.findings import Finding, Status
from bootstrap.diagnose import evaluator
from bootstrap.diagnose.trustchecks import request

MANAGEMENT_FIX = (
    "Pass --management-profile with a profile of the organization's management account (or its delegated "
    "administrator) that may call organizations:DescribeOrganization, ListRoots, ListParents, "
    "ListPoliciesForTarget and DescribePolicy."
)


@dataclass(frozen=True)
class OrgDecision:
    allowed: bool
    level: str = ""  # where it was decided: "OU ou-..." / "account ..." / "root ..."
    deciding: str = ""  # the policy and statement of an explicit Deny
    read: int = 0  # how many policies were read


def evaluate(org: OrgPolicies, req: evaluator.Request) -> OrgDecision:
    is_resource = org.kind == "RCP"  # RCPs name a Principal ("*"); SCPs never do
    count = sum(len(level.policies) for level in org.levels)
    decisions = [
        (level, evaluator.evaluate_all(level.policies, req, is_resource_policy=is_resource))
        for level in org.levels
        if level.policies
    ]
    for level, decision in decisions:
        if decision.explicit_deny:
            return OrgDecision(False, level.target, decision.deciding or "", count)
    for level, decision in decisions:
        if not decision.allowed:
            return OrgDecision(False, level.target, "", count)
    return OrgDecision(True, read=count)


def _judge(f: Facts, check_id: str, org: OrgPolicies | None, note: str, whose: str) -> Finding:  # noqa: PLR0911 (a decision table: one return per verdict)
    kind = "SCP" if check_id == "scp" else "RCP"
    words = awswords.read(f.live_error) if f.live_code == "AccessDenied" else None
    named_by_aws = words is not None and words.policy == check_id
    if org is None:
        if named_by_aws:
            assert words is not None
            return Finding(
                check_id, Status.FAIL, f"AWS's answer names a {kind}: {words.phrase}; the policies were not read "
                f"({note})", f"Find and change it from the management account. {MANAGEMENT_FIX}",
            )  # fmt: skip
        if note.startswith("no --management-profile"):
            return Finding(check_id, Status.UNKNOWN, note, MANAGEMENT_FIX)
        return Finding(
            check_id, Status.UNKNOWN, note,
            "Check that the management profile may call organizations:DescribeOrganization, ListRoots, ListParents, "
            "ListPoliciesForTarget and DescribePolicy, then run diagnose again.",
        )  # fmt: skip
    if org.management:
        return Finding(
            check_id,
            Status.PASS,
            f"{whose} {org.account} is the organization's management account: {kind}s do not apply",
        )
    if not org.member:
        return Finding(
            check_id, Status.UNKNOWN,
            f"{whose} {org.account} is not a member of the organization --management-profile reads; its {kind}s, if "
            "any, were not read",
            "Pass the management profile of the organization that account belongs to.",
        )  # fmt: skip
    if not org.enabled and not any(level.policies for level in org.levels):
        return Finding(check_id, Status.PASS, f"{kind}s are not enabled in the organization")
    if f.caller is None:
        return Finding(check_id, Status.UNKNOWN, "no valid source credentials to evaluate with")
    try:
        decision = evaluate(org, request(f))
    except evaluator.UnsupportedCondition as err:
        return Finding(check_id, Status.UNKNOWN, f"a {kind} has a condition this tool cannot decide: {err}")
    path = " < ".join(level.target for level in org.levels)
    if decision.allowed:
        return Finding(
            check_id, Status.PASS,
            f"the {decision.read} {kind}(s) on {path} allow sts:AssumeRole on {f.params.role_arn}",
        )  # fmt: skip
    change = "aws organizations update-policy --policy-id ID --content file://policy.json (from the management account)"
    if decision.deciding:
        return Finding(
            check_id, Status.FAIL,
            f"{decision.deciding} (attached to {decision.level}) explicitly denies sts:AssumeRole on "
            f"{f.params.role_arn}; a {kind} Deny wins over every Allow in the account",
            f"Narrow that Deny (an exception for this role or principal), or move the account: {change}",
        )  # fmt: skip
    return Finding(
        check_id, Status.FAIL,
        f"no {kind} attached to {decision.level} allows sts:AssumeRole on {f.params.role_arn}: an allow-list {kind} "
        "leaves it out, and every level (account, each OU, root) must allow it",
        f"Add sts:AssumeRole to an {kind} attached to {decision.level}: {change}",
    )  # fmt: skip


def check_scp(f: Facts) -> Finding:
    return _judge(f, "scp", f.scp, f.scp_note, "the caller's account")


def check_rcp(f: Facts) -> Finding:
    return _judge(f, "rcp", f.rcp, f.rcp_note, "the role's account")
