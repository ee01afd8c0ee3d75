"""The fleet kinds: one trust over many targets, with the threads engine (a thread per target:
fleet/threads.py) or the StackSets engine (a service-managed StackSet: fleet/stackset_flow.py);
shown by cli/runs.fleet and cli/runs.stacksets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bootstrap.cli import runs
from bootstrap.cli.kinds.base import Run, no_export

if TYPE_CHECKING:
    from bootstrap.cli.options import Only


def _stacksets(run: Run) -> bool:
    from bootstrap.config.fleet_request import uses_stacksets

    return uses_stacksets(run.targets)


@dataclass(frozen=True)
class Threads:
    name: str = "fleet-threads"
    export = staticmethod(no_export)

    def takes(self, run: Run) -> bool:
        return run.fleet is not None and not _stacksets(run)

    def plan(self, run: Run, *, adopt: bool, detailed_exitcode: bool, detect_drift: bool) -> int:
        return runs.fleet(run.targets, run.output, mode="plan", adopt=adopt, detailed_exitcode=detailed_exitcode)

    def apply(self, run: Run, *, yes: bool, adopt: bool) -> int:
        return runs.fleet(run.targets, run.output, mode="apply", yes=yes, adopt=adopt)

    def verify(self, run: Run, *, target_account: str | None, source_account: str | None) -> int:
        return runs.fleet(run.targets, run.output, mode="verify")

    def teardown(self, run: Run, *, yes: bool, only: Only | None, target_account: str | None) -> int:
        return runs.fleet(run.targets, run.output, mode="teardown", yes=yes)


@dataclass(frozen=True)
class StackSets:
    name: str = "fleet-stacksets"
    export = staticmethod(no_export)

    def takes(self, run: Run) -> bool:
        return run.fleet is not None and _stacksets(run)

    def plan(self, run: Run, *, adopt: bool, detailed_exitcode: bool, detect_drift: bool) -> int:
        drift = {"detailed_exitcode": detailed_exitcode, "detect_drift": detect_drift}
        return runs.stacksets(run.targets, run.output, mode="plan", yes=False, **drift)

    def apply(self, run: Run, *, yes: bool, adopt: bool) -> int:
        return runs.stacksets(
            run.targets, run.output, mode="apply", yes=yes, detailed_exitcode=False, detect_drift=False
        )

    def verify(self, run: Run, *, target_account: str | None, source_account: str | None) -> int:
        return runs.stacksets(
            run.targets, run.output, mode="verify", yes=False, detailed_exitcode=False, detect_drift=False
        )

    def teardown(self, run: Run, *, yes: bool, only: Only | None, target_account: str | None) -> int:
        return runs.stacksets(
            run.targets, run.output, mode="teardown", yes=yes, detailed_exitcode=False, detect_drift=False
        )


THREADS = Threads()
STACKSETS = StackSets()
