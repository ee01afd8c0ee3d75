"""Pure: what the workflows return and report as they go (results and progress events), as frozen
values the command line renders. No AWS client and no command-line framework here, so the renderers can
be typed with these values instead of ``Any``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bootstrap.core.plan import Change, Plan, Side

if TYPE_CHECKING:  # annotations only: a run that shows none of these does not load their modules
    from bootstrap.core.consumers import ConsumerVerdict
    from bootstrap.core.facts import Facts
    from bootstrap.core.findings import Finding
    from bootstrap.core.oidc import OidcTrust


@dataclass(frozen=True)
class Verification:
    """One live proof: did the principal get into the role (``assumed_arn``), after how long."""

    ok: bool
    assumed_arn: str | None
    attempts: int
    waited_s: float
    error: str | None = None
    consumers: tuple[ConsumerVerdict, ...] = ()  # --for: each consumer's own call, replayed after the bare proof


@dataclass(frozen=True)
class Outcome:
    """What an apply (or a verify) did, for the summary. Verification is None when skipped (--no-verify)."""

    role_arn: str
    principal_arn: str
    external_id: str | None
    external_id_generated: bool
    session_name: str
    changes: tuple[Change, ...]
    verification: Verification | None
    accounts: dict[Side, str]
    notes: tuple[str, ...] = ()  # what the run deliberately left, and how to finish
    requires_mfa: bool = False  # the trust requires MFA: Terraform's assume_role alone cannot use it
    mfa_serial: str | None = None


@dataclass(frozen=True)
class CiOutcome:
    """What an apply of a CI (web identity) trust did."""

    role_arn: str
    hub_role_arn: str | None
    provider_arn: str
    trust: OidcTrust
    changes: tuple[Change, ...]
    verification: Verification | None
    not_verified: str  # why there was no live proof (no token source), else ""
    proof: tuple[str, ...]
    accounts: dict[Side, str]


@dataclass(frozen=True)
class Removal:
    """What a teardown removed, and what it left and why."""

    plan: Plan
    done: tuple[Change, ...]
    accounts: dict[Side, str]
    left: tuple[str, ...]


@dataclass(frozen=True)
class Diagnosis:
    """The facts read about one AssumeRole and what the checks found in them."""

    facts: Facts
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """No check failed and no cause was inferred (an inference is a cause too: exit 9)."""
        from bootstrap.core.findings import healthy  # noqa: PLC0415 (diagnosis only)

        return healthy(self.findings)

    @property
    def principal_arn(self) -> str:
        return self.facts.caller.principal_arn if self.facts.caller else ""


@dataclass(frozen=True)
class Findings:
    """A diagnosis as the command line shows it: which AssumeRole, by whom, what the checks found."""

    role_arn: str
    principal: str  # the principal's ARN, or "web identity: ..." for a CI run
    findings: tuple[Finding, ...]
    ok: bool


# -- progress: what a workflow reports while it runs (the command line shows it) -------------------


@dataclass(frozen=True)
class Done:
    """One write made."""

    change: Change


@dataclass(frozen=True)
class Waiting:
    """A wait began (IAM propagation): attempts follow, then ``Waited``."""

    what: str


@dataclass(frozen=True)
class Attempt:
    """The wait's attempt ``number`` failed; another follows."""

    number: int


@dataclass(frozen=True)
class Waited:
    """The wait ended (either way)."""


@dataclass(frozen=True)
class Diagnosed:
    """A failed verification walked the diagnose checks: here is what they found."""

    role_arn: str
    principal_arn: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class PlanRoleProof:
    """HCP Terraform's plan role, proved beside the apply role (ci/tfcpair.py)."""

    role_arn: str
    verification: Verification | None
    how: str  # the token it was proved with, or why there was no live proof


@dataclass(frozen=True)
class TargetsStarted:
    """A fleet's targets are being worked on (planned, or applied and verified): ``total`` of them."""

    total: int


@dataclass(frozen=True)
class TargetEvent:
    """Something happened to one fleet target ("planned: 1 change(s)", "verified", "failed: ...")."""

    label: str
    what: str


@dataclass(frozen=True)
class TargetsEnded:
    """Every target of that round is finished."""


# Asked before the first write, with the plan (None: the StackSets engine's plan is its own); False
# means nothing is written.
Confirm = Callable[[Plan | None], bool]

ProgressEvent = Done | Waiting | Attempt | Waited | Diagnosed | TargetsStarted | TargetEvent | TargetsEnded
OnProgress = Callable[[ProgressEvent], None]


def no_progress(_: ProgressEvent) -> None:
    """The default for a caller that shows nothing."""
