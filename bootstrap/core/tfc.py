"""Pure: HCP Terraform and Terraform Enterprise as a CI source: workload identity subjects, the trust
that admits exactly one workspace's runs, what a wildcard covers, and the workspace variables.

From HashiCorp's documentation:
- https://developer.hashicorp.com/terraform/cloud-docs/workspaces/dynamic-provider-credentials/aws-configuration
  the provider URL is the address of HCP Terraform (https://app.terraform.io, no trailing slash; Terraform
  Enterprise: its own host), the audience ``aws.workload.identity`` unless
  ``TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE`` says otherwise; the trust conditions ``HOST:aud`` and ``HOST:sub``,
  ``sub`` being ``organization:ORG:project:PROJECT:workspace:WORKSPACE:run_phase:plan|apply`` (project
  names may hold spaces: ``Default Project``); "you should always check, at minimum, the audience and the
  name of the organization". Variables: ``TFC_AWS_PROVIDER_AUTH=true``, ``TFC_AWS_RUN_ROLE_ARN``, or
  ``TFC_AWS_PLAN_ROLE_ARN`` and ``TFC_AWS_APPLY_ROLE_ARN`` for a role per phase, and
  ``TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE``.
- https://developer.hashicorp.com/terraform/cloud-docs/workspaces/dynamic-provider-credentials/workload-identity-tokens
  the token's claims: terraform_organization_name, terraform_project_name, terraform_workspace_name,
  terraform_full_workspace, terraform_run_phase, terraform_run_id, ... (ids made up below).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bootstrap.core import globs, oidc
from bootstrap.core.identifiers import check_one_line

HOSTNAME = "app.terraform.io"
AUDIENCE = "aws.workload.identity"
DEFAULT_PROJECT = "Default Project"
PHASES = ("plan", "apply")
RUN_PHASES = ("plan", "apply", "all", "*")  # all: both exact subjects; *: one StringLike pattern
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"  # the plan role's default policy
_AUDIENCE = re.compile(r"[\x21-\x7e]{1,255}")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?")
# A pattern is confined to one workspace when the text before its first wildcard names the
# organization, the project and the whole workspace name (names hold no ':', so the ':' after the
# workspace closes it): what follows can only vary the run phase.
_ONE_WORKSPACE = re.compile(r"organization:[^:*?]+:project:[^:*?]+:workspace:[^:*?]+:")


# -- input checks (ValueError with the rule; config/tfc.py says which flag or key) ---------------


def check_hostname(value: str) -> str:
    """HCP Terraform's or a Terraform Enterprise instance's host name: no scheme, no path."""
    check_one_line(value)
    if "://" in value or "/" in value:
        raise ValueError(f"'{value}' is not a host name: give the host alone (app.terraform.io, tfe.example.com), "
                         "without https:// or a path")  # fmt: skip
    if not _HOST.fullmatch(value) or len(value) > 253:
        raise ValueError(f"'{value}' is not a host name (letters, digits, '.', '-', an optional :PORT)")
    return value


def check_name(value: str, what: str) -> str:
    """An organization, project or workspace name as the sub carries it: case-sensitive, spaces allowed,
    never empty and never a ':' (the sub's separator)."""
    check_one_line(value)
    if not value.strip():
        raise ValueError(f"the {what} name is empty")
    if ":" in value:
        raise ValueError(f"'{value}': a {what} name cannot hold ':' (it separates the parts of the sub)")
    if value != value.strip():
        raise ValueError(f"'{value}': the {what} name starts or ends with a space")
    if len(value) > 255:
        raise ValueError(f"the {what} name is longer than 255 characters")
    return value


def check_run_phase(value: str) -> str:
    if value not in RUN_PHASES:
        raise ValueError(f"'{value}' is not a run phase: plan, apply, all (both) or '*'")
    return value


# -- subjects and what a pattern covers ----------------------------------------------------------


def sub(organization: str, project: str, workspace: str, run_phase: str) -> str:
    return f"organization:{organization}:project:{project}:workspace:{workspace}:run_phase:{run_phase}"


def is_tfc_subject(subject: str) -> bool:
    return subject.startswith("organization:")


def confined_to_one_workspace(pattern: str) -> bool:
    """Does every sub the pattern admits belong to one workspace? (Exact subjects always do.)"""
    if not globs.has_wildcard(pattern):
        return True
    before = re.split(r"[*?]", pattern, maxsplit=1)[0]
    return _ONE_WORKSPACE.match(before) is not None


def claims(
    organization: str, project: str, workspace: str, run_phase: str, issuer: str, audience: str
) -> dict[str, str]:
    """The claims a run phase's workload identity token carries (wildcards shown with an example value)."""
    org, proj, ws = (v.replace("*", "example").replace("?", "x") for v in (organization, project, workspace))
    phase = "apply" if run_phase == "*" else run_phase
    return {
        "iss": issuer,
        "aud": audience,
        "sub": sub(org, proj, ws, phase),
        "terraform_organization_id": "org-ExampleOrg0001",
        "terraform_organization_name": org,
        "terraform_project_id": "prj-ExampleProj001",
        "terraform_project_name": proj,
        "terraform_workspace_id": "ws-ExampleWork0001",
        "terraform_workspace_name": ws,
        "terraform_full_workspace": f"organization:{org}:project:{proj}:workspace:{ws}",
        "terraform_run_id": "run-ExampleRun00001",
        "terraform_run_phase": phase,
    }


def trust(
    organization: str,
    project: str,
    workspace: str,
    run_phase: str,
    *,
    hostname: str = HOSTNAME,
    audience: str = AUDIENCE,
    hub_role: str | None = None,
    allow_org_wildcard: bool = False,
) -> oidc.OidcTrust:
    """The trust admitting exactly the workspace's runs of ``run_phase`` (plan, apply, all or *).
    ValueError when a wildcard reaches beyond one workspace without ``allow_org_wildcard``."""
    issuer = f"https://{hostname}"
    phases = PHASES if run_phase == "all" else (run_phase,)
    subjects = tuple(sub(organization, project, workspace, p) for p in phases)
    wide = not all(confined_to_one_workspace(s) for s in subjects)
    if wide and not allow_org_wildcard:
        raise ValueError(
            f"'{subjects[0]}' admits runs of more than one workspace (a wildcard in the organization, project or "
            "workspace name): pass --allow-org-wildcard if that is intended"
        )
    place = f"{organization}/{project}/{workspace}"
    contexts = tuple(
        oidc.RunContext(
            f"an HCP Terraform {p if p != '*' else 'apply'} run of workspace {place}",
            tuple(sorted(claims(organization, project, workspace, p, issuer, audience).items())),
        )
        for p in (PHASES[::-1] if run_phase == "all" else phases)  # apply first: the phase that changes things
    )
    what = {"all": "plan and apply runs", "*": "runs of any phase"}.get(run_phase, f"{run_phase} runs")
    host = "" if hostname == HOSTNAME else f" on {hostname}"
    return oidc.OidcTrust(
        platform=oidc.Platform.TFC,
        issuer=issuer,
        audience=audience,
        subject=subjects[0],
        more_subjects=subjects[1:],
        description=f"HCP Terraform workspace {place}{host}, {what}",
        contexts=contexts,
        hub_role=hub_role,
        org_wildcard=wide,
    )


def with_plan_role(apply_trust: oidc.OidcTrust, plan_role: str, plan_policy_arns: tuple[str, ...]) -> oidc.OidcTrust:
    """The main role admits only apply runs; a second role (``plan_role``) only plan runs."""
    plan_sub = apply_trust.subject.rsplit(":run_phase:", 1)[0] + ":run_phase:plan"
    plan_context = tuple(
        oidc.RunContext(c.description.replace(" apply run ", " plan run "),
                        tuple(sorted({**dict(c.claims), "sub": plan_sub, "terraform_run_phase": "plan"}.items())))
        for c in apply_trust.contexts[:1]
    )  # fmt: skip
    plan_trust = oidc.OidcTrust(
        platform=apply_trust.platform,
        issuer=apply_trust.issuer,
        audience=apply_trust.audience,
        subject=plan_sub,
        description=apply_trust.description.replace("apply runs", "plan runs"),
        contexts=plan_context,
        hub_role=apply_trust.hub_role,
        org_wildcard=apply_trust.org_wildcard,
    )
    return replace(apply_trust, companion=oidc.Companion(plan_role, plan_policy_arns, plan_trust))


# -- the workspace's variables -------------------------------------------------------------------


def variables(role_arn: str, plan_role_arn: str | None, audience: str) -> tuple[tuple[str, str], ...]:
    """The environment variables HCP Terraform reads to assume the role(s) in each run."""
    pairs = [("TFC_AWS_PROVIDER_AUTH", "true")]
    if plan_role_arn:
        pairs += [("TFC_AWS_PLAN_ROLE_ARN", plan_role_arn), ("TFC_AWS_APPLY_ROLE_ARN", role_arn)]
    else:
        pairs.append(("TFC_AWS_RUN_ROLE_ARN", role_arn))
    if audience != AUDIENCE:
        pairs.append(("TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE", audience))
    return tuple(pairs)


# -- diagnose ------------------------------------------------------------------------------------


def predicted(options: Mapping[str, Any]) -> tuple[dict[str, str], str]:
    """The claims of the HCP Terraform run the diagnose flags describe, and the run in words.
    ValueError names the flag of a bad value."""

    def opt(key: str, default: str, check: Any) -> str:
        value = options.get(key)
        if value is None:
            return default
        try:
            return str(check(str(value)))
        except ValueError as err:
            raise ValueError(f"--{key.replace('_', '-')}: {err}") from err

    organization = opt("tfc_organization", "", lambda v: check_name(v, "organization"))
    workspace = opt("tfc_workspace", "", lambda v: check_name(v, "workspace"))
    if not organization or not workspace:
        raise ValueError("describe the HCP Terraform run: --tfc-organization ORG and --tfc-workspace NAME")
    project = opt("tfc_project", DEFAULT_PROJECT, lambda v: check_name(v, "project"))
    phase = opt("tfc_run_phase", "apply", lambda v: v if v in PHASES else _bad_phase(v))
    hostname = opt("tfc_hostname", HOSTNAME, check_hostname)
    audience = opt("tfc_audience", AUDIENCE, oidc_audience)
    found = claims(organization, project, workspace, phase, f"https://{hostname}", audience)
    return found, f"an HCP Terraform {phase} run of workspace {organization}/{project}/{workspace}"


def _bad_phase(value: str) -> str:
    raise ValueError(f"'{value}' is not a run phase a token carries: plan or apply")


def oidc_audience(value: str) -> str:
    """As oidcinput.check_audience (which imports this module): 1-255 printable characters, no spaces."""
    check_one_line(value)
    if not _AUDIENCE.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid audience (1-255 printable characters, no spaces)")
    return value


def run_phase_cause(sub: str, wanted: list[str]) -> tuple[str, str] | None:
    """The run phase is the only difference between the token's sub and the trust's: say so."""
    if ":run_phase:" not in sub:
        return None
    base, _, phase = sub.rpartition(":run_phase:")
    phases = [w.rpartition(":run_phase:")[2] for w in wanted if w.rpartition(":run_phase:")[0] == base]
    if not phases or phase in phases:
        return None
    return (
        f"the run phase: a {phase} run's token carries {sub!r}, and the trust admits only "
        f"{' and '.join(sorted(set(phases)))} runs of this workspace",
        f"Give {phase} runs their own role (apply --tfc-plan-role NAME; the workspace then sets "
        "TFC_AWS_PLAN_ROLE_ARN and TFC_AWS_APPLY_ROLE_ARN), or admit both phases with --tfc-run-phase all.",
    )
