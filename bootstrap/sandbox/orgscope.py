"""What the sandbox adds to moto for organization-wide work (the StackSets engine).

- Identity policies scoped by the resource's organization: moto ignores conditions on
  ``aws:ResourceOrgID`` / ``aws:ResourceOrgPaths`` / ``aws:ResourceAccount`` (the keys are never in
  its request context, and it ignores operators it does not know), so a grant scoped to an OU
  would let the caller into any account. For AssumeRole, the sandbox evaluates such statements
  itself with the keys AWS puts in the request context: the role's account, its organization and
  its organization path (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
  Absent keys fail their condition (``...IfExists`` and ``ForAllValues`` aside), as AWS documents.
- CreateStackInstances for units: every account below them, a result (and a reason) per account.
- DeleteStackInstances with ``DeploymentTargets.OrganizationalUnitIds`` (the only form AWS takes
  for service-managed StackSets): moto reads only ``Accounts``; the sandbox resolves the units.
- Reset: moto's StackSets of the sandbox's accounts are emptied with the rest.

- CallAs and delegated administrators: delegated.py.

Not emulated (say so to users): automatic deployment to accounts that join the unit later, and
drift detection (answered as not available).
"""

from __future__ import annotations

import fnmatch
import json
import uuid
from typing import Any

from moto.cloudformation.models import StackSet, cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult
from moto.iam.models import iam_backends
from moto.organizations.models import organizations_backends
from moto.sts.models import sts_backends

from bootstrap.sandbox import delegated

ORG_KEYS = ("aws:resourceorgid", "aws:resourceorgpaths", "aws:resourceaccount")


def _org_of(account: str) -> tuple[str, list[str]] | None:
    """(organization id, the account's paths) when an organization holds the account."""
    for backends in list(organizations_backends.values()):
        backend = backends.get("aws") if hasattr(backends, "get") else None
        organization = getattr(backend, "org", None)
        if backend is None or organization is None:
            continue
        found = next((a for a in backend.accounts if a.id == account), None)
        if found is None:
            continue
        units = {ou.id: ou.parent_id for ou in backend.ou}
        chain: list[str] = []
        parent: str | None = found.parent_id
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = units.get(parent)
        org_id = str(organization.id)
        return org_id, ["/".join([org_id, *reversed(chain)]) + "/"]
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _documents(policies: list[Any]) -> list[dict[str, Any]]:
    out = []
    for policy in policies:
        if hasattr(policy, "versions"):
            text = next(v.document for v in policy.versions if v.is_default)
        elif isinstance(policy, dict):
            text = policy.get("policy_document", policy)
        else:
            text = policy
        out.append(json.loads(text) if isinstance(text, str) else text)
    return out


def _caller_policies(access_key: str) -> list[dict[str, Any]] | None:
    for backends in list(iam_backends.values()):
        iam = backends["aws"]
        user = iam.get_user_from_access_key_id(access_key)
        if user is not None:
            docs: list[Any] = [iam.get_user_policy(user.name, n) for n in iam.list_user_policies(user.name)]
            docs += iam.list_attached_user_policies(user.name)[0]
            return _documents(docs)
    for account_id, sts in list(sts_backends.items()):
        session = sts["aws"].get_assumed_role_from_access_key(access_key)
        if session is not None:
            iam = iam_backends[account_id]["aws"]
            name = session.role_arn.split("/")[-1]
            docs = [iam.get_role_policy(name, n)[1] for n in iam.list_role_policies(name)]
            docs += iam.list_attached_role_policies(name)[0]
            return _documents(docs)
    return None


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


def identity_allows_assume(access_key: str, role_arn: str) -> tuple[bool, str]:
    """(allowed, why) for the caller's identity policies on AssumeRole of ``role_arn``, judged with
    the resource's organization keys. Only when a statement names such a key: otherwise moto's own
    check stands (allowed here)."""
    policies = _caller_policies(access_key)
    if not policies:
        return True, ""
    statements = [s for doc in policies for s in _as_list(doc.get("Statement", [])) if isinstance(s, dict)]
    if not any(_mentions_org_keys(s) for s in statements):
        return True, ""
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    context: dict[str, list[str]] = {"aws:resourceaccount": [account]}
    org = _org_of(account)
    if org is not None:
        context["aws:resourceorgid"] = [org[0]]
        context["aws:resourceorgpaths"] = org[1]
    applying = [s for s in statements if _applies(s, role_arn, context)]
    if any(s.get("Effect") == "Deny" for s in applying):
        return False, "an identity policy denies it (organization keys)"
    if any(s.get("Effect") == "Allow" for s in applying):
        return True, ""
    return False, "no identity policy allows it for a role in that account's organization path"


# -- StackSets ------------------------------------------------------------------------------------


def _accounts_under(ous: list[str], manager: str) -> set[str]:
    backend = organizations_backends[manager]["aws"]
    wanted, grew = set(ous), True
    while grew:
        more = {ou.id for ou in backend.ou if ou.parent_id in wanted} - wanted
        grew = bool(more)
        wanted |= more
    return {a.id for a in backend.accounts if a.parent_id in wanted}


_original_delete = CloudFormationResponse.delete_stack_instances


def _delete_stack_instances(self: Any) -> Any:
    targets = self._get_params().get("DeploymentTargets") or {}
    ous = targets.get("OrganizationalUnitIds") or []
    if ous and not self._get_param("Accounts"):
        accounts = sorted(_accounts_under(ous, self.current_account))
        stackset = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
        regions = self._get_param("Regions", [])
        accounts = [i.account_id for i in stackset.stack_instances if i.account_id in accounts]
        stackset.delete_stack_instances(accounts, regions)
        return ActionResult({"OperationId": stackset.operations[-1]["OperationId"]})
    return _original_delete(self)


_original_instances = StackSet.create_stack_instances


def _create_stack_instances(
    self: StackSet, accounts: list[str], regions: list[str], deployment_targets: Any, parameters: Any
) -> str:
    """Service-managed instances for units, as AWS creates them: every account of the units and of
    all units below them (moto goes one level down), one result per account, and a failure in one
    account (say, a role of that name already there) fails that instance with a reason instead of
    the whole call."""
    ous = (deployment_targets or {}).get("OrganizationalUnitIds") or []
    if self.permission_model != "SERVICE_MANAGED" or not ous:
        return str(_original_instances(self, accounts, regions, deployment_targets, parameters))
    results: list[tuple[str, str, str, str]] = []
    for region in regions:
        for account in sorted(_accounts_under(ous, self.instances.account_id)):
            if self.instances.get_instance(account, region) is not None:
                continue
            try:
                self.instances.create_instances([account], [region], parameters or self.parameters, {},  # type: ignore[arg-type]
                                                permission_model=self.permission_model)  # fmt: skip
                results.append((account, region, "SUCCEEDED", ""))
            except Exception as err:  # any failure of one stack is that instance's, as in AWS
                reason = f"ResourceLogicalId:Role, ResourceType:AWS::IAM::Role, ResourceStatusReason:{err}."
                results.append((account, region, "FAILED", reason))
    operation_id = str(uuid.uuid4())
    status = "FAILED" if any(r[2] == "FAILED" for r in results) else "SUCCEEDED"
    operation = self._create_operation(operation_id=operation_id, action="CREATE", status=status)
    operation["Instances"] = [{account: region} for account, region, _, _ in results]
    operation["Results"] = results
    return operation_id


_original_results = CloudFormationResponse.list_stack_set_operation_results


def _operation_results(self: Any) -> Any:
    operation = self.cloudformation_backend.list_stack_set_operation_results(
        self._get_param("StackSetName"), self._get_param("OperationId")
    )
    if "Results" not in operation:
        return _original_results(self)
    summaries = [{"Account": a, "Region": r, "Status": st, **({"StatusReason": why} if why else {})}
                 for a, r, st, why in operation["Results"]]  # fmt: skip
    return ActionResult({"Summaries": summaries})


_original_create = CloudFormationResponse.create_stack_set
_original_update = CloudFormationResponse.update_stack_set


def _keeping_auto_deployment(original: Any) -> Any:
    """moto accepts AutoDeployment and forgets it; AWS returns it in DescribeStackSet. Keep it (it
    is still not acted on: no account joining the unit later gets an instance by itself)."""

    def call(self: Any) -> Any:
        answer = original(self)
        setting = self._get_params().get("AutoDeployment")
        if setting:
            stackset = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
            stackset.auto_deployment = {"Enabled": str(setting.get("Enabled")).lower() == "true",
                                        "RetainStacksOnAccountRemoval":
                                        str(setting.get("RetainStacksOnAccountRemoval")).lower() == "true"}  # fmt: skip
        return answer

    return call


def install() -> None:
    """moto's StackSets as AWS's for units; then CallAs and delegated administrators (delegated.py)."""
    StackSet.create_stack_instances = _create_stack_instances  # type: ignore[method-assign]
    CloudFormationResponse.list_stack_set_operation_results = _operation_results  # type: ignore[method-assign]
    CloudFormationResponse.delete_stack_instances = _delete_stack_instances  # type: ignore[method-assign]
    CloudFormationResponse.create_stack_set = _keeping_auto_deployment(_original_create)  # type: ignore[method-assign]
    CloudFormationResponse.update_stack_set = _keeping_auto_deployment(_original_update)  # type: ignore[method-assign]
    delegated.install()  # wraps the calls above: after them


def reset(accounts: list[str]) -> None:
    delegated.reset(accounts)
    for account in accounts:
        if account in cloudformation_backends:
            for region_backend in cloudformation_backends[account].values():
                region_backend.stacksets.clear()
