"""The StackSets engine touches only what is its own: one unit's teardown leaves another unit's
deployment of the same role (its instances, its place in the grant, the StackSet) in place, and the
grant has a name no other kind of trust can have, adopted from the old name only by its content."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_B, CI_USER_ARN, assume, base_args, iam, session
from tests.test_fleet import role_in
from tests.test_stacksets import GRANT, ROLE, STACK_SET, cfn, grant_document, org_args


def _org() -> Any:
    return session("org-admin").client("organizations")


@pytest.fixture
def second_unit(sandbox: Sandbox) -> Iterator[tuple[str, str]]:
    """A unit beside the sandbox's, holding one member moved there (moved back afterwards)."""
    org = _org()
    root = org.list_roots()["Roots"][0]["Id"]
    unit = org.create_organizational_unit(ParentId=root, Name="second")["OrganizationalUnit"]["Id"]
    member = sandbox.org_members[1]
    org.move_account(AccountId=member, SourceParentId=sandbox.org_unit, DestinationParentId=unit)
    try:
        yield unit, member
    finally:
        org.move_account(AccountId=member, SourceParentId=unit, DestinationParentId=sandbox.org_unit)
        org.delete_organizational_unit(OrganizationalUnitId=unit)


def _for_unit(sandbox: Sandbox, unit: str, command: str) -> list[str]:
    args = org_args(sandbox, command=command)
    args[args.index(sandbox.org_unit)] = unit
    return args


def _assumable(account: str) -> bool:
    try:
        assume("ci", f"arn:aws:iam::{account}:role/{ROLE}", ExternalId="ext-org-1")
    except ClientError:
        return False
    return True


def test_one_units_teardown_leaves_another_units_deployment_of_the_same_role(
    cli: Any, sandbox: Sandbox, second_unit: tuple[str, str]
) -> None:
    unit, moved = second_unit
    first = sandbox.org_members[0]
    assert cli("apply", *org_args(sandbox), "--yes").exit_code == 0
    applied = cli("apply", *_for_unit(sandbox, unit, "apply"), "--yes", "--output", "json")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert _assumable(first) and _assumable(moved)  # the second unit's apply widened the grant
    paths = grant_document()["Statement"][0]["Condition"]["ForAnyValue:StringLike"]["aws:ResourceOrgPaths"]  # type: ignore[index]
    assert len(paths) == 2

    down = cli("teardown", *_for_unit(sandbox, unit, "teardown"), "--yes")
    assert down.exit_code == 0, down.stdout + down.stderr
    assert role_in(moved, ROLE) is None  # this unit's instance went
    assert role_in(first, ROLE) is not None  # the other unit's stayed
    assert _assumable(first) and not _assumable(moved)  # the grant was narrowed, not deleted
    assert grant_document()["Statement"][0]["Condition"]["ForAnyValue:StringLike"]["aws:ResourceOrgPaths"] == [  # type: ignore[index]
        p for p in paths if unit not in p
    ]
    assert cfn().describe_stack_set(StackSetName=STACK_SET)["StackSet"]["Status"] == "ACTIVE"
    assert f"Left alone: the StackSet {STACK_SET}: it still has stack instances" in down.stderr

    last = cli("teardown", *org_args(sandbox, command="teardown"), "--yes")
    assert last.exit_code == 0, last.stdout + last.stderr
    assert grant_document() is None and role_in(first, ROLE) is None
    with pytest.raises(ClientError):
        cfn().describe_stack_set(StackSetName=STACK_SET)


def _stacksets_config(tmp_path: Path, sandbox: Sandbox, fleet_name: str) -> Path:
    config = tmp_path / "org.yaml"
    config.write_text(json.dumps({
        "engine": "stacksets", "targets_from_org": sandbox.org_unit, "management_profile": "org-admin",
        "source_profile": "a-admin", "principal": CI_USER_ARN, "role_name": ROLE, "external_id": "ext-org-1",
        "fleet_name": fleet_name,
    }))  # fmt: skip
    return config


def _user_policy(name: str) -> dict[str, Any] | None:
    client = iam("a-admin")
    try:
        return dict(client.get_user_policy(UserName="ci-user", PolicyName=name)["PolicyDocument"])
    except client.exceptions.NoSuchEntityException:
        return None


def test_a_stack_set_named_like_a_single_trusts_grant_never_touches_that_grant(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    # The single trust for the role "deploy-org" in B has the grant trust-bootstrap-<B>-deploy-org:
    # the name a StackSet named "<B>-deploy" gave its grant before the namespaces were split.
    single = [*base_args("deploy-org"), "--principal", CI_USER_ARN]
    assert cli("apply", *single, "--no-verify", "--yes").exit_code == 0
    single_grant = f"trust-bootstrap-{ACCOUNT_B}-deploy-org"
    before = _user_policy(single_grant)
    config = _stacksets_config(tmp_path, sandbox, f"{ACCOUNT_B}-deploy")
    applied = cli("apply", "--config", str(config), "--verify-profile", "ci", "--yes")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert _user_policy(single_grant) == before
    assert _user_policy(f"trust-bootstrap-stackset-{ACCOUNT_B}-deploy") is not None
    down = cli("teardown", "--config", str(config), "--yes")
    assert down.exit_code == 0, down.stdout + down.stderr
    assert _user_policy(single_grant) == before
    assert assume("ci", f"arn:aws:iam::{ACCOUNT_B}:role/deploy-org")  # the single trust still works


def test_a_grant_under_the_old_name_is_moved_when_its_content_is_ours(cli: Any, sandbox: Sandbox) -> None:
    assert cli("apply", *org_args(sandbox), "--yes").exit_code == 0
    # As a deployment made before the namespaces were split left it: the grant under its old name.
    client, document = iam("a-admin"), grant_document()
    client.put_user_policy(UserName="ci-user", PolicyName=f"{STACK_SET}-org", PolicyDocument=json.dumps(document))
    client.delete_user_policy(UserName="ci-user", PolicyName=GRANT)
    plan = cli("plan", *org_args(sandbox, command="plan"), "--output", "json")
    assert [p["step"] for p in plan.json()["plan"]] == ["put-org-grant", "delete-org-grant"]
    again = cli("apply", *org_args(sandbox), "--yes")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert grant_document() == document and _user_policy(f"{STACK_SET}-org") is None
    # A teardown from the old state removes it too.
    client.put_user_policy(UserName="ci-user", PolicyName=f"{STACK_SET}-org", PolicyDocument=json.dumps(document))
    assert cli("teardown", *org_args(sandbox, command="teardown"), "--yes").exit_code == 0
    assert _user_policy(f"{STACK_SET}-org") is None and grant_document() is None
