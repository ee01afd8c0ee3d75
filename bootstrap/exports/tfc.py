"""Pure: an HCP Terraform trust rendered for the workspace: the environment variables its runs read
(KEY=VALUE lines, or the JSON list HCP Terraform's variables API takes), and `tfe_variable` resources
so the workspace's variables are managed as code.

Variables (https://developer.hashicorp.com/terraform/cloud-docs/workspaces/dynamic-provider-credentials/aws-configuration):
`TFC_AWS_PROVIDER_AUTH=true`, `TFC_AWS_RUN_ROLE_ARN`, or `TFC_AWS_PLAN_ROLE_ARN` and
`TFC_AWS_APPLY_ROLE_ARN` for a role per phase, `TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE` when the audience
is not aws.workload.identity; all of category env. `tfe_variable` takes `key`, `value`, `category`
(`env` or `terraform`), `description` and one of `workspace_id` / `variable_set_id`
(https://registry.terraform.io/providers/hashicorp/tfe/latest/docs/resources/variable); the
`tfe_workspace` data source finds the workspace by `name` and `organization`
(https://registry.terraform.io/providers/hashicorp/tfe/latest/docs/data-sources/workspace).
Written by shellwrite, jsonwrite and hclwrite: no value is pasted into the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.core import arns, oidc, tfc
from bootstrap.exports import formats, hclwrite, jsonwrite, shellwrite

CATEGORY = "env"
_DESCRIPTIONS = {
    "TFC_AWS_PROVIDER_AUTH": "Dynamic provider credentials for AWS (trust-bootstrap)",
    "TFC_AWS_RUN_ROLE_ARN": "The role every run assumes (trust-bootstrap)",
    "TFC_AWS_PLAN_ROLE_ARN": "The role plan runs assume (trust-bootstrap)",
    "TFC_AWS_APPLY_ROLE_ARN": "The role apply runs assume (trust-bootstrap)",
    "TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE": "The audience of the runs' tokens (trust-bootstrap)",
}


@dataclass(frozen=True)
class Workspace:
    """What the exports need: the trust, the role the runs assume first and, for a pair, the plan role."""

    trust: oidc.OidcTrust
    run_role_arn: str  # the hub role in the hub topology: the run's token assumes it
    plan_role_arn: str | None
    organization: str
    workspace: str

    @property
    def variables(self) -> tuple[tuple[str, str], ...]:
        return tfc.variables(self.run_role_arn, self.plan_role_arn, self.trust.audience)


def workspace_of(trust: oidc.OidcTrust, role_arn: str, hub_role_arn: str | None) -> Workspace:
    claims = dict(trust.contexts[0].claims)
    plan_arn = None
    if trust.companion is not None:  # the plan role: beside the role, same account and path
        plan_arn = arns.beside(role_arn, trust.companion.role_name)
    return Workspace(
        trust,
        hub_role_arn or role_arn,
        plan_arn,
        claims["terraform_organization_name"],
        claims["terraform_workspace_name"],
    )


def variables_text(workspace: Workspace) -> str:
    lines = [shellwrite.assignment(key, value) for key, value in workspace.variables]
    return "\n".join(lines) + "\n"


def variables_json(workspace: Workspace) -> str:
    return jsonwrite.document([{"key": k, "value": v, "category": CATEGORY} for k, v in workspace.variables])


def tfe(workspace: Workspace) -> str:
    """`tfe_variable` resources (category env) on the workspace the `tfe_workspace` data source finds."""
    lines = [
        f"# trust-bootstrap: {_comment(workspace.trust.description)}",
        "terraform {",
        "  required_providers {",
        "    tfe = {",
        '      source = "hashicorp/tfe"',
        "    }",
        "  }",
        "}",
        "",
        'data "tfe_workspace" "this" {',
        f"  name         = {hclwrite.string(workspace.workspace)}",
        f"  organization = {hclwrite.string(workspace.organization)}",
        "}",
    ]
    for key, value in workspace.variables:
        lines += [
            "",
            f'resource "tfe_variable" {hclwrite.string(hclwrite.identifier(key.lower()))} {{',
            "  workspace_id = data.tfe_workspace.this.id",
            f"  key          = {hclwrite.string(key)}",
            f"  value        = {hclwrite.string(value)}",
            f"  category     = {hclwrite.string(CATEGORY)}",
            f"  description  = {hclwrite.string(_DESCRIPTIONS[key])}",
            "}",
        ]
    return "\n".join(lines) + "\n"


def hub_provider(role_arn: str, session_name: str, alias: str | None) -> str:
    """The hub topology: the run's dynamic credentials are the hub role's (TFC_AWS_RUN_ROLE_ARN); the
    provider's assume_role block makes the second hop into the role in B."""
    comment = [
        "# trust-bootstrap: HCP Terraform runs assume the hub role (TFC_AWS_RUN_ROLE_ARN, dynamic credentials);",
        "# this provider's assume_role block then chains into the role.",
    ]
    return "\n".join([*comment, *formats.provider_block(role_arn, session_name, None, alias=alias)]) + "\n"


def _comment(text: str) -> str:
    """One comment line: the description names the workspace (its names are one line, checked)."""
    return " ".join(text.split())
