"""diagnose: each cause of an AssumeRole failure, reproduced in the sandbox, is named by its check."""

from __future__ import annotations

import configparser
import json
from typing import Any

import pytest

from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_A, ACCOUNT_B, CI_USER_ARN, base_args, iam, session

ROLE = "terraform-deploy"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}"
GRANT = f"trust-bootstrap-{ACCOUNT_B}-{ROLE}"
MFA = ["--mfa-serial", f"arn:aws:iam::{ACCOUNT_A}:mfa/ci-user", "--mfa-token", "123456"]
NOT_CAUSES = {"live-assume", "cloudtrail"}


def onboard(cli: Any, *extra: str) -> None:
    run = cli(
        "apply", *base_args(ROLE), "--principal", CI_USER_ARN, "--external-id", "ext-1", "--no-verify", "--yes", *extra
    )
    assert run.exit_code == 0, run.stderr


def diagnose(
    cli: Any, *extra: str, role_arn: str = ROLE_ARN, source: str = "ci", external_id: str | None = "ext-1"
) -> Any:
    args = ["diagnose", "--role-arn", role_arn, "--source-profile", source, "--target-profile", "b-admin",
            "--source-admin-profile", "a-admin", "--output", "json", *extra]  # fmt: skip
    if external_id is not None:
        args += ["--external-id", external_id]
    return cli(*args)


def statuses(run: Any) -> dict[str, str]:
    return {c["id"]: c["status"] for c in run.json()["checks"]}


def failed(run: Any) -> set[str]:
    return {check for check, status in statuses(run).items() if status == "fail"}


def check(run: Any, check_id: str) -> dict[str, Any]:
    return next(c for c in run.json()["checks"] if c["id"] == check_id)


def test_healthy_setup_is_all_green(cli: Any) -> None:
    onboard(cli)
    run = diagnose(cli)
    assert run.exit_code == 0, run.stdout
    out = run.json()
    assert out["ok"] is True
    assert out["role_arn"] == ROLE_ARN and out["principal_arn"] == CI_USER_ARN
    assert [c["id"] for c in out["checks"]] == [
        "credentials", "role-arn", "trust-policy", "external-id", "mfa", "source-permission", "scp", "rcp",
        "session", "session-tags", "live-assume", "cloudtrail",
    ]  # fmt: skip
    assert statuses(run)["cloudtrail"] == "unknown"  # the sandbox has no CloudTrail: said, not guessed
    # Without --management-profile the SCPs are not read: said, with how to read them.
    assert statuses(run)["scp"] == statuses(run)["rcp"] == "unknown"
    assert "--management-profile" in check(run, "scp")["fix"]
    assert all(c["doc"].startswith("https://docs.aws.amazon.com/") and c["title"] for c in out["checks"])
    assert {c["kind"] for c in out["checks"] if c["id"] in ("live-assume", "cloudtrail")} == {"evidence"}
    assert "policy simulator is not available" in check(run, "source-permission")["summary"]
    assert failed(run) == set()


def test_text_output_names_the_cause_and_the_fix(cli: Any) -> None:
    onboard(cli)
    run = cli("diagnose", "--role-arn", ROLE_ARN, "--source-profile", "ci", "--target-profile", "b-admin")
    assert run.exit_code == 9
    assert "[FAIL] external-id" in run.stdout
    assert "fix: Pass it: --external-id ext-1" in run.stdout
    assert "Cause: external-id:" in run.stdout


def _set_trust_principal(principal: str) -> None:
    doc = iam("b-admin").get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    doc["Statement"][0]["Principal"] = {"AWS": principal}
    iam("b-admin").update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(doc))


def _deny_in_a() -> None:
    deny = {"Version": "2012-10-17", "Statement": [
        {"Sid": "NoCrossAccount", "Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]}  # fmt: skip
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName="guardrail", PolicyDocument=json.dumps(deny))


CAUSES: dict[str, tuple[Any, dict[str, Any], str, list[str]]] = {
    # cause: (make it, diagnose keyword arguments, the check that must fail, words in its summary or fix)
    "trust-does-not-list-principal": (
        lambda cli: _set_trust_principal(f"arn:aws:iam::{ACCOUNT_A}:user/admin"), {}, "trust-policy",
        ["no statement of the trust policy allows", '"Principal": {"AWS": "' + CI_USER_ARN]),
    "no-assume-role-in-a": (
        lambda cli: iam("a-admin").delete_user_policy(UserName="ci-user", PolicyName=GRANT), {}, "source-permission",
        ["no identity policy", "aws iam put-user-policy --user-name ci-user"]),
    "explicit-deny-in-a": (lambda cli: _deny_in_a(), {}, "source-permission", ["guardrail", "NoCrossAccount", "explicitly denies"]),
    "external-id-missing": (lambda cli: None, {"external_id": None}, "external-id", ["none was given", "--external-id ext-1"]),
    "external-id-wrong": (lambda cli: None, {"external_id": "nope"}, "external-id", ["'nope'", "does not match"]),
    "wrong-account-in-arn": (
        lambda cli: None, {"role_arn": ROLE_ARN.replace(ACCOUNT_B, "222222222223")}, "role-arn",
        ["names account 222222222223", f"Use {ROLE_ARN}"]),
    "role-name-typo": (
        lambda cli: None, {"role_arn": ROLE_ARN.replace("deploy", "deplyo")}, "role-arn",
        ["no role named terraform-deplyo", "Did you mean terraform-deploy"]),
    "duration-over-maximum": (lambda cli: None, {"extra": ("--duration-seconds", "7200")}, "session",
                              ["7200s exceeds the role's MaxSessionDuration 3600s", "update-role"]),
    "orphaned-principal": (
        lambda cli: _set_trust_principal("AROAEXAMPLEEXAMPLE123"), {}, "trust-policy", ["AROAEXAMPLEEXAMPLE123", "deleted"]),
}  # fmt: skip


@pytest.mark.parametrize("cause", list(CAUSES), ids=list(CAUSES))
def test_each_cause_is_named_by_its_check(cli: Any, cause: str) -> None:
    make, kwargs, expected, words = CAUSES[cause]
    onboard(cli)
    make(cli)
    extra = kwargs.pop("extra", ())
    run = diagnose(cli, *extra, **kwargs)
    assert run.exit_code == 9, run.stdout + run.stderr
    assert failed(run) - NOT_CAUSES == {expected}
    finding = check(run, expected)
    text = finding["summary"] + " " + finding["fix"]
    for word in words:
        assert word in text
    if expected != "role-arn":  # a wrong ARN never reaches the role, so AWS must refuse too
        assert statuses(run)["live-assume"] == "fail"


def test_mfa_required_and_not_given(cli: Any) -> None:
    onboard(cli, "--require-mfa")
    run = diagnose(cli)
    assert run.exit_code == 9
    assert failed(run) - NOT_CAUSES == {"mfa"}
    assert "--mfa-serial" in check(run, "mfa")["fix"]
    assert diagnose(cli, *MFA).exit_code == 0


def test_expired_credentials(cli: Any, sandbox: Sandbox) -> None:
    onboard(cli)
    creds = session("ci").client("sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="ss", ExternalId="ext-1")
    keys = creds["Credentials"]
    files = configparser.ConfigParser()
    files.read(sandbox.credentials_file)
    files["stale"] = {"aws_access_key_id": keys["AccessKeyId"], "aws_secret_access_key": keys["SecretAccessKey"],
                      "aws_session_token": keys["SessionToken"]}  # fmt: skip
    with sandbox.credentials_file.open("w") as out:
        files.write(out)
    with sandbox.config_file.open("a") as out:
        out.write(f"\n[profile stale]\nregion = us-east-1\nendpoint_url = {sandbox.endpoint}\n")
    sandbox.expire_session(keys["AccessKeyId"])
    run = diagnose(cli, source="stale")
    assert run.exit_code == 9
    assert failed(run) - NOT_CAUSES == {"credentials"}
    assert "expired" in check(run, "credentials")["summary"]
    assert "aws sso login" in check(run, "credentials")["fix"]


def test_without_a_target_profile_the_checks_that_need_b_are_unknown(cli: Any) -> None:
    onboard(cli)
    iam("a-admin").delete_user_policy(UserName="ci-user", PolicyName=GRANT)
    run = cli(
        "diagnose", "--role-arn", ROLE_ARN, "--source-profile", "ci", "--external-id", "ext-1", "--output", "json"
    )
    assert run.exit_code == 9
    got = statuses(run)
    assert got["trust-policy"] == got["external-id"] == got["mfa"] == got["cloudtrail"] == "unknown"
    assert got["live-assume"] == "fail"
    assert "not authorized to perform: sts:AssumeRole" in check(run, "live-assume")["summary"]
    assert got["source-permission"] == "unknown"  # ci may not read its own policies: said, with the fix
    assert "--source-admin-profile" in check(run, "source-permission")["fix"]


def test_diagnose_from_the_apply_config_file(cli: Any, tmp_path: Any) -> None:
    onboard(cli)
    config = tmp_path / "trust.yaml"
    config.write_text(
        f"source_profile: a-admin\ntarget_profile: b-admin\nrole_name: {ROLE}\nprincipal: {CI_USER_ARN}\n"
        "verify_profile: ci\nexternal_id: ext-1\n"
    )
    run = cli("diagnose", "--config", str(config), "--output", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.json()["role_arn"] == ROLE_ARN
    assert statuses(run)["source-permission"] == "pass"  # read through the config's source (admin) profile


def test_bad_role_arn_is_invalid_input(cli: Any) -> None:
    run = cli("diagnose", "--role-arn", "arn:aws:s3:::bucket", "--source-profile", "ci")
    assert run.exit_code == 2
    assert "not an IAM role ARN" in run.stderr


def test_apply_verification_failure_walks_the_checks(cli: Any, sandbox: Sandbox) -> None:
    sandbox.propagation_delay = 60
    run = cli("apply", *base_args(ROLE), "--principal", CI_USER_ARN, "--verify-profile", "ci", "--verify-timeout", "1",
              "--yes")  # fmt: skip
    assert run.exit_code == 7
    assert "walking the diagnose checks" in run.stderr
    assert "[ok  ] trust-policy" in run.stderr
    assert "[FAIL] live-assume" in run.stderr
    assert "Cause not found by the static checks" in run.stderr


def _set_trust(*statements: dict[str, Any]) -> None:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    iam("b-admin").update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(doc))


def _allow(principal: str = CI_USER_ARN, **condition: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    return statement | ({"Condition": condition} if condition else {})


def test_a_deny_on_a_key_the_call_lacks_does_not_apply(cli: Any) -> None:
    # AWS: a condition on a key absent from the request is false (condition operators, "Important"),
    # so this Deny does not apply to a call without an ExternalId; the Allow does.
    onboard(cli)
    deny = {"Sid": "NoPartnerX", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "partner-x"}}}  # fmt: skip
    _set_trust(deny, _allow())
    run = diagnose(cli, external_id=None)
    got = statuses(run)
    assert got["trust-policy"] == got["external-id"] == got["mfa"] == "pass", run.stdout
    assert "explicitly denies" not in check(run, "trust-policy")["summary"]
    denied = diagnose(cli, external_id="partner-x")  # and with that ExternalId, it does apply
    assert statuses(denied)["trust-policy"] == "fail" and "NoPartnerX" in check(denied, "trust-policy")["summary"]


def test_external_id_and_mfa_are_judged_in_one_statement(cli: Any) -> None:
    # AWS: every condition of one statement must hold. Statement 1 wants the ExternalId (and MFA if
    # present), statement 2 wants MFA: a call with neither meets no statement whole.
    onboard(cli)
    _set_trust(
        _allow(StringEquals={"sts:ExternalId": "ext-1"}, BoolIfExists={"aws:MultiFactorAuthPresent": "true"}),
        _allow(f"arn:aws:iam::{ACCOUNT_A}:root", Bool={"aws:MultiFactorAuthPresent": "true"}),
    )
    run = diagnose(cli, external_id=None)
    assert run.exit_code == 9, run.stdout
    assert run.json()["ok"] is False
    assert "fail" in {statuses(run)[c] for c in ("trust-policy", "external-id", "mfa")}
    assert statuses(run)["external-id"] == "fail" and "statement 1" in check(run, "external-id")["summary"]


def test_without_an_admin_profile_a_missing_grant_is_inferred_on_the_source_side(cli: Any) -> None:
    onboard(cli)
    iam("a-admin").delete_user_policy(UserName="ci-user", PolicyName=GRANT)
    run = cli("diagnose", "--role-arn", ROLE_ARN, "--source-profile", "ci", "--target-profile", "b-admin",
              "--external-id", "ext-1", "--output", "json")  # fmt: skip
    assert run.exit_code == 9, run.stdout + run.stderr
    finding = check(run, "source-permission")
    assert finding["status"] == "inferred" and finding["summary"].startswith("inferred, not read")
    assert "--source-admin-profile" in finding["fix"]
    assert run.json()["ok"] is False
    assert run.json()["conclusion"].startswith("Cause (inferred, not read)")


def test_without_an_admin_profile_an_explicit_deny_is_inferred_and_text_says_so(cli: Any) -> None:
    onboard(cli)
    _deny_in_a()
    run = cli("diagnose", "--role-arn", ROLE_ARN, "--source-profile", "ci", "--target-profile", "b-admin",
              "--external-id", "ext-1")  # fmt: skip
    assert run.exit_code == 9, run.stdout + run.stderr
    assert "[INFR] source-permission  inferred, not read" in run.stdout
    assert "Cause (inferred, not read): source-permission" in run.stdout
    assert "look right" not in run.stdout  # nothing claims the source permissions were checked


OPTIONAL = ["SimulatePrincipalPolicy", "LookupEvents", "DescribeOrganization", "ListParents"]


def test_an_html_answer_to_the_policy_reads_leaves_source_permission_unknown(cli: Any, sandbox: Sandbox) -> None:
    from bootstrap.sandbox.faults import Fault

    onboard(cli)
    sandbox.inject(Fault("ListGroupsForUser", "html", 20))
    run = diagnose(cli)
    assert run.exit_code == 0, run.stdout + run.stderr
    finding = check(run, "source-permission")
    assert finding["status"] == "unknown"
    assert "not an AWS response" in finding["summary"] or "HTTP 500 without an AWS error code" in finding["summary"]
    assert "<html" not in run.stdout.lower()


@pytest.mark.parametrize("code", ["html", "garbage", "ServiceFailure", "Throttling"])
def test_odd_answers_from_optional_sources_leave_the_run_clean(cli: Any, sandbox: Sandbox, code: str) -> None:
    from bootstrap.sandbox.faults import Fault

    onboard(cli)
    for operation in OPTIONAL:
        sandbox.inject(Fault(operation, code, 20))
    run = diagnose(cli, "--management-profile", "org-admin")
    assert run.exit_code == 0, run.stdout + run.stderr  # the healthy trust is still judged healthy
    text = run.stdout + run.stderr
    assert "<html" not in text.lower() and "Internal error" not in text and "Traceback" not in text
    got = statuses(run)
    assert got["cloudtrail"] == got["scp"] == got["rcp"] == "unknown", run.stdout
    for line in (check(run, c)["summary"] for c in ("cloudtrail", "scp")):
        assert "\n" not in line and len(line) < 400
    assert "policy simulator gave no answer" in check(run, "source-permission")["summary"]


def _add_profile(sandbox: Sandbox, name: str, key_id: str, secret: str) -> None:
    files = configparser.ConfigParser()
    files.read(sandbox.credentials_file)
    files[name] = {"aws_access_key_id": key_id, "aws_secret_access_key": secret}
    with sandbox.credentials_file.open("w") as out:
        files.write(out)
    with sandbox.config_file.open("a") as out:
        out.write(f"\n[profile {name}]\nregion = us-east-1\nendpoint_url = {sandbox.endpoint}\n")


def _member_iam(member: str) -> Any:
    """IAM in an organization member account, through the access role the management account uses."""
    access_role = f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
    creds = session("org-admin").client("sts").assume_role(RoleArn=access_role, RoleSessionName="seed")
    keys = creds["Credentials"]
    return session("org-admin").client(
        "iam", aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )  # fmt: skip


def _member_caller(sandbox: Sandbox, role_name: str) -> str:
    """A user 'deployer' in the first member account (in the sandbox organization's OU), granted
    sts:AssumeRole on a role of B that trusts it; its profile is 'member-ci'. Returns the role ARN."""
    member = sandbox.org_members[0]
    member_iam = _member_iam(member)
    role_arn = f"arn:aws:iam::{ACCOUNT_B}:role/{role_name}"
    member_iam.create_user(UserName="deployer")
    grant = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
    }
    member_iam.put_user_policy(UserName="deployer", PolicyName="grant", PolicyDocument=json.dumps(grant))
    key = member_iam.create_access_key(UserName="deployer")["AccessKey"]
    _add_profile(sandbox, "member-ci", key["AccessKeyId"], key["SecretAccessKey"])
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{member}:user/deployer"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam("b-admin").create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
    return role_arn


def test_scp_check_finds_a_deny_scp_in_the_organization(cli: Any, sandbox: Sandbox) -> None:
    role_arn = _member_caller(sandbox, "scp-target")
    args = ["diagnose", "--role-arn", role_arn, "--source-profile", "member-ci", "--target-profile", "b-admin",
            "--management-profile", "org-admin", "--output", "json"]  # fmt: skip
    before = cli(*args)
    assert statuses(before)["scp"] == "pass", before.stdout  # FullAWSAccess at every level
    assert "root" in check(before, "scp")["summary"]
    assert statuses(before)["rcp"] == "unknown"  # B is not a member of the sandbox organization
    org = session("org-admin").client("organizations")
    deny = {"Version": "2012-10-17", "Statement": [
        {"Sid": "NoRoleHopping", "Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]}  # fmt: skip
    policy = org.create_policy(Name="no-assume", Description="test", Type="SERVICE_CONTROL_POLICY",
                               Content=json.dumps(deny))["Policy"]["PolicySummary"]["Id"]  # fmt: skip
    org.attach_policy(PolicyId=policy, TargetId=sandbox.org_unit)
    try:
        run = cli(*args)
    finally:
        org.detach_policy(PolicyId=policy, TargetId=sandbox.org_unit)
        org.delete_policy(PolicyId=policy)
    assert run.exit_code == 9, run.stdout + run.stderr
    finding = check(run, "scp")
    assert finding["status"] == "fail", run.stdout
    for word in ("no-assume", "NoRoleHopping", f"OU {sandbox.org_unit}", "explicitly denies"):
        assert word in finding["summary"]
    assert "update-policy" in finding["fix"]


def test_rcp_check_finds_a_deny_rcp_on_the_role_account(cli: Any, sandbox: Sandbox) -> None:
    member = sandbox.org_members[1]
    role_arn = f"arn:aws:iam::{member}:role/rcp-target"
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": CI_USER_ARN}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    _member_iam(member).create_role(RoleName="rcp-target", AssumeRolePolicyDocument=json.dumps(trust))
    grant = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
    }
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName="grant", PolicyDocument=json.dumps(grant))
    args = ["diagnose", "--role-arn", role_arn, "--source-profile", "ci", "--source-admin-profile", "a-admin",
            "--management-profile", "org-admin", "--output", "json"]  # fmt: skip
    assert statuses(cli(*args))["rcp"] == "pass"  # RCPFullAWSAccess at every level
    org = session("org-admin").client("organizations")
    guard = {"Version": "2012-10-17", "Statement": [
        {"Sid": "OrgCallersOnly", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalAccount": member}}}]}  # fmt: skip
    policy = org.create_policy(Name="org-only", Description="test", Type="RESOURCE_CONTROL_POLICY",
                               Content=json.dumps(guard))["Policy"]["PolicySummary"]["Id"]  # fmt: skip
    org.attach_policy(PolicyId=policy, TargetId=member)
    try:
        run = cli(*args)
    finally:
        org.detach_policy(PolicyId=policy, TargetId=member)
        org.delete_policy(PolicyId=policy)
    assert run.exit_code == 9, run.stdout + run.stderr
    finding = check(run, "rcp")
    assert finding["status"] == "fail" and "OrgCallersOnly" in finding["summary"], run.stdout
    assert f"account {member}" in finding["summary"]
    assert statuses(run)["scp"] == "unknown"  # A is not a member of the sandbox organization: said, not guessed
    assert "not a member" in check(run, "scp")["summary"]
