"""Re-runs: plan shows drift on both sides, apply repairs exactly it, plan never writes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_A, ACCOUNT_B, CI_USER_ARN, READ_ONLY, base_args, iam, role_names, user_policies

ROLE = "terraform-deploy"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}"
GRANT = f"trust-bootstrap-{ACCOUNT_B}-{ROLE}"
BOUNDARY = "arn:aws:iam::aws:policy/PowerUserAccess"
LIST_BUCKETS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
}


@pytest.fixture
def trust_args(tmp_path: Path) -> list[str]:
    policy = tmp_path / "list-buckets.json"
    policy.write_text(json.dumps(LIST_BUCKETS))
    return [
        *base_args(ROLE),
        "--principal", CI_USER_ARN,
        "--external-id", "ext-1",
        "--require-mfa",
        "--policy-arn", READ_ONLY,
        "--inline-policy", f"list-buckets={policy}",
        "--max-session-duration", "7200",
        "--permissions-boundary", BOUNDARY,
        "--description", "deploys",
        "--tag", "team=platform",
        "--no-verify",
    ]  # fmt: skip


def plan_json(cli: Any, sandbox: Sandbox, args: list[str]) -> tuple[int, dict[str, Any]]:
    """Run plan --detailed-exitcode --output json, asserting it made no write call."""
    sandbox.clear_calls()
    run = cli("plan", *args, "--detailed-exitcode", "--output", "json")
    writes = [c.operation for c in sandbox.calls() if c.is_write]
    assert writes == [], f"plan wrote: {writes}"
    assert run.exit_code in (0, 2), run.stderr
    return run.exit_code, run.json()


def trust_doc() -> dict[str, Any]:
    return dict(iam("b-admin").get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"])


def set_trust(mutate: Callable[[dict[str, Any]], None]) -> None:
    doc = trust_doc()
    mutate(doc["Statement"][0])
    iam("b-admin").update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(doc))


def _put_grant(document: dict[str, Any]) -> None:
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName=GRANT, PolicyDocument=json.dumps(document))


def _widen_grant() -> None:
    document = iam("a-admin").get_user_policy(UserName="ci-user", PolicyName=GRANT)["PolicyDocument"]
    document["Statement"][0]["Resource"] = "*"
    _put_grant(document)


def _delete_role() -> None:
    b = iam("b-admin")
    b.detach_role_policy(RoleName=ROLE, PolicyArn=READ_ONLY)
    b.delete_role_policy(RoleName=ROLE, PolicyName="list-buckets")
    b.delete_role(RoleName=ROLE)


def _other(account: str = ACCOUNT_A) -> str:
    return f"arn:aws:iam::{account}:user/admin"


DRIFTS: dict[str, tuple[Callable[[], None], str]] = {
    # name: (make the drift by hand, the plan operation that repairs it)
    "trust-principal-added": (
        lambda: set_trust(lambda s: s.update(Principal={"AWS": [CI_USER_ARN, _other()]})), "update-trust-policy"),
    "trust-principal-swapped": (lambda: set_trust(lambda s: s.update(Principal={"AWS": _other()})), "update-trust-policy"),
    "external-id-removed": (lambda: set_trust(lambda s: s["Condition"].pop("StringEquals")), "update-trust-policy"),
    "external-id-changed": (
        lambda: set_trust(lambda s: s["Condition"].update(StringEquals={"sts:ExternalId": "other"})), "update-trust-policy"),
    "mfa-removed": (lambda: set_trust(lambda s: s["Condition"].pop("Bool")), "update-trust-policy"),
    "managed-policy-detached": (
        lambda: iam("b-admin").detach_role_policy(RoleName=ROLE, PolicyArn=READ_ONLY), "attach-policy"),
    "extra-managed-policy": (
        lambda: iam("b-admin").attach_role_policy(RoleName=ROLE, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"),
        "detach-policy"),
    "inline-policy-changed": (
        lambda: iam("b-admin").put_role_policy(
            RoleName=ROLE, PolicyName="list-buckets",
            PolicyDocument=json.dumps({**LIST_BUCKETS, "Statement": [{**LIST_BUCKETS["Statement"][0], "Action": "s3:*"}]}),
        ), "put-role-policy"),
    "inline-policy-added": (
        lambda: iam("b-admin").put_role_policy(RoleName=ROLE, PolicyName="extra", PolicyDocument=json.dumps(LIST_BUCKETS)),
        "delete-role-policy"),
    "inline-policy-deleted": (
        lambda: iam("b-admin").delete_role_policy(RoleName=ROLE, PolicyName="list-buckets"), "put-role-policy"),
    "max-session-changed": (
        lambda: iam("b-admin").update_role(RoleName=ROLE, MaxSessionDuration=3600), "update-role"),
    "description-changed": (lambda: iam("b-admin").update_role(RoleName=ROLE, Description="edited"), "update-role"),
    "boundary-removed": (
        lambda: iam("b-admin").delete_role_permissions_boundary(RoleName=ROLE), "set-permissions-boundary"),
    "boundary-changed": (
        lambda: iam("b-admin").put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary=READ_ONLY),
        "set-permissions-boundary"),
    "tag-changed": (lambda: iam("b-admin").tag_role(RoleName=ROLE, Tags=[{"Key": "team", "Value": "x"}]), "tag-role"),
    "tag-removed": (lambda: iam("b-admin").untag_role(RoleName=ROLE, TagKeys=["team"]), "tag-role"),
    "tag-added": (lambda: iam("b-admin").tag_role(RoleName=ROLE, Tags=[{"Key": "extra", "Value": "x"}]), "untag-role"),
    "grant-deleted": (lambda: iam("a-admin").delete_user_policy(UserName="ci-user", PolicyName=GRANT), "put-grant"),
    "grant-widened": (_widen_grant, "put-grant"),
    "role-deleted": (_delete_role, "create-role"),
}  # fmt: skip


@pytest.mark.parametrize("drift", list(DRIFTS), ids=list(DRIFTS))
def test_drift_is_planned_then_repaired(cli: Any, sandbox: Sandbox, trust_args: list[str], drift: str) -> None:
    make_drift, repair = DRIFTS[drift]
    assert cli("apply", *trust_args, "--yes").exit_code == 0
    assert plan_json(cli, sandbox, trust_args)[0] == 0

    make_drift()
    code, planned = plan_json(cli, sandbox, trust_args)
    assert code == 2
    assert repair in [c["operation"] for c in planned["changes"]]

    run = cli("apply", *trust_args, "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert [c["operation"] for c in run.json()["changes"]] == [c["operation"] for c in planned["changes"]]
    assert plan_json(cli, sandbox, trust_args) == (
        0,
        {"role_arn": ROLE_ARN, "changes": [], "after_verification": [], "not_owned": []},
    )


def test_plan_text_shows_each_side_and_a_readable_trust_diff(cli: Any, trust_args: list[str]) -> None:
    assert cli("apply", *trust_args, "--yes").exit_code == 0
    set_trust(lambda s: s["Condition"].update(StringEquals={"sts:ExternalId": "other"}))
    iam("a-admin").delete_user_policy(UserName="ci-user", PolicyName=GRANT)
    run = cli("plan", *trust_args)
    assert run.exit_code == 0  # without --detailed-exitcode, drift is not an error
    assert f"target account {ACCOUNT_B}:" in run.stdout
    assert f"source account {ACCOUNT_A}:" in run.stdout
    assert "~ update role/terraform-deploy trust policy" in run.stdout
    assert "- Allow sts:AssumeRole to AWS: " + CI_USER_ARN in run.stdout
    assert "sts:ExternalId = other" in run.stdout
    assert "sts:ExternalId = ext-1" in run.stdout
    assert "{" not in run.stdout  # statements, not JSON blobs


def test_plan_before_onboarding_shows_the_full_creation(cli: Any, sandbox: Sandbox, trust_args: list[str]) -> None:
    code, planned = plan_json(cli, sandbox, trust_args)
    assert code == 2
    assert [c["operation"] for c in planned["changes"]] == [
        "put-grant", "create-role", "attach-policy", "put-role-policy",
    ]  # fmt: skip
    assert role_names() == []


def test_plan_with_no_drift_says_so_in_one_line(cli: Any, trust_args: list[str]) -> None:
    assert cli("apply", *trust_args, "--yes").exit_code == 0
    run = cli("plan", *trust_args, "--detailed-exitcode")
    assert run.exit_code == 0
    assert run.stdout.strip() == "Both sides match: no changes."


def test_detailed_exitcode_maps_errors_to_1(cli: Any) -> None:
    run = cli("plan", *base_args(), "--principal", "not-an-arn", "--detailed-exitcode")
    assert run.exit_code == 1
    assert "not an ARN" in run.stderr


def test_config_changes_update_in_place_keeping_the_role(cli: Any, trust_args: list[str]) -> None:
    base = [*base_args(ROLE), "--principal", CI_USER_ARN, "--no-verify", "--yes"]
    assert cli("apply", *base).exit_code == 0
    before = iam("b-admin").get_role(RoleName=ROLE)["Role"]
    run = cli("apply", *base, "--external-id", "added", "--require-mfa", "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert [c["operation"] for c in run.json()["changes"]] == ["update-trust-policy"]
    after = iam("b-admin").get_role(RoleName=ROLE)["Role"]
    assert (after["RoleId"], after["Arn"]) == (before["RoleId"], before["Arn"])
    assert after["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"] == {"sts:ExternalId": "added"}


def test_rename_creates_and_grants_the_new_role_then_removes_the_old(cli: Any, sandbox: Sandbox) -> None:
    common = ["--principal", CI_USER_ARN, "--policy-arn", READ_ONLY, "--verify-profile", "ci", "--yes"]
    assert cli("apply", *base_args("old-name"), *common).exit_code == 0
    sandbox.clear_calls()
    run = cli("apply", *base_args("new-name"), *common, "--replaces", "old-name", "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert role_names() == ["new-name"]
    assert user_policies() == [f"trust-bootstrap-{ACCOUNT_B}-new-name"]
    calls = [(c.operation, c.account) for c in sandbox.calls() if c.is_write or c.operation == "AssumeRole"]
    b_writes = [op for op, account in calls if account == ACCOUNT_B]
    assert b_writes.index("CreateRole") < b_writes.index("DeleteRole")
    a_calls = [op for op, account in calls if account == ACCOUNT_A]
    assert a_calls == ["PutUserPolicy", "AssumeRole", "DeleteUserPolicy"]  # removed only once proven
    ops = [c.operation for c in sandbox.calls()]
    assert ops.index("AssumeRole") < ops.index("DeleteRole")


def test_rename_keeps_the_old_role_when_the_new_one_fails_verification(cli: Any, sandbox: Sandbox) -> None:
    common = ["--principal", CI_USER_ARN, "--verify-profile", "ci", "--yes"]
    assert cli("apply", *base_args("old-name"), *common).exit_code == 0
    sandbox.propagation_delay = 3600.0  # the new role never becomes assumable in this run
    run = cli("apply", *base_args("new-name"), *common, "--replaces", "old-name", "--verify-timeout", "1")
    assert run.exit_code == 7, run.stderr
    assert sorted(role_names()) == ["new-name", "old-name"]
    assert sorted(user_policies()) == [f"trust-bootstrap-{ACCOUNT_B}-new-name", f"trust-bootstrap-{ACCOUNT_B}-old-name"]
    assert "old role old-name and its grant were kept" in " ".join(run.stderr.split())
    sandbox.propagation_delay = 0.0
    again = cli("apply", *base_args("new-name"), *common, "--replaces", "old-name")
    assert again.exit_code == 0, again.stderr
    assert role_names() == ["new-name"]
    assert user_policies() == [f"trust-bootstrap-{ACCOUNT_B}-new-name"]


def test_rename_without_verification_keeps_the_old_role_and_says_how_to_remove_it(cli: Any) -> None:
    common = ["--principal", CI_USER_ARN, "--yes"]
    assert cli("apply", *base_args("old-name"), *common, "--no-verify").exit_code == 0
    run = cli("apply", *base_args("new-name"), *common, "--no-verify", "--replaces", "old-name")
    assert run.exit_code == 0, run.stderr
    assert sorted(role_names()) == ["new-name", "old-name"]
    out = " ".join(run.stdout.split())
    assert "The old role old-name and its grant were kept" in out
    assert "--replaces old-name" in out and "--verify-profile" in out
    again = cli("apply", *base_args("new-name"), *common, "--replaces", "old-name", "--verify-profile", "ci")
    assert again.exit_code == 0, again.stderr
    assert role_names() == ["new-name"]


def _hand_made_role(name: str = ROLE) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT_A}, "Action": "sts:AssumeRole"}],
    }
    iam("b-admin").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Description="by hand")


def test_role_not_owned_is_reported_and_refused(cli: Any, sandbox: Sandbox) -> None:
    _hand_made_role()
    args = [*base_args(ROLE), "--principal", CI_USER_ARN, "--no-verify"]
    code, planned = plan_json(cli, sandbox, args)
    assert code == 2
    assert planned["not_owned"] == [f"role {ROLE_ARN} exists, not managed by trust-bootstrap"]
    before = trust_doc()
    sandbox.clear_calls()
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 8
    assert "not managed by trust-bootstrap" in run.stderr and "--adopt" in run.stderr
    assert [c for c in sandbox.calls() if c.is_write] == []
    assert trust_doc() == before


def test_adopt_shows_the_diff_then_tags_and_converges(cli: Any, sandbox: Sandbox) -> None:
    _hand_made_role()
    args = [*base_args(ROLE), "--principal", CI_USER_ARN, "--no-verify"]
    run = cli("apply", *args, "--adopt", "--yes")
    assert run.exit_code == 0, run.stderr
    assert "~ update role/terraform-deploy trust policy" in run.stdout
    assert "trust-bootstrap:managed: '(none)' -> 'true'" in run.stdout
    assert "description: 'by hand' -> ''" in run.stdout
    role = iam("b-admin").get_role(RoleName=ROLE)["Role"]
    assert {"Key": "trust-bootstrap:managed", "Value": "true"} in role["Tags"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": CI_USER_ARN}
    assert plan_json(cli, sandbox, args)[0] == 0  # owned now: no --adopt needed any more


def test_edited_grant_with_our_name_is_drift_shown_wider_and_narrowed(cli: Any, sandbox: Sandbox) -> None:
    # The grant's name is trust-bootstrap's namespace: any other content under it is drift to repair.
    args = [*base_args(ROLE), "--principal", CI_USER_ARN, "--no-verify"]
    assert cli("apply", *args, "--yes").exit_code == 0
    _put_grant({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]})
    text = cli("plan", *args)
    assert text.exit_code == 0, text.stderr
    assert f"~ update user/ci-user inline policy {GRANT}" in text.stdout
    assert "- Allow sts:* on *" in text.stdout
    assert f"+ Allow sts:AssumeRole on {ROLE_ARN}" in text.stdout
    assert "wider than the grant trust-bootstrap writes" in text.stdout
    assert "No changes to make" not in text.stdout and "left alone" not in text.stdout
    code, planned = plan_json(cli, sandbox, args)
    assert code == 2
    assert [c["operation"] for c in planned["changes"]] == ["put-grant"]
    assert planned["not_owned"] == []
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 0, run.stderr
    narrowed = iam("a-admin").get_user_policy(UserName="ci-user", PolicyName=GRANT)["PolicyDocument"]
    assert narrowed["Statement"][0]["Action"] == "sts:AssumeRole"
    assert narrowed["Statement"][0]["Resource"] == ROLE_ARN
    assert plan_json(cli, sandbox, args)[0] == 0


def test_edited_grant_and_deleted_role_are_both_recreated(cli: Any, sandbox: Sandbox) -> None:
    foreign = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    _put_grant(foreign)
    args = [*base_args(ROLE), "--principal", CI_USER_ARN, "--no-verify"]
    code, planned = plan_json(cli, sandbox, args)
    assert code == 2
    assert [c["operation"] for c in planned["changes"]] == ["put-grant", "create-role"]
    assert any("wider" in d for d in planned["changes"][0]["details"])
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 0, run.stderr
    assert role_names() == [ROLE]
    kept = iam("a-admin").get_user_policy(UserName="ci-user", PolicyName=GRANT)["PolicyDocument"]
    assert kept["Statement"][0]["Action"] == "sts:AssumeRole"


def test_no_op_rerun_makes_only_these_reads(cli: Any, sandbox: Sandbox, trust_args: list[str]) -> None:
    verify = [a for a in trust_args if a not in ("--no-verify", "--require-mfa")] + ["--verify-profile", "ci"]
    assert cli("apply", *verify, "--yes").exit_code == 0
    sandbox.clear_calls()
    run = cli("apply", *verify, "--yes")
    assert run.exit_code == 0, run.stderr
    assert "No changes: both sides already match (no write calls made)." in run.stdout
    calls = Counter((c.account, c.operation) for c in sandbox.calls())
    # Every call a no-op re-run makes. A new one here must be a conscious change.
    assert calls == Counter({
        (ACCOUNT_A, "GetCallerIdentity"): 2,  # the source profile; the verify profile (a pre-write check)
        (ACCOUNT_B, "GetCallerIdentity"): 2,  # target profile, and the assumed role's identity
        (ACCOUNT_A, "GetUser"): 1,  # the principal exists, with that exact ARN
        # Sent in the first round before anyone knows whether anything will be written (prewrite.py),
        # so that a first onboarding writes a round earlier: the principal's inline policy names, and
        # the policies to attach exist.
        (ACCOUNT_A, "ListUserPolicies"): 1,
        (ACCOUNT_B, "GetPolicy"): 2,
        (ACCOUNT_A, "GetUserPolicy"): 1,  # the grant
        (ACCOUNT_B, "GetRole"): 1,
        (ACCOUNT_B, "ListAttachedRolePolicies"): 1,
        (ACCOUNT_B, "ListRolePolicies"): 1,
        (ACCOUNT_B, "GetRolePolicy"): 1,
        (ACCOUNT_A, "AssumeRole"): 1,  # the verification
    })  # fmt: skip
