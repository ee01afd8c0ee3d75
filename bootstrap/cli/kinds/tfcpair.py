"""The HCP Terraform kind: a plan role and an apply role for one workspace, as one trust
(ci/tfcpair.py; shown by cli/tfcruns.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bootstrap.cli import tfcruns
from bootstrap.cli.kinds.base import Run, export_one

if TYPE_CHECKING:
    from bootstrap.cli.options import Only


@dataclass(frozen=True)
class TfcPair:
    name: str = "tfc-pair"
    export = staticmethod(export_one)

    def takes(self, run: Run) -> bool:
        return run.config is not None and run.config.oidc is not None and run.config.oidc.companion is not None

    def plan(self, run: Run, *, adopt: bool, detailed_exitcode: bool, detect_drift: bool) -> int:
        return tfcruns.pair("plan", run.trust, {**run.opts, "detailed_exitcode": detailed_exitcode}, adopt=adopt)

    def apply(self, run: Run, *, yes: bool, adopt: bool) -> int:
        return tfcruns.pair("apply", run.trust, run.opts, yes=yes, adopt=adopt)

    def verify(self, run: Run, *, target_account: str | None, source_account: str | None) -> int:
        inside_the_run = {"target_account": target_account, "source_account": source_account}
        return tfcruns.pair("verify", run.trust, {**run.opts, **inside_the_run})

    def teardown(self, run: Run, *, yes: bool, only: Only | None, target_account: str | None) -> int:
        return tfcruns.pair("teardown", run.trust, run.opts, yes=yes)
