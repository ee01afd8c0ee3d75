"""Issue 25, item 4: teardown finds what the tool left without --principal (a fleet's grant) or
--hub-role (a CI hub role), or says it stays and which flag removes it. Never what is not its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_A, ACCOUNT_B, iam
from tests.test_fleet import GRANT, fleet_file, role_in


def _without_principal(config: Path) -> Path:
    data = json.loads(config.read_text())
    del data["principal"]
    bare = config.with_name("no-principal.yaml")
    bare.write_text(json.dumps(data))
    return bare


def test_fleet_teardown_without_principal_finds_the_grant_through_the_roles_trust(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    config = fleet_file(tmp_path, sandbox)
    assert cli("apply", "--config", str(config), "--yes").exit_code == 0
    assert iam("a-admin").list_user_policies(UserName="ci-user")["PolicyNames"] == [GRANT]
    run = cli("teardown", "--config", str(_without_principal(config)), "--yes", "--output", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert [c["operation"] for c in run.json()["grant"]] == ["delete-grant"]
    assert run.json()["left"] == []
    assert iam("a-admin").list_user_policies(UserName="ci-user")["PolicyNames"] == []
    assert role_in(sandbox.org_members[0], "deploy") is None
    assert "ci-user" in [u["UserName"] for u in iam("a-admin").list_users()["Users"]]  # never the principal


def test_fleet_teardown_without_principal_finds_a_managed_grant(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    filler = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Filler", "Effect": "Deny", "Action": [f"svc{i}:Action{i}" for i in range(110)], "Resource": "*"}]}  # fmt: skip
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName="filler", PolicyDocument=json.dumps(filler))
    config = fleet_file(tmp_path, sandbox)
    assert cli("apply", "--config", str(config), "--yes").exit_code == 0
    run = cli("teardown", "--config", str(_without_principal(config)), "--yes", "--output", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert [c["operation"] for c in run.json()["grant"]] == ["delete-managed-grant"]
    assert iam("a-admin").list_attached_user_policies(UserName="ci-user")["AttachedPolicies"] == []
    assert iam("a-admin").list_user_policies(UserName="ci-user")["PolicyNames"] == ["filler"]  # not ours: kept


def test_fleet_teardown_with_several_grant_holders_removes_none_and_names_the_flag(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    a = iam("a-admin")
    a.create_user(UserName="other")
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT_B}:role/deploy"}]})  # fmt: skip
    for user in ("ci-user", "other"):  # no role stands to say which one the fleet trusts
        a.put_user_policy(UserName=user, PolicyName=GRANT, PolicyDocument=document)
    config = _without_principal(fleet_file(tmp_path, sandbox))
    run = cli("teardown", "--config", str(config), "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert f"Left alone: source account {ACCOUNT_A}: the fleet's grant {GRANT} on" in run.stdout
    assert "--principal ARN" in run.stdout
    for user in ("ci-user", "other"):
        assert a.list_user_policies(UserName=user)["PolicyNames"] == [GRANT]


def _hub_args(sandbox: Sandbox) -> list[str]:
    return ["--target-profile", "b-admin", "--role-name", "deploy", "--github-repo", "octo-org/octo-repo",
            "--github-ref", "refs/heads/main", "--oidc-issuer", sandbox.issuer.url]  # fmt: skip


def test_hub_teardown_without_hub_role_removes_the_hub_it_finds(cli: Any, sandbox: Sandbox) -> None:
    args = _hub_args(sandbox)
    hub = ["--source-profile", "a-admin", "--hub-role", "ci-hub"]
    assert cli("apply", *args, *hub, "--yes").exit_code == 0
    run = cli("teardown", *args, "--source-profile", "a-admin", "--yes", "--output", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "ci-hub" not in [r["RoleName"] for r in iam("a-admin").list_roles()["Roles"]]
    assert iam("a-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert "deploy" not in [r["RoleName"] for r in iam("b-admin").list_roles()["Roles"]]


def test_hub_teardown_without_source_profile_says_the_hub_stays_and_how_to_remove_it(
    cli: Any, sandbox: Sandbox
) -> None:
    args = _hub_args(sandbox)
    assert cli("apply", *args, "--source-profile", "a-admin", "--hub-role", "ci-hub", "--yes").exit_code == 0
    run = cli("teardown", *args, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert f"Left alone: source account {ACCOUNT_A}: the hub role arn:aws:iam::{ACCOUNT_A}:role/ci-hub" in run.stdout
    assert "--hub-role ci-hub --source-profile PROFILE" in run.stdout
    assert "ci-hub" in [r["RoleName"] for r in iam("a-admin").list_roles()["Roles"]]


def test_hub_teardown_never_removes_a_trusted_role_it_did_not_create(cli: Any, sandbox: Sandbox) -> None:
    args = _hub_args(sandbox)
    assert cli("apply", *args, "--source-profile", "a-admin", "--hub-role", "ci-hub", "--yes").exit_code == 0
    iam("a-admin").untag_role(RoleName="ci-hub", TagKeys=["trust-bootstrap:managed"])
    run = cli("teardown", *args, "--source-profile", "a-admin", "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "ci-hub is kept: it is not a CI hub role trust-bootstrap created" in run.stdout
    assert "ci-hub" in [r["RoleName"] for r in iam("a-admin").list_roles()["Roles"]]
