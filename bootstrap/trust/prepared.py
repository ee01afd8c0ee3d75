"""Prepared: everything a workflow knows before its first write. One value for every kind of trust
(docs/architecture.md, "The kinds"): the fields every kind has (its name in the registry, its plan,
the accounts, what a teardown leaves alone), and the kind's own data in ``data`` (a small frozen
dataclass kept in the kind's module: KeyBasedData here, teardown.TeardownData, ci.flow.CiData,
fleet.threads.FleetData, fleet.stackset_flow.StackSetData)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from bootstrap.aws import accounts as aws
from bootstrap.aws import sessions
from bootstrap.config.model import Config
from bootstrap.core import arns
from bootstrap.core.plan import Plan, Side
from bootstrap.core.state import State

PlanT = TypeVar("PlanT")
DataT = TypeVar("DataT")


@dataclass(frozen=True)
class Prepared(Generic[PlanT, DataT]):
    """Everything known before the first write: the kind's plan, and the kind's own data."""

    kind: str  # the kind's name in the registry (cli/kinds/registry.py): "key-based", "oidc-direct", ...
    plan: PlanT
    accounts: dict[Side, str]  # the source account, and the target's when there is one target
    data: DataT
    left: tuple[str, ...] = ()  # teardown: what this run leaves alone, and why


@dataclass(frozen=True)
class KeyBasedData:
    """The key-based kind's own: config, both sides, the principal, desired and live state."""

    config: Config
    sides: sessions.Sides
    principal: arns.Principal
    source_principal: arns.Principal | None
    desired: State
    live: State
    external_id: str | None
    external_id_generated: bool
    verifier: aws.Account | None = None  # credentials acting as the principal (apply with verification)
    # AssumeRole's answer, asked beside the reads when the plan is empty: the proof's first half.
    proof: aws.Credentials | None = None


KeyBased = Prepared[Plan, KeyBasedData]


def accounts_of(sides: sessions.Sides) -> dict[Side, str]:
    return {Side.SOURCE: sides.source_identity.account, Side.TARGET: sides.target_identity.account}
