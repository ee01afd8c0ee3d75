"""Fleets: one principal, a role in each of many accounts; bounded concurrency, failures isolated,
one merged grant on the source side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bootstrap.sandbox.server import ACCESS_ROLE, Sandbox
from tests.conftest import ACCOUNT_A, ACCOUNT_B, CI_USER_ARN, READ_ONLY, iam, session

GRANT = "trust-bootstrap-fleet-deploy"


def fleet_file(tmp_path: Path, sandbox: Sandbox, *extra_targets: dict[str, Any], **top: Any) -> Path:
    members = sandbox.org_members
    config = {
        "source_profile": "a-admin",
        "principal": CI_USER_ARN,
        "verify_profile": "ci",
        "management_profile": "org-admin",
        "role_name": "deploy",
        "external_id": "ext-1",
        "policy_arns": [READ_ONLY],
        "fleet_name": "deploy",
        **top,
        "targets": [
            {"target_profile": "b-admin"},
            {"account_id": members[0], "label": "member-0"},
            {"account_id": members[1], "role_name": "deploy-ops", "policy_arns": []},
            *extra_targets,
        ],
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def role_in(account: str, name: str) -> dict[str, Any] | None:
    client = member_iam(account)
    try:
        return dict(client.get_role(RoleName=name)["Role"])
    except client.exceptions.NoSuchEntityException:
        return None


def member_iam(account: str) -> Any:
    """An IAM client in a member account, through the access role, as the management account."""
    org = session("org-admin").client("sts")
    creds = org.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ACCESS_ROLE}", RoleSessionName="test")["Credentials"]
    return session("org-admin").client(
        "iam",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def grant_resources() -> list[str]:
    doc = iam("a-admin").get_user_policy(UserName="ci-user", PolicyName=GRANT)["PolicyDocument"]
    resources = doc["Statement"][0]["Resource"]
    return sorted(resources if isinstance(resources, list) else [resources])


def test_fleet_apply_verifies_every_target_with_one_merged_grant(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    config = fleet_file(tmp_path, sandbox)
    run = cli("apply", "--config", str(config), "--yes", "--output", "json", "--parallel", "3")
    assert run.exit_code == 0, run.stderr
    out = run.json()
    assert out["ok"] is True
    by_label = {t["label"]: t for t in out["targets"]}
    assert set(by_label) == {"b-admin", "member-0", sandbox.org_members[1]}
    assert all(t["verification"]["ok"] for t in out["targets"])
    m1 = sandbox.org_members[1]
    assert by_label[m1]["role_arn"] == f"arn:aws:iam::{m1}:role/deploy-ops"
    assert grant_resources() == sorted(t["role_arn"] for t in out["targets"])  # one statement, every role
    assert [c["operation"] for c in out["grant"]] == ["put-grant"]
    role = role_in(sandbox.org_members[0], "deploy")
    assert role is not None
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": CI_USER_ARN}

    sandbox.clear_calls()
    again = cli("plan", "--config", str(config), "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "All targets match: no changes." in again.stdout
    assert [c for c in sandbox.calls() if c.is_write] == []


def test_a_failing_target_never_stops_the_others_nor_narrows_the_grant(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    config = fleet_file(tmp_path, sandbox, {"account_id": "999999999999", "label": "gone"})
    run = cli("apply", "--config", str(config), "--yes", "--output", "json")
    assert run.exit_code == 6
    out = run.json()
    results = {t["label"]: t for t in out["targets"]}
    assert results["gone"]["ok"] is False and "cannot reach account 999999999999" in results["gone"]["error"]
    assert all(results[label]["ok"] for label in ("b-admin", "member-0"))
    assert role_in(sandbox.org_members[0], "deploy") is not None
    assert len(grant_resources()) == 3


def test_targets_from_an_organization_unit_recursively(cli: Any, sandbox: Sandbox) -> None:
    run = cli("apply", "--targets-from-org", sandbox.org_unit, "--management-profile", "org-admin",
              "--source-profile", "a-admin", "--principal", CI_USER_ARN, "--verify-profile", "ci", "--role-name",
              "org-deploy", "--external-id", "ext-2", "--yes", "--output", "json")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    accounts = sorted(t["account"] for t in run.json()["targets"])
    assert accounts == sorted(sandbox.org_members)  # the last member sits in a child unit
    for account in sandbox.org_members:
        assert role_in(account, "org-deploy") is not None


def test_grant_over_the_inline_budget_becomes_a_managed_policy(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    filler = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Filler", "Effect": "Deny", "Action": [f"svc{i}:Action{i}" for i in range(110)], "Resource": "*"}]}  # fmt: skip
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName="filler", PolicyDocument=json.dumps(filler))
    config = fleet_file(tmp_path, sandbox)
    run = cli("apply", "--config", str(config), "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert [c["operation"] for c in run.json()["grant"]] == ["put-managed-grant"]
    assert "filler" in iam("a-admin").list_user_policies(UserName="ci-user")["PolicyNames"]
    attached = iam("a-admin").list_attached_user_policies(UserName="ci-user")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [f"arn:aws:iam::{ACCOUNT_A}:policy/trust-bootstrap/{GRANT}"]
    assert all(t["verification"]["ok"] for t in run.json()["targets"])


def test_fleet_teardown_removes_the_grant_then_every_role(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    config = fleet_file(tmp_path, sandbox)
    assert cli("apply", "--config", str(config), "--yes").exit_code == 0
    sandbox.clear_calls()
    run = cli("teardown", "--config", str(config), "--yes")
    assert run.exit_code == 0, run.stderr
    writes = [(c.account, c.operation) for c in sandbox.calls() if c.is_write]
    assert writes[0] == (ACCOUNT_A, "DeleteUserPolicy")
    assert "DeleteRole" in [op for _, op in writes]
    assert iam("a-admin").list_user_policies(UserName="ci-user")["PolicyNames"] == []
    assert role_in(sandbox.org_members[0], "deploy") is None
    assert "deploy" not in [r["RoleName"] for r in iam("b-admin").list_roles()["Roles"]]
    assert ACCOUNT_B in run.stdout


def test_fleet_config_errors_name_the_target(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    config = fleet_file(tmp_path, sandbox, {"account_id": "12345", "label": "bad"})
    run = cli("plan", "--config", str(config))
    assert run.exit_code == 2
    assert "targets[3]" in run.stderr and "12 digits" in run.stderr
    bad_key = fleet_file(tmp_path, sandbox, {"target_profle": "x"})
    run = cli("plan", "--config", str(bad_key))
    assert run.exit_code == 2 and "Did you mean 'target_profile'?" in run.stderr


def test_fleet_verify_writes_nothing(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    config = fleet_file(tmp_path, sandbox)
    assert cli("apply", "--config", str(config), "--yes").exit_code == 0
    sandbox.clear_calls()
    run = cli("verify", "--config", str(config), "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert all(t["verification"]["ok"] for t in run.json()["targets"])
    assert [c for c in sandbox.calls() if c.is_write] == []


def test_fleet_diagnose_names_the_broken_target(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    config = fleet_file(tmp_path, sandbox)
    assert cli("apply", "--config", str(config), "--yes").exit_code == 0
    healthy = cli("diagnose", "--config", str(config), "--output", "json")
    assert healthy.exit_code == 0, healthy.stdout + healthy.stderr
    assert all(t["ok"] for t in healthy.json()["targets"])
    # The fleet's management profile reads the organization: the member's RCPs are judged, not unknown.
    member_checks = {t["label"]: {c["id"]: c["status"] for c in t["checks"]} for t in healthy.json()["targets"]}
    assert member_checks["member-0"]["rcp"] == "pass", member_checks["member-0"]

    member = sandbox.org_members[0]
    client = member_iam(member)
    doc = client.get_role(RoleName="deploy")["Role"]["AssumeRolePolicyDocument"]
    doc["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/admin"}
    client.update_assume_role_policy(RoleName="deploy", PolicyDocument=json.dumps(doc))
    run = cli("diagnose", "--config", str(config), "--output", "json")
    assert run.exit_code == 9
    results = {t["label"]: t for t in run.json()["targets"]}
    assert results["member-0"]["ok"] is False
    failing = {c["id"] for c in results["member-0"]["checks"] if c["status"] == "fail"}
    assert failing - {"live-assume", "cloudtrail"} == {"trust-policy"}
    assert results["b-admin"]["ok"] is True
    text = cli("diagnose", "--config", str(config))
    assert "== target member-0" in text.stdout and "2 of 3 target(s) pass every check." in text.stdout


def test_fleet_plan_with_an_unreachable_target_exits_with_its_documented_code(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    config = fleet_file(tmp_path, sandbox, {"account_id": "999999999999", "label": "gone"})
    run = cli("plan", "--config", str(config))
    assert run.exit_code not in (0, 1, 2), run.stdout + run.stderr  # 1 is for bugs, 2 for drift
    assert run.exit_code == 4  # the target could not be reached: a precondition, as for a single trust
    assert "cannot reach account 999999999999" in run.stdout + run.stderr
    detailed = cli("plan", "--config", str(config), "--detailed-exitcode")
    assert detailed.exit_code == 1  # Terraform's convention: every error is 1 with --detailed-exitcode
