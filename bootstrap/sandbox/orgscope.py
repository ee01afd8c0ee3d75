"""What the sandbox adds to moto for organization-wide work: identity policies scoped by organization.

- Identity policies scoped by the resource's organization: moto ignores conditions on
  ``aws:ResourceOrgID`` / ``aws:ResourceOrgPaths`` / ``aws:ResourceAccount`` (the keys are never in
  its request context, and it ignores operators it does not know), so a grant scoped to an OU
  would let the caller into any account. For AssumeRole, the sandbox evaluates such statements
  itself with the keys AWS puts in the request context: the role's account, its organization and
  its organization path (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
  Absent keys fail their condition (``...IfExists`` and ``ForAllValues`` aside), as AWS documents.

The StackSets behaviour below patches moto, so it lives in moto_private.py (install_stacksets):
- CreateStackInstances for units: every account below them, a result (and a reason) per account.
- DeleteStackInstances with ``DeploymentTargets.OrganizationalUnitIds`` (the only form AWS takes
  for service-managed StackSets): moto reads only ``Accounts``; the sandbox resolves the units.
- Reset: moto's StackSets of the sandbox's accounts are emptied with the rest.
- CallAs and delegated administrators: delegated.py (it patches moto too).

Not emulated (say so to users): automatic deployment to accounts that join the unit later, and
drift detection (answered as not available).
"""

from __future__ import annotations

import fnmatch
from typing import Any

from bootstrap.sandbox import arnparts, moto_private

ORG_KEYS = ("aws:resourceorgid", "aws:resourceorgpaths", "aws:resourceaccount")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _mentions_org_keys(statement: dict[str, Any]) -> bool:
    return any(key.lower() in ORG_KEYS for block in (statement.get("Condition") or {}).values() for key in block)


def _condition_holds(operator: str, key: str, wanted: Any, context: dict[str, list[str]]) -> bool:
    values = context.get(key.lower())
    op = operator
    set_op = ""
    if ":" in op:
        set_op, op = op.split(":", 1)
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    if values is None:
        return if_exists or set_op == "ForAllValues"
    patterns = [str(w) for w in _as_list(wanted)]

    def match(value: str) -> bool:
        if op == "StringEquals":
            return value in patterns
        if op == "StringLike":
            return any(fnmatch.fnmatchcase(value, p) for p in patterns)
        return value not in patterns  # StringNotEquals

    if op not in ("StringEquals", "StringLike", "StringNotEquals"):
        return False  # fail closed: an operator the sandbox does not know
    if set_op == "ForAllValues":
        return all(match(v) for v in values)
    return any(match(v) for v in values)


def _applies(statement: dict[str, Any], role_arn: str, context: dict[str, list[str]]) -> bool:
    actions = [str(a).lower() for a in _as_list(statement.get("Action", []))]
    if not any(fnmatch.fnmatchcase("sts:assumerole", a) for a in actions):
        return False
    if not any(fnmatch.fnmatchcase(role_arn, str(r)) for r in _as_list(statement.get("Resource", []))):
        return False
    for operator, block in (statement.get("Condition") or {}).items():
        for key, wanted in block.items():
            if not _condition_holds(operator, key, wanted, context):
                return False
    return True


def resource_context(role_arn: str) -> dict[str, tuple[str, ...]]:
    """The role's account and organization keys, as AWS puts them in the request context."""
    account = arnparts.account_of(role_arn) or ""
    context: dict[str, tuple[str, ...]] = {"aws:resourceaccount": (account,)}
    org = moto_private.org_of(account)
    if org is not None:
        context["aws:resourceorgid"] = (org[0],)
        context["aws:resourceorgpaths"] = tuple(org[1])
    return context


def identity_allows_assume(access_key: str, role_arn: str) -> tuple[bool, str]:
    """(allowed, why) for the caller's identity policies on AssumeRole of ``role_arn``, judged with
    the resource's organization keys. Only when a statement names such a key: otherwise moto's own
    check stands (allowed here)."""
    policies = moto_private.caller_policy_documents(access_key)
    if not policies:
        return True, ""
    statements = [s for doc in policies for s in _as_list(doc.get("Statement", [])) if isinstance(s, dict)]
    if not any(_mentions_org_keys(s) for s in statements):
        return True, ""
    account = arnparts.account_of(role_arn) or ""
    context: dict[str, list[str]] = {"aws:resourceaccount": [account]}
    org = moto_private.org_of(account)
    if org is not None:
        context["aws:resourceorgid"] = [org[0]]
        context["aws:resourceorgpaths"] = org[1]
    applying = [s for s in statements if _applies(s, role_arn, context)]
    if any(s.get("Effect") == "Deny" for s in applying):
        return False, "an identity policy denies it (organization keys)"
    if any(s.get("Effect") == "Allow" for s in applying):
        return True, ""
    return False, "no identity policy allows it for a role in that account's organization path"
