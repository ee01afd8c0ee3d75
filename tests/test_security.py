"""Security review findings (issue 18): no injection into files people execute, safe file writes,
a locked sandbox. Each test drives the CLI (or the sandbox over HTTP) as an attacker or a careless
operator would."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bootstrap.exports import awsconfig
from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_A, ACCOUNT_B, CI_USER_ARN

ROLE = "terraform-deploy"
PLANT = "[profile pwn]\ncredential_process = /bin/sh -c 'touch /tmp/pwned'"
OFFLINE = ["export", "--role-name", ROLE, "--principal", CI_USER_ARN, "--offline", "--target-account", ACCOUNT_B,
           "--format", "aws-config", "--write"]  # fmt: skip


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


# -- 1. injection through values written into ~/.aws/config ---------------------------------------

INJECTIONS = [
    ("verify-profile-in-config-file", {"verify_profile": "pwn\n" + PLANT}, []),
    ("source-profile-flag-offline", {}, ["--source-profile", "ci\n" + PLANT]),
    ("profile-name-flag", {}, ["--profile-name", "x]\ncredential_process = /bin/sh -c id"]),
    ("profile-name-with-space", {}, ["--profile-name", "deploy b"]),
    (
        "mfa-serial-suffix",
        {"require_mfa": True, "mfa_serial": f"arn:aws:iam::{ACCOUNT_A}:mfa/x\n{PLANT}", "mfa_token": "123456"},
        [],
    ),
    ("mfa-serial-not-an-arn", {"require_mfa": True, "mfa_serial": "GAHT12345678]\n", "mfa_token": "123456"}, []),
]


@pytest.mark.parametrize(("case", "keys", "flags"), INJECTIONS, ids=[c[0] for c in INJECTIONS])
def test_injection_into_the_aws_config_is_refused_and_nothing_is_written(
    cli: Any, sandbox: Sandbox, tmp_path: Path, case: str, keys: dict[str, Any], flags: list[str]
) -> None:
    import yaml

    config = tmp_path / "trust.yaml"
    config.write_text(yaml.safe_dump({"role_name": ROLE, **keys}))
    before = _snapshot(sandbox.config_file.parent)
    sandbox.clear_calls()
    run = cli(*OFFLINE, "--config", str(config), *(flags or ["--profile-name", "deploy-b"]))
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "Error:" in run.stderr and "Traceback" not in run.stderr
    assert _snapshot(sandbox.config_file.parent) == before
    assert "pwn" not in sandbox.config_file.read_text()
    if "--profile-name" in flags:
        return  # an export-only flag
    plan = cli("plan", "--config", str(config), "--source-profile", "a-admin", "--target-profile", "b-admin", *flags)
    assert plan.exit_code == 2, plan.stdout + plan.stderr
    assert sandbox.calls() == []  # refused at config load, before any AWS call


@pytest.mark.parametrize("serial", [f"arn:aws:iam::{ACCOUNT_A}:mfa/ci-user", "GAHT12345678"])
def test_a_full_mfa_device_arn_is_written(cli: Any, sandbox: Sandbox, serial: str) -> None:
    # A device ARN, or a legacy hardware token's serial number: both are what STS takes as SerialNumber.
    run = cli(*OFFLINE, "--profile-name", "deploy-b", "--require-mfa", "--source-profile", "ci",
              "--mfa-serial", serial, "--mfa-token", "123456")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert f"mfa_serial = {serial}\n" in sandbox.config_file.read_text()


# -- 2. the files the tool writes ----------------------------------------------------------------


def test_concurrent_writers_keep_every_profile(sandbox: Sandbox) -> None:
    env = {**os.environ, **sandbox.env()}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bootstrap", *OFFLINE, "--profile-name", f"p{i}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    text = sandbox.config_file.read_text()
    assert all(f"[profile p{i}]" in text for i in range(4)), text


def test_upsert_under_a_lock_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config"
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for n in range(10):
                name = f"w{worker}-{n}"
                awsconfig.upsert_profile(path, name, f"[profile {name}]\nregion = us-east-1\n", force=False)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    text = path.read_text()
    assert sum(text.count(f"[profile w{w}-{n}]") for w in range(4) for n in range(10)) == 40


def test_a_backup_link_is_replaced_not_followed(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    victim.chmod(0o640)
    backup = sandbox.config_file.with_name("config.bak")
    backup.unlink(missing_ok=True)
    backup.symlink_to(victim)
    run = cli(*OFFLINE, "--profile-name", "deploy-b")
    assert run.exit_code == 0, run.stderr
    assert victim.read_text() == "precious\n" and stat.S_IMODE(victim.stat().st_mode) == 0o640
    assert not backup.is_symlink() and "[profile a-admin]" in backup.read_text()


def test_a_config_that_is_a_link_stays_a_link_and_the_message_names_the_real_file(
    cli: Any, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "dotfiles" / "aws-config"
    real.parent.mkdir()
    real.write_text(sandbox.config_file.read_text())
    link = tmp_path / "config"
    link.symlink_to(real)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(link))
    run = cli(*OFFLINE, "--profile-name", "deploy-b")
    assert run.exit_code == 0, run.stderr
    assert link.is_symlink() and "[profile deploy-b]" in real.read_text()
    assert f"to {real} (the file {link} links to)" in run.stderr


def test_a_dangling_config_link_is_not_written_through(
    cli: Any, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = tmp_path / "config"
    link.symlink_to(tmp_path / "elsewhere" / "planted")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(link))
    run = cli(*OFFLINE, "--profile-name", "deploy-b")
    assert run.exit_code == 2 and "does not exist" in run.stderr
    assert not (tmp_path / "elsewhere").exists()


def test_init_refuses_a_dangling_link_and_leaves_no_invalid_file(cli: Any, tmp_path: Path) -> None:
    link = tmp_path / "trust.yaml"
    link.symlink_to(tmp_path / "planted.yaml")
    for extra in ([], ["--force"]):
        run = cli("init", str(link), "--role-name", "deploy", "--no-interactive", *extra)
        assert run.exit_code == 2, run.stderr
        assert not (tmp_path / "planted.yaml").exists()
    bad = tmp_path / "bad.yaml"
    run = cli("init", str(bad), "--role-name", "deploy", "--source-profile", "a b", "--no-interactive")
    assert run.exit_code == 2 and "profile name" in run.stderr
    assert "Nothing was written" in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trust.yaml"]  # no invalid file, no temp file


def test_sandbox_credentials_replace_a_planted_link_and_are_private(sandbox: Sandbox, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("mine\n")
    sandbox.credentials_file.unlink()
    sandbox.credentials_file.symlink_to(victim)
    sandbox.reset()  # writes the files anew
    assert victim.read_text() == "mine\n"
    assert not sandbox.credentials_file.is_symlink()
    assert stat.S_IMODE(sandbox.credentials_file.stat().st_mode) == 0o600


# -- 3. the sandbox's control API ----------------------------------------------------------------


def test_moto_api_needs_the_sandbox_owners_secret(sandbox: Sandbox) -> None:
    for method, path, body in (("GET", "/moto-api/data.json", None), ("POST", "/moto-api/reset-auth", b"inf"),
                               ("POST", "/moto-api/reset", b"")):  # fmt: skip
        request = urllib.request.Request(sandbox.endpoint + path, data=body, method=method)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403
        answer = refused.value.read().decode()
        assert not any(secret in answer for secret in sandbox.secrets())
    # Authorization is still on: an unknown key is refused; the seeded profiles still work.
    stranger = boto3.client("sts", endpoint_url=sandbox.endpoint, region_name="us-east-1",
                            aws_access_key_id="AKIASTRANGER", aws_secret_access_key="x")  # fmt: skip
    with pytest.raises(ClientError):
        stranger.get_caller_identity()
    assert boto3.Session(profile_name="b-admin").client("sts").get_caller_identity()["Account"] == ACCOUNT_B


# -- 6. rendering ----------------------------------------------------------------------------------


def test_terraform_role_is_utf8_hcl_that_terraform_parses(cli: Any, tmp_path: Path) -> None:
    policy = tmp_path / "odd.json"
    odd = "smile \U0001f600 bell \b feed \f del \x7f ${var.x} \\b"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/x": odd}}}]}, ensure_ascii=False), encoding="utf-8")  # fmt: skip
    run = cli("export", "--role-name", ROLE, "--principal", CI_USER_ARN, "--offline", "--target-account", ACCOUNT_B,
              "--format", "terraform-role", "--inline-policy", f"odd={policy}",
              "--description", "tab\there, é")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert "\U0001f600" in run.stdout and "\\ud83d" not in run.stdout
    assert "\\b" not in run.stdout.replace("\\\\b", "") and "\\f" not in run.stdout
    assert "$${var.x}" in run.stdout
    checked = subprocess.run(
        ["terraform", "fmt", "-"], input=run.stdout.encode("utf-8"), capture_output=True, check=False
    )
    assert checked.returncode == 0, checked.stderr.decode()


TAGS = [("newline", "team=a\nb"), ("form-feed", "team=a\x0cb"), ("emoji", "team=\U0001f600"), ("tab", "te\tam=x")]


@pytest.mark.parametrize(("case", "tag"), TAGS, ids=[t[0] for t in TAGS])
def test_tags_follow_iams_model_pattern(cli: Any, sandbox: Sandbox, case: str, tag: str) -> None:
    sandbox.clear_calls()
    run = cli("plan", "--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", ROLE, "--tag", tag)
    assert run.exit_code == 2, run.stderr
    # line breaks and control characters are refused at the door (any identifier), before IAM's pattern
    refused = "botocore's model" if case == "emoji" else "one line of printable characters"
    assert refused in run.stderr and sandbox.calls() == []


def test_unicode_letters_and_spaces_are_valid_tags(cli: Any) -> None:
    run = cli("export", "--role-name", ROLE, "--principal", CI_USER_ARN, "--offline", "--target-account", ACCOUNT_B,
              "--format", "json", "--tag", "équipe=plate forme ü")  # fmt: skip
    assert run.exit_code == 0, run.stderr


# -- 5. ownership and admin-equivalent policies --------------------------------------------------

OWNED_ARGS = ["--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", ROLE,
              "--principal", CI_USER_ARN, "--no-verify"]  # fmt: skip


def _foreign_role_tagged_as_ours() -> dict[str, Any]:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    b = boto3.Session(profile_name="b-admin").client("iam")
    b.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust),
                  Tags=[{"Key": "trust-bootstrap:managed", "Value": "true"}])  # fmt: skip
    b.put_role_policy(RoleName=ROLE, PolicyName="theirs", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))  # fmt: skip
    return dict(b.get_role(RoleName=ROLE)["Role"])


def test_a_foreign_role_tagged_as_ours_is_not_owned(cli: Any, sandbox: Sandbox) -> None:
    before = _foreign_role_tagged_as_ours()
    sandbox.clear_calls()
    plan = cli("plan", *OWNED_ARGS, "--output", "json")
    assert plan.exit_code == 0, plan.stderr
    assert plan.json()["not_owned"] == [
        f"role arn:aws:iam::{ACCOUNT_B}:role/{ROLE} exists, not managed by trust-bootstrap "
        "(tagged as ours, but without our trust statement)"
    ]
    apply = cli("apply", *OWNED_ARGS, "--yes")
    assert apply.exit_code == 8, apply.stdout + apply.stderr
    teardown = cli("teardown", *OWNED_ARGS[:-1], "--yes")  # teardown verifies nothing: no --no-verify
    assert teardown.exit_code == 8, teardown.stdout + teardown.stderr
    assert [c for c in sandbox.calls() if c.is_write] == []
    b = boto3.Session(profile_name="b-admin").client("iam")
    after = b.get_role(RoleName=ROLE)["Role"]
    assert after["AssumeRolePolicyDocument"] == before["AssumeRolePolicyDocument"]
    assert b.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["theirs"]
    adopted = cli("apply", *OWNED_ARGS, "--adopt", "--yes")
    assert adopted.exit_code == 0, adopted.stderr
    assert cli("plan", *OWNED_ARGS, "--detailed-exitcode").exit_code == 0


ADMIN_DOCS = [
    ("star-star", {"Effect": "Allow", "Action": "*", "Resource": "*"}),
    ("star-colon-star", {"Effect": "Allow", "Action": ["s3:GetObject", "*:*"], "Resource": ["*"]}),
    ("iam-star", {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}),
    ("iam-star-on-all-iam", {"Effect": "Allow", "Action": "IAM:*", "Resource": "arn:aws:iam::*:role/*"}),
    ("not-action", {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}),
]


@pytest.mark.parametrize(("case", "statement"), ADMIN_DOCS, ids=[d[0] for d in ADMIN_DOCS])
def test_admin_equivalent_inline_policies_need_allow_admin(
    cli: Any, sandbox: Sandbox, tmp_path: Path, case: str, statement: dict[str, Any]
) -> None:
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    sandbox.clear_calls()
    run = cli("apply", *OWNED_ARGS, "--inline-policy", f"ops={policy}", "--yes")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "admin-equivalent" in run.stderr and "--allow-admin" in run.stderr
    assert sandbox.calls() == []
    allowed = cli("apply", *OWNED_ARGS, "--inline-policy", f"ops={policy}", "--allow-admin", "--yes")
    assert allowed.exit_code == 0, allowed.stderr


def test_iam_full_access_and_a_customer_managed_star_policy_need_allow_admin(cli: Any, sandbox: Sandbox) -> None:
    full = cli("apply", *OWNED_ARGS, "--policy-arn", "arn:aws:iam::aws:policy/IAMFullAccess", "--yes")
    assert full.exit_code == 2 and "admin-equivalent" in full.stderr
    b = boto3.Session(profile_name="b-admin").client("iam")
    arn = b.create_policy(PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]}))["Policy"]["Arn"]  # fmt: skip
    sandbox.clear_calls()
    run = cli("apply", *OWNED_ARGS, "--policy-arn", arn, "--yes")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert f"{arn} is admin-equivalent" in run.stderr and "Nothing was written" in run.stderr
    assert [c for c in sandbox.calls() if c.is_write] == []
    narrow = b.create_policy(PolicyName="narrow", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))["Policy"]["Arn"]  # fmt: skip
    assert cli("apply", *OWNED_ARGS, "--policy-arn", narrow, "--yes").exit_code == 0
    assert cli("apply", *OWNED_ARGS, "--policy-arn", arn, "--allow-admin", "--yes").exit_code == 0


def test_an_admin_policy_accepted_before_is_not_judged_again(cli: Any, sandbox: Sandbox) -> None:
    # apply reads the policies to attach before it knows whether anything will be written; what the
    # role already has was accepted (with --allow-admin) and must not be refused on a later repair.
    b = boto3.Session(profile_name="b-admin").client("iam")
    arn = b.create_policy(PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))["Policy"]["Arn"]  # fmt: skip
    assert cli("apply", *OWNED_ARGS, "--policy-arn", arn, "--allow-admin", "--yes").exit_code == 0
    role = next(a for i, a in enumerate(OWNED_ARGS) if OWNED_ARGS[i - 1] == "--role-name")
    b.update_role(RoleName=role, Description="edited by hand")  # drift to repair
    sandbox.clear_calls()
    run = cli("apply", *OWNED_ARGS, "--policy-arn", arn, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert [c.operation for c in sandbox.calls() if c.is_write] == ["UpdateRole"]
    assert b.get_role(RoleName=role)["Role"].get("Description") != "edited by hand"


NOT_ADMIN = [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
    {"Effect": "Allow", "Action": "iam:*", "Resource": f"arn:aws:iam::{ACCOUNT_B}:user/ci"},
    {"Effect": "Deny", "Action": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}, "Resource": "*"},
    {"Effect": "Allow", "Action": "i[a]m:*", "Resource": "*"},  # no character classes in IAM wildcards
]


@pytest.mark.parametrize("statement", NOT_ADMIN, ids=[str(i) for i in range(len(NOT_ADMIN))])
def test_documents_that_are_not_admin_equivalent(statement: dict[str, Any]) -> None:
    from bootstrap.core import adminpolicy

    assert not adminpolicy.is_admin_equivalent({"Version": "2012-10-17", "Statement": [statement]})
    assert adminpolicy.is_admin_equivalent({"Statement": [statement, dict(ADMIN_DOCS[0][1])]})


def test_a_fleet_target_with_a_customer_managed_star_policy_needs_allow_admin(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    b = boto3.Session(profile_name="b-admin").client("iam")
    arn = b.create_policy(PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))["Policy"]["Arn"]  # fmt: skip
    fleet = tmp_path / "fleet.json"
    fleet.write_text(json.dumps({"source_profile": "a-admin", "principal": CI_USER_ARN, "role_name": ROLE,
                                 "verify": False, "targets": [{"target_profile": "b-admin", "policy_arns": [arn]}]}))  # fmt: skip
    sandbox.clear_calls()
    run = cli("apply", "--config", str(fleet), "--yes")
    assert run.exit_code != 0
    assert "admin-equivalent" in run.stdout + run.stderr
    assert [c for c in sandbox.calls() if c.is_write and c.account == ACCOUNT_B] == []
    assert cli("apply", "--config", str(fleet), "--allow-admin", "--yes").exit_code == 0
