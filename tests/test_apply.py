"""First onboarding through the CLI, against the sandbox with IAM authorization on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    CI_USER_ARN,
    READ_ONLY,
    assume,
    base_args,
    iam,
    role_names,
    session,
    user_policies,
)

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/terraform-deploy"
GRANT = f"trust-bootstrap-{ACCOUNT_B}-terraform-deploy"


def onboard(cli: Any, *extra: str, role: str = "terraform-deploy") -> Any:
    return cli(
        "apply",
        *base_args(role),
        "--principal",
        CI_USER_ARN,
        "--verify-profile",
        "ci",
        "--yes",
        "--output",
        "json",
        *extra,
    )


def test_first_onboarding_creates_both_sides_and_verifies(cli: Any) -> None:
    run = onboard(cli, "--external-id", "my_external_id", "--policy-arn", READ_ONLY, "--tag", "team=platform")
    assert run.exit_code == 0, run.stderr
    out = run.json()
    assert out["role_arn"] == ROLE_ARN
    assert out["principal_arn"] == CI_USER_ARN
    assert out["external_id"] == "my_external_id"
    assert {(c["account"], c["action"]) for c in out["changes"]} == {
        (ACCOUNT_B, "create"),
        (ACCOUNT_A, "create"),
    }
    resources = [c["resource"] for c in out["changes"]]
    assert f"role {ROLE_ARN}" in resources
    assert f"role/terraform-deploy managed policy {READ_ONLY}" in resources
    assert f"user/ci-user inline policy {GRANT}" in resources
    assert out["verification"]["ok"] is True
    assert out["verification"]["assumed_arn"].startswith(f"arn:aws:sts::{ACCOUNT_B}:assumed-role/terraform-deploy/")
    assert out["verification"]["attempts"] >= 1

    role = iam("b-admin").get_role(RoleName="terraform-deploy")["Role"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": CI_USER_ARN}  # the exact principal, never * or :root
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "my_external_id"}}
    tags = {t["Key"]: t["Value"] for t in role["Tags"]}
    assert tags == {"team": "platform", "trust-bootstrap:managed": "true"}
    attached = iam("b-admin").list_attached_role_policies(RoleName="terraform-deploy")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [READ_ONLY]

    grant = iam("a-admin").get_user_policy(UserName="ci-user", PolicyName=GRANT)["PolicyDocument"]
    (allow,) = grant["Statement"]
    assert allow["Action"] == "sts:AssumeRole"
    assert allow["Resource"] == ROLE_ARN  # exactly the new role, never "*"


def test_external_id_is_enforced(cli: Any) -> None:
    assert onboard(cli, "--external-id", "my_external_id").exit_code == 0
    for kwargs in ({}, {"ExternalId": "wrong_id"}):
        with pytest.raises(ClientError) as denied:
            assume("ci", ROLE_ARN, **kwargs)
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert assume("ci", ROLE_ARN, ExternalId="my_external_id").endswith("assumed-role/terraform-deploy/test")


def test_mfa_required_is_enforced_and_verified_with_a_code(cli: Any) -> None:
    mfa = ["--mfa-serial", f"arn:aws:iam::{ACCOUNT_A}:mfa/ci-user", "--mfa-token", "123456"]
    run = onboard(cli, "--require-mfa", "--mfa-max-age", "3600", *mfa)
    assert run.exit_code == 0, run.stderr
    assert run.json()["verification"]["ok"] is True
    condition = iam("b-admin").get_role(RoleName="terraform-deploy")["Role"]["AssumeRolePolicyDocument"]["Statement"][
        0
    ]["Condition"]
    assert condition["Bool"] == {"aws:MultiFactorAuthPresent": "true"}
    assert condition["NumericLessThan"] == {"aws:MultiFactorAuthAge": "3600"}
    with pytest.raises(ClientError):
        assume("ci", ROLE_ARN)
    serial = f"arn:aws:iam::{ACCOUNT_A}:mfa/ci-user"
    assert assume("ci", ROLE_ARN, SerialNumber=serial, TokenCode="654321").endswith("/test")


def test_mfa_required_without_a_code_refuses_to_verify_before_writing(cli: Any) -> None:
    run = onboard(cli, "--require-mfa")
    assert run.exit_code == 2
    assert "--mfa-serial" in run.stderr and "--no-verify" in run.stderr
    assert "terraform-deploy" not in role_names()


def test_without_the_source_grant_the_principal_cannot_assume(cli: Any) -> None:
    assert onboard(cli).exit_code == 0
    assert assume("ci", ROLE_ARN).endswith("/test")
    iam("a-admin").delete_user_policy(UserName="ci-user", PolicyName=GRANT)
    with pytest.raises(ClientError) as denied:
        assume("ci", ROLE_ARN)
    assert "is not authorized to perform: sts:AssumeRole" in str(denied.value)


def test_verification_waits_through_propagation(cli: Any, sandbox: Any) -> None:
    sandbox.propagation_delay = 3
    run = onboard(cli)
    assert run.exit_code == 0, run.stderr
    verification = run.json()["verification"]
    assert verification["ok"] is True
    assert verification["attempts"] > 1
    assert verification["waited_s"] >= 2.5  # no upper bound: the machine may be loaded
    assert "waiting for IAM propagation" in run.stderr


def test_verification_timeout_reports_both_sides_in_place(cli: Any, sandbox: Any) -> None:
    sandbox.propagation_delay = 60
    run = onboard(cli, "--verify-timeout", "2")
    assert run.exit_code == 7
    assert "Both sides are in place" in run.stderr
    assert "Not verified" in run.stderr
    out = run.json()
    assert out["verification"]["ok"] is False
    assert out["verification"]["attempts"] >= 2
    assert "terraform-deploy" in role_names()
    assert GRANT in user_policies()


def test_role_principal_is_verified_by_assuming_it_from_the_source_profile(cli: Any) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/admin"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam("a-admin").create_role(RoleName="deployer", Path="/ci/", AssumeRolePolicyDocument=json.dumps(trust))
    principal = f"arn:aws:iam::{ACCOUNT_A}:role/ci/deployer"
    run = cli("apply", *base_args(), "--principal", principal, "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr
    out = run.json()
    assert out["principal_arn"] == principal
    assert out["verification"]["ok"] is True
    assert GRANT in iam("a-admin").list_role_policies(RoleName="deployer")["PolicyNames"]


def test_role_principal_the_source_profile_may_not_assume_is_refused_with_awss_code(cli: Any) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_B}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam("a-admin").create_role(RoleName="elsewhere", AssumeRolePolicyDocument=json.dumps(trust))
    principal = f"arn:aws:iam::{ACCOUNT_A}:role/elsewhere"
    run = cli("apply", *base_args(), "--principal", principal, "--yes")
    assert run.exit_code == 4, run.stderr
    assert "cannot assume the principal role (AccessDenied)" in run.stderr
    assert "Nothing was written" in run.stderr
    assert "terraform-deploy" not in role_names()


def test_default_principal_is_the_source_profile_itself(cli: Any) -> None:
    run = cli(
        "apply",
        "--source-profile",
        "ci",
        "--target-profile",
        "b-admin",
        "--role-name",
        "self",
        "--no-verify",
        "--yes",
        "--output",
        "json",
    )
    # ci-user may not even read IAM: refused before any write, naming the missing permission.
    assert run.exit_code == 4
    assert "not authorized to perform: iam:GetUser" in run.stderr
    assert "self" not in role_names()
    run = cli("apply", *base_args("self2"), "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["principal_arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/admin"


def test_user_principal_without_verify_profile_refuses_before_writing(cli: Any) -> None:
    run = cli("apply", *base_args(), "--principal", CI_USER_ARN, "--yes")
    assert run.exit_code == 4
    assert "--verify-profile" in run.stderr and "--no-verify" in run.stderr
    assert "terraform-deploy" not in role_names()
    assert user_policies() == []


def test_non_interactive_without_yes_refuses_before_writing(cli: Any) -> None:
    run = cli("apply", *base_args(), "--principal", CI_USER_ARN, "--verify-profile", "ci")
    assert run.exit_code == 5
    assert "--yes" in run.stderr
    assert "+ create role" in run.stdout  # the plan is shown first
    assert "terraform-deploy" not in role_names()
    assert user_policies() == []


def test_generated_external_id_is_printed_once_and_kept_on_rerun(cli: Any) -> None:
    first = onboard(cli, "--generate-external-id")
    assert first.exit_code == 0, first.stderr
    generated = first.json()["external_id"]
    assert len(generated) >= 32
    assert assume("ci", ROLE_ARN, ExternalId=generated).endswith("/test")
    again = cli(
        "apply",
        *base_args(),
        "--principal",
        CI_USER_ARN,
        "--verify-profile",
        "ci",
        "--yes",
        "--generate-external-id",
    )
    assert again.exit_code == 0, again.stderr
    assert "No changes" in again.stdout
    assert "generated" not in again.stdout


def test_rerun_without_drift_makes_no_writes(cli: Any, sandbox: Any) -> None:
    assert onboard(cli, "--policy-arn", READ_ONLY, "--external-id", "abc123").exit_code == 0
    sandbox.clear_calls()
    run = onboard(cli, "--policy-arn", READ_ONLY, "--external-id", "abc123")
    assert run.exit_code == 0
    assert run.json()["changes"] == []
    assert [c.operation for c in sandbox.calls() if c.is_write] == []


def test_config_file_with_flags_overriding(cli: Any, tmp_path: Path) -> None:
    policy = tmp_path / "s3.json"
    policy.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
            }
        )
    )
    config = tmp_path / "trust.yaml"
    config.write_text(
        "source_profile: a-admin\n"
        "target_profile: b-admin\n"
        "role_name: from-file\n"
        f"principal: {CI_USER_ARN}\n"
        "verify_profile: ci\n"
        "external_id: file_id\n"
        "max_session_duration: 7200\n"
        "path: /cross-account/\n"
        "description: made from a file\n"
        "inline_policies:\n  list-buckets: s3.json\n"
        "tags:\n  owner: platform\n"
    )
    run = cli("apply", "--config", str(config), "--external-id", "flag_id", "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr
    out = run.json()
    assert out["role_arn"] == f"arn:aws:iam::{ACCOUNT_B}:role/cross-account/from-file"
    assert out["external_id"] == "flag_id"
    role = iam("b-admin").get_role(RoleName="from-file")["Role"]
    assert role["MaxSessionDuration"] == 7200
    assert role["Description"] == "made from a file"
    document = iam("b-admin").get_role_policy(RoleName="from-file", PolicyName="list-buckets")["PolicyDocument"]
    assert document["Statement"][0]["Action"] == "s3:ListAllMyBuckets"


def test_verify_command_proves_the_trust_without_writing(cli: Any, sandbox: Any) -> None:
    args = [*base_args(), "--principal", CI_USER_ARN, "--verify-profile", "ci", "--external-id", "x-1"]
    assert cli("verify", *args).exit_code == 7  # nothing there yet
    assert cli("apply", *args, "--yes").exit_code == 0
    sandbox.clear_calls()
    run = cli("verify", *args, "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["verification"]["ok"] is True
    assert run.json()["changes"] == []
    assert [c for c in sandbox.calls() if c.is_write] == []
    iam("a-admin").delete_user_policy(UserName="ci-user", PolicyName=GRANT)
    broken = cli("verify", *args, "--verify-timeout", "1")
    assert broken.exit_code == 7
    assert "[FAIL] source-permission" in broken.stderr


def test_verify_profile_that_is_not_the_principal_is_refused_before_writing(cli: Any) -> None:
    run = cli("apply", *base_args(), "--principal", CI_USER_ARN, "--verify-profile", "a-admin", "--yes")
    assert run.exit_code == 4
    assert "the verify profile 'a-admin' is arn:aws:iam::111111111111:user/admin, not the principal" in run.stderr
    assert "terraform-deploy" not in role_names()
    assert user_policies() == []


def test_default_principal_of_a_role_session_is_the_role_with_its_path(cli: Any, sandbox: Any) -> None:
    admin_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/admin"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    a = iam("a-admin")
    a.create_role(RoleName="platform", Path="/ops/", AssumeRolePolicyDocument=json.dumps(admin_trust))
    a.put_role_policy(RoleName="platform", PolicyName="all", PolicyDocument=json.dumps(everything))
    creds = (
        session("a-admin")
        .client("sts")
        .assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_A}:role/ops/platform", RoleSessionName="me")["Credentials"]
    )
    with sandbox.credentials_file.open("a") as out:
        out.write(
            f"\n[platform-session]\naws_access_key_id = {creds['AccessKeyId']}\n"
            f"aws_secret_access_key = {creds['SecretAccessKey']}\naws_session_token = {creds['SessionToken']}\n"
        )
    with sandbox.config_file.open("a") as out:
        out.write(f"\n[profile platform-session]\nregion = us-east-1\nendpoint_url = {sandbox.endpoint}\n")
    run = cli("apply", "--source-profile", "platform-session", "--target-profile", "b-admin", "--role-name", "from-role",
              "--external-id", "ext-1", "--yes", "--output", "json")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    out = run.json()
    assert out["principal_arn"] == f"arn:aws:iam::{ACCOUNT_A}:role/ops/platform"  # the role, path included
    assert out["verification"]["ok"] is True  # verified as the source profile itself (role chaining)
    trust = iam("b-admin").get_role(RoleName="from-role")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_A}:role/ops/platform"}
