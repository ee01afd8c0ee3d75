"""The `tfc:` config section and the --tfc-* flags -> the HCP Terraform (or Terraform Enterprise) trust.
Pure. File form: `tfc: {organization, project, workspace, run_phase, hostname, audience, plan_role,
plan_policy_arn}`; the flags (`--tfc-organization`, ...) override the file key by key (config/oidc.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bootstrap.core import arns, oidc, tfc
from bootstrap.core.errors import InvalidInput

Value = Callable[..., str | None]


def build(value: Value, merged: Mapping[str, Any], hub_role: str | None, allow_wide: bool) -> oidc.OidcTrust:
    """The trust the section describes; InvalidInput (exit 2) naming the flag or key of a bad value."""
    if value("oidc", "issuer") is not None or value("oidc", "subject") is not None:
        raise InvalidInput("--oidc-issuer/--oidc-subject do not go with --tfc-*: the issuer is https://HOSTNAME "
                           "(--tfc-hostname) and the subject is built from the workspace.")  # fmt: skip
    organization = value("tfc", "organization", lambda v: tfc.check_name(v, "organization"))
    workspace = value("tfc", "workspace", lambda v: tfc.check_name(v, "workspace"))
    if organization is None or workspace is None:
        raise InvalidInput(
            "An HCP Terraform trust names the workspace whose runs may assume the role: pass --tfc-organization ORG "
            "and --tfc-workspace NAME (config: tfc.organization, tfc.workspace)."
        )
    project = value("tfc", "project", lambda v: tfc.check_name(v, "project")) or tfc.DEFAULT_PROJECT
    run_phase = value("tfc", "run_phase", tfc.check_run_phase)
    hostname = value("tfc", "hostname", tfc.check_hostname) or tfc.HOSTNAME
    audience = value("tfc", "audience", tfc.oidc_audience) or value("oidc", "audience") or tfc.AUDIENCE
    plan_role = value("tfc", "plan_role", arns.check_role_name)
    plan_policy = value("tfc", "plan_policy_arn", arns.check_managed_policy_arn)
    if plan_policy is not None and plan_role is None:
        raise InvalidInput("--tfc-plan-policy-arn is the plan role's policy: it goes with --tfc-plan-role NAME.")
    if plan_role is not None:
        if plan_role == merged.get("role_name"):
            raise InvalidInput(
                f"--tfc-plan-role: '{plan_role}' is the role's own name; the plan role is a second role, for "
                "plan runs only: give it another name."
            )
        if run_phase not in (None, "apply"):
            raise InvalidInput(
                f"--tfc-run-phase {run_phase} does not go with --tfc-plan-role: the role then admits apply runs "
                "and the plan role plan runs."
            )
        if hub_role is not None:
            raise InvalidInput("--tfc-plan-role does not go with --hub-role yet: set up the two roles directly.")
    try:
        built = tfc.trust(
            organization,
            project,
            workspace,
            "apply" if plan_role else (run_phase or "all"),
            hostname=hostname,
            audience=audience,
            hub_role=hub_role,
            allow_org_wildcard=allow_wide,
        )
    except ValueError as err:
        raise InvalidInput(f"--tfc-workspace/--tfc-project/--tfc-organization: {err}.") from err
    if plan_role is None:
        return built
    return tfc.with_plan_role(built, plan_role, (plan_policy or tfc.READ_ONLY,))
