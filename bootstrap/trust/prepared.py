"""Prepared: everything a workflow knows before its first write (config, both sides, the principal,
desired and live state, the plan). One value, shared by the workflow steps (commands, proof,
teardown) so none of them has to import another for it."""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.aws import accounts as aws
from bootstrap.aws import sessions
from bootstrap.config.model import Config
from bootstrap.core import arns
from bootstrap.core.plan import Plan, Side
from bootstrap.core.state import State


@dataclass(frozen=True)
class Prepared:
    """Everything known before the first write."""

    config: Config
    sides: sessions.Sides
    principal: arns.Principal
    source_principal: arns.Principal | None
    desired: State
    live: State
    plan: Plan
    external_id: str | None
    external_id_generated: bool
    verifier: aws.Account | None = None  # credentials acting as the principal (apply with verification)
    # AssumeRole's answer, asked beside the reads when the plan is empty: the proof's first half.
    proof: aws.Credentials | None = None

    @property
    def accounts(self) -> dict[Side, str]:
        return {
            Side.SOURCE: self.sides.source_identity.account,
            Side.TARGET: self.sides.target_identity.account,
        }
