"""The command line's options: every typer option type, the shared trust options and which
command offers which, and the choices (output, export format, teardown side). cli.py declares the
commands with them; like cli.py, this module imports typer and nothing that imports boto3."""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from bootstrap.cli import ci_options as gh  # the GitHub options live apart (see there)
from bootstrap.cli.consumeropts import ForOpt
from bootstrap.cli.help import SYMMETRY_PANEL
from bootstrap.config.schema import help_of as _h  # every config key's help is declared once, in Config


class Output(StrEnum):
    text = "text"
    json = "json"


# -- options shared by apply (and the commands that identify the same trust) ---------------------
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file; flags override its keys.", show_default=False),
]
SourceProfileOpt = Annotated[str | None, typer.Option(help=_h("source_profile"))]
TargetProfileOpt = Annotated[str | None, typer.Option(help=_h("target_profile"))]
RoleNameOpt = Annotated[str | None, typer.Option(help=_h("role_name"))]
PrincipalOpt = Annotated[
    str | None,
    typer.Option(help=_h("principal")),
]
ExternalIdOpt = Annotated[str | None, typer.Option(help=_h("external_id"))]
GenerateExternalIdOpt = Annotated[
    bool | None,
    typer.Option("--generate-external-id", help=_h("generate_external_id")),
]
RequireMfaOpt = Annotated[bool | None, typer.Option("--require-mfa", help=_h("require_mfa"))]
MfaMaxAgeOpt = Annotated[
    int | None,
    typer.Option(help=_h("mfa_max_age")),
]
PolicyArnOpt = Annotated[
    list[str] | None,
    typer.Option("--policy-arn", help=_h("policy_arns")),
]
InlinePolicyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--inline-policy",
        help=_h("inline_policies"),
    ),
]
MaxSessionOpt = Annotated[int | None, typer.Option(help=_h("max_session_duration"))]
PathOpt = Annotated[str | None, typer.Option(help=_h("path"))]
BoundaryOpt = Annotated[str | None, typer.Option(help=_h("permissions_boundary"))]
DescriptionOpt = Annotated[str | None, typer.Option(help=_h("description"))]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help=_h("tags"))]
SessionNameOpt = Annotated[str | None, typer.Option(help=_h("session_name"))]
VerifyProfileOpt = Annotated[str | None, typer.Option(help=_h("verify_profile"))]
MfaSerialOpt = Annotated[str | None, typer.Option(help=_h("mfa_serial"))]
MfaTokenOpt = Annotated[str | None, typer.Option(help=_h("mfa_token"))]
VerifyOpt = Annotated[
    bool | None,
    typer.Option("--verify/--no-verify", help=_h("verify"), show_default=False),
]
VerifyTimeoutOpt = Annotated[
    float | None,
    typer.Option(help=_h("verify_timeout")),
]
TrustAccountOpt = Annotated[
    bool | None,
    typer.Option("--trust-account", help=_h("trust_account")),
]
AllowAdminOpt = Annotated[
    bool | None,
    typer.Option("--allow-admin", help=_h("allow_admin")),
]
PolicyQuotaOpt = Annotated[int | None, typer.Option(help=_h("managed_policy_quota"))]
ReplacesOpt = Annotated[
    str | None,
    typer.Option(help=_h("replaces")),
]
OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="text, or one JSON document on stdout.")]


def _ci(help_text: str) -> Any:
    return typer.Option(help=help_text)


# CI (web identity) trusts: see oidcconfig.py for the config-file form.
GitlabProjectOpt = Annotated[str | None, _ci("CI trust: the GitLab project GROUP/PROJECT.")]
GitlabRefOpt = Annotated[str | None, _ci("GitLab: the branch or tag name (no refs/ prefix).")]
GitlabRefsOpt = Annotated[list[str] | None, _ci("GitLab: a branch or tag name, no refs/ prefix (repeatable).")]
GitlabRefTypeOpt = Annotated[str | None, _ci("GitLab: branch or tag [default: branch].")]
GitlabHostOpt = Annotated[str | None, _ci("GitLab: the instance host [default: gitlab.com].")]
TfcOrgOpt = Annotated[
    str | None, _ci("CI trust: the HCP Terraform organization whose workspace's runs may assume the role.")
]
TfcProjectOpt = Annotated[str | None, _ci("HCP Terraform: the workspace's project [default: Default Project].")]
TfcWorkspaceOpt = Annotated[str | None, _ci("HCP Terraform: the workspace (names are case-sensitive).")]
TfcRunPhaseOpt = Annotated[
    str | None, typer.Option(metavar="plan|apply|all", help="HCP Terraform: the run phases admitted [default: all].")
]
TfcHostnameOpt = Annotated[
    str | None, _ci("HCP Terraform: the host, or Terraform Enterprise's [default: app.terraform.io].")
]
TfcAudienceOpt = Annotated[str | None, _ci("HCP Terraform: the token audience [default: aws.workload.identity].")]
TfcPlanRoleOpt = Annotated[
    str | None, _ci("HCP Terraform: a second role for plan runs; the role then admits apply runs only.")
]
TfcPlanPolicyOpt = Annotated[
    str | None, _ci("HCP Terraform: the plan role's managed policy [default: ReadOnlyAccess].")
]
OidcIssuerOpt = Annotated[str | None, _ci("CI trust: the https issuer URL (generic, or GitHub Enterprise Server).")]
OidcAudienceOpt = Annotated[str | None, _ci("CI trust: the token audience [default: sts.amazonaws.com].")]
OidcSubjectOpt = Annotated[str | None, _ci("Generic CI trust: the exact sub (or a pattern with * : StringLike).")]
HubRoleOpt = Annotated[
    str | None, _ci("Hub topology: the CI role in A the workflow assumes first (created and owned).")
]
AllowOrgWildcardOpt = Annotated[
    bool | None,
    typer.Option(
        "--allow-org-wildcard",
        help="Allow a sub wildcard over a whole organization or group (warned).",
    ),
]
TokenFileOpt = Annotated[
    Path | None, _ci("A CI job's web identity token file, to prove the trust live (never printed).")
]
YesOpt = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask before writing (needed when not interactive)."),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")]
AdoptOpt = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="Take over an existing role not created by trust-bootstrap (shows the diff).",
    ),
]


@gh.with_platform_options
def trust_options(
    config_file: ConfigOpt = None,
    source_profile: SourceProfileOpt = None,
    target_profile: TargetProfileOpt = None,
    role_name: RoleNameOpt = None,
    principal: PrincipalOpt = None,
    external_id: ExternalIdOpt = None,
    generate_external_id: GenerateExternalIdOpt = None,
    require_mfa: RequireMfaOpt = None,
    mfa_max_age: MfaMaxAgeOpt = None,
    policy_arn: PolicyArnOpt = None,
    inline_policy: InlinePolicyOpt = None,
    max_session_duration: MaxSessionOpt = None,
    path: PathOpt = None,
    permissions_boundary: BoundaryOpt = None,
    description: DescriptionOpt = None,
    tag: TagOpt = None,
    session_name: SessionNameOpt = None,
    verify_profile: VerifyProfileOpt = None,
    mfa_serial: MfaSerialOpt = None,
    mfa_token: MfaTokenOpt = None,
    verify: VerifyOpt = None,
    verify_timeout: VerifyTimeoutOpt = None,
    replaces: ReplacesOpt = None,
    trust_account: TrustAccountOpt = None,
    consumers: ForOpt = None,
    allow_admin: AllowAdminOpt = None,
    managed_policy_quota: PolicyQuotaOpt = None,
    github_repo: gh.GithubRepoOpt = None,
    github_ref: gh.GithubRefsOpt = None,
    github_environment: gh.GithubEnvsOpt = None,
    github_pull_request: gh.GithubPrOpt = None,
    github_owner_id: gh.GithubOwnerIdOpt = None,
    github_repo_id: gh.GithubRepoIdOpt = None,
    github_claims: gh.GithubClaimOpt = None,
    github_workflow: gh.GithubWorkflowOpt = None,
    github_subject_format: gh.GithubSubjectFormatOpt = None,
    github_token_file: gh.GithubTokenFileOpt = None,
    github_api_url: gh.GithubApiUrlOpt = None,
    gitlab_project: GitlabProjectOpt = None,
    gitlab_ref: GitlabRefsOpt = None,
    gitlab_ref_type: GitlabRefTypeOpt = None,
    gitlab_host: GitlabHostOpt = None,
    tfc_organization: TfcOrgOpt = None,
    tfc_project: TfcProjectOpt = None,
    tfc_workspace: TfcWorkspaceOpt = None,
    tfc_run_phase: TfcRunPhaseOpt = None,
    tfc_hostname: TfcHostnameOpt = None,
    tfc_audience: TfcAudienceOpt = None,
    tfc_plan_role: TfcPlanRoleOpt = None,
    tfc_plan_policy_arn: TfcPlanPolicyOpt = None,
    oidc_issuer: OidcIssuerOpt = None,
    oidc_audience: OidcAudienceOpt = None,
    oidc_subject: Annotated[
        list[str] | None, _ci("Generic CI trust: an exact sub, or a * pattern (repeatable).")
    ] = None,
    hub_role: HubRoleOpt = None,
    allow_org_wildcard: AllowOrgWildcardOpt = None,
    web_identity_token_file: TokenFileOpt = None,
    targets_from_org: Annotated[
        str | None, typer.Option(help="Fleet: every account of this organization unit (and those below it).")
    ] = None,
    management_profile: Annotated[
        str | None, typer.Option(help="Fleet: profile of the organization's management account.")
    ] = None,
    access_role: Annotated[
        str | None,
        typer.Option(help="Fleet: role to reach each member account [default: OrganizationAccountAccessRole]."),
    ] = None,
    parallel: Annotated[int, typer.Option(min=1, max=64, help="Fleet: targets worked on at once.")] = 8,
    engine: Annotated[
        str | None,
        typer.Option(
            metavar="local|stacksets",
            help="Fleet engine: local (this machine, a thread per target) or stacksets (a service-managed "
            "CloudFormation StackSet over --targets-from-org, new accounts included) [default: local].",
        ),
    ] = None,
    call_as: Annotated[
        str | None, typer.Option(metavar="SELF|DELEGATED_ADMIN", help="StackSets: call as a delegated administrator.")
    ] = None,
    stackset_region: Annotated[
        str | None,
        typer.Option(help="StackSets: the region of the stack instances [default: the management profile's]."),
    ] = None,
    verify_sample: Annotated[
        int | None, typer.Option(min=1, help="StackSets: verify a random sample of N accounts instead of all.")
    ] = None,
    output: OutputOpt = Output.text,
    debug: DebugOpt = False,
) -> None:
    """The options that identify and describe one trust: shared by apply, plan and teardown."""


# Options that only matter when writing the role or proving it: a command that neither writes nor
# verifies does not offer them (a flag that silently does nothing is a lie).
WRITE_ONLY = (
    "generate_external_id",
    "policy_arn",
    "inline_policy",
    "max_session_duration",
    "permissions_boundary",
    "description",
    "tag",
    "replaces",
    "allow_admin",
    "managed_policy_quota",
)
CONDITIONS = ("external_id", "require_mfa", "mfa_max_age", "trust_account", "consumers")
FLEET_ONLY = ("targets_from_org", "management_profile", "access_role", "parallel", "engine", "call_as",
              "stackset_region", "verify_sample")  # fmt: skip
VERIFY_ONLY = ("session_name", "verify_profile", "mfa_serial", "mfa_token", "verify", "verify_timeout", "verify_sample")
CI_PROOF = ("web_identity_token_file",)  # a CI token proves: teardown and export do not take one
# teardown takes apply's whole command line (swap the verb, keep the flags): what only writing or
# proving needs is accepted there and ignored, and its help lists those flags apart, by name.
IGNORED_BY_TEARDOWN = (*WRITE_ONLY, *CONDITIONS, *VERIFY_ONLY, *CI_PROOF)


def trust_command(
    *, without: tuple[str, ...] = (), ignored: tuple[str, ...] = ()
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command (``def cmd(own options..., **opts)``) the shared trust options as well, so
    apply, plan, verify and teardown read the same flags and config file; ``without`` drops the
    options a command has no use for (their keys still come from a config file); ``ignored`` keeps
    options the command accepts only so that apply's command line works unchanged (the command
    must not use them: see ``without_ignored``)."""
    return with_options(trust_options, without=without, ignored=ignored)


def without_ignored(opts: dict[str, Any], ignored: tuple[str, ...]) -> dict[str, Any]:
    """The options with the ignored ones unset, as if not given: none of them reaches the config."""
    return {k: None if k in ignored else v for k, v in opts.items()}


def _ignored(parameter: inspect.Parameter) -> inspect.Parameter:
    """The parameter with its option shown under SYMMETRY_PANEL (a copy: the declaration is shared)."""
    annotation = parameter.annotation  # Annotated[T, typer.Option(...)]
    info = copy.copy(annotation.__metadata__[0])
    info.rich_help_panel = SYMMETRY_PANEL
    return parameter.replace(annotation=Annotated[annotation.__origin__, info])


def with_options(
    shared_options: Callable[..., None], *, without: tuple[str, ...] = (), ignored: tuple[str, ...] = ()
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command (``def cmd(own options..., **opts)``) the options ``shared_options`` declares."""

    def wrap(fn: Callable[..., None]) -> Callable[..., None]:
        shared = [p if p.name not in ignored else _ignored(p) for p in _parameters(shared_options)]
        shared = [p for p in shared if p.name not in without]
        own = [p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.kind is not p.VAR_KEYWORD]
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in (*own, *shared)]
        fn.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return fn

    return wrap


@functools.cache
def _parameters(shared_options: Callable[..., None]) -> tuple[inspect.Parameter, ...]:
    # Evaluated once per declaration, not once per command: each evaluation builds every option anew.
    return tuple(inspect.signature(shared_options, eval_str=True).parameters.values())


class ExportFormat(StrEnum):
    terraform = "terraform"
    terraform_role = "terraform-role"
    aws_config = "aws-config"
    cloudformation = "cloudformation"
    json = "json"
    github_actions = "github-actions"  # CI trusts
    gitlab_ci = "gitlab-ci"
    pipeline = "pipeline"  # CircleCI, Bitbucket Pipelines, Buildkite (core/platforms.py)
    tfc_variables = "tfc-variables"  # HCP Terraform trusts: the workspace's variables
    tfe = "tfe"  # ... as tfe_variable resources


class Only(StrEnum):
    source = "source"
    target = "target"


@gh.with_platform_options
def diagnose_options(
    role_arn: Annotated[str | None, typer.Option(help="The role that cannot be assumed.")] = None,
    source_profile: Annotated[
        str | None, typer.Option(help="Profile of the identity that tries to assume the role.")
    ] = None,
    target_profile: Annotated[str | None, typer.Option(help="Profile that may read the role in its account.")] = None,
    source_admin_profile: Annotated[
        str | None, typer.Option(help="Profile that may read IAM in the source account, if the source profile may not.")
    ] = None,
    principal: Annotated[str | None, typer.Option(help="The principal ARN, if not the source profile's own.")] = None,
    external_id: Annotated[str | None, typer.Option(help="The ExternalId the caller sends.")] = None,
    mfa_serial: MfaSerialOpt = None,
    mfa_token: MfaTokenOpt = None,
    duration_seconds: Annotated[
        int | None, typer.Option(help="Requested session duration, 900-43200 [default: 3600].")
    ] = None,
    session_name: Annotated[
        str | None, typer.Option(help="Role session name [default: trust-bootstrap-diagnose].")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", metavar="KEY=VALUE", help="Session tag (repeatable).")
    ] = None,
    source_identity: Annotated[str | None, typer.Option(help="Source identity the caller sets.")] = None,
    config_file: ConfigOpt = None,
    targets_from_org: Annotated[
        str | None, typer.Option(help="Fleet: diagnose every account of this organization unit.")
    ] = None,
    management_profile: Annotated[
        str | None,
        typer.Option(
            help="Profile of the organization's management account: reads the SCPs of the caller's account and "
            "the RCPs of the role's account (checks scp, rcp); for a fleet, also its accounts."
        ),
    ] = None,
    parallel: Annotated[int, typer.Option(min=1, max=64, help="Fleet: targets diagnosed at once.")] = 8,
    github_repo: gh.GithubRepoOpt = None,
    github_ref: gh.GithubRefOpt = None,
    github_environment: gh.GithubEnvOpt = None,
    github_event: Annotated[
        str | None, _ci("GitHub: the run's event (push, pull_request, ...) [default: push].")
    ] = None,
    github_owner_id: gh.GithubOwnerIdOpt = None,
    github_repo_id: gh.GithubRepoIdOpt = None,
    github_claims: gh.GithubClaimOpt = None,
    github_workflow: gh.GithubWorkflowOpt = None,
    gitlab_project: GitlabProjectOpt = None,
    gitlab_ref: GitlabRefOpt = None,
    gitlab_ref_type: GitlabRefTypeOpt = None,
    gitlab_host: GitlabHostOpt = None,
    tfc_organization: TfcOrgOpt = None,
    tfc_project: TfcProjectOpt = None,
    tfc_workspace: TfcWorkspaceOpt = None,
    tfc_run_phase: Annotated[
        str | None, typer.Option(metavar="plan|apply", help="HCP Terraform: the run's phase [default: apply].")
    ] = None,
    tfc_hostname: TfcHostnameOpt = None,
    tfc_audience: TfcAudienceOpt = None,
    oidc_issuer: OidcIssuerOpt = None,
    oidc_audience: OidcAudienceOpt = None,
    oidc_subject: OidcSubjectOpt = None,
    web_identity_token_file: TokenFileOpt = None,
    output: OutputOpt = Output.text,
    debug: DebugOpt = False,
) -> None:
    """The options of diagnose: the AssumeRole that fails, who tries it, and a CI run."""
