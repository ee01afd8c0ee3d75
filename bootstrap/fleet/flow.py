"""The fleet commands' workflows (which engine a command line asks for: fleet_request.py): plan / apply / verify /
teardown / diagnose over every target (fleet.py: the local engine, a thread per target;
stackset_flow.py: a service-managed StackSet). No printing: progress goes to ``on_progress``, and
each function returns a value from results.py (or the StackSet engine's own) for the CLI to show."""

from __future__ import annotations

from bootstrap.config.fleet_request import FleetRequest, is_fleet, uses_stacksets
from bootstrap.core.errors import NotConfirmed
from bootstrap.core.results import Confirm, OnProgress, TargetEvent, TargetsEnded, TargetsStarted
from bootstrap.fleet import stackset_flow, stacksets
from bootstrap.fleet import threads as fleet
from bootstrap.fleet.results import FleetDiagnosis, FleetRun, StackSetOutcome

__all__ = ["FleetRequest", "is_fleet", "uses_stacksets"]  # the request, with the workflows that take it


def _targets(on_progress: OnProgress, total: int) -> fleet.Event:
    on_progress(TargetsStarted(total))
    return lambda label, what: on_progress(TargetEvent(label, what))


# -- the local engine --------------------------------------------------------------------------------


def prepare(request: FleetRequest, *, teardown: bool, adopt: bool, on_progress: OnProgress) -> fleet.FleetThreads:
    """Read the source account and every target, and plan. Read-only."""
    the_fleet = fleet.load(
        request.config_file,
        request.engine_flags("management_profile", "access_role"),
        targets_from_org=request.targets_from_org,
        management_profile=request.management_profile,
    )
    on_event = _targets(on_progress, len(the_fleet.targets))
    try:
        return fleet.prepare(the_fleet, parallel=request.parallel, teardown=teardown, adopt=adopt, on_event=on_event)
    finally:
        on_progress(TargetsEnded())


def run(
    prepared: fleet.FleetThreads, *, mode: str, parallel: int, confirm: Confirm, on_progress: OnProgress
) -> FleetRun:
    """apply / teardown (after ``confirm``, when the plan has changes) or verify (writes nothing)."""
    writing = mode != "verify"
    if writing and prepared.plan.changes and not confirm(prepared.plan.grant_plan):
        raise NotConfirmed("Not confirmed: nothing was written.")
    on_event = _targets(on_progress, len(prepared.data.fleet.targets))
    try:
        grant_done, results = fleet.run(
            prepared,
            parallel=parallel,
            verify_trust=prepared.data.fleet.base.verify or not writing,
            teardown=mode == "teardown",
            write=writing,
            on_event=on_event,
        )
    finally:
        on_progress(TargetsEnded())
    return FleetRun(prepared.plan, grant_done, results)


def diagnose(request: FleetRequest, on_progress: OnProgress) -> FleetDiagnosis:
    """The diagnose checks for every target's role."""
    prepared = prepare(request, teardown=False, adopt=False, on_progress=on_progress)
    return FleetDiagnosis(fleet.diagnose_targets(prepared, request.parallel), prepared.plan.unreached)


# -- the StackSets engine ---------------------------------------------------------------------------


def prepare_stacksets(request: FleetRequest, *, teardown: bool, detect_drift: bool) -> stackset_flow.StackSetPrepared:
    """Read the StackSet, its instances, the organization unit and the grant, and plan. Read-only."""
    keys = ("targets_from_org", "management_profile", "call_as", "stackset_region", "verify_sample")
    settings = stacksets.load(request.config_file, request.engine_flags(*keys))
    return stackset_flow.prepare(settings, teardown=teardown, detect_drift=detect_drift)


def run_stacksets(
    prepared: stackset_flow.StackSetPrepared,
    *,
    mode: str,
    parallel: int,
    confirm: Confirm,
    on_event: stackset_flow.Event,
) -> StackSetOutcome:
    """apply / teardown (after ``confirm``, when the plan has actions), then verify the accounts
    (all, or a sample) unless verification is off; verify alone writes nothing."""
    teardown = mode == "teardown"
    settings = prepared.data.settings
    outcome = StackSetOutcome()
    if mode != "verify" and prepared.plan.actions and not confirm(None):
        raise NotConfirmed("Not confirmed: nothing was written.")
    if teardown:
        outcome = stackset_flow.teardown(prepared, on_event)
    elif mode == "apply":
        outcome = stackset_flow.apply(prepared, on_event)
    if not teardown and (mode == "verify" or settings.base.verify):
        stackset_flow.verify_accounts(
            prepared, outcome, parallel=parallel, sample=settings.verify_sample, on_event=on_event
        )
    elif not teardown:
        stackset_flow.unverified(prepared, outcome)
    return outcome
