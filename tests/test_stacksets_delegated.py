"""The StackSets engine run from a delegated administrator account (--call-as DELEGATED_ADMIN): every
StackSet call carries CallAs=DELEGATED_ADMIN (the sandbox logs it), the StackSet lives in the
management account, and an account that is no registered delegated administrator gets a typed error
naming the fix, before any write."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap.sandbox.server import Sandbox
from tests.conftest import session
from tests.test_fleet import member_iam, role_in
from tests.test_stacksets import ROLE, STACK_SET, cfn, grant_document, org_args

STACKSETS = "member.org.stacksets.cloudformation.amazonaws.com"
ADMIN = "delegated-admin"


def admin_profile(sandbox: Sandbox, account: str, name: str = ADMIN) -> str:
    """An administrator user in ``account`` and a profile for it (the sandbox's reset removes both)."""
    iam = member_iam(account)
    iam.create_user(UserName="stacksets-admin")
    iam.put_user_policy(UserName="stacksets-admin", PolicyName="admin", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'))  # fmt: skip
    key = iam.create_access_key(UserName="stacksets-admin")["AccessKey"]
    with sandbox.config_file.open("a") as config:
        config.write(f"\n[profile {name}]\nregion = us-east-1\nendpoint_url = {sandbox.endpoint}\n")
    with sandbox.credentials_file.open("a") as credentials:
        credentials.write(f"\n[{name}]\naws_access_key_id = {key['AccessKeyId']}\n"
                          f"aws_secret_access_key = {key['SecretAccessKey']}\n")  # fmt: skip
    return name


def register(account: str, principal: str = STACKSETS) -> None:
    session("org-admin").client("organizations").register_delegated_administrator(
        AccountId=account, ServicePrincipal=principal
    )


def delegated_args(sandbox: Sandbox, command: str, profile: str = ADMIN, call_as: str = "DELEGATED_ADMIN") -> list[str]:
    args = org_args(sandbox, "--call-as", call_as, command=command)
    at = args.index("--management-profile")
    return [*args[: at + 1], profile, *args[at + 2 :]]


def stackset_calls(sandbox: Sandbox) -> list[Any]:
    return [c for c in sandbox.calls() if c.service == "cloudformation"]


def test_every_stackset_call_of_apply_plan_verify_and_teardown_is_made_as_delegated_admin(
    cli: Any, sandbox: Sandbox
) -> None:
    admin_account = sandbox.org_members[0]
    admin_profile(sandbox, admin_account)
    register(admin_account)
    for command in ("apply", "plan", "verify", "teardown"):
        sandbox.clear_calls()
        extra = {"apply": ["--yes"], "plan": ["--detailed-exitcode"], "verify": [], "teardown": ["--yes"]}[command]
        run = cli(command, *delegated_args(sandbox, command), *extra)
        assert run.exit_code == 0, (command, run.stdout + run.stderr)
        if command == "plan":
            assert "called as DELEGATED_ADMIN" in run.stdout
        calls = stackset_calls(sandbox)
        assert calls, command
        assert {(c.operation, dict(c.params).get("CallAs")) for c in calls} == {
            (c.operation, "DELEGATED_ADMIN") for c in calls
        }, command
        assert all(c.account == admin_account for c in calls), command
        assert [c.operation for c in calls if c.status != 200] in ([], ["DescribeStackSet"]), command  # not found yet
        if command == "apply":
            # AWS keeps a delegated administrator's service-managed StackSet in the management account.
            assert cfn().describe_stack_set(StackSetName=STACK_SET)["StackSet"]["Status"] == "ACTIVE"
            assert {c.operation for c in calls} >= {"CreateStackSet", "CreateStackInstances"}
            assert all(role_in(account, ROLE) is not None for account in sandbox.org_members)
            assert grant_document() is not None
    assert {c.operation for c in calls} >= {"DeleteStackInstances", "DeleteStackSet"}
    assert grant_document() is None
    assert all(role_in(account, ROLE) is None for account in sandbox.org_members)


@pytest.mark.parametrize(
    ("registered_for", "call_as", "refused"),
    [
        (None, "DELEGATED_ADMIN", "organizations:ListParents"),  # no delegated administrator of anything
        ("guardduty.amazonaws.com", "DELEGATED_ADMIN", "Account used is not a delegated administrator"),
        (STACKSETS, "SELF", "You must be the management account or delegated admin account"),
    ],
)
def test_an_account_that_is_no_stacksets_administrator_gets_a_typed_error_before_any_write(
    cli: Any, sandbox: Sandbox, registered_for: str | None, call_as: str, refused: str
) -> None:
    account = sandbox.org_members[1]
    admin_profile(sandbox, account)
    if registered_for:
        register(account, registered_for)
    sandbox.clear_calls()
    run = cli("apply", *delegated_args(sandbox, "apply", call_as=call_as), "--yes")
    assert run.exit_code == 4, run.stdout + run.stderr
    assert refused in run.stderr
    assert f"--service-principal {STACKSETS}" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert [c for c in sandbox.calls() if c.is_write and c.status == 200] == []
    assert grant_document() is None
    as_json = cli("apply", *delegated_args(sandbox, "apply", call_as=call_as), "--yes", "--output", "json")
    assert as_json.exit_code == 4
    assert as_json.json()["error"]["kind"] == "aws"
