"""The sandbox's referee, over HTTP: the trust-policy rules the tool's tests rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_A, ACCOUNT_B, CI_USER_ARN, assume, iam

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/probe"


def make_role(principal: Any, condition: dict[str, Any] | None = None) -> None:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    trust = {"Version": "2012-10-17", "Statement": [statement]}
    iam("b-admin").create_role(RoleName="probe", AssumeRolePolicyDocument=json.dumps(trust))
    grant = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName="probe", PolicyDocument=json.dumps(grant))


def denied(**kwargs: Any) -> bool:
    try:
        assume("ci", ROLE_ARN, **kwargs)
    except ClientError as err:
        assert err.response["Error"]["Code"] == "AccessDenied"
        return True
    return False


@pytest.mark.usefixtures("sandbox")
@pytest.mark.parametrize(
    "principal",
    [{"AWS": CI_USER_ARN}, {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"}, {"AWS": ACCOUNT_A}, {"AWS": [ACCOUNT_A]}],
    ids=["exact-arn", "account-root", "account-id", "account-id-list"],
)
def test_principals_that_match(principal: Any) -> None:
    make_role(principal)
    assert not denied()


@pytest.mark.usefixtures("sandbox")
def test_other_principal_and_missing_role_are_denied() -> None:
    make_role({"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/someone-else"})
    assert denied()
    with pytest.raises(ClientError):
        assume("ci", f"arn:aws:iam::{ACCOUNT_B}:role/does-not-exist")


@pytest.mark.usefixtures("sandbox")
def test_external_id_string_like_and_missing_key() -> None:
    make_role({"AWS": CI_USER_ARN}, {"StringLike": {"sts:ExternalId": "team-*"}})
    assert denied()
    assert denied(ExternalId="other")
    assert not denied(ExternalId="team-42")


@pytest.mark.usefixtures("sandbox")
def test_a_deny_with_string_not_equals_applies_when_no_external_id_is_sent() -> None:
    # AWS: a negated operator on a key the request lacks is true, so this Deny applies.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    make_role({"AWS": CI_USER_ARN})
    deny = {"Effect": "Deny", "Principal": {"AWS": CI_USER_ARN}, "Action": "sts:AssumeRole",
            "Condition": {"StringNotEquals": {"sts:ExternalId": "ext-1"}}}  # fmt: skip
    allow = {"Effect": "Allow", "Principal": {"AWS": CI_USER_ARN}, "Action": "sts:AssumeRole"}
    trust = {"Version": "2012-10-17", "Statement": [allow, deny]}
    iam("b-admin").update_assume_role_policy(RoleName="probe", PolicyDocument=json.dumps(trust))
    assert denied()
    assert denied(ExternalId="other")
    assert not denied(ExternalId="ext-1")


@pytest.mark.usefixtures("sandbox")
def test_string_like_has_no_character_classes() -> None:
    make_role({"AWS": CI_USER_ARN}, {"StringLike": {"sts:ExternalId": "team-[gw]*"}})
    assert denied(ExternalId="team-g1")
    # STS refuses '[' in an ExternalId ([\w+=,.@:/-]*) before judging the trust; the literal match: tests/sandbox/test_referee.py
    with pytest.raises(ClientError, match="ValidationError"):
        assume("ci", ROLE_ARN, ExternalId="team-[gw]1")


@pytest.mark.usefixtures("sandbox")
def test_mfa_if_exists_passes_for_long_term_keys_without_mfa() -> None:
    # BoolIfExists passes when the key is absent: long-term keys without MFA carry no MFA key.
    make_role({"AWS": CI_USER_ARN}, {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})
    assert not denied()


@pytest.mark.usefixtures("sandbox")
def test_mfa_present_only_with_serial_and_token() -> None:
    make_role({"AWS": CI_USER_ARN}, {"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    assert denied()
    assert denied(SerialNumber=f"arn:aws:iam::{ACCOUNT_A}:mfa/ci-user")
    assert not denied(SerialNumber=f"arn:aws:iam::{ACCOUNT_A}:mfa/ci-user", TokenCode="123456")


def test_propagation_delay_denies_a_new_role_for_a_while(sandbox: Sandbox) -> None:
    # No wall-clock race on a loaded machine: a delay no run of this test outlasts, then none.
    sandbox.propagation_delay = 600.0
    make_role({"AWS": CI_USER_ARN})
    assert denied()
    sandbox.propagation_delay = 0.0  # as when the delay has passed
    assert not denied()
    assert any(c.operation == "AssumeRole" and "propagation" in c.note for c in sandbox.calls())


def test_sandbox_command_prints_exports_and_serves(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bootstrap", "sandbox", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first == f"export AWS_CONFIG_FILE={tmp_path / 'config'}\n"
        config = (tmp_path / "config").read_text()
        assert "[profile a-admin]" in config and "[profile b-admin]" in config and "[profile ci]" in config
        assert "endpoint_url = http://127.0.0.1:" in config
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sandbox_without_moto_says_how_to_install_it(tmp_path: Path) -> None:
    # A machine without the 'sandbox' extra: moto cannot be imported.
    blocker = tmp_path / "moto"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('no moto here')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "bootstrap", "sandbox", "--dir", str(tmp_path / "box")],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert run.returncode == 4, run.stderr
    assert "pip install 'trust-bootstrap[sandbox]'" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_same_account_role_trusting_the_account_root_admits_its_user(sandbox: Sandbox) -> None:
    # AWS: an account's root principal in a trust policy delegates to the account's own IAM policies,
    # so a user of that account whose policy allows sts:AssumeRole may assume the role.
    a = iam("a-admin")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    a.create_role(RoleName="same-account", AssumeRolePolicyDocument=json.dumps(trust))
    grant = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    a.put_user_policy(UserName="ci-user", PolicyName="probe", PolicyDocument=json.dumps(grant))
    arn = assume("ci", f"arn:aws:iam::{ACCOUNT_A}:role/same-account")
    assert arn.startswith(f"arn:aws:sts::{ACCOUNT_A}:assumed-role/same-account/")
