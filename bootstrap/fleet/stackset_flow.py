"""The StackSets engine's workflows: read everything and plan, apply (StackSet, instances, grant),
verify every account (or a sample) at bounded concurrency, and tear down (grant first).

No printing: progress goes through ``on_event(account or "stackset", what happened)``.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bootstrap.aws import accounts as aws
from bootstrap.aws import cloudformation as cfn
from bootstrap.aws import iam as aws_iam
from bootstrap.aws import iam_write as aws_iam_write
from bootstrap.aws import org as aws_org
from bootstrap.aws import sessions
from bootstrap.core import arns, assumerequest
from bootstrap.core.errors import ApplyFailed, BootstrapError, NotOwned
from bootstrap.core.plan import Side
from bootstrap.fleet import orggrant, stacksets
from bootstrap.fleet.results import StackSetAccount as AccountResult
from bootstrap.fleet.results import StackSetOutcome as Outcome
from bootstrap.fleet.results import StackSetView
from bootstrap.fleet.stacksets import Step
from bootstrap.trust import consumerproof, verify
from bootstrap.trust.prepared import Prepared

Event = Callable[[str, str], None]
OPERATION_TIMEOUT_S = 3600.0  # StackSet operations over thousands of accounts take long


@dataclass(frozen=True)
class StackSetData:
    """The StackSets engine's own (the Prepared holds the StackSet's plan and the source account)."""

    settings: stacksets.Settings
    source: aws.Account
    principal: arns.Principal
    source_principal: arns.Principal | None
    management: aws.Account
    region: str
    desired: stacksets.Desired
    live: stacksets.LiveStackSet | None
    instances: tuple[stacksets.Instance, ...]
    ou_accounts: tuple[str, ...]
    live_grant: dict[str, Any] | None
    drift: str = "not checked"


StackSetPrepared = Prepared[stacksets.StackSetPlan, StackSetData]


def view(prepared: StackSetPrepared) -> StackSetView:
    """What was read and planned, as a value to render (no sessions in it)."""
    d = prepared.data
    return StackSetView(d.settings, prepared.accounts[Side.SOURCE], d.principal, d.region, d.desired, d.live,
                        d.instances, d.ou_accounts, prepared.plan, d.drift)  # fmt: skip


def role_arn(prepared: StackSetPrepared, account: str) -> str:
    d = prepared.data.desired
    return arns.role_arn(prepared.data.principal.partition, account, d.role_path, d.role_name)


def prepare(settings: stacksets.Settings, *, teardown: bool = False, detect_drift: bool = False) -> StackSetPrepared:
    base = settings.base
    source, source_identity = sessions.open_profile(base.source_profile, "source")
    principal, own = sessions.resolve_principal(base.principal, source_identity, source)
    if not teardown:
        sessions.check_principal(source, source_identity.account, principal)
    management, _ = sessions.open_profile(settings.management_profile, "management")
    region = settings.region or management.region
    scope = cfn.org_scope(management, settings.ou_id)
    want = stacksets.build(settings, principal, scope)
    with ThreadPoolExecutor(max_workers=4) as pool:
        accounts = pool.submit(aws_org.accounts_in_ou, management, settings.ou_id)
        grant = pool.submit(aws_iam.get_inline_policy, source, principal.kind, principal.name, want.grant_name)
        legacy = pool.submit(aws_iam.get_inline_policy, source, principal.kind, principal.name, want.legacy_grant_name)
        live = cfn.describe_stack_set(management, settings.name, settings.call_as)
        unit_accounts = accounts.result()
        ou_accounts = tuple(a for a in unit_accounts if a != source_identity.account)
        live_grant, legacy_grant = grant.result(), legacy.result()
    instances = cfn.list_instances(management, settings.name, settings.call_as) if live is not None else ()
    # Other units' deployments of the same role: their paths stay in the grant while they have instances.
    staying = {i.account for i in instances} - (set(unit_accounts) if teardown else set())
    kept = _deployed(management, stacksets.other_patterns(want, live_grant, legacy_grant), staying)
    if teardown:
        plan = stacksets.plan_teardown(want, live, instances, live_grant, unit_accounts=unit_accounts,
                                       legacy_grant=legacy_grant, kept=kept)  # fmt: skip
    else:
        plan = stacksets.plan_apply(want, live, instances, ou_accounts, region, live_grant, legacy_grant, kept)
    drift = "not checked"
    if detect_drift:
        drift = _detect_drift(management, settings, live)
        if live is not None:
            instances = cfn.list_instances(management, settings.name, settings.call_as)
    data = StackSetData(settings, source, principal, own, management, region, want, live, instances, ou_accounts,
                        live_grant, drift)  # fmt: skip
    return Prepared("fleet-stacksets", plan, {Side.SOURCE: source_identity.account}, data)


def _deployed(management: aws.Account, patterns: tuple[str, ...], staying: set[str]) -> tuple[str, ...]:
    """The patterns whose unit holds an account with a stack instance that stays (units read together)."""
    if not patterns or not staying:
        return ()
    with ThreadPoolExecutor(max_workers=min(8, len(patterns))) as pool:
        members = list(pool.map(lambda p: aws_org.accounts_in_ou(management, orggrant.unit_of(p)), patterns))
    return tuple(p for p, accounts in zip(patterns, members, strict=True) if staying & set(accounts))


def _detect_drift(management: aws.Account, settings: stacksets.Settings, live: stacksets.LiveStackSet | None) -> str:
    if live is None or not live.owned:
        return "not checked"
    operation_id = cfn.detect_drift(management, settings.name, settings.call_as)
    if operation_id is None:
        return "unknown (the endpoint offers no StackSet drift detection)"
    done = cfn.wait(management, settings.name, operation_id, settings.call_as, timeout_s=OPERATION_TIMEOUT_S,
                    on_poll=lambda _: None)  # fmt: skip
    return "checked" if done.status == "SUCCEEDED" else f"unknown (detection {done.status})"


def _record(outcome: Outcome, operation: cfn.Operation, on_event: Event) -> None:
    """Each account's result as it changes (CloudFormation's own reason for a failure), then the
    operation's counts: succeeded / failed / in progress."""
    for account, _region, status, reason in operation.results:
        if outcome.operations.get(account) != (status, reason):
            outcome.operations[account] = (status, reason)
            on_event(account, status.lower() + (f": {reason}" if reason and status == "FAILED" else ""))
    statuses = [status for _, _, status, _ in operation.results]
    succeeded, failed = statuses.count("SUCCEEDED"), statuses.count("FAILED") + statuses.count("CANCELLED")
    on_event("stackset", f"operation {operation.operation_id} {operation.status.lower()}: {succeeded} succeeded, "
                         f"{failed} failed, {len(statuses) - succeeded - failed} in progress")  # fmt: skip


def _operation(
    prepared: StackSetPrepared, outcome: Outcome, start: Callable[[], str], what: str, on_event: Event
) -> None:
    s = prepared.data.settings
    operation_id = cfn.run_when_free(start)
    on_event("stackset", f"{what}: operation {operation_id} started")
    done = cfn.wait(prepared.data.management, s.name, operation_id, s.call_as, timeout_s=OPERATION_TIMEOUT_S,
                    on_poll=lambda op: _record(outcome, op, on_event))  # fmt: skip
    outcome.done.append(what)
    if done.status != "SUCCEEDED":
        outcome.failed_operations.append(f"{what}: {done.status}" + (f" ({done.reason})" if done.reason else ""))


def apply(prepared: StackSetPrepared, on_event: Event) -> Outcome:
    """The StackSet, its instances, then the grant; each StackSet operation waited on."""
    if prepared.plan.not_owned:
        raise NotOwned(f"{prepared.plan.not_owned[0]}: not overwritten. Nothing was written.")
    outcome = Outcome()
    try:
        _apply(prepared, outcome, on_event)
    except BootstrapError as err:
        if not outcome.done:
            raise
        raise ApplyFailed(
            f"{err.message} Done before it: {'; '.join(outcome.done)}. Re-run the same command to finish (it "
            "converges: the plan is made from what is there)."
        ) from err
    return outcome


def _apply(prepared: StackSetPrepared, outcome: Outcome, on_event: Event) -> None:
    s, d, m = prepared.data.settings, prepared.data.desired, prepared.data.management
    description = f"Role {d.role_path}{d.role_name} trusted by {d.principal.arn} (trust-bootstrap)."
    for action in prepared.plan.actions:
        if action.step is Step.CREATE_STACK_SET:
            cfn.create_stack_set(m, name=s.name, template=d.template, parameters=d.parameters, tags=d.tags,
                                 description=description, call_as=s.call_as)  # fmt: skip
            outcome.done.append(action.what)
            on_event("stackset", "created")
        elif action.step is Step.UPDATE_STACK_SET:
            _operation(prepared, outcome, lambda: cfn.update_stack_set(
                m, name=s.name, template=d.template, parameters=d.parameters, tags=d.tags, call_as=s.call_as),
                action.what, on_event)  # fmt: skip
        elif action.step in (Step.CREATE_INSTANCES, Step.UPDATE_INSTANCES):
            write = cfn.create_instances if action.step is Step.CREATE_INSTANCES else cfn.update_instances
            _operation(prepared, outcome, functools.partial(write, m, s.name, action.ous, prepared.data.region, s.call_as),
                       action.what, on_event)  # fmt: skip
        elif action.step in (Step.PUT_GRANT, Step.DELETE_GRANT):
            _grant(prepared, action, outcome, on_event)


def _grant(prepared: StackSetPrepared, action: stacksets.Action, outcome: Outcome, on_event: Event) -> None:
    p = prepared.data.principal
    if action.step is Step.PUT_GRANT:
        aws_iam_write.put_inline_policy(prepared.data.source, p.kind, p.name, action.policy, action.document)
        on_event("grant", f"{action.policy} written")
    else:
        aws_iam_write.delete_inline_policy(prepared.data.source, p.kind, p.name, action.policy)
        on_event("grant", f"{action.policy} deleted")
    outcome.done.append(action.what)


def verify_accounts(
    prepared: StackSetPrepared, outcome: Outcome, *, parallel: int, sample: int | None, on_event: Event
) -> None:
    """AssumeRole as the principal into each account's role (all, or a random sample), at most
    ``parallel`` at once; every account of the OU gets a result row."""
    base = prepared.data.settings.base
    verify_account = None
    if base.verify_profile:
        verify_account = aws.open_account(base.verify_profile, "verify")
        verify.check_verifier(verify_account, prepared.data.principal, base.verify_profile)
    verifier = verify.choose_verifier(prepared.data.source, prepared.data.source_principal, prepared.data.principal, verify_account,
                                      base.session_name)  # fmt: skip
    accounts = list(prepared.data.ou_accounts)
    chosen = set(random.sample(accounts, sample)) if sample is not None and sample < len(accounts) else set(accounts)

    def work(account: str) -> AccountResult:
        status, reason = outcome.operations.get(account, ("", ""))
        arn = role_arn(prepared, account)
        if account not in chosen:
            return AccountResult(account, arn, status, reason)
        if not status and account in prepared.plan.missing:  # verify alone, before any apply: nothing there
            return AccountResult(account, arn, status, reason, False, None, "no stack instance in this account")
        if status in ("FAILED", "CANCELLED"):  # no role there: waiting on IAM propagation would only cost time
            why = f"the stack instance {status.lower()}" + (f": {reason}" if reason else "")
            return AccountResult(account, arn, status, reason, False, None, why)
        request = assumerequest.for_trust(base, arn, base.external_id)
        check = verify.verify(verifier, request, target_account=account, timeout_s=base.verify_timeout)
        # --for: each consumer's own call too (its tags, session name, duration); a refusal names what is missing
        check = consumerproof.for_target(verifier, request, base, account, check, wrote=bool(outcome.done))
        on_event(account, "verified" if check.ok else f"not verified: {check.error}")
        return AccountResult(account, arn, status, reason, check.ok, check.assumed_arn, check.error)

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        outcome.accounts = list(pool.map(work, accounts))


def unverified(prepared: StackSetPrepared, outcome: Outcome) -> None:
    for account in prepared.data.ou_accounts:
        status, reason = outcome.operations.get(account, ("", ""))
        outcome.accounts.append(AccountResult(account, role_arn(prepared, account), status, reason))


def teardown(prepared: StackSetPrepared, on_event: Event) -> Outcome:
    """Grant first (nobody of this unit can assume from that moment; other units' paths stay), then
    this unit's instances (waited on), then the StackSet, deleted only once no instance is left."""
    s, m, outcome = prepared.data.settings, prepared.data.management, Outcome()
    for action in prepared.plan.actions:
        if action.step in (Step.PUT_GRANT, Step.DELETE_GRANT):
            _grant(prepared, action, outcome, on_event)
        elif action.step is Step.DELETE_INSTANCES:
            regions = tuple(sorted({i.region for i in prepared.data.instances if i.account in action.accounts}))
            _operation(prepared, outcome, functools.partial(cfn.delete_instances, m, s.name, action.ous, regions,
                       s.call_as), action.what, on_event)  # fmt: skip
            if outcome.failed_operations:
                return outcome  # the StackSet stays: deleting it needs its instances gone
        elif action.step is Step.DELETE_STACK_SET:
            remaining = cfn.list_instances(m, s.name, s.call_as)
            if remaining:  # another unit's deployment appeared since the plan: the StackSet is theirs too
                outcome.failed_operations.append(
                    f"the StackSet {s.name} was kept: it has {len(remaining)} stack instance(s) in "
                    f"{', '.join(sorted({i.account for i in remaining}))}"
                )
                return outcome
            cfn.delete_stack_set(m, s.name, s.call_as)
            outcome.done.append(action.what)
            on_event("stackset", "deleted")
    return outcome
