"""CI without keys: the pure subject/trust module, and the CLI against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bootstrap.core import oidc, oidcinput
from tests.conftest import ACCOUNT_A, ACCOUNT_B, CI_USER_ARN, iam

# -- pure: subjects (formats from GitHub's and GitLab's docs, cited in bootstrap/core/oidc.py) ----------


def test_github_subjects_follow_githubs_documented_formats() -> None:
    assert oidc.github_sub("octo-org/octo-repo", ref="refs/heads/main") == "repo:octo-org/octo-repo:ref:refs/heads/main"
    assert oidc.github_sub("octo-org/octo-repo", ref="refs/tags/v1") == "repo:octo-org/octo-repo:ref:refs/tags/v1"
    assert (
        oidc.github_sub("octo-org/octo-repo", environment="Production")
        == "repo:octo-org/octo-repo:environment:Production"
    )
    assert oidc.github_sub("octo-org/octo-repo", pull_request=True) == "repo:octo-org/octo-repo:pull_request"
    # an environment wins over the event and the ref, as GitHub documents
    assert oidc.github_sub("o/r", ref="refs/heads/main", environment="prod", pull_request=True).endswith(
        ":environment:prod"
    )
    assert oidc.github_sub("o/r", environment="Production:V1") == "repo:o/r:environment:Production%3AV1"
    assert (
        oidc.github_sub("octo-org/octo-repo", ref="refs/heads/main", owner_id="123456", repo_id="456789")
        == "repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main"
    )


def test_gitlab_subject_follows_gitlabs_documented_format() -> None:
    assert oidc.gitlab_sub("group/sub/project", "main") == "project_path:group/sub/project:ref_type:branch:ref:main"
    assert oidc.gitlab_sub("g/p", "v1.2", "tag") == "project_path:g/p:ref_type:tag:ref:v1.2"


def _condition(trust: oidc.OidcTrust) -> dict[str, Any]:
    document = json.loads(oidc.trust_policy(trust, "arn:aws:iam::222222222222:oidc-provider/x"))
    statement = document["Statement"][0]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    return dict(statement["Condition"])


def test_exact_subject_uses_string_equals_and_wildcard_string_like() -> None:
    exact = oidc.github_trust(
        "o/r", ref="refs/heads/main", environment=None, pull_request=False, owner_id=None, repo_id=None
    )
    condition = _condition(exact)
    host = "token.actions.githubusercontent.com"
    assert condition == {
        "StringEquals": {f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": "repo:o/r:ref:refs/heads/main"}
    }
    tags = oidc.github_trust(
        "o/r", ref="refs/tags/v*", environment=None, pull_request=False, owner_id=None, repo_id=None
    )
    condition = _condition(tags)
    assert condition["StringEquals"] == {f"{host}:aud": "sts.amazonaws.com"}
    assert condition["StringLike"] == {f"{host}:sub": "repo:o/r:ref:refs/tags/v*"}


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (oidcinput.check_github_repo, "octo-org"),
        (oidcinput.check_github_repo, "octo org/repo"),
        (oidcinput.check_github_repo, "-bad/repo"),
        (oidcinput.check_github_repo, "org/*"),
        (oidcinput.check_github_ref, "main"),
        (oidcinput.check_issuer, "http://token.example.com"),
        (oidcinput.check_issuer, "token.example.com"),
        (oidcinput.check_gitlab_ref, "refs/heads/main"),
        (oidcinput.check_gitlab_project, "project-without-group"),
        (oidcinput.check_subject, "*"),
        (oidcinput.check_subject, "repo:octo-org/*"),
    ],
)
def test_malformed_inputs_are_refused(check: Any, value: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        check(value)


def test_org_wildcard_needs_the_explicit_flag() -> None:
    assert oidcinput.check_github_repo("org/*", allow_org_wildcard=True) == ("org", "*")
    assert oidcinput.check_subject("repo:octo-org/*", allow_org_wildcard=True) == "repo:octo-org/*"
    assert (
        oidcinput.check_subject("repo:o/r:ref:refs/tags/v*") == "repo:o/r:ref:refs/tags/v*"
    )  # a ref wildcard is not org-wide


def test_static_proof_names_the_sub_and_the_verdict() -> None:
    trust = oidc.github_trust("o/r", ref=None, environment="prod", pull_request=False, owner_id=None, repo_id=None)
    (line,) = oidc.static_proof(trust)
    assert "repo:o/r:environment:prod" in line
    assert "admitted" in line
    ok, why = oidc.admits(
        trust, {"iss": oidc.GITHUB_ISSUER, "aud": "sts.amazonaws.com", "sub": "repo:o/r:ref:refs/heads/main"}
    )
    assert not ok
    assert "does not match" in why


# -- CLI against the sandbox -------------------------------------------------------------------------

GITHUB = ["--target-profile", "b-admin", "--role-name", "gha-deploy", "--github-repo", "octo-org/octo-repo"]


def _trust_of(role: str) -> dict[str, Any]:
    return dict(iam("b-admin").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])


def test_apply_creates_the_provider_and_the_narrowest_trust(cli: Any) -> None:
    run = cli("apply", *GITHUB, "--github-ref", "refs/heads/main", "--yes")
    assert run.exit_code == 0, run.stderr
    providers = iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"]
    arn = f"arn:aws:iam::{ACCOUNT_B}:oidc-provider/token.actions.githubusercontent.com"
    assert [p["Arn"] for p in providers] == [arn]
    provider = iam("b-admin").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert {"Key": "trust-bootstrap:managed", "Value": "true"} in provider["Tags"]
    statement = _trust_of("gha-deploy")["Statement"][0]
    assert statement["Principal"] == {"Federated": arn}
    assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
        "repo:octo-org/octo-repo:ref:refs/heads/main"
    )
    assert "repo:octo-org/octo-repo:ref:refs/heads/main" in run.stdout  # the static proof names the sub
    again = cli("plan", *GITHUB, "--github-ref", "refs/heads/main", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout


def test_drift_in_the_sub_is_planned_and_repaired(cli: Any) -> None:
    assert cli("apply", *GITHUB, "--github-ref", "refs/heads/main", "--yes").exit_code == 0
    trust = _trust_of("gha-deploy")
    trust["Statement"][0]["Condition"] = {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/*"}}
    iam("b-admin").update_assume_role_policy(RoleName="gha-deploy", PolicyDocument=json.dumps(trust))
    drift = cli("plan", *GITHUB, "--github-ref", "refs/heads/main", "--detailed-exitcode", "-o", "json")
    assert drift.exit_code == 2
    assert [c["operation"] for c in drift.json()["changes"]] == ["update-trust-policy"]
    assert cli("apply", *GITHUB, "--github-ref", "refs/heads/main", "--yes").exit_code == 0
    assert "StringLike" not in json.dumps(_trust_of("gha-deploy"))


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--github-ref", "main"], "refs/heads/main"),
        ([], "at least one"),  # a ref and an environment together admit both (tests/test_ci_claims.py)
        (["--github-ref", "refs/heads/main", "--oidc-issuer", "http://ghes.example.com/_services/token"], "https"),
        (["--github-ref", "refs/heads/main", "--external-id", "abcdef"], "does not apply"),
        (["--github-ref", "refs/heads/main", "--github-owner-id", "12"], "go together"),
    ],
)
def test_bad_ci_input_exits_2_before_any_write(cli: Any, sandbox: Any, extra: list[str], needle: str) -> None:
    run = cli("apply", *GITHUB, *extra, "--yes")
    assert run.exit_code == 2, run.stderr
    assert needle in run.stderr
    assert not [c for c in sandbox.calls() if c.is_write]


def test_org_wide_wildcard_is_refused_without_the_flag_and_warned_with_it(cli: Any) -> None:
    args = ["--target-profile", "b-admin", "--role-name", "org-ci", "--github-repo", "octo-org/*"]
    refused = cli("apply", *args, "--github-ref", "refs/heads/main", "--yes")
    assert refused.exit_code == 2
    assert "--allow-org-wildcard" in refused.stderr
    allowed = cli("apply", *args, "--github-ref", "refs/heads/main", "--allow-org-wildcard", "--yes")
    assert allowed.exit_code == 0, allowed.stderr
    assert "Warning" in allowed.stderr
    condition = _trust_of("org-ci")["Statement"][0]["Condition"]
    assert condition["StringLike"] == {"token.actions.githubusercontent.com:sub": "repo:octo-org/*:ref:refs/heads/main"}


def test_gitlab_trust_and_teardown_keep_a_provider_another_role_names(cli: Any) -> None:
    gitlab = ["--target-profile", "b-admin", "--gitlab-project", "grp/proj", "--gitlab-ref", "main"]
    assert cli("apply", *gitlab, "--role-name", "gl-one", "--yes").exit_code == 0
    assert cli("apply", *gitlab, "--role-name", "gl-two", "--yes").exit_code == 0
    condition = _trust_of("gl-one")["Statement"][0]["Condition"]["StringEquals"]
    assert condition == {
        "gitlab.com:aud": "https://gitlab.com",
        "gitlab.com:sub": "project_path:grp/proj:ref_type:branch:ref:main",
    }
    run = cli("teardown", *gitlab, "--role-name", "gl-one", "--yes")
    assert run.exit_code == 0, run.stderr
    assert "gl-two" in run.stdout  # says why the provider stays
    arns = [p["Arn"] for p in iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert arns == [f"arn:aws:iam::{ACCOUNT_B}:oidc-provider/gitlab.com"]
    assert cli("teardown", *gitlab, "--role-name", "gl-two", "--yes").exit_code == 0
    assert iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_teardown_never_deletes_a_provider_it_did_not_create(cli: Any) -> None:
    iam("b-admin").create_open_id_connect_provider(Url="https://gitlab.com", ClientIDList=["https://gitlab.com"])
    gitlab = [
        "--target-profile",
        "b-admin",
        "--gitlab-project",
        "grp/proj",
        "--gitlab-ref",
        "main",
        "--role-name",
        "gl",
    ]
    applied = cli("apply", *gitlab, "--yes")
    assert applied.exit_code == 0, applied.stderr
    assert "create OIDC provider" not in applied.stdout
    assert cli("teardown", *gitlab, "--yes").exit_code == 0
    assert len(iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1


def test_a_foreign_provider_without_the_audience_is_not_changed(cli: Any, sandbox: Any) -> None:
    iam("b-admin").create_open_id_connect_provider(Url="https://gitlab.com", ClientIDList=["something-else"])
    sandbox.clear_calls()
    run = cli("apply", "--target-profile", "b-admin", "--gitlab-project", "g/p", "--gitlab-ref", "main",
              "--role-name", "gl", "--yes")  # fmt: skip
    assert run.exit_code == 8, run.stderr
    assert "not managed by trust-bootstrap" in run.stderr
    assert not [c for c in sandbox.calls() if c.is_write]


# -- the sandbox as an OIDC issuer, and its AssumeRoleWithWebIdentity referee -----------------------


def _sandbox_github(sandbox: Any, role: str = "gha-deploy") -> list[str]:
    return ["--target-profile", "b-admin", "--role-name", role, "--github-repo", "octo-org/octo-repo",
            "--oidc-issuer", sandbox.issuer.url]  # fmt: skip


def test_apply_proves_the_trust_live_with_a_token_for_the_configured_run(cli: Any, sandbox: Any) -> None:
    run = cli("apply", *_sandbox_github(sandbox), "--github-environment", "prod", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    result = run.json()
    assert result["verification"]["ok"] is True
    assert result["verification"]["assumed_arn"].startswith(f"arn:aws:sts::{ACCOUNT_B}:assumed-role/gha-deploy/")
    assert result["predicted"][0]["sub"] == "repo:octo-org/octo-repo:environment:prod"
    assert any(c.operation == "AssumeRoleWithWebIdentity" and c.status == 200 for c in sandbox.calls())


def _token_file(tmp_path: Any, sandbox: Any, **claims: Any) -> str:
    path = tmp_path / "token"
    path.write_text(sandbox.issuer.mint({"aud": "sts.amazonaws.com", **claims}))
    return str(path)


@pytest.mark.parametrize(
    ("claims", "needle"),
    [
        ({"sub": "repo:octo-org/octo-repo:ref:refs/heads/main"}, "AccessDenied"),  # the job names an environment
        ({"sub": "repo:Octo-Org/octo-repo:environment:prod"}, "AccessDenied"),  # org/repo case
        ({"sub": "repo:octo-org/octo-repo:environment:prod", "aud": "https://github.com/octo-org"}, "audience"),
        ({"sub": "repo:octo-org/octo-repo:environment:prod", "exp": 1000}, "expired"),
    ],
)
def test_verify_with_a_token_file_is_judged_like_aws(
    cli: Any, sandbox: Any, tmp_path: Any, claims: dict[str, Any], needle: str
) -> None:
    args = [*_sandbox_github(sandbox), "--github-environment", "prod"]
    assert cli("apply", *args, "--no-verify", "--yes").exit_code == 0
    token = _token_file(tmp_path, sandbox, **claims)
    run = cli("verify", *args, "--web-identity-token-file", token, "--verify-timeout", "1")
    assert run.exit_code in (3, 7), run.stdout + run.stderr
    assert needle.lower() in (run.stdout + run.stderr).lower()
    assert Path(token).read_text() not in run.stdout + run.stderr  # never printed
    good = _token_file(tmp_path, sandbox, sub="repo:octo-org/octo-repo:environment:prod")
    assert cli("verify", *args, "--web-identity-token-file", good).exit_code == 0


def test_the_referee_needs_the_provider_and_the_issuers_signature(cli: Any, sandbox: Any, tmp_path: Any) -> None:
    import boto3

    args = [*_sandbox_github(sandbox), "--github-ref", "refs/heads/main"]
    assert cli("apply", *args, "--no-verify", "--yes").exit_code == 0
    token = sandbox.issuer.mint({"aud": "sts.amazonaws.com", "sub": "repo:octo-org/octo-repo:ref:refs/heads/main"})
    head, body, _ = token.split(".")
    forged = f"{head}.{body}.{'A' * 342}"
    sts = boto3.Session(profile_name="b-admin").client("sts")
    role = f"arn:aws:iam::{ACCOUNT_B}:role/gha-deploy"
    sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="ok", WebIdentityToken=token)
    with pytest.raises(sts.exceptions.InvalidIdentityTokenException):
        sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="forged", WebIdentityToken=forged)
    iam("b-admin").delete_open_id_connect_provider(
        OpenIDConnectProviderArn=f"arn:aws:iam::{ACCOUNT_B}:oidc-provider/{sandbox.issuer.url.removeprefix('https://')}"
    )
    with pytest.raises(sts.exceptions.InvalidIdentityTokenException, match="No OpenIDConnect provider"):
        sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="no-provider", WebIdentityToken=token)


def test_referee_conditions_follow_aws_rules() -> None:
    from bootstrap.sandbox import web_identity as wi

    context = {"h:sub": ["repo:o/r:ref:refs/heads/main"], "h:aud": ["sts.amazonaws.com"]}
    assert wi._holds("StringLike", "h:sub", "repo:o/r:*", context)
    assert not wi._holds("StringEquals", "h:sub", "repo:o/r:*", context)  # StringEquals takes * literally
    assert wi._holds("ForAllValues:StringEquals", "h:missing", "x", context)  # absent key: true
    assert not wi._holds("ForAnyValue:StringEquals", "h:missing", "x", context)
    assert wi._holds("StringEqualsIfExists", "h:missing", "x", context)
    with pytest.raises(ValueError, match="not known"):
        wi._holds("NumericLessThan", "h:sub", "1", context)


# -- hub topology ------------------------------------------------------------------------------------


def test_hub_topology_provisions_both_accounts_and_proves_the_chain(cli: Any, sandbox: Any) -> None:
    args = ["--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", "deploy", "--hub-role",
            "ci-hub", "--github-repo", "octo-org/octo-repo", "--github-ref", "refs/heads/main",
            "--oidc-issuer", sandbox.issuer.url]  # fmt: skip
    run = cli("apply", *args, "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    result = run.json()
    assert result["hub_role_arn"] == f"arn:aws:iam::{ACCOUNT_A}:role/ci-hub"
    assert result["verification"]["ok"] is True  # web identity into the hub, then AssumeRole into B
    assert result["verification"]["assumed_arn"].startswith(f"arn:aws:sts::{ACCOUNT_B}:assumed-role/deploy/")
    b_trust = _trust_of("deploy")["Statement"][0]
    assert b_trust["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_A}:role/ci-hub"}
    hub = iam("a-admin").get_role(RoleName="ci-hub")["Role"]
    assert hub["AssumeRolePolicyDocument"]["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"
    grant = iam("a-admin").get_role_policy(RoleName="ci-hub", PolicyName=f"trust-bootstrap-{ACCOUNT_B}-deploy")
    assert grant["PolicyDocument"]["Statement"][0]["Resource"] == f"arn:aws:iam::{ACCOUNT_B}:role/deploy"
    assert cli("plan", *args, "--detailed-exitcode").exit_code == 0
    down = cli("teardown", *args, "--yes")
    assert down.exit_code == 0, down.stderr
    assert "ci-hub" not in [r["RoleName"] for r in iam("a-admin").list_roles()["Roles"]]
    assert iam("a-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


# -- CI-side exports -----------------------------------------------------------------------------------


def test_export_github_actions_has_the_token_permission_and_the_role(cli: Any) -> None:
    import yaml

    run = cli("export", "-f", "github-actions", *GITHUB, "--github-environment", "prod")
    assert run.exit_code == 0, run.stderr
    workflow = yaml.safe_load(run.stdout)
    assert workflow["permissions"]["id-token"] == "write"
    job = workflow["jobs"]["deploy"]
    assert job["environment"] == "prod"
    (step, _) = job["steps"]
    assert step["uses"].startswith("aws-actions/configure-aws-credentials@")
    assert step["with"]["role-to-assume"] == f"arn:aws:iam::{ACCOUNT_B}:role/gha-deploy"
    assert step["with"]["aws-region"] == "us-east-1"


def test_export_github_actions_chains_roles_in_the_hub_topology(cli: Any) -> None:
    import yaml

    run = cli("export", "-f", "github-actions", "--source-profile", "a-admin", *GITHUB, "--hub-role", "ci-hub",
              "--github-ref", "refs/heads/main")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    steps = yaml.safe_load(run.stdout)["jobs"]["deploy"]["steps"]
    assert steps[0]["with"]["role-to-assume"] == f"arn:aws:iam::{ACCOUNT_A}:role/ci-hub"
    assert steps[1]["with"]["role-to-assume"] == f"arn:aws:iam::{ACCOUNT_B}:role/gha-deploy"
    assert steps[1]["with"]["role-chaining"] is True


def test_export_gitlab_ci_has_id_tokens_and_the_variables_boto3_reads(cli: Any) -> None:
    import yaml

    run = cli("export", "-f", "gitlab-ci", "--offline", "--target-account", ACCOUNT_B, "--role-name", "gl",
              "--gitlab-project", "grp/proj", "--gitlab-ref", "main", "--oidc-audience", "sts.amazonaws.com")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    job = yaml.safe_load(run.stdout)["deploy"]
    assert job["id_tokens"]["AWS_ID_TOKEN"]["aud"] == "sts.amazonaws.com"
    assert job["variables"]["AWS_ROLE_ARN"] == f"arn:aws:iam::{ACCOUNT_B}:role/gl"
    assert job["variables"]["AWS_WEB_IDENTITY_TOKEN_FILE"]
    assert any("AWS_ID_TOKEN" in line for line in job["script"])


def test_export_refuses_mixing_ci_and_principal_formats(cli: Any) -> None:
    run = cli("export", "-f", "terraform", *GITHUB, "--github-ref", "refs/heads/main")
    assert run.exit_code == 2
    # A key-based trust exports CI files too (the CI user's keys from the platform's secrets: tests/test_export_lint.py)
    run = cli("export", "-f", "gitlab-ci", "--offline", "--target-account", ACCOUNT_B, "--principal", CI_USER_ARN,
              "--role-name", "x")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert "id_tokens" not in run.stdout and "credential_source Environment" in run.stdout


# -- diagnose ------------------------------------------------------------------------------------------

ROLE_B = f"arn:aws:iam::{ACCOUNT_B}:role/gha-deploy"
DIAGNOSE = ["diagnose", "--role-arn", ROLE_B, "--target-profile", "b-admin"]


@pytest.mark.parametrize(
    ("run_args", "check", "needle"),
    [
        (["--github-repo", "octo-org/octo-repo", "--github-environment", "prod"], "sub", "names an environment"),
        (["--github-repo", "octo-org/octo-repo", "--github-event", "pull_request"], "sub", "pull_request"),
        (["--github-repo", "Octo-Org/octo-repo", "--github-ref", "refs/heads/main"], "sub", "letter case"),
        (
            [
                "--github-repo",
                "octo-org/octo-repo",
                "--github-ref",
                "refs/heads/main",
                "--github-owner-id",
                "12",
                "--github-repo-id",
                "34",
            ],
            "sub",
            "immutable",
        ),
        (
            [
                "--github-repo",
                "octo-org/octo-repo",
                "--github-ref",
                "refs/heads/main",
                "--oidc-audience",
                "https://github.com/octo-org",
            ],
            "audience",
            "client IDs",
        ),
        (["--gitlab-project", "grp/proj", "--gitlab-ref", "main"], "provider", "no IAM OIDC provider"),
    ],
)
def test_diagnose_names_each_failure_class(cli: Any, run_args: list[str], check: str, needle: str) -> None:
    assert cli("apply", *GITHUB, "--github-ref", "refs/heads/main", "--yes").exit_code == 0
    ok = cli(*DIAGNOSE, "--github-repo", "octo-org/octo-repo", "--github-ref", "refs/heads/main")
    assert ok.exit_code == 0, ok.stdout
    run = cli(*DIAGNOSE, *run_args, "-o", "json")
    assert run.exit_code == 9, run.stdout + run.stderr
    failed = {c["id"]: c for c in run.json()["checks"] if c["status"] == "fail"}
    assert needle in failed[check]["summary"]
    assert failed[check]["fix"]


def test_diagnose_flags_risky_trusts_even_when_they_work(cli: Any, sandbox: Any) -> None:
    assert cli("apply", *GITHUB, "--github-ref", "refs/heads/main", "--yes").exit_code == 0
    host = "token.actions.githubusercontent.com"
    statement = _trust_of("gha-deploy")["Statement"][0]
    statement["Condition"] = {"ForAllValues:StringEquals": {f"{host}:aud": "sts.amazonaws.com"}}
    # IAM refuses to write a GitHub trust without a sub condition (identity-provider controls); one
    # written before that rule still exists and stays assumable: planted as such.
    sandbox.plant_legacy_trust(ACCOUNT_B, "gha-deploy", {"Version": "2012-10-17", "Statement": [statement]})
    run = cli(*DIAGNOSE, "--github-repo", "octo-org/octo-repo", "--github-ref", "refs/heads/main", "-o", "json")
    assert run.exit_code == 9
    failed = {c["id"] for c in run.json()["checks"] if c["status"] == "fail"}
    assert {"sub-condition", "for-all-values"} <= failed
    statement["Condition"] = {"StringEquals": {f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": "repo:octo-org/*"}}
    iam("b-admin").update_assume_role_policy(
        RoleName="gha-deploy", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    run = cli(*DIAGNOSE, "--github-repo", "octo-org/octo-repo", "--github-ref", "refs/heads/main", "-o", "json")
    failed = {c["id"] for c in run.json()["checks"] if c["status"] == "fail"}
    assert "string-equals-wildcard" in failed


def test_diagnose_with_a_real_token_uses_its_claims_and_never_prints_it(cli: Any, sandbox: Any, tmp_path: Any) -> None:
    args = [*_sandbox_github(sandbox), "--github-ref", "refs/heads/main"]
    assert cli("apply", *args, "--no-verify", "--yes").exit_code == 0
    token = _token_file(tmp_path, sandbox, sub="repo:octo-org/octo-repo:environment:prod")
    run = cli(*DIAGNOSE, "--web-identity-token-file", token, "-o", "json")
    assert run.exit_code == 9, run.stdout + run.stderr
    checks = {c["id"]: c for c in run.json()["checks"]}
    assert "names an environment" in checks["sub"]["summary"]
    assert checks["live-assume"]["status"] == "fail"
    assert checks["live-assume"]["summary"].startswith("AWS answered: AccessDenied: "), checks["live-assume"]
    assert Path(token).read_text() not in run.stdout + run.stderr
    good = _token_file(tmp_path, sandbox, sub="repo:octo-org/octo-repo:ref:refs/heads/main")
    assert cli(*DIAGNOSE, "--web-identity-token-file", good).exit_code == 0


def test_verify_inside_a_ci_job_needs_no_profile(cli: Any, sandbox: Any, tmp_path: Any) -> None:
    args = [*_sandbox_github(sandbox), "--github-ref", "refs/heads/main"]
    assert cli("apply", *args, "--no-verify", "--yes").exit_code == 0
    token = _token_file(tmp_path, sandbox, sub="repo:octo-org/octo-repo:ref:refs/heads/main")
    in_ci = [a for a in args if a not in ("--target-profile", "b-admin")]
    sandbox.clear_calls()
    run = cli("verify", *in_ci, "--target-account", ACCOUNT_B, "--web-identity-token-file", token)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert {c.operation for c in sandbox.calls()} == {"AssumeRoleWithWebIdentity", "GetCallerIdentity"}


def test_config_file_keys_mirror_the_flags(cli: Any, tmp_path: Any) -> None:
    config = tmp_path / "ci.yaml"
    config.write_text(
        "target_profile: b-admin\nrole_name: from-file\ngithub:\n  repo: octo-org/octo-repo\n  ref: refs/tags/v*\n"
    )
    run = cli("apply", "--config", str(config), "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["ci"]["subject_operator"] == "StringLike"
    assert run.json()["ci"]["subject"] == "repo:octo-org/octo-repo:ref:refs/tags/v*"
    # a flag overrides the file's key
    override = cli("plan", "--config", str(config), "--github-ref", "refs/heads/main", "-o", "json")
    assert override.json()["ci"]["subject"] == "repo:octo-org/octo-repo:ref:refs/heads/main"
    config.write_text("target_profile: b-admin\nrole_name: x\ngithub:\n  repo: o/r\n  branch: main\n")
    bad = cli("plan", "--config", str(config))
    assert bad.exit_code == 2
    assert "unknown key 'branch'" in bad.stderr


def test_a_second_audience_is_added_to_our_provider(cli: Any) -> None:
    gitlab = ["--target-profile", "b-admin", "--gitlab-project", "grp/proj", "--gitlab-ref", "main"]
    assert cli("apply", *gitlab, "--role-name", "gl-one", "--yes").exit_code == 0
    planned = cli("plan", *gitlab, "--role-name", "gl-two", "--oidc-audience", "sts.amazonaws.com", "-o", "json")
    assert [c["operation"] for c in planned.json()["changes"]] == ["add-oidc-client-id", "create-role"]
    assert (
        cli("apply", *gitlab, "--role-name", "gl-two", "--oidc-audience", "sts.amazonaws.com", "--yes").exit_code == 0
    )
    arn = f"arn:aws:iam::{ACCOUNT_B}:oidc-provider/gitlab.com"
    client_ids = iam("b-admin").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"]
    assert sorted(client_ids) == ["https://gitlab.com", "sts.amazonaws.com"]


def test_a_fleet_refuses_ci_keys_rather_than_ignoring_them(cli: Any, tmp_path: Any) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("source_profile: a-admin\nrole_name: r\ntargets:\n  - target_profile: b-admin\n")
    run = cli("apply", "--config", str(fleet), "--github-repo", "o/r", "--github-ref", "refs/heads/main", "--yes")
    assert run.exit_code == 2
    assert "not supported for fleets" in run.stderr


class _Endpoint:
    """A local HTTP server standing in for the Actions token endpoint: it records each request's
    path and Authorization header, and answers with a token or a redirect to ``redirect_to``."""

    def __init__(self, redirect_to: str | None = None) -> None:
        import http.server
        import threading

        self.seen: list[tuple[str, str | None]] = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.seen.append((self.path, self.headers.get("Authorization")))
                if redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps({"value": "header.payload.signature"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoints() -> Iterator[list[_Endpoint]]:
    made: list[_Endpoint] = []
    yield made
    for endpoint in made:
        endpoint.close()


def test_inside_github_actions_the_job_token_is_requested_with_the_trusts_audience(
    monkeypatch: pytest.MonkeyPatch, endpoints: list[_Endpoint]
) -> None:
    from bootstrap.ci import token as ci_token

    endpoints.append(runner := _Endpoint())
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", runner.url() + "/idtoken?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "bearer-value")
    assert ci_token.in_github_actions()
    assert ci_token.github_actions_token("sts.amazonaws.com") == "header.payload.signature"
    assert runner.seen == [("/idtoken?api-version=2.0&audience=sts.amazonaws.com", "bearer bearer-value")]
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "http://pipelines.actions.example/idtoken")
    with pytest.raises(Exception, match="https"):
        ci_token.github_actions_token("sts.amazonaws.com")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])  # another host; the same host on another port
def test_the_actions_bearer_token_never_follows_a_redirect_to_another_origin(
    cli: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch, endpoints: list[_Endpoint], host: str
) -> None:
    endpoints.append(elsewhere := _Endpoint())
    endpoints.append(runner := _Endpoint(redirect_to=elsewhere.url(host)))
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", runner.url() + "/idtoken")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "the-runners-bearer")
    args = [*_sandbox_github(sandbox), "--github-ref", "refs/heads/main"]
    assert cli("apply", *args, "--no-verify", "--yes").exit_code == 0
    cli("verify", *args)
    assert [auth for _, auth in runner.seen] == ["bearer the-runners-bearer"]
    assert elsewhere.seen, "the redirect was followed"
    assert all(auth is None for _, auth in elsewhere.seen), "the bearer token went to another origin"


def test_the_actions_token_request_refuses_a_redirect_to_plain_http(
    monkeypatch: pytest.MonkeyPatch, endpoints: list[_Endpoint]
) -> None:
    from bootstrap.ci import token as ci_token
    from bootstrap.core.errors import CredentialsError

    endpoints.append(runner := _Endpoint(redirect_to="http://token-thief.example"))
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", runner.url() + "/idtoken")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "the-runners-bearer")
    with pytest.raises(CredentialsError, match="not https"):
        ci_token.github_actions_token("sts.amazonaws.com")


def test_sandbox_command_serves_an_https_issuer_and_a_minter(tmp_path: Path) -> None:
    import ssl
    import subprocess
    import sys
    import urllib.request

    from bootstrap.ci import token as ci_token

    process = subprocess.Popen(
        [sys.executable, "-m", "bootstrap", "sandbox", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        exports = dict(process.stdout.readline().removeprefix("export ").strip().split("=", 1) for _ in range(3))
        minter = exports["TRUST_BOOTSTRAP_TOKEN_MINTER"]
        request = urllib.request.Request(minter, data=json.dumps({"sub": "repo:o/r:pull_request", "aud": "x"}).encode())
        with urllib.request.urlopen(request, timeout=30) as reply:
            token = json.loads(reply.read())["token"]
        claims = ci_token.claims_of(token, "test")
        assert claims["sub"] == "repo:o/r:pull_request"
        issuer = claims["iss"]
        assert issuer.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(tmp_path / "oidc-issuer.pem"))
        with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=30, context=context) as reply:
            discovery = json.loads(reply.read())
        assert discovery["issuer"] == issuer
        with urllib.request.urlopen(discovery["jwks_uri"], timeout=30, context=context) as reply:
            (key,) = json.loads(reply.read())["keys"]
        assert key["kty"] == "RSA" and key["alg"] == "RS256"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_adopt_adds_the_audience_to_a_foreign_provider_but_teardown_still_keeps_it(cli: Any) -> None:
    iam("b-admin").create_open_id_connect_provider(Url="https://gitlab.com", ClientIDList=["something-else"])
    gitlab = ["--target-profile", "b-admin", "--gitlab-project", "g/p", "--gitlab-ref", "main", "--role-name", "gl"]
    run = cli("apply", *gitlab, "--adopt", "--yes")
    assert run.exit_code == 0, run.stderr
    arn = f"arn:aws:iam::{ACCOUNT_B}:oidc-provider/gitlab.com"
    provider = iam("b-admin").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert sorted(provider["ClientIDList"]) == ["https://gitlab.com", "something-else"]
    down = cli("teardown", *gitlab, "--yes")
    assert down.exit_code == 0, down.stderr
    assert "did not create it" in down.stdout
    assert [p["Arn"] for p in iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [arn]


def test_diagnose_with_a_ci_config_checks_the_run_it_describes(cli: Any, tmp_path: Any) -> None:
    config = tmp_path / "ci.yaml"
    config.write_text(
        "target_profile: b-admin\nrole_name: gha-deploy\ngithub:\n  repo: octo-org/octo-repo\n  ref: refs/heads/main\n"
    )
    assert cli("apply", "--config", str(config), "--yes").exit_code == 0
    assert cli("diagnose", "--config", str(config)).exit_code == 0
    config.write_text(config.read_text().replace("ref: refs/heads/main", "environment: prod"))
    run = cli("diagnose", "--config", str(config), "-o", "json")
    assert run.exit_code == 9
    failed = {c["id"]: c["summary"] for c in run.json()["checks"] if c["status"] == "fail"}
    assert "names an environment" in failed["sub"]


def _foreign_role_trusting(profile: str, name: str, provider_arn: str) -> None:
    """A role trust-bootstrap did not create (no tag, no statement id of ours) that trusts the provider."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider_arn},
             "Action": "sts:AssumeRoleWithWebIdentity"}]}  # fmt: skip
    iam(profile).create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))


def test_hub_teardown_keeps_a_provider_that_a_foreign_role_of_the_same_name_still_trusts(
    cli: Any, sandbox: Any
) -> None:
    # The role in B is "deploy"; account A holds another role named "deploy", not ours, trusting A's provider.
    args = ["--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", "deploy", "--hub-role",
            "ci-hub", "--github-repo", "octo-org/octo-repo", "--github-ref", "refs/heads/main",
            "--oidc-issuer", sandbox.issuer.url]  # fmt: skip
    assert cli("apply", *args, "--no-verify", "--yes").exit_code == 0
    provider = iam("a-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"][0]["Arn"]
    _foreign_role_trusting("a-admin", "deploy", provider)
    down = cli("teardown", *args, "--yes")
    assert down.exit_code == 0, down.stderr
    assert "ci-hub" not in [r["RoleName"] for r in iam("a-admin").list_roles()["Roles"]]  # ours went
    assert [p["Arn"] for p in iam("a-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [
        provider
    ]
    assert f"Left alone: OIDC provider {provider} is kept: the trust of arn:aws:iam::{ACCOUNT_A}:role/deploy" in (
        down.stdout
    )
    assert iam("a-admin").get_role(RoleName="deploy")["Role"]["AssumeRolePolicyDocument"]["Statement"]


def test_direct_teardown_keeps_a_provider_a_foreign_role_trusts_and_deletes_it_once_unused(cli: Any) -> None:
    gitlab = ["--target-profile", "b-admin", "--gitlab-project", "grp/proj", "--gitlab-ref", "main",
              "--role-name", "gl"]  # fmt: skip
    assert cli("apply", *gitlab, "--yes").exit_code == 0
    provider = f"arn:aws:iam::{ACCOUNT_B}:oidc-provider/gitlab.com"
    _foreign_role_trusting("b-admin", "someone-elses", provider)
    down = cli("teardown", *gitlab, "--yes", "-o", "json")
    assert down.exit_code == 0, down.stderr
    assert any("someone-elses" in note for note in down.json()["left"])
    assert [p["Arn"] for p in iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [
        provider
    ]
    iam("b-admin").delete_role(RoleName="someone-elses")
    assert cli("apply", *gitlab, "--yes").exit_code == 0
    assert cli("teardown", *gitlab, "--yes").exit_code == 0
    assert iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_a_role_that_starts_trusting_the_provider_during_teardown_keeps_it(cli: Any, sandbox: Any) -> None:
    from tests.test_hardening import _spawn

    gitlab = ["--target-profile", "b-admin", "--gitlab-project", "grp/proj", "--gitlab-ref", "main",
              "--role-name", "gl"]  # fmt: skip
    assert cli("apply", *gitlab, "--yes").exit_code == 0
    provider = f"arn:aws:iam::{ACCOUNT_B}:oidc-provider/gitlab.com"
    gate = sandbox.hold("DeleteRole")  # the plan is made (the provider unused): hold its first deletion
    run = _spawn(sandbox, "teardown", *gitlab, "--yes")
    assert gate.wait_for(1)
    _foreign_role_trusting("b-admin", "newcomer", provider)
    gate.release()
    _, stderr = run.communicate(timeout=60)
    assert run.returncode != 0
    assert f"The OIDC provider {provider} was not deleted" in stderr and "newcomer" in stderr
    assert [p["Arn"] for p in iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [
        provider
    ]
