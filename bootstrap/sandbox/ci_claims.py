"""Claim sets shaped like the tokens of GitHub Actions and HCP Terraform, for the sandbox's issuer to sign.

GitHub Actions (https://docs.github.com/en/actions/reference/security/oidc, "OIDC token claims" and
"Example subject claims"): issuer https://token.actions.githubusercontent.com; ``sub`` is
``repo:OWNER/REPO:environment:NAME`` when the job names an environment, else
``repo:OWNER/REPO:pull_request`` for pull_request events, else ``repo:OWNER/REPO:ref:REF``; a ``:`` in
those values becomes ``%3A``; repositories on immutable subjects read ``repo:OWNER@OWNER_ID/REPO@REPO_ID:...``.

HCP Terraform workload identity tokens
(https://developer.hashicorp.com/terraform/cloud-docs/workspaces/dynamic-provider-credentials/workload-identity-tokens):
issuer https://app.terraform.io; ``sub`` is
``organization:ORG:project:PROJECT:workspace:WORKSPACE:run_phase:PHASE``; the terraform_* claims name
the organization, project, workspace and run; AWS's default audience is ``aws.workload.identity``.

Every value can be overridden and any claim added (``extra``): tests shape the token they need,
including wrong ones. The IDs are made up.
"""

from __future__ import annotations

from typing import Any

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
HCP_TERRAFORM_ISSUER = "https://app.terraform.io"
STS_AUDIENCE = "sts.amazonaws.com"
HCP_TERRAFORM_AWS_AUDIENCE = "aws.workload.identity"


def _escape(value: str) -> str:
    return value.replace(":", "%3A")


def github_sub(
    repository: str,
    *,
    ref: str = "refs/heads/main",
    environment: str | None = None,
    event_name: str = "push",
    owner_id: str | None = None,
    repository_id: str | None = None,
) -> str:
    """GitHub's default subject for a job of ``repository`` (OWNER/REPO)."""
    owner, _, name = repository.partition("/")
    base = f"repo:{owner}@{owner_id}/{name}@{repository_id}" if owner_id and repository_id else f"repo:{repository}"
    if environment:
        return f"{base}:environment:{_escape(environment)}"
    if event_name in ("pull_request", "pull_request_target"):
        return f"{base}:pull_request"
    return f"{base}:ref:{_escape(ref)}"


def github_claims(
    repository: str = "octo-org/octo-repo",
    *,
    ref: str = "refs/heads/main",
    environment: str | None = None,
    event_name: str = "push",
    aud: str = STS_AUDIENCE,
    sub: str | None = None,
    immutable_subject: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """The claims of a GitHub Actions job's token (``extra`` overrides or adds any claim)."""
    owner = repository.partition("/")[0]
    workflow = str(extra.get("workflow", "deploy"))
    owner_id, repository_id = str(extra.get("repository_owner_id", "123456")), str(extra.get("repository_id", "456789"))
    claims: dict[str, Any] = {
        "iss": GITHUB_ISSUER,
        "aud": aud,
        "sub": sub
        or github_sub(
            repository,
            ref=ref,
            environment=environment,
            event_name=event_name,
            owner_id=owner_id if immutable_subject else None,
            repository_id=repository_id if immutable_subject else None,
        ),
        "ref": ref,
        "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
        "ref_protected": "true",
        "sha": "0123456789abcdef0123456789abcdef01234567",
        "repository": repository,
        "repository_id": repository_id,
        "repository_owner": owner,
        "repository_owner_id": owner_id,
        "repository_visibility": "private",
        "run_id": "8123456789",
        "run_number": "42",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
        "actor": "octocat",
        "actor_id": "583231",
        "workflow": workflow,
        "workflow_ref": f"{repository}/.github/workflows/{workflow}.yml@{ref}",
        "workflow_sha": "0123456789abcdef0123456789abcdef01234567",
        "job_workflow_ref": f"{repository}/.github/workflows/{workflow}.yml@{ref}",
        "job_workflow_sha": "0123456789abcdef0123456789abcdef01234567",
        "event_name": event_name,
    }
    if environment:
        claims["environment"] = environment
    if event_name in ("pull_request", "pull_request_target"):
        claims.update(base_ref="main", head_ref="feature")
    return {**claims, **extra}


def hcp_terraform_sub(organization: str, project: str, workspace: str, run_phase: str) -> str:
    return f"organization:{organization}:project:{project}:workspace:{workspace}:run_phase:{run_phase}"


def hcp_terraform_claims(
    organization: str = "example-org",
    project: str = "Default Project",
    workspace: str = "prod",
    run_phase: str = "apply",
    *,
    aud: str = HCP_TERRAFORM_AWS_AUDIENCE,
    sub: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The claims of an HCP Terraform run phase's workload identity token (``extra`` overrides or adds any claim)."""
    claims: dict[str, Any] = {
        "iss": HCP_TERRAFORM_ISSUER,
        "aud": aud,
        "sub": sub or hcp_terraform_sub(organization, project, workspace, run_phase),
        "terraform_organization_id": "org-GRNbCjYNpBB6NEH9",
        "terraform_organization_name": organization,
        "terraform_project_id": "prj-vegSA59s1XPwMr2t",
        "terraform_project_name": project,
        "terraform_workspace_id": "ws-mbsd5E3Ktt5Rg2Xm",
        "terraform_workspace_name": workspace,
        "terraform_full_workspace": f"organization:{organization}:project:{project}:workspace:{workspace}",
        "terraform_run_id": "run-X3n1AUXNGWbfECsU",
        "terraform_run_phase": run_phase,
    }
    return {**claims, **extra}
