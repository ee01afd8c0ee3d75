"""Fleets: one principal in the source account, trusted by a role in each of many target accounts.

Each target is planned, applied and verified on its own, with bounded concurrency; one target's
failure never stops the others. The source side is one grant for the whole fleet, with every
role ARN in one statement: an inline policy while it fits IAM's limit for the principal, a
customer managed policy beyond that. A partial run never narrows the grant.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bootstrap.aws import accounts as aws
from bootstrap.aws import iam as aws_iam
from bootstrap.aws import org as aws_org
from bootstrap.aws import sessions
from bootstrap.aws import sts as aws_sts
from bootstrap.config import fleet as fleetconfig
from bootstrap.config.fleet import Fleet, Target
from bootstrap.core import arns, assumerequest, plan, policydoc
from bootstrap.core.assumerequest import AssumeRequest
from bootstrap.core.errors import BootstrapError, InvalidInput, NotOwned
from bootstrap.core.plan import Change, Op, Plan, Side
from bootstrap.core.quotas import IAM
from bootstrap.core.results import Diagnosis
from bootstrap.core.state import Role, State
from bootstrap.diagnose import gather as diagnose
from bootstrap.fleet import grant_holder, waiting
from bootstrap.fleet.grant_holder import LiveGrant
from bootstrap.fleet.results import FleetPlan, TargetDiagnosis, TargetPlan, TargetResult
from bootstrap.trust import admincheck, apply, consumerpolicy, consumerproof, desired, live, verify
from bootstrap.trust.prepared import Prepared

GRANT_POLICY_PATH = "/trust-bootstrap/"

Event = Callable[[str, str], None]  # (target label, what happened)


@dataclass(frozen=True)
class Reached:
    target: Target
    account: aws.Account
    account_id: str
    plan: Plan
    role: Role | None = None  # the live role, as read


@dataclass(frozen=True)
class FleetData:
    """The threads engine's own (the Prepared holds the fleet's plan, the source account and what
    teardown leaves): the sessions, the principal and each reached target, with its plan."""

    fleet: Fleet
    source: aws.Account
    principal: arns.Principal
    source_principal: arns.Principal | None
    reached: tuple[Reached, ...]
    live_grant: str | None = None  # the grant's document as read (inline, else the attached managed policy)


FleetThreads = Prepared[FleetPlan, FleetData]


def _reach(target: Target, management: aws.Account | None, partition: str) -> tuple[aws.Account, str]:
    if target.account_id is None:
        account, identity = sessions.open_profile(target.config.target_profile, "target")
        return account, identity.account
    assert management is not None and target.access_role is not None
    role = arns.role_arn(partition, target.account_id, "/", target.access_role)
    action = f"cannot reach account {target.account_id} through {role}"
    creds = aws_sts.assume_role_to_act(management, AssumeRequest(role, "trust-bootstrap"), action)
    return management.with_credentials(creds, label=f"target account {target.account_id}"), target.account_id


def _plan_target(
    target: Target,
    management: aws.Account | None,
    source_account: str,
    principal: arns.Principal,
    partition: str,
    teardown: bool,
    adopt: bool,
) -> Reached:
    account, account_id = _reach(target, management, partition)
    if account_id == source_account:
        raise BootstrapError(f"the target is the source account {source_account} itself")
    context = desired.Context(source_account, account_id, partition, principal, target.config.external_id)
    want = desired.build(target.config, context)
    # The inline policies the config names are read with GetRole: one round per target, not two.
    role = live.read_role(account, target.config.role_name, tuple(p.name for p in target.config.inline_policies))
    if not teardown:
        admincheck.refuse_admin_managed(account, target.config, role, account_id)
    want_state = State(account_id, source_account, None if teardown else want.role, None)
    live_state = State(account_id, source_account, role, None)
    the_plan = plan.diff(want_state, live_state, adopt=adopt)
    return Reached(target, account, account_id, the_plan, role)


def _map_bounded(
    items: Sequence[Any], work: Callable[[Any], Any], parallel: int
) -> list[tuple[Any, Any, BootstrapError | None]]:
    """(item, result, error) for each item, at most ``parallel`` at once; errors are kept, not raised."""
    results: list[tuple[Any, Any, BootstrapError | None]] = []
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = {pool.submit(work, item): item for item in items}
        for future in as_completed(futures):
            item = futures[future]
            try:
                results.append((item, future.result(), None))
            except BootstrapError as err:
                results.append((item, None, err))
    order = {id(item): i for i, item in enumerate(items)}
    return sorted(results, key=lambda r: order[id(r[0])])


# -- the fleet's grant ------------------------------------------------------------------------------


def _grant_resources(document: str | None) -> set[str]:
    if not document:
        return set()
    resources: set[str] = set()
    for statement in policydoc.statements(document):
        if statement.get("Effect") == "Allow":
            resources.update(statement.get("Resource", []))
    # Only exact role ARNs are kept for unreached targets: a widened grant's "*" is never carried over.
    return {r for r in resources if ":role/" in r and "*" not in r and "?" not in r}


def _other_inline_size(source: aws.Account, principal: arns.Principal, ours: str) -> int:
    names = [n for n in aws_iam.list_inline_policies(source, principal.kind, principal.name) if n != ours]
    docs = [aws_iam.get_inline_policy(source, principal.kind, principal.name, n) for n in names]
    return sum(len(json.dumps(d, separators=(",", ":"))) for d in docs if d)


def read_grant(fleet_config: Fleet, source: aws.Account, source_account: str, principal: arns.Principal) -> LiveGrant:
    name = fleet_config.grant_name
    managed_arn = f"arn:{principal.partition}:iam::{source_account}:policy{GRANT_POLICY_PATH}{name}"
    with ThreadPoolExecutor(max_workers=4) as pool:
        inline = pool.submit(aws_iam.get_inline_policy, source, principal.kind, principal.name, name)
        managed = pool.submit(aws_iam.managed_policy, source, managed_arn)
        attached = pool.submit(aws_iam.attached_policy_arns, source, principal.kind, principal.name)
        others = pool.submit(_other_inline_size, source, principal, name)
        return LiveGrant(
            inline.result(), managed.result(), managed_arn in attached.result(), others.result(), managed_arn
        )


def _grant_plan(
    prepared_fleet: Fleet,
    grant: LiveGrant,
    source_account: str,
    principal: arns.Principal,
    role_arns: set[str],
    complete: bool,
) -> Plan:
    """The fleet grant: inline while it fits the principal's inline budget, else managed."""
    name = prepared_fleet.grant_name
    managed_arn = grant.managed_arn
    live_inline, live_managed, attached = grant.inline, grant.managed, grant.attached
    inline_text = json.dumps(live_inline, separators=(",", ":")) if live_inline else None
    managed_text = json.dumps(live_managed, separators=(",", ":")) if live_managed else None
    # The grant's name is trust-bootstrap's: other content under it is drift, narrowed here.
    if not complete:  # some targets were not reached: keep what they have
        role_arns = role_arns | _grant_resources(inline_text) | _grant_resources(managed_text)
    keys = consumerpolicy.tag_keys(prepared_fleet.base.consumers)  # --for github-actions: sts:TagSession too
    document = desired.grant_policy(sorted(role_arns), keys) if role_arns else None
    budget = IAM.inline_total_chars[principal.kind] - grant.other_inline_size
    as_inline = document is not None and len(document) <= budget
    if document is not None and not as_inline and len(document) > IAM.managed_policy_chars:
        raise InvalidInput(
            f"The fleet's grant lists {len(role_arns)} roles: {len(document)} characters, over IAM's limit of "
            f"{IAM.managed_policy_chars} for a managed policy. Split the fleet (fleet_name) into smaller ones."
        )

    def change(op: Op, resource: str, key: str, before: str | None, after: str | None, action: str = "") -> Change:
        return Change(
            Side.SOURCE, source_account, op, principal.kind, principal.name, key=key, after=after,
            action=action or plan.ACTIONS.get(op, "update"), resource=resource,
            details=plan.grant_details(before, after),
        )  # fmt: skip

    inline_resource = f"{principal.kind}/{principal.name} inline policy {name}"
    managed_resource = f"managed policy {managed_arn} on {principal.kind}/{principal.name}"
    changes: list[Change] = []
    if as_inline and (inline_text is None or not policydoc.equivalent(inline_text, document or "")):
        changes.append(change(Op.PUT_GRANT, inline_resource, name, inline_text, document,
                              "create" if inline_text is None else "update"))  # fmt: skip
    if document is not None and not as_inline:
        if managed_text is None or not attached or not policydoc.equivalent(managed_text, document):
            changes.append(change(Op.PUT_MANAGED_GRANT, managed_resource, managed_arn, managed_text, document,
                                  "create" if managed_text is None else "update"))  # fmt: skip
        if inline_text is not None:
            changes.append(change(Op.DELETE_GRANT, inline_resource, name, inline_text, None))
    if managed_text is not None and (as_inline or document is None):
        changes.append(change(Op.DELETE_MANAGED_GRANT, managed_resource, managed_arn, managed_text, None))
    if document is None and inline_text is not None:
        changes.append(change(Op.DELETE_GRANT, inline_resource, name, inline_text, None))
    return Plan(tuple(changes), "")


# -- prepare, apply, teardown --------------------------------------------------------------------


def load(
    config_file: Path | None, flags: Mapping[str, Any], *, targets_from_org: str | None, management_profile: str | None
) -> Fleet:
    """The fleet a command names: the config file's targets and/or every account of an organization
    unit (and those below it), read through the management profile."""
    org_accounts: tuple[str, ...] = ()
    targets_from_org, management_profile = fleetconfig.org_scope(config_file, targets_from_org, management_profile)
    if targets_from_org:
        if not management_profile:
            raise InvalidInput("--targets-from-org needs --management-profile (the organization's management account).")
        management, _ = sessions.open_profile(management_profile, "management")
        org_accounts = tuple(aws_org.accounts_in_ou(management, targets_from_org))
    return fleetconfig.load_fleet(config_file, flags, org_accounts)


def prepare(
    fleet: Fleet, *, parallel: int, teardown: bool = False, adopt: bool = False, on_event: Event
) -> FleetThreads:
    base = fleet.base
    with ThreadPoolExecutor(max_workers=2) as opening:  # who the source and the management profiles are, together
        source_job = opening.submit(sessions.open_profile, base.source_profile, "source")
        management_job = (
            opening.submit(sessions.open_profile, fleet.management_profile, "management")
            if fleet.management_profile
            else None
        )
        source, source_identity = source_job.result()
        management = management_job.result()[0] if management_job else None
    principal, source_principal = sessions.resolve_principal(base.principal, source_identity, source)
    if not teardown:
        sessions.check_principal(source, source_identity.account, principal)
    partition = arns.parse_arn(source_identity.arn).partition

    def work(target: Target) -> Reached:
        reached = _plan_target(target, management, source_identity.account, principal, partition, teardown, adopt)
        on_event(target.label, f"planned: {len(reached.plan.changes)} change(s)")
        return reached

    with ThreadPoolExecutor(max_workers=1) as side:
        live_grant = side.submit(read_grant, fleet, source, source_identity.account, principal)
        outcomes = _map_bounded(fleet.targets, work, parallel)
        grant_facts = live_grant.result()
    reached = tuple(result for _, result, error in outcomes if error is None)
    unreached = tuple(
        TargetResult(target.label, target.account_id, None, error=error.message, exit_code=int(error.exit_code))
        for target, _, error in outcomes
        if error
    )
    for result in unreached:
        on_event(result.label, f"failed: {result.error}")
    left: tuple[str, ...] = ()
    if teardown and base.principal is None:  # the grant's holder is found, not assumed (grant_holder.py)
        found = grant_holder.find(fleet.grant_name, grant_facts.managed_arn, source, source_identity.account,
                                  (principal, grant_facts), reached, lambda p: read_grant(fleet, source, source_identity.account, p))  # fmt: skip
        principal, grant_facts, left = found
    arns_wanted = set() if teardown else {r.plan.role_arn for r in reached if not r.plan.not_owned}
    grant = _grant_plan(fleet, grant_facts, source_identity.account, principal, arns_wanted, complete=not unreached)
    live = grant_facts.inline or (grant_facts.managed if grant_facts.attached else None)
    data = FleetData(fleet, source, principal, source_principal, reached, json.dumps(live) if live else None)
    targets = tuple(TargetPlan(r.target.label, r.account_id, r.plan) for r in reached)
    the_plan = FleetPlan(source_identity.account, grant, targets, unreached, left)
    return Prepared("fleet-threads", the_plan, {Side.SOURCE: source_identity.account}, data, left=left)


def run(
    prepared: FleetThreads,
    *,
    parallel: int,
    verify_trust: bool,
    teardown: bool = False,
    write: bool = True,
    on_event: Event,
) -> tuple[tuple[Change, ...], tuple[TargetResult, ...]]:
    """Write the grant and each target's changes, then verify each target (``write=False``: only
    verify). Returns the grant's changes made and one result per target."""
    base = prepared.data.fleet.base
    if prepared.plan.grant_plan.not_owned:
        raise NotOwned(f"{prepared.plan.grant_plan.not_owned[0]}: not overwritten. Nothing was written.")
    verifier = None
    if verify_trust and not teardown:
        verify_account = None
        if base.verify_profile:
            verify_account = aws.open_account(base.verify_profile, "verify")
            verify.check_verifier(verify_account, prepared.data.principal, base.verify_profile)
        verifier = verify.choose_verifier(
            prepared.data.source,
            prepared.data.source_principal,
            prepared.data.principal,
            verify_account,
            base.session_name,
        )

    def grant() -> tuple[Change, ...]:
        return (
            ()
            if not write
            else apply.execute(
                prepared.plan.grant_plan, target=prepared.data.source, source=prepared.data.source, deadline_s=60.0
            )
        )

    # The grant goes first either way: on apply it must exist before anyone verifies; on teardown,
    # removing it first means nobody can assume from that moment.
    grant_done = grant()
    grant_now = waiting.grant_after(prepared.data.live_grant, grant_done)
    grant_where = f"the fleet's grant {prepared.data.fleet.grant_name} on {prepared.data.principal.arn}"

    def work(reached: Reached) -> TargetResult:
        created = reached.role.created if reached.role is not None else None
        judge = waiting.TargetJudge(reached.plan.role_arn, grant_now, grant_where, bool(grant_done), created)
        return _run_target(reached, verifier, base.verify_timeout, base.session_name, on_event, write, judge)

    outcomes = _map_bounded(prepared.data.reached, work, parallel)
    results = []
    for reached, outcome, error in outcomes:
        if error is not None:
            on_event(reached.target.label, f"failed: {error.message}")
            outcome = TargetResult(reached.target.label, reached.account_id, reached.plan.role_arn,  # noqa: PLW2901
                                   reached.plan.changes, error=error.message, exit_code=int(error.exit_code))  # fmt: skip
        results.append(outcome)
    return grant_done, (*results, *prepared.plan.unreached)


def _run_target(  # the run's settings, and this target's judge of a denial (waiting.py)
    reached: Reached, verifier: aws.Account | None, timeout: float, session_name: str, on_event: Event, write: bool,
    judge: waiting.TargetJudge,
) -> TargetResult:  # fmt: skip
    label, target_plan = reached.target.label, reached.plan
    result = TargetResult(label, reached.account_id, target_plan.role_arn, target_plan.changes,
                          not_owned=target_plan.not_owned)  # fmt: skip
    if target_plan.not_owned:
        on_event(label, "left alone: not managed by trust-bootstrap")
        return replace(result, error=f"{target_plan.not_owned[0]} (see --adopt)")
    done = (
        apply.execute(target_plan, target=reached.account, source=reached.account, deadline_s=timeout) if write else ()
    )
    result = replace(result, done=done)
    judge.wrote = judge.wrote or bool(done)
    if verifier is None:
        on_event(label, f"done: {len(done)} change(s)")
        return result
    on_event(label, "waiting on IAM propagation")
    config = reached.target.config
    request = replace(
        assumerequest.for_trust(config, target_plan.role_arn, config.external_id), session_name=session_name
    )
    check = verify.verify(
        verifier, request, target_account=reached.account_id, timeout_s=timeout, keep_waiting=judge.keep_waiting
    )
    if not check.ok and judge.stopped:
        check = replace(check, error=f"{check.error} ({judge.stopped})")
    check = consumerproof.for_target(verifier, request, config, reached.account_id, check, bool(done))  # --for
    on_event(label, "verified" if check.ok else f"failed: {check.error}")
    return replace(result, verification=check)


def diagnose_targets(prepared: FleetThreads, parallel: int) -> tuple[TargetDiagnosis, ...]:
    """The diagnose checks for every reached target, as the principal would call: each target's
    diagnosis, or the error that kept it from being made."""
    base = prepared.data.fleet.base
    caller = aws.open_account(base.verify_profile, "verify") if base.verify_profile else prepared.data.source
    # The organization's management account reads the SCPs and RCPs (the scp and rcp checks).
    management = None
    if prepared.data.fleet.management_profile:
        management, _ = sessions.open_profile(prepared.data.fleet.management_profile, "management")

    def work(reached: Reached) -> Diagnosis:
        config = reached.target.config
        return diagnose.for_trust(
            assumerequest.for_trust(config, reached.plan.role_arn, config.external_id), caller,
            target=reached.account, reader=prepared.data.source, principal=prepared.data.principal.arn, management=management,
        )  # fmt: skip

    return tuple(
        TargetDiagnosis(r.target.label, r.account_id, r.plan.role_arn, d, e.message if e else None)
        for r, d, e in _map_bounded(prepared.data.reached, work, parallel)
    )
