"""The plan reads like `terraform plan`: AWS's own spelling, one condition clause per statement,
the right verb for each write, and everything a new role will carry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import ACCOUNT_A, CI_USER_ARN, READ_ONLY, base_args, iam


def test_a_create_plan_shows_every_setting_in_aws_spelling(cli: Any, tmp_path: Path) -> None:
    policy = tmp_path / "s3.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:GetObject"], "Resource": "*"}]}))  # fmt: skip
    run = cli("plan", *base_args("deploy"), "--principal", CI_USER_ARN, "--external-id", "abc123",
              "--require-mfa", "--mfa-max-age", "3600", "--policy-arn", READ_ONLY, "--inline-policy", f"s3={policy}",
              "--description", "deploys", "--tag", "team=platform", "--path", "/ci/", "--max-session-duration", "7200")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    out = run.stdout
    for setting in ("path: /ci/", "max session duration: 7200 s", "description: deploys", "team=platform"):
        assert setting in out, setting
    assert "sts:AssumeRole" in out and "sts:ExternalId = abc123" in out and "s3:ListAllMyBuckets" in out
    assert "assumerole" not in out and "externalid" not in out
    trust_line = next(line for line in out.splitlines() if "to AWS:" in line)
    assert trust_line.count("when ") == 1 and trust_line.count(" and ") == 2  # three conditions, one clause
    assert " if " not in trust_line
    assert f"+ attach role/deploy managed policy {READ_ONLY}" in out


def test_detaching_a_policy_reads_as_detach(cli: Any) -> None:
    args = [*base_args("deploy"), "--principal", CI_USER_ARN, "--no-verify"]
    assert cli("apply", *args, "--policy-arn", READ_ONLY, "--yes").exit_code == 0
    run = cli("plan", *args)
    assert f"- detach role/deploy managed policy {READ_ONLY}" in run.stdout
    assert "- delete role/deploy managed policy" not in run.stdout


def test_teardown_of_a_role_it_does_not_own_says_nothing_was_removed_and_why(cli: Any) -> None:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam("b-admin").create_role(RoleName="foreign", AssumeRolePolicyDocument=json.dumps(trust))
    run = cli("teardown", *base_args("foreign"), "--principal", CI_USER_ARN, "--yes")
    text = run.stdout + run.stderr
    assert "No changes to make" not in text and "Will remove" not in text
    assert "not managed by trust-bootstrap" in text
    assert "role foreign" not in text.replace("role/foreign", "") or "left alone" in text
