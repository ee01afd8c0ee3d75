"""Pure: HCP Terraform's plan role beside the apply role's outcome -> text for people or JSON."""

from __future__ import annotations

import json
from typing import Any

from bootstrap.core.results import PlanRoleProof
from bootstrap.exports.render.text import verification_json, verification_line


def plan_role_text(proof: PlanRoleProof) -> str:
    line = (
        verification_line(proof.verification)
        if proof.verification is not None
        else f"Verified:    not live: {proof.how}"
    )
    return "\n".join([f"Plan role:   {proof.role_arn} (plan runs: TFC_AWS_PLAN_ROLE_ARN)", f"  {line}"])


def with_plan_role(document: str, proof: PlanRoleProof | None) -> str:
    """The apply role's JSON outcome with the plan role's proof added under ``plan_role``."""
    data: dict[str, Any] = json.loads(document)
    if proof is not None:
        data["plan_role"] = {"role_arn": proof.role_arn, "verification": verification_json(proof.verification),
                             "not_verified": None if proof.verification is not None else proof.how}  # fmt: skip
    return json.dumps(data, indent=2)
