"""Organizations reads: the SCPs and RCPs that apply to an account, and the accounts of an OU.

Read with the management account's profile (or a delegated administrator's). org_policies is an
optional source of evidence for diagnose: any failure there is EvidenceUnavailable.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from bootstrap.aws.accounts import Account
from bootstrap.aws.errors import error_code, optional_source, translate_errors
from bootstrap.core.facts import OrgLevel, OrgPolicies

ORG_POLICY_TYPES = {"SCP": "SERVICE_CONTROL_POLICY", "RCP": "RESOURCE_CONTROL_POLICY"}
NOT_A_MEMBER_CODES = frozenset({"AccountNotFoundException", "ChildNotFoundException"})
ORG_DEPTH_MAX = 8  # the root and at most five levels of OUs, with room to spare


def org_policies(management: Account, account_id: str, kind: str) -> OrgPolicies:
    """The SCPs or RCPs ("SCP"/"RCP") that apply to an account: its own, each OU's above it, the
    root's, read with the management account's profile. An optional source: any failure is
    EvidenceUnavailable."""
    policy_type = ORG_POLICY_TYPES[kind]
    org = management.client("organizations")
    documents: dict[str, tuple[str, dict[str, Any]]] = {}  # policy ID -> (label, document)

    def attached(target: str) -> tuple[tuple[str, dict[str, Any]], ...]:
        found = []
        for page in org.get_paginator("list_policies_for_target").paginate(TargetId=target, Filter=policy_type):
            for summary in page["Policies"]:
                policy_id = summary["Id"]
                if policy_id not in documents:
                    content = org.describe_policy(PolicyId=policy_id)["Policy"]["Content"]
                    documents[policy_id] = (
                        f"{kind} {summary.get('Name', '')} ({policy_id})",
                        dict(json.loads(content)),
                    )
                found.append(documents[policy_id])
        return tuple(found)

    with optional_source(f"{management.label}: reading the {kind}s of account {account_id} (organizations)"):
        described = org.describe_organization()["Organization"]
        org_id = str(described.get("Id", ""))
        if described.get("MasterAccountId") == account_id:
            return OrgPolicies(kind, account_id, member=True, management=True, enabled=True, org_id=org_id)
        roots = org.list_roots()["Roots"]
        enabled = any(
            t.get("Type") == policy_type and t.get("Status") == "ENABLED"
            for root in roots
            for t in root.get("PolicyTypes", [])
        )
        try:
            parents = org.list_parents(ChildId=account_id)["Parents"]
        except ClientError as err:
            if error_code(err) in NOT_A_MEMBER_CODES:
                return OrgPolicies(kind, account_id, member=False, management=False, enabled=enabled)
            raise
        levels = [OrgLevel(f"account {account_id}", attached(account_id))]
        for _ in range(ORG_DEPTH_MAX):
            if not parents:
                break
            parent = parents[0]
            label = "root" if parent["Type"] == "ROOT" else "OU"
            levels.append(OrgLevel(f"{label} {parent['Id']}", attached(parent["Id"])))
            if parent["Type"] == "ROOT":
                break
            parents = org.list_parents(ChildId=parent["Id"])["Parents"]
    return OrgPolicies(
        kind, account_id, member=True, management=False, enabled=enabled, levels=tuple(levels), org_id=org_id
    )


def accounts_in_ou(management: Account, ou_id: str) -> list[str]:
    """Active accounts of an organization unit and of every unit below it. One level of the tree
    at a time, each unit's two listings and every unit of a level together: a round trip per
    level, not two per unit."""
    org = management.client("organizations")

    def listed(operation: str, key: str, parent: str) -> list[dict[str, Any]]:
        pages = org.get_paginator(operation).paginate(ParentId=parent)
        return [item for page in pages for item in page[key]]

    accounts: list[str] = []
    level = [ou_id]
    with (
        translate_errors(f"{management.label}: listing the accounts of {ou_id} (organizations)"),
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        while level:
            members = [pool.submit(listed, "list_accounts_for_parent", "Accounts", unit) for unit in level]
            units = [pool.submit(listed, "list_organizational_units_for_parent", "OrganizationalUnits", unit)
                     for unit in level]  # fmt: skip
            accounts += [a["Id"] for job in members for a in job.result() if a.get("Status", "ACTIVE") == "ACTIVE"]
            level = [unit["Id"] for job in units for unit in job.result()]
    return sorted(accounts)
