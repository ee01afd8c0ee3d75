"""IAM's size quotas: the sandbox enforces them as IAM does, and the tool checks them before any write."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_B, CI_USER_ARN, base_args, iam, role_names, user_policies


def policy_of(resources: int) -> str:
    arns = [f"arn:aws:s3:::bucket-{i:04d}/*" for i in range(resources)]
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                               "Resource": arns}]})  # fmt: skip


def limit_exceeded(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == "LimitExceeded"
    return str(caught.value.response["Error"]["Message"])


@pytest.mark.usefixtures("sandbox")
def test_sandbox_enforces_iams_size_quotas() -> None:
    a, b = iam("a-admin"), iam("b-admin")
    big = policy_of(50)  # about 1,400 characters
    a.put_user_policy(UserName="ci-user", PolicyName="one", PolicyDocument=big)
    a.put_user_policy(UserName="ci-user", PolicyName="one", PolicyDocument=big)  # replacing counts once
    assert "2048" in limit_exceeded(lambda: a.put_user_policy(UserName="ci-user", PolicyName="two", PolicyDocument=big))
    assert "6144" in limit_exceeded(lambda: a.create_policy(PolicyName="huge", PolicyDocument=policy_of(250)))
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": CI_USER_ARN},
         "Condition": {"StringEquals": {"sts:ExternalId": [f"id-{i:04d}" for i in range(250)]}}}]}  # fmt: skip
    assert "2048" in limit_exceeded(lambda: b.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust)))
    small = {**trust, "Statement": [{**trust["Statement"][0], "Condition": {}}]}
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    b.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(small), Tags=tags)
    assert "50" in limit_exceeded(lambda: b.tag_role(RoleName="r", Tags=[{"Key": "one-more", "Value": "v"}]))
    b.tag_role(RoleName="r", Tags=[{"Key": "k1", "Value": "changed"}])  # an existing key is no new tag


def test_a_grant_over_the_users_inline_quota_is_refused_before_any_write(cli: Any, sandbox: Sandbox) -> None:
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName="by-hand", PolicyDocument=policy_of(65))
    sandbox.clear_calls()
    run = cli("apply", *base_args(), "--principal", CI_USER_ARN, "--no-verify", "--yes")
    assert run.exit_code == 4, run.stderr
    message = " ".join(run.stderr.split())
    assert "2,048" in message and "inline" in message and "Nothing was written" in message
    assert [c for c in sandbox.calls() if c.is_write] == []
    assert role_names() == [] and user_policies() == ["by-hand"]
    plan = cli("plan", *base_args(), "--principal", CI_USER_ARN)
    assert plan.exit_code == 4 and "2,048" in plan.stderr  # plan tells the same truth before apply


def test_grants_that_fit_are_written(cli: Any) -> None:
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName="by-hand", PolicyDocument=policy_of(40))
    run = cli("apply", *base_args(), "--principal", CI_USER_ARN, "--no-verify", "--yes")
    assert run.exit_code == 0, run.stderr
    assert sorted(user_policies()) == ["by-hand", f"trust-bootstrap-{ACCOUNT_B}-terraform-deploy"]
