"""teardown: the grant first, then the role; only what trust-bootstrap owns; idempotent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bootstrap.sandbox.server import Sandbox
from tests.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    CI_USER_ARN,
    READ_ONLY,
    assume,
    base_args,
    iam,
    role_names,
    user_policies,
)

ROLE = "terraform-deploy"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}"
GRANT = f"trust-bootstrap-{ACCOUNT_B}-{ROLE}"
TRUST = [*base_args(ROLE), "--principal", CI_USER_ARN]


@pytest.fixture
def onboarded(cli: Any) -> None:
    policy = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    )
    run = cli("apply", *TRUST, "--policy-arn", READ_ONLY, "--verify-profile", "ci", "--yes")
    assert run.exit_code == 0, run.stderr
    iam("b-admin").put_role_policy(RoleName=ROLE, PolicyName="by-hand", PolicyDocument=policy)
    assert assume("ci", ROLE_ARN).endswith("/test")


@pytest.mark.usefixtures("onboarded")
def test_teardown_removes_both_sides_grant_first(cli: Any, sandbox: Sandbox) -> None:
    sandbox.clear_calls()
    run = cli("teardown", *TRUST, "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr
    removed = [(c["account"], c["operation"]) for c in run.json()["removed"]]
    assert removed == [
        (ACCOUNT_A, "delete-grant"),
        (ACCOUNT_B, "detach-policy"),
        (ACCOUNT_B, "delete-role-policy"),
        (ACCOUNT_B, "delete-role"),
    ]
    writes = [(c.account, c.operation) for c in sandbox.calls() if c.is_write]
    assert writes[0] == (ACCOUNT_A, "DeleteUserPolicy")  # nobody can assume from this moment
    assert {a for a, _ in writes[1:]} == {ACCOUNT_B}
    assert role_names() == []
    assert user_policies() == []
    assert "ci-user" in [u["UserName"] for u in iam("a-admin").list_users()["Users"]]  # never the principal
    with pytest.raises(ClientError):
        assume("ci", ROLE_ARN)
    plan = cli("plan", *TRUST, "--policy-arn", READ_ONLY, "--detailed-exitcode", "--output", "json")
    assert plan.exit_code == 2
    assert [c["operation"] for c in plan.json()["changes"]] == ["put-grant", "create-role", "attach-policy"]


@pytest.mark.usefixtures("onboarded")
def test_teardown_twice(cli: Any) -> None:
    assert cli("teardown", *TRUST, "--yes").exit_code == 0
    again = cli("teardown", *TRUST, "--yes")
    assert again.exit_code == 0
    assert "Nothing to remove" in again.stdout
    assert again.stdout.count("Nothing to remove") == 1 and "Will remove" not in again.stdout  # said once


def test_teardown_of_a_role_not_owned_refuses_and_deletes_nothing(cli: Any, sandbox: Sandbox) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": CI_USER_ARN}, "Action": "sts:AssumeRole"}],
    }
    iam("b-admin").create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    sandbox.clear_calls()
    run = cli("teardown", *TRUST, "--yes")
    assert run.exit_code == 8
    assert "not managed by trust-bootstrap" in run.stderr
    assert "--adopt" in run.stderr and "delete-role" in run.stderr
    assert [c for c in sandbox.calls() if c.is_write] == []
    assert role_names() == [ROLE]


@pytest.mark.usefixtures("onboarded")
def test_teardown_after_the_role_was_deleted_by_hand_removes_the_grant(cli: Any) -> None:
    b = iam("b-admin")
    b.detach_role_policy(RoleName=ROLE, PolicyArn=READ_ONLY)
    b.delete_role_policy(RoleName=ROLE, PolicyName="by-hand")
    b.delete_role(RoleName=ROLE)
    run = cli("teardown", *TRUST, "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert [c["operation"] for c in run.json()["removed"]] == ["delete-grant"]
    assert user_policies() == []


@pytest.mark.usefixtures("onboarded")
def test_teardown_after_the_grant_was_deleted_by_hand_removes_the_role(cli: Any) -> None:
    iam("a-admin").delete_user_policy(UserName="ci-user", PolicyName=GRANT)
    run = cli("teardown", *TRUST, "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert [c["operation"] for c in run.json()["removed"]] == ["detach-policy", "delete-role-policy", "delete-role"]
    assert role_names() == []


@pytest.mark.usefixtures("onboarded")
def test_teardown_without_yes_in_a_non_interactive_run_refuses(cli: Any) -> None:
    run = cli("teardown", *TRUST)
    assert run.exit_code == 5
    assert "- delete role " + ROLE_ARN in run.stdout  # what would be removed, per account
    assert role_names() == [ROLE]
    assert user_policies() == [GRANT]


@pytest.mark.usefixtures("onboarded")
def test_only_source_removes_the_grant_and_says_what_is_left(cli: Any) -> None:
    args = ["--source-profile", "a-admin", "--role-name", ROLE, "--principal", CI_USER_ARN]
    run = cli("teardown", *args, "--only", "source", "--yes")
    assert run.exit_code == 0, run.stderr
    assert user_policies() == []
    assert role_names() == [ROLE]
    assert f"Left alone: target account {ACCOUNT_B}: the role {ROLE} was not checked" in run.stdout


@pytest.mark.usefixtures("onboarded")
def test_only_target_removes_the_role_and_says_what_is_left(cli: Any) -> None:
    args = ["--target-profile", "b-admin", "--role-name", ROLE, "--principal", CI_USER_ARN]
    run = cli("teardown", *args, "--only", "target", "--yes")
    assert run.exit_code == 0, run.stderr
    assert role_names() == []
    assert user_policies() == [GRANT]
    assert f"the grant {GRANT} on {CI_USER_ARN} was not checked (--only target)" in run.stdout


NO_PRINCIPAL = base_args(ROLE)


@pytest.mark.usefixtures("onboarded")
def test_teardown_without_principal_finds_it_in_the_trust_policy(cli: Any) -> None:
    run = cli("teardown", *NO_PRINCIPAL, "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["removed"][0]["operation"] == "delete-grant"
    assert user_policies() == []
    assert role_names() == []
    assert run.json()["left"] == []


@pytest.mark.usefixtures("onboarded")
def test_teardown_without_principal_after_the_role_was_deleted_finds_the_grant_by_name(cli: Any) -> None:
    b = iam("b-admin")
    b.detach_role_policy(RoleName=ROLE, PolicyArn=READ_ONLY)
    b.delete_role_policy(RoleName=ROLE, PolicyName="by-hand")
    b.delete_role(RoleName=ROLE)
    run = cli("teardown", *NO_PRINCIPAL, "--yes")
    assert run.exit_code == 0, run.stderr
    assert f"- delete user/ci-user inline policy {GRANT}" in run.stdout
    assert user_policies() == []


def test_teardown_without_principal_of_an_account_trust_finds_the_grant_by_name(cli: Any) -> None:
    run = cli("apply", *TRUST, "--trust-account", "--no-verify", "--yes")
    assert run.exit_code == 0, run.stderr
    run = cli("teardown", *NO_PRINCIPAL, "--yes")
    assert run.exit_code == 0, run.stderr
    assert user_policies() == [] and role_names() == []


def test_teardown_never_claims_a_grant_it_did_not_find(cli: Any) -> None:
    run = cli("apply", *TRUST, "--no-verify", "--yes")
    assert run.exit_code == 0, run.stderr
    iam("a-admin").delete_user_policy(UserName="ci-user", PolicyName=GRANT)
    run = cli("teardown", *NO_PRINCIPAL, "--yes")
    assert run.exit_code == 0, run.stderr
    assert "can no longer assume" not in run.stdout
    assert f"Left alone: source account {ACCOUNT_A}: no inline policy {GRANT} was found" in run.stdout
    assert role_names() == []


@pytest.mark.parametrize("only", [[], ["--only", "source"]])
@pytest.mark.usefixtures("onboarded")
def test_teardown_never_deletes_a_grant_whose_content_is_not_this_trusts(cli: Any, only: list[str]) -> None:
    # The grant's name is this trust's, but what it holds is another trust's (a StackSet's grant for
    # a role of another name, across accounts): its name alone does not make it ours to delete.
    other = {"Version": "2012-10-17", "Statement": [{"Sid": "TrustBootstrapGrant", "Effect": "Allow",
             "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/other-role"}]}  # fmt: skip
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName=GRANT, PolicyDocument=json.dumps(other))
    run = cli("teardown", *TRUST, *only, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert GRANT in user_policies()
    assert f"Left alone: source account {ACCOUNT_A}: the inline policy {GRANT} on user/ci-user is not this " in (
        run.stdout
    )
    assert f"inline policy {GRANT}" not in run.stdout.split("Left alone")[0]  # never planned, never claimed
