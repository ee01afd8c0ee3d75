"""HCP Terraform's role pair as one trust: the role admits apply runs, a second role (--tfc-plan-role,
ReadOnlyAccess unless told) plan runs, as HashiCorp suggests with TFC_AWS_PLAN_ROLE_ARN and
TFC_AWS_APPLY_ROLE_ARN (https://developer.hashicorp.com/terraform/cloud-docs/workspaces/dynamic-provider-credentials/aws-configuration).

Each role is planned by ci/flow.py as any CI role; this module merges the two plans into one (the
shared provider created once, first; on teardown deleted last, and only when the tool created it and
no role other than these two names it), and proves each role with a token of its own phase. No printing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bootstrap.aws import oidc as aws_oidc
from bootstrap.ci import flow as oidcflow
from bootstrap.ci import token as ci_token
from bootstrap.config.model import Config
from bootstrap.core import arns
from bootstrap.core.plan import Change, Op, Plan, Side
from bootstrap.core.results import CiOutcome, Confirm, OnProgress, PlanRoleProof
from bootstrap.core.state import OWNER_TAG

_PROVIDER_OPS = (Op.CREATE_OIDC_PROVIDER, Op.ADD_OIDC_CLIENT_ID, Op.DELETE_OIDC_PROVIDER)


def plan_config(config: Config) -> Config:
    trust = config.oidc
    assert trust is not None and trust.companion is not None
    companion = trust.companion
    return replace(
        config,
        role_name=companion.role_name,
        policy_arns=companion.policy_arns,
        inline_policies=(),
        replaces=None,
        oidc=companion.trust,
    )


def prepare(config: Config, adopt: bool = False, teardown: bool = False) -> oidcflow.Ci:
    """One Prepared (kind tfc-pair): the apply role's, with the merged plan (what is shown and executed),
    and the plan role's own as its data's companion (its ARN, trust and proof)."""
    main = oidcflow.prepare(config, adopt, teardown)
    second = oidcflow.prepare(plan_config(config), adopt, teardown)
    roles = [c for c in (*main.plan.changes, *second.plan.changes) if c.op not in _PROVIDER_OPS]
    provider_first = [c for c in main.plan.changes if c.op in _PROVIDER_OPS and c.op is not Op.DELETE_OIDC_PROVIDER]
    said = f"OIDC provider {main.data.provider_arn} "
    left = [line for line in dict.fromkeys((*main.left, *second.left)) if not line.startswith(said)]
    provider_last: list[Change] = []
    if teardown:
        provider_last, kept = _provider_teardown(main, roles)
        left += kept
    merged = Plan(
        changes=(*provider_first, *roles, *provider_last),
        role_arn=main.data.role_arn,
        not_owned=tuple(dict.fromkeys((*main.plan.not_owned, *second.plan.not_owned))),
    )
    data = replace(main.data, proof=(*main.data.proof, *second.data.proof), companion=second)
    return replace(main, kind="tfc-pair", plan=merged, data=data, left=tuple(left))


def _provider_teardown(main: oidcflow.Ci, deleting: list[Change]) -> tuple[list[Change], list[str]]:
    """Delete the provider after both roles when the tool owns it and no other role's trust names it."""
    arn = main.data.provider_arn
    provider = aws_oidc.get_provider(main.data.target, arn)
    if provider is None:
        return [], []
    deleted = {(c.account, c.owner) for c in deleting if c.op is Op.DELETE_ROLE}
    others = [
        a for a in aws_oidc.roles_naming(main.data.target, arn) if (arns.account_of(a), arns.name_of(a)) not in deleted
    ]
    if OWNER_TAG in provider.tags and not others:
        account = main.accounts[Side.TARGET]
        return [Change(Side.TARGET, account, Op.DELETE_OIDC_PROVIDER, "oidc-provider", arn, action="delete",
                       resource=f"OIDC provider {arn}")], []  # fmt: skip
    why = [] if OWNER_TAG in provider.tags else ["trust-bootstrap did not create it"]
    why += [f"the trust of {', '.join(others)} still names it"] if others else []
    return [], [f"OIDC provider {arn} is kept: {'; '.join(why)}"]


def run_apply(
    pair: oidcflow.Ci, confirm: Confirm, token_file: Path | None, on_progress: OnProgress
) -> tuple[CiOutcome, PlanRoleProof]:
    """Write both roles (one plan, one confirmation), prove the apply role, then the plan role. A token
    file is one run's: it proves the role of its run phase; the other is proved with a minted token."""
    plan_token = token_file is not None and _phase_of(token_file) == "plan"
    plan_role = _plan_role(pair)
    outcome = oidcflow.run_apply(pair, confirm, None if plan_token else token_file, on_progress)
    if not pair.data.config.verify:
        return outcome, PlanRoleProof(plan_role.data.role_arn, None, "--no-verify")
    result, how = oidcflow.prove(plan_role, token_file if plan_token else None, on_progress)
    return outcome, PlanRoleProof(plan_role.data.role_arn, result, how)


def _plan_role(pair: oidcflow.Ci) -> oidcflow.Ci:
    assert pair.data.companion is not None, "a tfc-pair's Prepared holds the plan role's"
    return pair.data.companion


def _phase_of(token_file: Path) -> object:
    return ci_token.claims_of(ci_token.read_file(token_file), "--web-identity-token-file").get("terraform_run_phase")


def run_verify(
    pair: oidcflow.Ci, token_file: Path | None, on_progress: OnProgress
) -> tuple[CiOutcome, str, PlanRoleProof | None]:
    """Only the live proofs (writes nothing). A token file is one run's: it proves the role of its run
    phase. Without one, each role is proved with a token of its own phase (minted; else refused)."""
    plan_role = _plan_role(pair)
    if token_file is not None:
        chosen = plan_role if _phase_of(token_file) == "plan" else pair
        outcome, how = oidcflow.run_verify(chosen, token_file, on_progress)
        return outcome, how, None
    outcome, how = oidcflow.run_verify(pair, None, on_progress)
    planned, plan_how = oidcflow.run_verify(plan_role, None, on_progress)
    return outcome, how, PlanRoleProof(plan_role.data.role_arn, planned.verification, plan_how)
