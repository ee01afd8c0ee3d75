"""Issues 27 and 29 together, through the CLI against the sandbox: the registry platforms' pipelines in
the hub topology, values the platforms would read as their own syntax, a GitHub trust that requires the
workflow claim, and what apply says to run next."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ACCOUNT_A, ACCOUNT_B

BIN = Path(sys.executable).parent
ORG = "11111111-2222-3333-4444-555555555555"
PROJECT = "66666666-7777-8888-9999-000000000000"
CIRCLE = ["--circleci-org-id", ORG, "--circleci-project-id", PROJECT]
BITBUCKET = ["--bitbucket-workspace", "acme", "--bitbucket-workspace-uuid", "{" + ORG + "}",
             "--bitbucket-repository-uuid", "{" + PROJECT + "}"]  # fmt: skip
BUILDKITE = ["--buildkite-organization", "acme", "--buildkite-pipeline", "deploy"]
SCHEMAS = {"circleci": "vendor.circle-ci", "bitbucket": "vendor.bitbucket-pipelines", "buildkite": "vendor.buildkite"}
PLATFORMS = {"circleci": CIRCLE, "bitbucket": BITBUCKET, "buildkite": BUILDKITE}
OFFLINE = ["export", "--offline", "--target-account", ACCOUNT_B, "-f", "pipeline"]


def _schema_ok(text: str, schema: str, tmp_path: Path) -> None:
    path = tmp_path / f"{schema}.yml"
    path.write_text(text)
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}{done.stderr}\n{text}"


def _script(platform: str, document: Any) -> tuple[dict[str, str], list[str]]:
    """(the job's environment, its script lines) as each platform's snippet holds them."""
    if platform == "circleci":
        job = document["jobs"]["deploy"]
        return job["environment"], [step["run"] for step in job["steps"]]
    if platform == "bitbucket":
        lines = document["pipelines"]["default"][0]["step"]["script"]
        env = dict(
            line.removeprefix("export ").strip("'").split("=", 1) for line in lines if line.startswith("export ")
        )
        return env, [line for line in lines if not line.startswith("export ")]
    step = document["steps"][0]
    return step["env"], step["command"]


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_hub_pipeline_chains_into_the_target_role(cli: Any, sandbox: Any, tmp_path: Path, platform: str) -> None:
    """Before: AWS_ROLE_ARN named the hub role and nothing assumed the target role: the job ran as the hub."""
    args = ["--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", "deploy",
            "--hub-role", "ci-hub", *PLATFORMS[platform], "--allow-org-wildcard"]  # fmt: skip
    applied = cli("apply", *args, "--no-verify", "--yes")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "export --format pipeline with the same options" in applied.stdout  # not github-actions
    run = cli("export", "-f", "pipeline", *args)
    assert run.exit_code == 0, run.stderr
    _schema_ok(run.stdout, SCHEMAS[platform], tmp_path)
    env, script = _script(platform, yaml.safe_load(run.stdout))
    dollar = "$$" if platform == "buildkite" else "$"
    assert env["AWS_ROLE_ARN"] == f"arn:aws:iam::{ACCOUNT_A}:role/ci-hub"
    assert env["AWS_PROFILE"] == "target"
    joined = "\n".join(script)
    assert f"aws configure set role_arn arn:aws:iam::{ACCOUNT_B}:role/deploy --profile target" in joined
    assert "aws configure set source_profile hub --profile target" in joined
    assert f'aws configure set role_arn "{dollar}AWS_ROLE_ARN" --profile hub' in joined
    assert f"aws configure set role_session_name {platform}-deploy --profile target" in joined
    assert script[-1] == "aws sts get-caller-identity"
    # the direct topology is unchanged: the role itself, no profile
    direct = cli("export", "-f", "pipeline", "--target-profile", "b-admin", "--role-name", "deploy",
                 *PLATFORMS[platform], "--allow-org-wildcard")  # fmt: skip
    env, script = _script(platform, yaml.safe_load(direct.stdout))
    assert env["AWS_ROLE_ARN"] == f"arn:aws:iam::{ACCOUNT_B}:role/deploy" and "AWS_PROFILE" not in env
    assert "configure" not in "\n".join(script)


def test_buildkite_interpolates_no_dollar_of_the_path(cli: Any, tmp_path: Path) -> None:
    """Buildkite interpolates $NAME in the env values too when the pipeline is uploaded: a path holding
    $BUILDKITE_AGENT_ACCESS_TOKEN or ${X} would have changed the ARN the job assumes."""
    path = "/a$BUILDKITE_AGENT_ACCESS_TOKEN${X}$(id)/"
    run = cli(*OFFLINE, "--role-name", "bk", "--path", path, *BUILDKITE)
    assert run.exit_code == 0, run.stderr
    _schema_ok(run.stdout, SCHEMAS["buildkite"], tmp_path)
    env = yaml.safe_load(run.stdout)["steps"][0]["env"]
    assert env["AWS_ROLE_ARN"].replace("$$", "$") == f"arn:aws:iam::{ACCOUNT_B}:role{path}bk"
    assert "$" not in env["AWS_ROLE_ARN"].replace("$$", "")  # every $ doubled: read back as one


def test_circleci_refuses_a_path_it_would_read_as_a_pipeline_parameter(cli: Any) -> None:
    run = cli(*OFFLINE, "--role-name", "cc", "--path", "/<<pipeline.id>>/", *CIRCLE)
    assert run.exit_code == 2
    assert "CircleCI would read as a pipeline parameter" in run.stderr and "Nothing was written" in run.stderr
    assert run.stdout == ""
    failed = cli(*OFFLINE, "--role-name", "cc", "--path", "/<<pipeline.id>>/", *CIRCLE, "-o", "json")
    assert failed.exit_code == 2 and failed.json()["error"]["kind"] == "invalid-input"


def test_a_required_workflow_claim_names_the_exported_workflow(cli: Any, tmp_path: Path) -> None:
    """The token's workflow claim is the workflow's name: without `name:` GitHub sends the file's path
    and the trust refuses the exported workflow."""
    args = ["export", "--offline", "--target-account", ACCOUNT_B, "-f", "github-actions", "--role-name", "gha",
            "--github-repo", "octo-org/octo-repo", "--github-ref", "refs/heads/main", "--github-ref",
            "refs/heads/next", "--github-claim", "workflow=Deploy `prod` $(id)", "--github-claim", "actor=bob",
            "--for", "github-actions"]  # fmt: skip
    run = cli(*args)
    assert run.exit_code == 0, run.stderr
    assert yaml.safe_load(run.stdout)["name"] == "Deploy `prod` $(id)"
    workflow = tmp_path / ".github" / "workflows" / "deploy.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(run.stdout)
    for command in ([str(BIN / "actionlint"), "-no-color", str(workflow)],
                    [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)]):  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    assert "name" not in yaml.safe_load(cli(*args[:-6], "--for", "github-actions").stdout)  # no claim, no name
    expression = cli(*[a if not a.startswith("workflow=") else "workflow=${{ github.token }}" for a in args])
    assert expression.exit_code == 2 and "Nothing was written" in expression.stderr
    assert expression.stdout == ""


def test_a_claim_with_a_line_break_is_refused_naming_its_flag(cli: Any) -> None:
    run = cli("plan", "--target-profile", "b-admin", "--role-name", "gha", "--github-repo", "o/r", "--github-ref",
              "refs/heads/main", "--github-claim", "workflow=a\nb")  # fmt: skip
    assert run.exit_code == 2
    assert run.stderr.startswith("Error: --github-claim: ")  # the flag typed, not --github-claims


@pytest.mark.parametrize("platform", ["circleci", "bitbucket"])
def test_a_pipeline_whose_token_cannot_carry_the_audience_is_refused(cli: Any, platform: str) -> None:
    """$CIRCLE_OIDC_TOKEN and $BITBUCKET_STEP_OIDC_TOKEN carry the platform's own aud: with
    --oidc-audience the exported job was refused by the trust it was exported for."""
    run = cli(*OFFLINE, "--role-name", "deploy", *PLATFORMS[platform], "--oidc-audience", "my-audience")
    assert run.exit_code == 2
    assert "carries the platform's own aud" in run.stderr and "Nothing was written" in run.stderr
    assert run.stdout == ""
    assert cli(*OFFLINE, "--role-name", "deploy", *PLATFORMS[platform]).exit_code == 0  # its own aud: fine
    # Buildkite's job asks for the audience the trust names
    buildkite = cli(*OFFLINE, "--role-name", "deploy", *BUILDKITE, "--oidc-audience", "my-audience")
    assert "--audience my-audience" in yaml.safe_load(buildkite.stdout)["steps"][0]["command"][0]


def test_verify_without_a_token_is_exit_4_as_documented(cli: Any, sandbox: Any, monkeypatch: Any) -> None:
    """Verification impossible is exit 4 (docs/exit-codes.md), as for a key-based trust without
    --verify-profile; it was exit 2, 'invalid input', with nothing wrong in the input."""
    args = ["--target-profile", "b-admin", "--role-name", "deploy", *CIRCLE]
    assert cli("apply", *args, "--no-verify", "--yes").exit_code == 0
    run = cli("verify", *args, "--for", "terraform")  # the sandbox's minter signs for its own issuer only
    assert run.exit_code == 4, run.stdout + run.stderr
    assert "Cannot verify live" in run.stderr and "Traceback" not in run.stderr
    monkeypatch.delenv("TRUST_BOOTSTRAP_TOKEN_MINTER", raising=False)  # no token from anywhere
    failed = cli("verify", *args, "-o", "json")
    assert failed.exit_code == 4
    assert (
        failed.json()["error"]["kind"] == "precondition" and "Cannot verify live" in failed.json()["error"]["message"]
    )


def test_repeated_gitlab_refs_are_described_once_and_the_job_passes_the_schema(cli: Any, tmp_path: Path) -> None:
    """Each ref repeated the whole description ('GitLab project P (HOST), branch main or GitLab project P
    (HOST), branch release') in apply's 'CI trust:' line and the exported job's comment."""
    run = cli("export", "--offline", "--target-account", ACCOUNT_B, "-f", "gitlab-ci", "--role-name", "gl",
              "--gitlab-project", "grp/proj", "--gitlab-ref", "main", "--gitlab-ref", "release", "--for", "gitlab-ci")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert (
        run.stdout.splitlines()[0]
        == "# trust-bootstrap: GitLab project grp/proj (gitlab.com), branch main or branch release"
    )
    _schema_ok(run.stdout, "vendor.gitlab-ci", tmp_path)
    rules = yaml.safe_load(run.stdout)["deploy"]["rules"]
    assert rules == [{"if": '$CI_COMMIT_BRANCH == "main"'}, {"if": '$CI_COMMIT_BRANCH == "release"'}]
