"""The --allow-admin guard through the CLI, against the sandbox (issue 24, finding 4): every
spelling of "administrator" is refused with exit 2 before any write, naming the policy and the
escalation method, and passes with --allow-admin; read-only and data permissions pass without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_B, CI_USER_ARN

ROLE = "terraform-deploy"
ARGS = ["apply", "--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", ROLE,
        "--principal", CI_USER_ARN, "--no-verify", "--yes"]  # fmt: skip


def allow(action: Any, resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


INLINE = [
    ("star-on-iam-of-account", allow("*", f"arn:aws:iam::{ACCOUNT_B}:*"), "PutRolePolicy"),
    ("star-on-every-global-resource", allow("*", f"arn:aws:*::{ACCOUNT_B}:*"), "PutRolePolicy"),
    ("iam-star-on-roles", allow("iam:*", f"arn:aws:iam::{ACCOUNT_B}:role/*"), "PutRolePolicy"),
    ("put-role-policy", allow("iam:PutRolePolicy"), "PutRolePolicy"),
    ("attach", allow("iam:Attach*"), "AttachRolePolicy"),
    ("create-policy-version", allow("iam:CreatePolicyVersion"), "CreateNewPolicyVersion"),
    ("update-assume-role-policy", allow("iam:UpdateAssumeRolePolicy"), "UpdateRolePolicyToAssumeIt"),
    ("passrole-ec2", allow(["iam:PassRole", "ec2:RunInstances"]), "CreateEC2WithExistingIP"),
    (
        "passrole-lambda",
        allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]),
        "PassExistingRoleToNewLambdaThenInvoke",
    ),
    ("mixed-case-wildcard", allow(["s3:GetObject", "iAm:PuT*"]), "PutRolePolicy"),
    ("not-action-leaves-iam", {"Effect": "Allow", "NotAction": ["s3:*", "ec2:*"], "Resource": "*"}, "PutRolePolicy"),
]


@pytest.mark.parametrize(("case", "statement", "method"), INLINE, ids=[c[0] for c in INLINE])
def test_an_admin_equivalent_inline_policy_is_refused_before_any_call(
    cli: Any, sandbox: Sandbox, tmp_path: Path, case: str, statement: dict[str, Any], method: str
) -> None:
    policy = tmp_path / "ops.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    sandbox.clear_calls()
    run = cli(*ARGS, "--inline-policy", f"ops={policy}")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert f"inline policy 'ops' ({policy}) is admin-equivalent" in run.stderr
    assert f"privilege escalation method {method} " in run.stderr and "--allow-admin" in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) <= 2
    assert sandbox.calls() == []


def test_an_inline_escalation_passes_with_allow_admin(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    policy = tmp_path / "ops.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [allow(["iam:PassRole", "ec2:RunInstances"])]}))
    run = cli(*ARGS, "--inline-policy", f"ops={policy}", "--allow-admin")
    assert run.exit_code == 0, run.stdout + run.stderr
    b = boto3.Session(profile_name="b-admin").client("iam")
    assert b.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["ops"]


@pytest.mark.parametrize(
    ("name", "method"), [("AdministratorAccess-Amplify", "PutRolePolicy"), ("IAMFullAccess", "PutRolePolicy")]
)
def test_aws_managed_policies_are_judged_by_their_document(cli: Any, sandbox: Sandbox, name: str, method: str) -> None:
    arn = f"arn:aws:iam::aws:policy/{name}"
    sandbox.clear_calls()
    run = cli(*ARGS, "--policy-arn", arn)
    assert run.exit_code == 2, run.stdout + run.stderr
    assert f"{arn} is admin-equivalent: statement " in run.stderr
    assert f"privilege escalation method {method} " in run.stderr and "Nothing was written." in run.stderr
    reads = [c.operation for c in sandbox.calls() if c.account == ACCOUNT_B and "Policy" in c.operation]
    assert "GetPolicyVersion" in reads  # read from IAM, not recognised by name
    assert [c for c in sandbox.calls() if c.is_write] == []
    assert cli(*ARGS, "--policy-arn", arn, "--allow-admin").exit_code == 0


def test_customer_managed_policies_are_judged_together(cli: Any, sandbox: Sandbox) -> None:
    b = boto3.Session(profile_name="b-admin").client("iam")

    def create(name: str, action: str) -> str:
        document = json.dumps({"Version": "2012-10-17", "Statement": [allow(action)]})
        return str(b.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"])

    passrole, run_instances = create("pass-roles", "iam:PassRole"), create("run-instances", "ec2:RunInstances")
    assert cli(*ARGS, "--policy-arn", run_instances).exit_code == 0  # alone, neither escalates
    sandbox.clear_calls()
    run = cli(*ARGS, "--policy-arn", run_instances, "--policy-arn", passrole)
    assert run.exit_code == 2, run.stdout + run.stderr
    assert f"{passrole} and {run_instances} are together admin-equivalent" in run.stderr
    assert "CreateEC2WithExistingIP" in run.stderr
    assert [c for c in sandbox.calls() if c.is_write] == []
    assert b.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == [
        {"PolicyName": "run-instances", "PolicyArn": run_instances}
    ]


ALLOWED_INLINE = [
    ("read-only-iam", allow(["iam:Get*", "iam:List*"])),
    ("s3-everything", allow("s3:*")),
    ("data-actions", allow(["s3:GetObject", "logs:*"])),
]


@pytest.mark.parametrize(("case", "statement"), ALLOWED_INLINE, ids=[c[0] for c in ALLOWED_INLINE])
def test_read_only_and_data_permissions_need_no_flag(
    cli: Any, sandbox: Sandbox, tmp_path: Path, case: str, statement: dict[str, Any]
) -> None:
    policy = tmp_path / "ops.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    run = cli(*ARGS, "--inline-policy", f"ops={policy}", "--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert run.exit_code == 0, run.stdout + run.stderr


def test_a_fleet_target_with_an_aws_managed_escalation_needs_allow_admin(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    arn = "arn:aws:iam::aws:policy/AdministratorAccess-Amplify"
    fleet = tmp_path / "fleet.json"
    fleet.write_text(json.dumps({"source_profile": "a-admin", "principal": CI_USER_ARN, "role_name": ROLE,
                                 "verify": False, "targets": [{"target_profile": "b-admin", "policy_arns": [arn]}]}))  # fmt: skip
    sandbox.clear_calls()
    run = cli("apply", "--config", str(fleet), "--yes")
    assert run.exit_code != 0
    assert f"{arn} is admin-equivalent" in run.stdout + run.stderr
    assert [c for c in sandbox.calls() if c.is_write and c.account == ACCOUNT_B] == []
    assert cli("apply", "--config", str(fleet), "--allow-admin", "--yes").exit_code == 0
