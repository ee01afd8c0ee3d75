"""export's workflow: the trust as the tools users run read it (Terraform, ~/.aws/config,
CloudFormation, JSON, CI snippets), from the live role or the config alone, and with ``write`` the
profile added to the AWS config file. Returns the text (and where it was written); no printing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bootstrap import awsconfig, ciexports, commands, exports, oidcci
from bootstrap.config import Config

CI_FORMATS = ("github-actions", "gitlab-ci")


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


@dataclass(frozen=True)
class Exported:
    text: str
    profile: str = ""
    config_file: Path | None = None  # written: the AWS config file as named (AWS_CONFIG_FILE or ~/.aws/config)
    written: awsconfig.Written | None = None  # the file actually written (a link's target) and its backup


def export(config: Config, request: ExportRequest) -> Exported:
    if request.format in CI_FORMATS:
        ci = oidcci.build_ci_export(config, offline=request.offline, target_account=request.target_account)
        render_ci = ciexports.github_actions if request.format == "github-actions" else ciexports.gitlab_ci
        return Exported(render_ci(ci))
    trust = commands.build_export(config, offline=request.offline, target_account=request.target_account)
    profile = request.profile_name or config.role_name
    if request.format == "terraform":
        text = exports.terraform(trust, alias=request.alias, external_id_variable=request.external_id_variable)
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
