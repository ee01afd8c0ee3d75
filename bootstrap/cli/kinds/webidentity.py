"""The CI (web identity) kinds: a role a CI job assumes with its OIDC token, directly or through a
hub role in the source account (ci/flow.py, ci/job.py; shown by cli/runs.oidc)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bootstrap.cli import runs
from bootstrap.cli.kinds.base import Run, export_one

if TYPE_CHECKING:
    from bootstrap.cli.options import Only


@dataclass(frozen=True)
class WebIdentity:
    name: str
    hub: bool  # through a hub role in the source account (hub_role), or directly
    export = staticmethod(export_one)

    def takes(self, run: Run) -> bool:
        trust = run.config.oidc if run.config is not None else None
        return trust is not None and trust.companion is None and (trust.hub_role is not None) == self.hub

    def plan(self, run: Run, *, adopt: bool, detailed_exitcode: bool, detect_drift: bool) -> int:
        return runs.oidc("plan", run.trust, {**run.opts, "detailed_exitcode": detailed_exitcode}, adopt=adopt)

    def apply(self, run: Run, *, yes: bool, adopt: bool) -> int:
        return runs.oidc("apply", run.trust, run.opts, yes=yes, adopt=adopt)

    def verify(self, run: Run, *, target_account: str | None, source_account: str | None) -> int:
        inside_the_job = {"target_account": target_account, "source_account": source_account}
        return runs.oidc("verify", run.trust, {**run.opts, **inside_the_job})

    def teardown(self, run: Run, *, yes: bool, only: Only | None, target_account: str | None) -> int:
        return runs.oidc("teardown", run.trust, run.opts, yes=yes)


DIRECT = WebIdentity("oidc-direct", hub=False)
HUB = WebIdentity("oidc-hub", hub=True)
