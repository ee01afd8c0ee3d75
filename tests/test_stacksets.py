"""The StackSets engine: one service-managed StackSet over an organization unit, the grant scoped by
the resources' organization path, per-account verification, plan/re-run, teardown (grant first)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bootstrap.sandbox.server import MANAGEMENT_ACCOUNT, Sandbox
from tests.conftest import ACCOUNT_B, CI_USER_ARN, assume, iam, session
from tests.test_fleet import member_iam, role_in

ROLE = "org-role"
STACK_SET = f"trust-bootstrap-{ROLE}"
GRANT = f"trust-bootstrap-stackset-{ROLE}"


def org_args(sandbox: Sandbox, *extra: str, command: str = "apply") -> list[str]:
    """The options of ``command``: plan takes no verification options, teardown no conditions either."""
    args = ["--engine", "stacksets", "--targets-from-org", sandbox.org_unit, "--management-profile", "org-admin",
            "--source-profile", "a-admin", "--principal", CI_USER_ARN, "--role-name", ROLE]  # fmt: skip
    if command != "teardown":
        args += ["--external-id", "ext-org-1"]
    if command in ("apply", "verify"):
        args += ["--verify-profile", "ci"]
    return [*args, *extra]


def cfn() -> Any:
    return session("org-admin").client("cloudformation")


def grant_document() -> dict[str, Any] | None:
    client = iam("a-admin")
    try:
        return dict(client.get_user_policy(UserName="ci-user", PolicyName=GRANT)["PolicyDocument"])
    except client.exceptions.NoSuchEntityException:
        return None


@pytest.fixture
def applied(cli: Any, sandbox: Sandbox) -> Iterator[dict[str, Any]]:
    run = cli("apply", *org_args(sandbox), "--yes", "--output", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    yield run.json()


def test_apply_rolls_the_role_out_to_every_account_of_the_unit_and_verifies_each(
    cli: Any, sandbox: Sandbox, applied: dict[str, Any]
) -> None:
    out = applied
    assert out["ok"] is True
    rows = {a["account"]: a for a in out["accounts"]}
    assert sorted(rows) == sorted(sandbox.org_members)  # the child unit's member too
    for account in sandbox.org_members:
        assert rows[account]["verification"]["ok"] is True, rows[account]
        assert rows[account]["role_arn"] == f"arn:aws:iam::{account}:role/{ROLE}"
        role = role_in(account, ROLE)
        assert role is not None
        statement = role["AssumeRolePolicyDocument"]["Statement"][0]
        assert statement["Principal"] == {"AWS": CI_USER_ARN}
        assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-org-1"}}
    described = cfn().describe_stack_set(StackSetName=STACK_SET)["StackSet"]
    assert described["PermissionModel"] == "SERVICE_MANAGED"
    assert {"Key": "trust-bootstrap:managed", "Value": "true"} in described["Tags"]


def test_the_stack_set_template_is_the_cloudformation_export(cli: Any, sandbox: Sandbox, applied: Any) -> None:
    export = cli("export", "--format", "cloudformation", "--offline", "--principal", CI_USER_ARN, "--target-account",
                 ACCOUNT_B, "--role-name", ROLE, "--external-id", "ext-org-1")  # fmt: skip
    assert export.exit_code == 0, export.stderr
    assert json.loads(cfn().describe_stack_set(StackSetName=STACK_SET)["StackSet"]["TemplateBody"]) == json.loads(
        export.stdout
    )


def test_the_grant_names_the_role_across_accounts_only_with_the_organization_condition(
    cli: Any, sandbox: Sandbox, applied: dict[str, Any]
) -> None:
    document = grant_document()
    assert document is not None
    [statement] = document["Statement"]
    assert statement["Resource"] == f"arn:aws:iam::*:role/{ROLE}"
    path = applied["organization_path"]
    assert path.endswith(f"/{sandbox.org_unit}/") and path.startswith("o-")
    assert statement["Condition"]["ForAnyValue:StringLike"] == {"aws:ResourceOrgPaths": [path + "*"]}
    assert statement["Condition"]["StringEquals"]["aws:ResourceOrgID"] == path.split("/")[0]
    assert "in any account whose organization path starts with " + path in applied["grant"]["in_words"]
    # A role of the same name outside the organization, even one trusting the principal, is out of reach.
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": CI_USER_ARN}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam("b-admin").create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    with pytest.raises(ClientError) as denied:
        assume("ci", f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert assume("ci", f"arn:aws:iam::{sandbox.org_members[0]}:role/{ROLE}", ExternalId="ext-org-1")


def test_a_re_run_with_nothing_to_do_writes_nothing(cli: Any, sandbox: Sandbox, applied: Any) -> None:
    sandbox.clear_calls()
    plan = cli("plan", *org_args(sandbox, command="plan"), "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert "No changes" in plan.stdout
    again = cli("apply", *org_args(sandbox), "--yes", "--output", "json")
    assert again.exit_code == 0, again.stderr
    assert again.json()["done"] == []
    assert [c for c in sandbox.calls() if c.is_write] == []


def test_plan_shows_template_parameter_and_grant_differences(cli: Any, sandbox: Sandbox, applied: Any) -> None:
    plan = cli("plan", *org_args(sandbox, "--max-session-duration", "7200", "--external-id", "ext-org-2", command="plan"),
               "--detailed-exitcode", "--output", "json")  # fmt: skip
    assert plan.exit_code == 2, plan.stderr
    steps = {p["step"]: p for p in plan.json()["plan"]}
    assert set(steps) == {"update-stack-set"}
    details = "\n".join(steps["update-stack-set"]["details"])
    assert '"MaxSessionDuration": 7200' in details
    assert "parameter ExternalId: changed (value not shown)" in details
    assert "ext-org-2" not in plan.stdout + plan.stderr
    assert plan.json()["drift"] == "not checked"


def test_drift_detection_is_unknown_where_the_endpoint_has_none(cli: Any, sandbox: Sandbox, applied: Any) -> None:
    plan = cli("plan", *org_args(sandbox, command="plan"), "--detect-drift", "--output", "json")
    assert plan.exit_code == 0, plan.stderr
    assert plan.json()["drift"].startswith("unknown")


def test_an_account_moved_into_the_unit_is_picked_up_by_a_re_run(cli: Any, sandbox: Sandbox) -> None:
    # The sandbox cannot auto-deploy (moto accepts AutoDeployment and does nothing): a re-run does it.
    org = session("org-admin").client("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    newcomer = sandbox.org_members[0]
    org.move_account(AccountId=newcomer, SourceParentId=sandbox.org_unit, DestinationParentId=root)
    try:
        first = cli("apply", *org_args(sandbox), "--yes", "--output", "json")
        assert first.exit_code == 0, first.stderr
        assert newcomer not in {a["account"] for a in first.json()["accounts"]}
        assert role_in(newcomer, ROLE) is None
    finally:
        org.move_account(AccountId=newcomer, SourceParentId=root, DestinationParentId=sandbox.org_unit)
    plan = cli("plan", *org_args(sandbox, command="plan"), "--output", "json")
    assert plan.json()["missing"] == [newcomer]
    again = cli("apply", *org_args(sandbox), "--yes", "--output", "json")
    assert again.exit_code == 0, again.stderr
    rows = {a["account"]: a for a in again.json()["accounts"]}
    assert rows[newcomer]["verification"]["ok"] is True
    assert role_in(newcomer, ROLE) is not None


def test_a_failed_account_is_reported_with_cloudformations_reason_and_the_others_proceed(
    cli: Any, sandbox: Sandbox
) -> None:
    blocked = sandbox.org_members[1]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    member_iam(blocked).create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    run = cli("apply", *org_args(sandbox), "--yes", "--output", "json")
    assert run.exit_code == 6, run.stdout + run.stderr
    out = run.json()
    rows = {a["account"]: a for a in out["accounts"]}
    assert rows[blocked]["operation"] == "FAILED"
    assert "already exists" in rows[blocked]["reason"]
    assert rows[blocked]["verification"]["ok"] is False
    others = [a for a in sandbox.org_members if a != blocked]
    assert all(rows[a]["operation"] == "SUCCEEDED" and rows[a]["verification"]["ok"] for a in others)
    again = cli("apply", *org_args(sandbox), "--yes")  # the re-run tries the missing instance again
    assert again.exit_code == 6, again.stdout + again.stderr
    assert f"Accounts of the unit without a stack instance: {blocked}" in again.stderr
    [line] = [line for line in again.stdout.splitlines() if line.startswith(blocked)]
    assert "failed" in line and "NO" in line and "already exists" in line


def test_verify_before_any_apply_names_the_accounts_without_an_instance(cli: Any, sandbox: Sandbox) -> None:
    run = cli("verify", *org_args(sandbox, command="verify"), "--output", "json")
    assert run.exit_code == 7, run.stdout + run.stderr
    rows = run.json()["accounts"]
    assert {r["account"] for r in rows} == set(sandbox.org_members)
    assert all(r["verification"] == {"ok": False, "assumed_arn": None, "error": "no stack instance in this account"}
               for r in rows)  # fmt: skip
    assert [c for c in sandbox.calls() if c.is_write] == []


def test_verify_sample_checks_n_accounts_and_lists_all(cli: Any, sandbox: Sandbox, applied: Any) -> None:
    run = cli(
        "verify", *org_args(sandbox, command="verify"), "--verify-sample", "1", "--parallel", "2", "--output", "json"
    )
    assert run.exit_code == 0, run.stderr
    rows = run.json()["accounts"]
    assert len(rows) == len(sandbox.org_members)
    assert sum(1 for r in rows if r["verification"] is not None) == 1
    text = cli("verify", *org_args(sandbox, command="verify"))
    assert text.exit_code == 0, text.stderr
    assert f"Verified {len(sandbox.org_members)} of {len(sandbox.org_members)} checked account(s)" in text.stdout


def test_teardown_removes_the_grant_first_then_instances_then_the_stack_set(
    cli: Any, sandbox: Sandbox, applied: Any
) -> None:
    sandbox.clear_calls()
    run = cli("teardown", *org_args(sandbox, command="teardown"), "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    writes = [c.operation for c in sandbox.calls() if c.is_write]
    assert writes == ["DeleteUserPolicy", "DeleteStackInstances", "DeleteStackSet"]
    assert grant_document() is None
    for account in sandbox.org_members:
        assert role_in(account, ROLE) is None
    with pytest.raises(ClientError):
        cfn().describe_stack_set(StackSetName=STACK_SET)
    again = cli("teardown", *org_args(sandbox, command="teardown"), "--yes")
    assert again.exit_code == 0 and "Nothing to remove." in again.stderr


def test_a_stack_set_the_tool_did_not_create_is_left_alone(cli: Any, sandbox: Sandbox) -> None:
    cfn().create_stack_set(StackSetName=STACK_SET, TemplateBody='{"Resources": {}}', PermissionModel="SERVICE_MANAGED")
    sandbox.clear_calls()
    run = cli("apply", *org_args(sandbox), "--yes")
    assert run.exit_code == 8, run.stdout + run.stderr
    assert "without the tag trust-bootstrap:managed=true" in run.stderr
    assert [c for c in sandbox.calls() if c.is_write] == []
    down = cli("teardown", *org_args(sandbox, command="teardown"), "--yes")
    assert down.exit_code == 8
    assert cfn().describe_stack_set(StackSetName=STACK_SET)["StackSet"]["Status"] == "ACTIVE"


def test_the_management_account_is_no_delegated_admin(cli: Any, sandbox: Sandbox) -> None:
    # AWS: CallAs=DELEGATED_ADMIN only from a registered member account (test_stacksets_delegated.py).
    run = cli("plan", *org_args(sandbox, "--call-as", "DELEGATED_ADMIN", command="plan"))
    assert run.exit_code == 4, run.stdout + run.stderr
    assert "Account used is not a delegated administrator" in run.stderr
    assert "with --call-as SELF, the default" in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "stacksets", "--management-profile", "org-admin", "--role-name", "x"], "--targets-from-org"),
        (["--engine", "stacksets", "--targets-from-org", "ou-abcd-12345678", "--role-name", "x"],
         "--management-profile"),
        (["--engine", "stacksets", "--targets-from-org", "ou-abcd-12345678", "--management-profile", "org-admin",
          "--role-name", "x", "--call-as", "ROOT"], "--call-as"),
        (["--engine", "stacksets", "--targets-from-org", "nope", "--management-profile", "org-admin",
          "--role-name", "x"], "not an organization unit"),
        (["--engine", "bogus", "--targets-from-org", "ou-abcd-12345678", "--management-profile", "org-admin",
          "--role-name", "x"], "--engine: 'bogus' is not one of local, stacksets"),
        (["--engine", "stacksets", "--targets-from-org", "ou-abcd-12345678", "--management-profile", "org-admin",
          "--role-name", "x", "--generate-external-id"], "needs the ExternalId given"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_any_call(cli: Any, sandbox: Sandbox, args: list[str], message: str) -> None:
    sandbox.clear_calls()
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert message in run.stderr
    assert sandbox.calls() == []


def test_the_engine_and_the_unit_can_come_from_a_config_file(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "org.yaml"
    config.write_text(json.dumps({
        "engine": "stacksets", "targets_from_org": sandbox.org_unit, "management_profile": "org-admin",
        "source_profile": "a-admin", "principal": CI_USER_ARN, "role_name": ROLE, "external_id": "ext-org-1",
    }))  # fmt: skip
    run = cli("plan", "--config", str(config), "--output", "json")
    assert run.exit_code == 0, run.stderr
    out = run.json()
    assert out["engine"] == "stacksets"
    assert out["stack_set"]["name"] == STACK_SET
    assert [p["step"] for p in out["plan"]] == ["create-stack-set", "create-stack-instances", "put-org-grant"]
    assert sorted(out["missing"]) == sorted(sandbox.org_members)
    assert f"{MANAGEMENT_ACCOUNT}" not in out["missing"]
