"""--for CONSUMER: the trust and the grant admit each named consumer's own STS call, and the proof
replays it (tags, session name, duration), against the sandbox (which asks for sts:TagSession on
both sides, as STS does)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import ACCOUNT_A, ACCOUNT_B, CI_USER_ARN, base_args, iam

ROLE = "terraform-deploy"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}"
GRANT = f"trust-bootstrap-{ACCOUNT_B}-{ROLE}"
GITHUB_KEYS = [
    "GitHub", "Repository", "Workflow", "Action", "Actor", "Branch", "Commit",
    "EventName", "RunId", "Job", "TriggeringActor", "BaseRef", "HeadRef",
]  # fmt: skip


def run(cli: Any, verb: str, *extra: str) -> Any:
    yes = ("--yes",) if verb == "apply" else ()
    return cli(verb, *base_args(ROLE), "--principal", CI_USER_ARN, "--verify-profile", "ci", *yes, *extra)


def _statements(document: Any) -> dict[str, Any]:
    statements = document["Statement"]
    return {s.get("Sid"): s for s in (statements if isinstance(statements, list) else [statements])}


def trust() -> dict[str, Any]:
    return _statements(iam("b-admin").get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"])


def grant() -> dict[str, Any]:
    return _statements(iam("a-admin").get_user_policy(UserName="ci-user", PolicyName=GRANT)["PolicyDocument"])


def test_github_actions_call_is_refused_on_todays_trust_and_admitted_on_the_new_one(cli: Any) -> None:
    assert run(cli, "apply").exit_code == 0  # today's trust: a bare sts:AssumeRole
    refused = run(cli, "verify", "--for", "github-actions")
    assert refused.exit_code == 7, refused.stdout + refused.stderr
    assert "sts:TagSession in the trust" in refused.stdout
    assert "github-actions" in refused.stdout and "REFUSED" in refused.stdout

    applied = run(cli, "apply", "--for", "github-actions", "--output", "json")
    assert applied.exit_code == 0, applied.stderr
    verdicts = applied.json()["verification"]["consumers"]
    assert [(v["consumer"], v["session_name"], v["ok"]) for v in verdicts] == [
        ("github-actions", "GitHubActions", True)
    ]
    tagging = trust()["TrustBootstrapTagSession"]
    assert tagging["Action"] == "sts:TagSession" and tagging["Principal"] == {"AWS": CI_USER_ARN}
    assert tagging["Condition"] == {"ForAllValues:StringEquals": {"aws:TagKeys": GITHUB_KEYS}}
    granted = grant()["TrustBootstrapTagSession"]
    assert granted["Resource"] == ROLE_ARN and granted["Condition"] == tagging["Condition"]
    ok = run(cli, "verify", "--for", "github-actions")
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    assert "for github-actions" in ok.stdout and "ok: session GitHubActions" in ok.stdout


def test_verify_names_the_missing_tag_session_when_it_is_taken_out(cli: Any) -> None:
    assert run(cli, "apply", "--for", "github-actions").exit_code == 0
    document = iam("b-admin").get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "TrustBootstrapTagSession"]
    iam("b-admin").update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(document))
    failed = run(cli, "verify", "--for", "github-actions")
    assert failed.exit_code == 7
    assert "missing sts:TagSession in the trust" in failed.stdout
    # the grant side too: the trust back, the grant's statement out
    assert run(cli, "apply", "--for", "github-actions").exit_code == 0
    policy = iam("a-admin").get_user_policy(UserName="ci-user", PolicyName=GRANT)["PolicyDocument"]
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "TrustBootstrapTagSession"]
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName=GRANT, PolicyDocument=json.dumps(policy))
    failed = run(cli, "verify", "--for", "github-actions", "--output", "json")
    assert failed.exit_code == 7
    assert "sts:TagSession in the grant" in failed.stdout + failed.stderr
    # diagnose knows the cause: the consumer's tagged call, judged on the caller's side
    tags = [f"--tag={key}=x" for key in GITHUB_KEYS]
    diagnosed = cli("diagnose", "--role-arn", ROLE_ARN, "--source-profile", "ci", "--target-profile", "b-admin",
                    "--source-admin-profile", "a-admin", *tags, "-o", "json")  # fmt: skip
    assert diagnosed.exit_code == 9, diagnosed.stdout
    session_tags = next(c for c in diagnosed.json()["checks"] if c["id"] == "session-tags")
    assert session_tags["status"] == "fail" and "--for github-actions" in session_tags["fix"]


def test_without_for_the_trust_is_todays(cli: Any) -> None:
    assert run(cli, "apply").exit_code == 0
    assert set(trust()) == {"TrustBootstrapAssumeRole"} and set(grant()) == {"TrustBootstrapGrant"}


def test_terraform_aws_profile_and_gitlab_calls_are_replayed_with_their_own_session_names(cli: Any) -> None:
    applied = run(cli, "apply", "--for", "terraform", "--for", "aws-profile", "--for", "gitlab-ci", "-o", "json")
    assert applied.exit_code == 0, applied.stderr
    verdicts = {v["consumer"]: v for v in applied.json()["verification"]["consumers"]}
    assert {k: v["session_name"] for k, v in verdicts.items()} == {
        "terraform": f"terraform-{ROLE}",
        "aws-profile": f"aws-profile-{ROLE}",
        "gitlab-ci": f"gitlab-ci-{ROLE}",
    }
    assert all(v["ok"] for v in verdicts.values())
    assert all(v["detail"].endswith(f"/{v['session_name']}") for v in verdicts.values())
    assert set(trust()) == {"TrustBootstrapAssumeRole"}  # none of them tags: no sts:TagSession


def test_an_unknown_consumer_is_refused_naming_the_flag(cli: Any) -> None:
    failed = run(cli, "plan", "--for", "jenkins")
    assert failed.exit_code == 2
    assert "--for: unknown consumer 'jenkins'" in failed.stderr


def test_plan_says_what_the_trust_admits_for_each_consumer_and_why(cli: Any) -> None:
    tagged = run(cli, "plan", "--for", "github-actions")
    assert tagged.exit_code == 0, tagged.stderr
    assert "sts:TagSession, only with the 13 tag keys aws-actions/configure-aws-credentials@v6" in tagged.stdout
    plain = run(cli, "plan", "--for", "terraform")
    assert "role-skip-session-tagging: true" in plain.stdout and "(session terraform-ROLE)" in plain.stdout
    assert "For " not in run(cli, "plan").stdout  # without --for, today's plan


def test_the_config_key_and_init_carry_the_consumers(cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "trust.yaml"
    written = cli("init", str(config), *base_args(ROLE), "--principal", CI_USER_ARN, "--verify-profile", "ci",
                  "--for", "github-actions", "--no-interactive")  # fmt: skip
    assert written.exit_code == 0, written.stderr
    assert "consumers:\n- github-actions\n" in config.read_text()
    applied = cli("apply", "--config", str(config), "--yes", "-o", "json")
    assert applied.exit_code == 0, applied.stderr
    assert applied.json()["verification"]["consumers"][0]["consumer"] == "github-actions"
    assert "TrustBootstrapTagSession" in trust()
    config.write_text(config.read_text().replace("consumers:\n- github-actions\n", "consumers: [nope]\n"))
    refused = cli("plan", "--config", str(config))
    assert refused.exit_code == 2 and "config key 'consumers'" in refused.stderr


def test_hub_trust_and_grant_admit_the_chaining_steps_tags(cli: Any, sandbox: Any) -> None:
    args = ["--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", "deploy", "--hub-role",
            "ci-hub", "--github-repo", "octo-org/octo-repo", "--github-ref", "refs/heads/main",
            "--oidc-issuer", sandbox.issuer.url]  # fmt: skip
    assert cli("apply", *args, "--yes").exit_code == 0  # today's hub trust: the chaining step's tags refused
    refused = cli("verify", *args, "--for", "github-actions")
    assert refused.exit_code == 7, refused.stdout + refused.stderr
    assert "REFUSED" in refused.stdout and "sts:TagSession" in refused.stdout
    applied = cli("apply", *args, "--for", "github-actions", "--yes", "-o", "json")
    assert applied.exit_code == 0, applied.stderr
    (verdict,) = applied.json()["verification"]["consumers"]
    assert verdict["ok"] is True and verdict["detail"].endswith("assumed-role/deploy/GitHubActions")
    document = iam("b-admin").get_role(RoleName="deploy")["Role"]["AssumeRolePolicyDocument"]
    tagging = _statements(document)["TrustBootstrapTagSession"]
    assert tagging["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_A}:role/ci-hub"}
    assert tagging["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"] == GITHUB_KEYS
    grant_name = f"trust-bootstrap-{ACCOUNT_B}-deploy"
    hub_grant = iam("a-admin").get_role_policy(RoleName="ci-hub", PolicyName=grant_name)["PolicyDocument"]
    assert _statements(hub_grant)["TrustBootstrapTagSession"]["Resource"] == f"arn:aws:iam::{ACCOUNT_B}:role/deploy"


def test_a_role_principal_chains_so_its_consumers_ask_for_an_hour_at_most(cli: Any) -> None:
    admin = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/admin"},
        "Action": "sts:AssumeRole",
    }
    iam("a-admin").create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps({"Statement": [admin]}))
    principal = f"arn:aws:iam::{ACCOUNT_A}:role/deployer"
    args = [*base_args(ROLE), "--principal", principal, "--max-session-duration", "7200", "--for", "aws-profile"]
    applied = cli("apply", *args, "--yes", "-o", "json")
    assert applied.exit_code == 0, applied.stderr
    # the role allows two hours, but the principal's session assuming it is role chaining: one hour
    assert applied.json()["verification"]["consumers"][0]["ok"] is True
    exported = cli("export", *args, "--format", "aws-config")
    assert exported.exit_code == 0, exported.stderr
    assert "duration_seconds = 3600" in exported.stdout and f"role_session_name = aws-profile-{ROLE}" in exported.stdout


def test_the_cloudformation_template_admits_the_same_tags(cli: Any) -> None:
    exported = cli("export", "--offline", "--target-account", ACCOUNT_B, "--principal", CI_USER_ARN, "--role-name",
                   ROLE, "--for", "github-actions", "--format", "cloudformation")  # fmt: skip
    assert exported.exit_code == 0, exported.stderr
    document = json.loads(exported.stdout)["Resources"]["Role"]["Properties"]["AssumeRolePolicyDocument"]
    tagging = _statements(document)["TrustBootstrapTagSession"]
    assert tagging["Principal"] == {"AWS": {"Ref": "SourcePrincipalArn"}}
    assert tagging["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"] == GITHUB_KEYS


def test_a_fleets_roles_and_its_one_grant_admit_the_tags(cli: Any, sandbox: Any, tmp_path: Path) -> None:
    from tests.test_fleet import GRANT as FLEET_GRANT
    from tests.test_fleet import fleet_file, member_iam, role_in

    config = fleet_file(tmp_path, sandbox, consumers=["github-actions"])
    applied = cli("apply", "--config", str(config), "--yes", "-o", "json", "--parallel", "2")
    assert applied.exit_code == 0, applied.stderr
    role = role_in(sandbox.org_members[0], "deploy")
    assert role is not None and "TrustBootstrapTagSession" in _statements(role["AssumeRolePolicyDocument"])
    document = iam("a-admin").get_user_policy(UserName="ci-user", PolicyName=FLEET_GRANT)["PolicyDocument"]
    tagging = _statements(document)["TrustBootstrapTagSession"]
    assert sorted(tagging["Resource"]) == sorted(t["role_arn"] for t in applied.json()["targets"])
    assert tagging["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"] == GITHUB_KEYS
    again = cli("plan", "--config", str(config), "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr  # the grant with two statements reads back as ours
    # each target's proof replays the consumer's call too, and names what is missing when refused
    verdicts = [t["verification"]["consumers"] for t in applied.json()["targets"]]
    assert all(v == [{**v[0], "consumer": "github-actions", "ok": True}] for v in verdicts)
    member = sandbox.org_members[0]
    client = member_iam(member)
    trust_doc = client.get_role(RoleName="deploy")["Role"]["AssumeRolePolicyDocument"]
    trust_doc["Statement"] = [s for s in trust_doc["Statement"] if s.get("Sid") != "TrustBootstrapTagSession"]
    client.update_assume_role_policy(RoleName="deploy", PolicyDocument=json.dumps(trust_doc))
    failed = cli("verify", "--config", str(config), "-o", "json")
    assert failed.exit_code == 7
    assert "missing sts:TagSession in the trust or the grant" in failed.stdout + failed.stderr


def test_stacksets_roles_and_org_grant_admit_the_actions_tagged_call(cli: Any, sandbox: Any) -> None:
    from botocore.exceptions import ClientError

    from tests.conftest import assume
    from tests.test_stacksets import grant_document, org_args

    member_role = f"arn:aws:iam::{sandbox.org_members[0]}:role/org-role"
    tags = [{"Key": k, "Value": "x"} for k in GITHUB_KEYS]
    assert cli("apply", *org_args(sandbox), "--yes").exit_code == 0  # today's trust and grant
    try:
        assume("ci", member_role, ExternalId="ext-org-1", Tags=tags)
        raise AssertionError("the action's tagged call was admitted without sts:TagSession")
    except ClientError as err:
        assert err.response["Error"]["Code"] == "AccessDenied" and "sts:TagSession" in str(err)
    # A fresh rollout: the sandbox's moto does not carry an updated template to existing instances
    # (UpdateStackSet reports 0 instances updated), which AWS does.
    assert cli("teardown", *org_args(sandbox, command="teardown"), "--yes").exit_code == 0
    applied = cli("apply", *org_args(sandbox, "--for", "github-actions"), "--yes")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert assume("ci", member_role, ExternalId="ext-org-1", Tags=tags).endswith("/test")
    document = grant_document()
    assert document is not None
    tagging = _statements(document)["TrustBootstrapTagSession"]
    assert tagging["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"] == GITHUB_KEYS
    assert "aws:ResourceOrgID" in tagging["Condition"]["StringEquals"]  # the same organization pin as the grant
    plan = cli("plan", *org_args(sandbox, "--for", "github-actions", command="plan"), "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr  # the two-statement grant reads back as ours
    assert cli("verify", *org_args(sandbox, "--for", "github-actions", command="verify")).exit_code == 0
    # each account's proof replays the action's call: the grant's sts:TagSession out, every account refused
    document["Statement"] = [st for st in document["Statement"] if st.get("Sid") != "TrustBootstrapTagSession"]
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName="trust-bootstrap-stackset-org-role",
                                   PolicyDocument=json.dumps(document))  # fmt: skip
    refused = cli("verify", *org_args(sandbox, "--for", "github-actions", command="verify"))
    assert refused.exit_code == 7, refused.stdout + refused.stderr
    assert "missing sts:TagSession in the trust or the grant" in refused.stdout + refused.stderr


def test_a_consumer_named_for_a_direct_ci_trust_is_said_to_change_nothing(cli: Any, sandbox: Any) -> None:
    args = ["--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", "deploy",
            "--github-repo", "octo-org/octo-repo", "--github-ref", "refs/heads/main",
            "--oidc-issuer", sandbox.issuer.url]  # fmt: skip
    named = cli("plan", *args, "--for", "terraform")
    assert named.exit_code == 0, named.stderr
    assert "--for terraform: a CI job assumes this role directly" in named.stderr
    assert "--for" not in cli("plan", *args).stderr  # nothing named, nothing said
    hub = cli("plan", *args, "--hub-role", "ci-hub", "--for", "terraform")
    assert hub.exit_code == 0, hub.stderr
    assert "assumes this role directly" not in hub.stderr  # the hub topology replays it
