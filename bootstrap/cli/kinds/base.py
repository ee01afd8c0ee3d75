"""The interface every kind of trust offers the command line (TrustKind), and what a command hands
it (Run): the options, and the one trust (a Config) or the fleet (a FleetRequest) they name.

Each kind is an entry of registry.KINDS: a thin adapter around its own workflow (trust/, ci/,
fleet/), which prepares (reads both sides, builds the plan), shows the plan, confirms, acts, proves
and returns the exit code. Preparing is each workflow's own first step, so it is not a method here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bootstrap.core.errors import InvalidInput

if TYPE_CHECKING:
    from bootstrap.ci.export_flow import Exported, ExportRequest
    from bootstrap.cli.options import Only, Output
    from bootstrap.config.fleet_request import FleetRequest
    from bootstrap.config.model import Config


@dataclass(frozen=True)
class Run:
    """One command's request: its options, and the trust or the fleet they name (exactly one)."""

    opts: dict[str, Any]
    config: Config | None = None
    fleet: FleetRequest | None = None

    @property
    def output(self) -> Output:
        output: Output = self.opts["output"]
        return output

    @property
    def trust(self) -> Config:
        """The one trust (every kind but the fleets)."""
        assert self.config is not None, "a fleet has no single trust"
        return self.config

    @property
    def targets(self) -> FleetRequest:
        """The fleet (the fleet kinds)."""
        assert self.fleet is not None, "one trust is not a fleet"
        return self.fleet


class TrustKind(Protocol):
    """What every kind of trust offers. Each command returns its exit code (``export`` its text)."""

    @property
    def name(self) -> str:
        """The kind's name in the registry (docs/architecture.md lists them)."""
        ...

    def takes(self, run: Run) -> bool:
        """Whether this kind serves that request: exactly one kind does (registry.pick)."""
        ...

    def plan(self, run: Run, *, adopt: bool, detailed_exitcode: bool, detect_drift: bool) -> int: ...

    def apply(self, run: Run, *, yes: bool, adopt: bool) -> int: ...

    def verify(self, run: Run, *, target_account: str | None, source_account: str | None) -> int: ...

    def teardown(self, run: Run, *, yes: bool, only: Only | None, target_account: str | None) -> int: ...

    def export(self, run: Run, request: ExportRequest) -> Exported: ...


def export_one(run: Run, request: ExportRequest) -> Exported:
    """export's workflow, the same for every kind of one trust (it reads the kind from the Config)."""
    from bootstrap.ci import export_flow

    return export_flow.export(run.trust, request)


def no_export(run: Run, request: ExportRequest) -> Exported:
    """A fleet has no single trust to hand over (export takes no fleet options)."""
    raise InvalidInput("export hands over one trust: run it with that trust's config, not a fleet's.")
