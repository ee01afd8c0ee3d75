"""export's workflow: the trust as the tools users run read it (Terraform, ~/.aws/config,
CloudFormation, JSON, CI snippets), from the live role or the config alone, and with ``write`` the
profile added to the AWS config file. Returns the text (and where it was written); no printing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from bootstrap.aws import accounts as aws
from bootstrap.aws import sessions
from bootstrap.ci import job as oidcci
from bootstrap.config import fieldcheck
from bootstrap.config.model import Config
from bootstrap.core import arns, consumers, oidc
from bootstrap.core.errors import InvalidInput, PreconditionFailed
from bootstrap.core.platforms import REGISTRY
from bootstrap.core.state import OWNER_TAG
from bootstrap.exports import awsconfig, hclwrite, keyci
from bootstrap.exports import ci as ciexports
from bootstrap.exports import formats as exports
from bootstrap.exports import tfc as tfcexports
from bootstrap.trust import desired, live
from bootstrap.trust import workflows as commands

CI_FORMATS = ("github-actions", "gitlab-ci", "pipeline")  # pipeline: a registry platform's (core/platforms.py)
TFC_FORMATS = ("tfc-variables", "tfe")  # HCP Terraform trusts: exports/tfc.py


@dataclass(frozen=True)
class ExportRequest:
    format: str  # terraform, terraform-role, aws-config, cloudformation, json, github-actions, gitlab-ci
    offline: bool = False
    target_account: str | None = None
    alias: str | None = None  # terraform: the provider alias
    external_id_variable: bool = False  # terraform: the ExternalId as a sensitive variable
    profile_name: str | None = None  # aws-config: the profile name (default: the role name)
    write: bool = False  # aws-config: add the profile to the AWS config file
    force: bool = False  # with write: replace a profile of that name
    as_json: bool = False  # tfc-variables: a JSON list for HCP Terraform's API (--output json)


@dataclass(frozen=True)
class Exported:
    text: str
    profile: str = ""
    config_file: Path | None = None  # written: the AWS config file as named (AWS_CONFIG_FILE or ~/.aws/config)
    written: awsconfig.Written | None = None  # the file actually written (a link's target) and its backup
    notes: tuple[str, ...] = ()  # what the user must know to use the text (shown on stderr)


def check(config: Config, request: ExportRequest) -> None:
    """The options must go together, before anything is read."""
    if request.write and request.format != "aws-config":
        raise InvalidInput("--write goes with --format aws-config.")
    if request.profile_name is not None:
        try:
            fieldcheck.check_profile_name(request.profile_name)
        except ValueError as err:
            raise InvalidInput(f"--profile-name: {err}. Nothing was written.") from err
    if request.alias is not None:
        try:  # Terraform's alias is a name, not text (it ends up as aws.ALIAS in references)
            hclwrite.identifier(request.alias)
        except ValueError as err:
            raise InvalidInput(f"--alias: {err}. Nothing was written.") from err
    tfc_trust = config.oidc is not None and config.oidc.platform == oidc.Platform.TFC
    if tfc_trust or request.format in TFC_FORMATS:
        hub_terraform = request.format == "terraform" and config.oidc is not None and config.oidc.hub_role is not None
        if (request.format not in TFC_FORMATS and not hub_terraform) or not tfc_trust:
            raise InvalidInput(
                f"--format {request.format} is for HCP Terraform trusts (--tfc-organization ...)."
                if request.format in TFC_FORMATS
                else f"An HCP Terraform trust exports as --format tfc-variables or tfe (and terraform, for the "
                f"provider's second hop in the hub topology), not {request.format}."
            )
    elif config.oidc is None and request.format == "pipeline":
        raise InvalidInput(
            "--format pipeline is for CircleCI, Bitbucket Pipelines and Buildkite trusts (--circleci-*, "
            "--bitbucket-*, --buildkite-*); a key-based trust exports as github-actions or gitlab-ci."
        )
    elif config.oidc is not None:  # a registry platform (core/platforms.py) exports its pipeline snippet
        registered = config.oidc.platform in REGISTRY
        if registered != (request.format == "pipeline") or request.format not in CI_FORMATS:
            raise InvalidInput(
                f"A {REGISTRY[config.oidc.platform].title} trust exports as --format pipeline, not {request.format}."
                if registered
                else f"A CI trust exports as --format github-actions or gitlab-ci, not {request.format}."
            )
    # A key-based trust exports as CI files too (keyci.py): the CI user's keys from the platform's secrets.


def _export_web_identity_ci(config: Config, request: ExportRequest) -> Exported:
    ci = oidcci.build_ci_export(config, offline=request.offline, target_account=request.target_account)
    if request.format == "pipeline":
        from bootstrap.exports import pipelines  # noqa: PLC0415 (only for these platforms)

        try:
            return Exported(pipelines.pipeline(ci))
        except ValueError as err:  # a value the platform would read as its own syntax
            raise InvalidInput(f"--format pipeline: {err}. Nothing was written.") from err
    render_ci = ciexports.github_actions if request.format == "github-actions" else ciexports.gitlab_ci
    try:
        return Exported(render_ci(ci))
    except ValueError as err:  # a value the platform would read as its own syntax
        raise InvalidInput(f"--format {request.format}: {err}. Nothing was written.") from err


def export(config: Config, request: ExportRequest) -> Exported:
    check(config, request)
    if request.format in TFC_FORMATS or (request.format == "terraform" and config.oidc is not None):
        return _export_tfc(config, request)
    if request.format in CI_FORMATS and config.oidc is not None:
        return _export_web_identity_ci(config, request)
    trust = build_export(config, offline=request.offline, target_account=request.target_account)
    if request.format in CI_FORMATS:  # a key-based trust: the CI user's keys from the platform's secrets
        github = request.format == "github-actions"
        return Exported(keyci.github_actions(trust, config.consumers) if github else keyci.gitlab_ci(trust))
    profile = request.profile_name or config.role_name
    if request.format == "terraform":
        text = exports.terraform(trust, alias=request.alias, external_id_variable=request.external_id_variable)
        return Exported(text, notes=(exports.MFA_NOTE,) if trust.require_mfa else ())
    elif request.format == "terraform-role":
        text = exports.terraform_role(trust)
    elif request.format == "aws-config":
        text = exports.aws_config_section(trust, profile)
    elif request.format == "cloudformation":
        text = exports.cloudformation(trust)
    else:
        text = exports.documents(trust)
    if not request.write:
        return Exported(text)
    target_file = awsconfig.config_file()
    written = awsconfig.upsert_profile(target_file, profile, text, force=request.force)
    return Exported(text, profile, target_file, written)


def _export_tfc(config: Config, request: ExportRequest) -> Exported:
    """An HCP Terraform trust: the workspace's variables, as lines, JSON or tfe_variable resources; in
    the hub topology also the provider block of the second hop (exports/tfc.py)."""
    ci = oidcci.build_ci_export(config, offline=request.offline, target_account=request.target_account)
    if request.format == "terraform":  # the hub topology: the run holds the hub role's credentials
        session = consumers.session_name(consumers.Consumer.TERRAFORM, config.role_name)  # never the proof's
        return Exported(tfcexports.hub_provider(ci.role_arn, session, request.alias))
    workspace = tfcexports.workspace_of(ci.trust, ci.role_arn, ci.hub_role_arn)
    if request.format == "tfe":
        return Exported(tfcexports.tfe(workspace))
    return Exported(tfcexports.variables_json(workspace) if request.as_json else tfcexports.variables_text(workspace))


def build_export(config: Config, *, offline: bool, target_account: str | None = None) -> exports.Trust:
    """What the exports render: from the live role (its real ARN), or from config alone."""
    caller_profile = config.verify_profile or config.source_profile
    if offline:
        if config.principal is None:
            raise InvalidInput("--offline needs the principal: pass --principal ARN (nothing is read from AWS).")
        if target_account is None:
            raise InvalidInput("--offline needs the target account for the role's ARN: pass --target-account ID.")
        principal = arns.parse_principal(config.principal)
        external_id = config.external_id
        if config.generate_external_id and external_id is None:
            raise InvalidInput("--offline cannot know a generated ExternalId: pass --external-id, or export online.")
        context = desired.Context(principal.account, target_account, principal.partition, principal, external_id)
    else:
        target, identity = sessions.open_profile(config.target_profile, "target")
        role = live.read_role(target, config.role_name)
        if role is None:
            raise PreconditionFailed(
                f"No role {config.role_name} in account {identity.account}: run 'trust-bootstrap apply' first, or "
                "export from the config alone with --offline."
            )
        if config.principal:
            principal = arns.parse_principal(config.principal)
        else:
            source, source_identity = sessions.open_profile(config.source_profile, "source")
            principal, _ = sessions.resolve_principal(None, source_identity, source)
        external_id = config.external_id or (
            commands.external_id_in(role.trust_policy) if config.generate_external_id else None
        )
        partition = arns.parse_arn(identity.arn).partition
        context = desired.Context(principal.account, identity.account, partition, principal, external_id)
    want = desired.build(config, context)
    assert want.role is not None and want.grant is not None
    role = replace(want.role, tags=tuple(t for t in want.role.tags if t != OWNER_TAG))
    return exports.Trust(
        role=role,
        principal_arn=principal.arn,
        grant_document=want.grant.document,
        external_id=external_id,
        require_mfa=config.require_mfa,
        mfa_max_age=config.mfa_max_age,
        session_name=config.session_name,
        caller_profile=caller_profile,
        mfa_serial=config.mfa_serial,
        endpoint_url=aws.profile_setting(caller_profile, "endpoint_url"),
        region=aws.profile_setting(caller_profile, "region") or aws.DEFAULT_REGION,
        chained=principal.kind == "role",
    )
