"""Pure: the trust rendered for the tools people already run: Terraform, ~/.aws/config,
CloudFormation (StackSets), and the raw policy documents. Every file is built by its format's writer
(hclwrite, iniwrite, jsonwrite): no value is pasted into the text by string formatting."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bootstrap.core import consumers
from bootstrap.core.errors import InvalidInput
from bootstrap.core.state import Role
from bootstrap.exports import hclwrite, iniwrite, jsonwrite


@dataclass(frozen=True)
class Trust:
    """What every export needs; built from the live role, or from config alone (--offline)."""

    role: Role
    principal_arn: str
    grant_document: str
    external_id: str | None
    require_mfa: bool
    mfa_max_age: int | None
    session_name: str
    caller_profile: str | None  # the profile with the principal's credentials
    mfa_serial: str | None
    endpoint_url: str | None  # copied from the caller profile, if it sets one
    region: str = "us-east-1"  # the caller profile's, else IAM's home region: STS needs one to sign for
    chained: bool = False  # the principal is a role: its AssumeRole is role chaining (one hour at most)


# The provider's assume_role block cannot send an MFA code: its arguments are role_arn, duration,
# external_id, policy, policy_arns, session_name, source_identity, tags and transitive_tag_keys
# (https://registry.terraform.io/providers/hashicorp/aws/latest/docs#assume-role-configuration-reference,
# https://github.com/hashicorp/terraform-provider-aws/issues/2420, open). A profile with mfa_serial fails in
# the provider as well: hashicorp/aws 5.100.0 stops with "assume role with MFA enabled, but
# AssumeRoleTokenProvider session option not set" (tried against the sandbox). What works is credentials
# that already carry MFA: GetSessionToken's, asked with the device and a code, do
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_getsessiontoken.html),
# and aws-vault hands such credentials to the command it runs.
MFA_NOTE = (
    "This role's trust requires MFA, and Terraform's assume_role cannot send an MFA code (a profile with "
    "mfa_serial fails in the provider too): run Terraform with credentials that already carry MFA, e.g. "
    "'aws-vault exec PROFILE -- terraform apply' or the AWS_* variables of 'aws sts get-session-token "
    "--serial-number ... --token-code ...' (the comment in the Terraform says how)."
)


TERRAFORM_DURATION = "1h"


def mfa_comment(serial: str | None) -> list[str]:
    """The HCL comment over a provider block whose role requires MFA: why the block alone will be
    refused, and what to run Terraform with instead."""
    device = serial or "arn:aws:iam::ACCOUNT:mfa/DEVICE"
    return [
        "# This role's trust requires MFA (aws:MultiFactorAuthPresent). The provider's assume_role block",
        "# cannot send an MFA code (it has no argument for one), and a profile with mfa_serial fails in the",
        '# provider too ("AssumeRoleTokenProvider session option not set"). Keep this block and run',
        "# Terraform with the principal's credentials after an MFA sign-in, which carry MFA; either:",
        f"#   aws-vault exec PROFILE -- terraform apply    (PROFILE: the principal's, with mfa_serial = {device})",
        f"#   aws sts get-session-token --serial-number {device} --token-code CODE",
        "#     then export its AccessKeyId, SecretAccessKey and SessionToken as AWS_ACCESS_KEY_ID,",
        "#     AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN before terraform apply.",
        "# https://registry.terraform.io/providers/hashicorp/aws/latest/docs#assume-role-configuration-reference",
    ]


def terraform(trust: Trust, *, alias: str | None = None, external_id_variable: bool = False) -> str:
    """A provider "aws" block whose assume_role reaches the role; credentials stay with the
    environment or profile, as AWS recommends."""
    lines: list[str] = []
    if trust.external_id and external_id_variable:
        lines += [
            'variable "external_id" {',
            f"  description = {hclwrite.string('sts:ExternalId required by ' + trust.role.arn)}",
            "  type        = string",
            "  sensitive   = true",
            "}",
            "",
        ]
    lines += provider_block(
        trust.role.arn,
        consumers.session_name(consumers.Consumer.TERRAFORM, trust.role.name),  # never the proof's
        trust.external_id,
        alias=alias,
        external_id_variable=bool(trust.external_id and external_id_variable),
        mfa=trust.require_mfa,
        serial=trust.mfa_serial,
    )
    return "\n".join(lines) + "\n"


def provider_block(
    role_arn: str,
    session_name: str,
    external_id: str | None,
    *,
    alias: str | None = None,
    external_id_variable: bool = False,
    mfa: bool = False,
    serial: str | None = None,
) -> list[str]:
    """The one Terraform provider block, for export and for apply's summary alike (with
    ``external_id_variable`` the ExternalId is the reference var.external_id, else a quoted string);
    ``mfa``: the role requires MFA, which the block cannot send (mfa_comment says so above it)."""
    lines = [*(mfa_comment(serial) if mfa else []), 'provider "aws" {']
    if alias:
        lines.append(f"  alias = {hclwrite.string(alias)}")
    lines += ["  assume_role {", f"    role_arn     = {hclwrite.string(role_arn)}"]
    lines.append(f"    session_name = {hclwrite.string(session_name)}")
    # One hour: within every role's MaxSessionDuration (3600 at least) and the one-hour cap of a chained
    # call; the provider takes a Go duration string (hashicorp/terraform-provider-aws#23077).
    lines.append(f"    duration     = {hclwrite.string(TERRAFORM_DURATION)}")
    if external_id_variable:
        lines.append("    external_id  = var.external_id")
    elif external_id:
        lines.append(f"    external_id  = {hclwrite.string(external_id)}")
    return [*lines, "  }", "}"]


def aws_config_section(trust: Trust, profile: str, duration_seconds: int | None = None) -> str:
    """A ``[profile NAME]`` section. Every name and value is checked for its field again here, so
    nothing can end a line or a header early and plant a section of its own (config.py checked
    them already; this writer does not rely on it)."""
    settings: list[tuple[str, str]] = [("role_arn", trust.role.arn)]
    if trust.caller_profile:
        settings.append(("source_profile", trust.caller_profile))
    if trust.external_id:
        settings.append(("external_id", trust.external_id))
    if trust.require_mfa and trust.mfa_serial:
        settings.append(("mfa_serial", trust.mfa_serial))
    settings.append(("role_session_name", consumers.session_name(consumers.Consumer.AWS_PROFILE, trust.role.name)))
    # Never above the role's maximum; a role principal's profile chains (source_profile is a role), and
    # STS refuses more than an hour there (id_roles.html, role chaining).
    longest = consumers.duration(min(trust.role.max_session_duration, 43200), chained=trust.chained)
    settings.append(("duration_seconds", str(min(duration_seconds or longest, longest))))
    settings.append(("region", trust.region))  # without it, every client of the profile asks for one
    if trust.endpoint_url:
        settings.append(("endpoint_url", trust.endpoint_url))
    try:
        return iniwrite.profile_section(profile, settings)
    except ValueError as err:
        raise InvalidInput(f"Not rendered: {err}. Nothing was written.") from err


def _trust_document(trust: Trust) -> dict[str, Any]:
    condition: dict[str, Any] = {}
    if trust.external_id:
        condition["StringEquals"] = {"sts:ExternalId": {"Ref": "ExternalId"}}
    if trust.require_mfa:
        condition["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
        if trust.mfa_max_age:
            condition["NumericLessThan"] = {"aws:MultiFactorAuthAge": str(trust.mfa_max_age)}
    statement: dict[str, Any] = {
        "Sid": "TrustBootstrapAssumeRole",
        "Effect": "Allow",
        "Principal": {"AWS": {"Ref": "SourcePrincipalArn"}},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    # --for github-actions: the desired trust's sts:TagSession statement, for the same parameter principal
    tagging = [
        {**s, "Principal": {"AWS": {"Ref": "SourcePrincipalArn"}}}
        for s in json.loads(trust.role.trust_policy).get("Statement", [])
        if isinstance(s, dict) and s.get("Sid") == consumers.TAG_SESSION_SID
    ]
    return {"Version": "2012-10-17", "Statement": [statement, *tagging]}


def cloudformation(trust: Trust) -> str:
    """The target side as a template, for CloudFormation StackSets to roll out to every account of
    an OU. The source principal and the ExternalId are parameters."""
    role = trust.role
    parameters: dict[str, Any] = {
        "SourcePrincipalArn": {
            "Type": "String",
            "Description": "The IAM user or role (exact ARN) in the source account that may assume the role.",
            "Default": trust.principal_arn,
            "AllowedPattern": r"arn:aws[a-z-]*:iam::\d{12}:(user|role)/.+",
        }
    }
    if trust.external_id:
        parameters["ExternalId"] = {
            "Type": "String",
            "Description": "The sts:ExternalId the caller must send.",
            "NoEcho": True,
            "MinLength": 2,
            "MaxLength": 1224,
            "AllowedPattern": r"[\w+=,.@:/-]+",
        }
    properties: dict[str, Any] = {
        "RoleName": role.name,
        "Path": role.path,
        "AssumeRolePolicyDocument": _trust_document(trust),
        "MaxSessionDuration": role.max_session_duration,
        "Tags": [{"Key": k, "Value": v} for k, v in role.tags],
    }
    if role.description:
        properties["Description"] = role.description
    if role.managed_policies:
        properties["ManagedPolicyArns"] = list(role.managed_policies)
    if role.inline_policies:
        properties["Policies"] = [{"PolicyName": n, "PolicyDocument": json.loads(d)} for n, d in role.inline_policies]
    if role.permissions_boundary:
        properties["PermissionsBoundary"] = role.permissions_boundary
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Cross-account role {role.name} trusted by a principal of the source account (trust-bootstrap).",
        "Parameters": parameters,
        "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": properties}},
        "Outputs": {
            "RoleArn": {"Description": "Give this ARN to the source side.", "Value": {"Fn::GetAtt": ["Role", "Arn"]}}
        },
    }
    return jsonwrite.document(template)


def documents(trust: Trust) -> str:
    return jsonwrite.document(
        {
            "role_arn": trust.role.arn,
            "principal_arn": trust.principal_arn,
            "trust_policy": json.loads(trust.role.trust_policy),
            "grant_policy": json.loads(trust.grant_document),
        }
    )


def terraform_role(trust: Trust, resource_name: str = "trust_bootstrap") -> str:
    """The target side as Terraform resources, for teams that manage account B with Terraform
    (and for scanners such as checkov, which judge the trust policy's real values)."""
    role = trust.role
    trust_document = json.loads(role.trust_policy)
    resource_name = hclwrite.identifier(resource_name)
    ref = f"aws_iam_role.{resource_name}.name"
    lines = [
        f'resource "aws_iam_role" "{resource_name}" {{',
        f"  name                 = {hclwrite.string(role.name)}",
        f"  path                 = {hclwrite.string(role.path)}",
        f"  max_session_duration = {role.max_session_duration}",
    ]
    if role.description:
        lines.append(f"  description          = {hclwrite.string(role.description)}")
    if role.permissions_boundary:
        lines.append(f"  permissions_boundary = {hclwrite.string(role.permissions_boundary)}")
    lines.append(f"  assume_role_policy   = jsonencode({hclwrite.json_expression(trust_document, '  ')})")
    if role.tags:
        lines.append("  tags = {")
        lines += [f"    {hclwrite.string(k)} = {hclwrite.string(v)}" for k, v in role.tags]
        lines.append("  }")
    lines.append("}")
    for index, arn in enumerate(role.managed_policies):
        lines += [
            "",
            f'resource "aws_iam_role_policy_attachment" "{resource_name}_{index}" {{',
            f"  role       = {ref}",
            f"  policy_arn = {hclwrite.string(arn)}",
            "}",
        ]
    for index, (name, document) in enumerate(role.inline_policies):
        lines += [
            "",
            f'resource "aws_iam_role_policy" "{resource_name}_inline_{index}" {{',
            f"  name   = {hclwrite.string(name)}",
            f"  role   = {ref}",
            f"  policy = jsonencode({hclwrite.json_expression(json.loads(document), '  ')})",
            "}",
        ]
    return "\n".join(lines) + "\n"
