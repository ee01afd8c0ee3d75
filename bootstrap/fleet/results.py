"""Pure: what a fleet's workflows return (per-target results, the fleet's plan and run, its
diagnosis, the StackSets engine's view and outcome), as frozen values the command line renders.
Apart from results.py so that a run for one trust does not build these classes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bootstrap.core.plan import Change, Plan

if TYPE_CHECKING:  # annotations only
    from bootstrap.core.arns import Principal
    from bootstrap.core.results import Diagnosis, Verification
    from bootstrap.fleet import stacksets


# -- fleets ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetResult:
    """One fleet target's result: planned, written, verified, or the error that stopped it."""

    label: str
    account: str | None
    role_arn: str | None
    planned: tuple[Change, ...] = ()
    done: tuple[Change, ...] = ()
    verification: Verification | None = None
    error: str | None = None
    not_owned: tuple[str, ...] = ()
    exit_code: int | None = None  # the documented exit code of ``error``, when it kept the target out

    @property
    def ok(self) -> bool:
        return self.error is None and (self.verification is None or self.verification.ok)


@dataclass(frozen=True)
class TargetPlan:
    """One reached fleet target's plan."""

    label: str
    account_id: str
    plan: Plan


@dataclass(frozen=True)
class FleetPlan:
    """A fleet's plan: the source account's grant, each reached target's plan, and the targets not reached."""

    source_account: str
    grant_plan: Plan
    targets: tuple[TargetPlan, ...]
    unreached: tuple[TargetResult, ...]
    left: tuple[str, ...] = ()  # teardown: what stays, and why (grant_holder.py)

    @property
    def changes(self) -> int:
        return len(self.grant_plan.changes) + sum(len(t.plan.changes) for t in self.targets)

    @property
    def not_owned(self) -> tuple[str, ...]:
        return self.grant_plan.not_owned + tuple(n for t in self.targets for n in t.plan.not_owned)

    def as_results(self) -> tuple[TargetResult, ...]:
        """Each target as a result that only planned (fleet ``plan --output json``)."""
        planned = tuple(
            TargetResult(t.label, t.account_id, t.plan.role_arn, t.plan.changes, not_owned=t.plan.not_owned)
            for t in self.targets
        )
        return (*planned, *self.unreached)


@dataclass(frozen=True)
class FleetRun:
    """A fleet apply / verify / teardown: the plan it ran, the grant's changes made, one result per target."""

    plan: FleetPlan
    grant_done: tuple[Change, ...]
    results: tuple[TargetResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


@dataclass(frozen=True)
class TargetDiagnosis:
    """One fleet target's diagnosis, or the error that kept it from being made."""

    label: str
    account_id: str
    role_arn: str
    diagnosis: Diagnosis | None
    error: str | None


@dataclass(frozen=True)
class FleetDiagnosis:
    targets: tuple[TargetDiagnosis, ...]
    unreached: tuple[TargetResult, ...]

    @property
    def ok(self) -> bool:
        healthy = all(t.error is None and t.diagnosis is not None and t.diagnosis.ok for t in self.targets)
        return healthy and not self.unreached


# -- the StackSets engine --------------------------------------------------------------------------


@dataclass(frozen=True)
class StackSetView:
    """What a StackSets run read and planned (the CLI shows it; no sessions in it)."""

    settings: stacksets.Settings
    source_account: str
    principal: Principal
    region: str
    desired: stacksets.Desired
    live: stacksets.LiveStackSet | None
    instances: tuple[stacksets.Instance, ...]
    ou_accounts: tuple[str, ...]
    plan: stacksets.StackSetPlan
    drift: str


@dataclass(frozen=True)
class StackSetAccount:
    """One account of a StackSets run: its stack instance's last operation, and its proof."""

    account: str
    role_arn: str
    operation: str = ""  # the last StackSet operation's status for this account
    reason: str = ""  # CloudFormation's own status reason
    verified: bool | None = None  # None: not verified (not sampled, or --no-verify)
    assumed_arn: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.operation not in ("FAILED", "CANCELLED") and self.verified is not False


@dataclass
class StackSetOutcome:
    """What a StackSets run did. Filled in as its operations finish (the one value built up in place:
    an operation over thousands of accounts reports as it goes)."""

    done: list[str] = field(default_factory=list)
    operations: dict[str, tuple[str, str]] = field(default_factory=dict)  # account -> (status, reason)
    accounts: list[StackSetAccount] = field(default_factory=list)
    failed_operations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed_operations and all(a.ok for a in self.accounts)
