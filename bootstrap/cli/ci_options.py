"""The command line's GitHub Actions options (a CI trust): which runs, which claims, which identity.
Their config-file form is the `github:` section (config/ghconfig.py). Imports typer only."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from bootstrap.core.platforms import REGISTRY


def _ci(help_text: str, *decls: str, metavar: str | None = None) -> Any:
    return typer.Option(*decls, help=help_text, metavar=metavar)


GithubRepoOpt = Annotated[
    str | None, _ci("CI trust: the GitHub repository OWNER/REPO whose workflows may assume the role.")
]
# Repeatable: each value adds the subject of its runs (a repeated flag never replaces the one before).
GithubRefsOpt = Annotated[
    list[str] | None,
    _ci("GitHub: a full ref, refs/heads/BRANCH or refs/tags/TAG (repeatable; a wildcard: StringLike).", metavar="REF"),
]
GithubEnvsOpt = Annotated[
    list[str] | None, _ci("GitHub: jobs of this deployment environment (repeatable).", metavar="NAME")
]
GithubRefOpt = Annotated[
    str | None, _ci("GitHub: the full ref, refs/heads/BRANCH or refs/tags/TAG (wildcard: StringLike).")
]
GithubEnvOpt = Annotated[str | None, _ci("GitHub: jobs of this deployment environment (their sub names it).")]
GithubPrOpt = Annotated[bool | None, _ci("GitHub: pull_request runs.", "--github-pull-request")]
GithubOwnerIdOpt = Annotated[str | None, _ci("GitHub: the owner's numeric ID (pins repository_owner_id).")]
GithubRepoIdOpt = Annotated[
    str | None, _ci("GitHub: the repository's numeric ID (pins repository_id; enough without --github-repo).")
]
GithubClaimOpt = Annotated[
    list[str] | None,
    _ci(
        "GitHub: also require the token claim KEY to equal VALUE (repeatable; a key repeated admits any of its "
        "values). Keys AWS passes on: actor, actor_id, enterprise_id, environment, job_workflow_ref, ref, "
        "repository, repository_id, repository_owner_id, workflow.",
        "--github-claim",
        metavar="KEY=VALUE",
    ),
]
GithubWorkflowOpt = Annotated[
    str | None,
    _ci(
        "GitHub: only jobs of this reusable workflow (job_workflow_ref), OWNER/REPO/.github/workflows/FILE.yml@REF.",
        metavar="WORKFLOW@REF",
    ),
]
GithubSubjectFormatOpt = Annotated[
    str | None,
    _ci(
        "GitHub: the sub written: name (repo:OWNER/REPO), immutable (repo:OWNER@ID/REPO@ID) or both "
        "[default: both when the IDs are known, else name, with a warning].",
        metavar="name|immutable|both",
    ),
]
GithubTokenFileOpt = Annotated[
    Path | None,
    _ci("GitHub: a file holding a GitHub token, to look the IDs up [default: $GITHUB_TOKEN].", metavar="FILE"),
]
GithubApiUrlOpt = Annotated[
    str | None,
    _ci(
        "GitHub: the API to look the IDs up in (GitHub Enterprise Server) [default: https://api.github.com].",
        metavar="URL",
    ),
]
# Not config keys: how the IDs are looked up, never written anywhere.
NOT_CONFIG = ("github_token_file", "github_api_url")


def with_platform_options(options: Callable[..., None]) -> Callable[..., None]:
    """Give a shared-options declaration one option per field of each platform of the registry
    (--circleci-org-id, --bitbucket-workspace, ...), before --output: a platform is a registry entry,
    its flags follow from it."""
    params = list(inspect.signature(options, eval_str=True).parameters.values())
    at = next((i for i, p in enumerate(params) if p.name == "output"), len(params))
    added = [
        inspect.Parameter(
            f"{spec.name}_{field.key}",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=None,
            annotation=Annotated[list[str] | None if field.repeat else str | None, _ci(field.help)],
        )
        for spec in REGISTRY.values()
        for field in spec.fields
    ]
    options.__signature__ = inspect.Signature([*params[:at], *added, *params[at:]])  # type: ignore[attr-defined]
    return options
