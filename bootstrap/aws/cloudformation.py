"""CloudFormation StackSets and Organizations calls for the StackSets engine, with the aws_* layer's
conventions: clients come from aws.Account, ClientErrors are caught by code, and every failure
leaves as a typed BootstrapError raised ``from`` it.

Service-managed StackSets: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html
CallAs (delegated administrators): https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from bootstrap.aws import accounts as aws
from bootstrap.aws import errors as aws_errors
from bootstrap.core.errors import AwsError
from bootstrap.core.stackset import Instance, LiveStackSet, OrgScope

CAPABILITIES = ["CAPABILITY_NAMED_IAM"]  # the template names its role
DONE = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})
BUSY_CODES = frozenset({"OperationInProgressException", "StaleRequestException"})


STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"
# What to do when CloudFormation or Organizations refuses the caller as neither the management
# account nor a delegated administrator (CallAs: see the API reference above; registration:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-delegated-admin.html).
ADMIN_HINT = (
    " The management profile must be the organization's management account (with --call-as SELF, the default) "
    "or a member account registered as a delegated administrator for CloudFormation StackSets (with --call-as "
    "DELEGATED_ADMIN): from the management account, 'aws organizations register-delegated-administrator "
    f"--account-id ACCOUNT --service-principal {STACKSETS_PRINCIPAL}'. A delegated administrator also needs "
    "organizations:ListDelegatedAdministrators."
)
DENIED_HINT = " Either the profile lacks IAM permission for this call, or:"


def _not_an_administrator(err: AwsError) -> bool:
    text = err.message.lower()
    if err.code == "ValidationError":
        return "delegated admin" in text
    return err.code in ("AccessDeniedException", "AWSOrganizationsNotInUseException") and "organizations" in text


@contextmanager
def _errors(action: str) -> Iterator[None]:
    """aws_errors.translate_errors, plus bodies botocore cannot parse (an HTML 500 from a proxy or an
    emulator): ResponseParserError is not a BotoCoreError. A caller that is no StackSets
    administrator of the organization is told how to become one."""
    try:
        with aws_errors.translate_errors(action):
            yield
    except ResponseParserError as err:
        raise AwsError(f"{action}: the endpoint sent an answer that is not AWS's ({err}).") from err
    except AwsError as err:
        if not _not_an_administrator(err):
            raise
        hint = ADMIN_HINT if err.code == "ValidationError" else DENIED_HINT + ADMIN_HINT
        raise AwsError(err.message + hint, err.code) from err


def _cfn(account: aws.Account) -> Any:
    return account.client("cloudformation")


def _call_as(call_as: str) -> dict[str, str]:
    return {"CallAs": call_as}


@dataclass(frozen=True)
class Operation:
    """A StackSet operation as last seen: its status, and each account's result."""

    operation_id: str
    status: str
    results: tuple[tuple[str, str, str, str], ...]  # (account, region, status, CloudFormation's reason)
    reason: str = ""


# -- organizations --------------------------------------------------------------------------------


def org_scope(management: aws.Account, ou_id: str) -> OrgScope:
    """The organization's ID and the unit's path (o-.../r-.../ou-.../), as aws:ResourceOrgPaths has it."""
    org = management.client("organizations")
    with _errors(f"{management.label}: reading the organization (organizations:DescribeOrganization)"):
        org_id = str(org.describe_organization()["Organization"]["Id"])
    chain = [ou_id]
    with _errors(f"{management.label}: reading the parents of {ou_id} (organizations:ListParents)"):
        try:
            while not chain[-1].startswith("r-"):
                parents = org.list_parents(ChildId=chain[-1])["Parents"]
                if not parents:
                    break
                chain.append(str(parents[0]["Id"]))
        except ClientError as err:
            if aws_errors.error_code(err) in ("ChildNotFoundException", "ParentNotFoundException"):
                raise AwsError(f"The organization unit {ou_id} does not exist in organization {org_id}.",
                               aws_errors.error_code(err)) from err  # fmt: skip
            raise
    return OrgScope(org_id, ou_id, "/".join([org_id, *reversed(chain)]) + "/")


# -- reading --------------------------------------------------------------------------------------


def describe_stack_set(account: aws.Account, name: str, call_as: str) -> LiveStackSet | None:
    with _errors(f"{account.label}: reading the StackSet {name} (cloudformation:DescribeStackSet)"):
        try:
            found = _cfn(account).describe_stack_set(StackSetName=name, **_call_as(call_as))["StackSet"]
        except ClientError as err:
            if aws_errors.error_code(err) == "StackSetNotFoundException":
                return None
            raise
    auto = found.get("AutoDeployment")
    return LiveStackSet(
        name=str(found.get("StackSetName", name)),
        status=str(found.get("Status", "")),
        template=str(found.get("TemplateBody", "")),
        parameters=tuple(sorted((p["ParameterKey"], str(p.get("ParameterValue", ""))) for p in found.get("Parameters", []))),
        tags=tuple(sorted((t["Key"], t["Value"]) for t in found.get("Tags", []))),
        permission_model=str(found.get("PermissionModel", "")),
        auto_deployment=None if auto is None else
        (bool(auto.get("Enabled", False)), bool(auto.get("RetainStacksOnAccountRemoval", False))),
    )  # fmt: skip


def list_instances(account: aws.Account, name: str, call_as: str) -> tuple[Instance, ...]:
    instances: list[Instance] = []
    with _errors(f"{account.label}: listing the stack instances of {name} (cloudformation:ListStackInstances)"):
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StackSetName": name, **_call_as(call_as)}
            if token:
                kwargs["NextToken"] = token
            page = _cfn(account).list_stack_instances(**kwargs)
            for s in page.get("Summaries", []):
                instances.append(Instance(
                    account=str(s["Account"]), region=str(s["Region"]), status=str(s.get("Status", "")),
                    reason=str(s.get("StatusReason", "")), ou=str(s.get("OrganizationalUnitId", "")),
                    drift=str(s.get("DriftStatus", "NOT_CHECKED")),
                ))  # fmt: skip
            token = page.get("NextToken")
            if not token:
                return tuple(instances)


# -- writing --------------------------------------------------------------------------------------


def _parameters(parameters: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters]


def _tags(tags: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


AUTO_DEPLOYMENT = {"Enabled": True, "RetainStacksOnAccountRemoval": False}


def create_stack_set(account: aws.Account, *, name: str, template: str, parameters: tuple[tuple[str, str], ...],
                     tags: tuple[tuple[str, str], ...], description: str, call_as: str) -> None:  # fmt: skip
    with _errors(f"{account.label}: creating the StackSet {name} (cloudformation:CreateStackSet)"):
        try:
            _cfn(account).create_stack_set(
                StackSetName=name, Description=description, TemplateBody=template,
                Parameters=_parameters(parameters), Capabilities=CAPABILITIES, Tags=_tags(tags),
                PermissionModel="SERVICE_MANAGED", AutoDeployment=AUTO_DEPLOYMENT, **_call_as(call_as),
            )  # fmt: skip
        except ClientError as err:
            if aws_errors.error_code(err) != "NameAlreadyExistsException":  # a twin run made it: the plan re-reads
                raise


def update_stack_set(account: aws.Account, *, name: str, template: str, parameters: tuple[tuple[str, str], ...],
                     tags: tuple[tuple[str, str], ...], call_as: str) -> str:  # fmt: skip
    with _errors(f"{account.label}: updating the StackSet {name} (cloudformation:UpdateStackSet)"):
        answer = _cfn(account).update_stack_set(
            StackSetName=name, TemplateBody=template, Parameters=_parameters(parameters),
            Capabilities=CAPABILITIES, Tags=_tags(tags), PermissionModel="SERVICE_MANAGED",
            AutoDeployment=AUTO_DEPLOYMENT, **_call_as(call_as),
        )  # fmt: skip
    return str(answer["OperationId"])


def create_instances(account: aws.Account, name: str, ous: tuple[str, ...], region: str, call_as: str) -> str:
    with _errors(f"{account.label}: creating stack instances of {name} (cloudformation:CreateStackInstances)"):
        answer = _cfn(account).create_stack_instances(
            StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": list(ous)}, Regions=[region],
            **_call_as(call_as),
        )  # fmt: skip
    return str(answer["OperationId"])


def update_instances(account: aws.Account, name: str, ous: tuple[str, ...], region: str, call_as: str) -> str:
    with _errors(f"{account.label}: updating stack instances of {name} (cloudformation:UpdateStackInstances)"):
        answer = _cfn(account).update_stack_instances(
            StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": list(ous)}, Regions=[region],
            **_call_as(call_as),
        )  # fmt: skip
    return str(answer["OperationId"])


def delete_instances(account: aws.Account, name: str, ous: tuple[str, ...], regions: tuple[str, ...],
                     call_as: str) -> str:  # fmt: skip
    with _errors(f"{account.label}: deleting stack instances of {name} (cloudformation:DeleteStackInstances)"):
        answer = _cfn(account).delete_stack_instances(
            StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": list(ous)}, Regions=list(regions),
            RetainStacks=False, **_call_as(call_as),
        )  # fmt: skip
    return str(answer["OperationId"])


def delete_stack_set(account: aws.Account, name: str, call_as: str) -> None:
    with _errors(f"{account.label}: deleting the StackSet {name} (cloudformation:DeleteStackSet)"):
        try:
            _cfn(account).delete_stack_set(StackSetName=name, **_call_as(call_as))
        except ClientError as err:
            if aws_errors.error_code(err) != "StackSetNotFoundException":
                raise


def detect_drift(account: aws.Account, name: str, call_as: str) -> str | None:
    """Start drift detection; None when the endpoint does not offer it (then drift is unknown)."""
    with _errors(f"{account.label}: detecting drift of {name} (cloudformation:DetectStackSetDrift)"):
        try:
            answer = _cfn(account).detect_stack_set_drift(StackSetName=name, **_call_as(call_as))
        except ClientError as err:
            if aws_errors.error_code(err) in aws_errors.UNAVAILABLE_CODES:
                return None
            raise
    return str(answer["OperationId"])


# -- waiting --------------------------------------------------------------------------------------


def read_operation(account: aws.Account, name: str, operation_id: str, call_as: str) -> Operation:
    with _errors(f"{account.label}: reading the StackSet operation {operation_id} of {name}"):
        described = _cfn(account).describe_stack_set_operation(
            StackSetName=name, OperationId=operation_id, **_call_as(call_as)
        )["StackSetOperation"]
        results: list[tuple[str, str, str, str]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StackSetName": name, "OperationId": operation_id, **_call_as(call_as)}
            if token:
                kwargs["NextToken"] = token
            page = _cfn(account).list_stack_set_operation_results(**kwargs)
            results += [(str(s["Account"]), str(s["Region"]), str(s.get("Status", "")), str(s.get("StatusReason", "")))
                        for s in page.get("Summaries", [])]  # fmt: skip
            token = page.get("NextToken")
            if not token:
                break
    return Operation(operation_id, str(described.get("Status", "")), tuple(results),
                     str(described.get("StatusReason", "")))  # fmt: skip


def wait(
    account: aws.Account,
    name: str,
    operation_id: str,
    call_as: str,
    *,
    timeout_s: float,
    on_poll: Callable[[Operation], None],
    sleep: Callable[[float], None] = time.sleep,
) -> Operation:
    """Poll the operation until CloudFormation ends it (or the timeout: then it is still running
    in AWS, and the error says so). Waits grow from 1 s to 15 s."""
    start, pause = time.monotonic(), 1.0
    while True:
        operation = read_operation(account, name, operation_id, call_as)
        on_poll(operation)
        if operation.status in DONE:
            return operation
        if time.monotonic() - start > timeout_s:
            raise AwsError(
                f"The StackSet operation {operation_id} of {name} is still {operation.status} after {timeout_s:g}s. "
                "CloudFormation goes on with it: re-run the same command later to converge."
            )
        sleep(pause)
        pause = min(pause * 2, 15.0)


def run_when_free(call: Callable[[], str], attempts: int = 6, sleep: Callable[[float], None] = time.sleep) -> str:
    """A StackSet runs one operation at a time: OperationInProgress means wait for it, then retry."""
    for attempt in range(attempts):
        try:
            return call()
        except AwsError as err:
            if err.code not in BUSY_CODES or attempt == attempts - 1:
                raise
            sleep(min(2.0**attempt, 30.0))
    raise AssertionError("unreachable")
