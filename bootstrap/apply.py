"""Plan -> AWS writes. Each change is one idempotent call; the two sides run in parallel.

On a failure the error lists what was done and what was not; re-running the same command
converges, because the next plan is computed from the live state again.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bootstrap import aws
from bootstrap.errors import ApplyFailed, BootstrapError
from bootstrap.plan import Change, Op, Plan, Side

OnDone = Callable[[Change], None]


def _write(change: Change, account: aws.Account, deadline_s: float) -> None:
    c = change
    match c.op:
        case Op.CREATE_ROLE:
            assert c.role is not None
            r = c.role
            aws.create_role(
                account,
                name=r.name,
                path=r.path,
                trust_policy=r.trust_policy,
                description=r.description,
                max_session_duration=r.max_session_duration,
                permissions_boundary=r.permissions_boundary,
                tags=r.tags,
                deadline_s=deadline_s,
            )
        case Op.UPDATE_TRUST:
            aws.update_trust_policy(account, c.owner, c.after or "", deadline_s)
        case Op.UPDATE_ROLE:
            assert c.role is not None
            aws.update_role(account, c.owner, c.role.description, c.role.max_session_duration)
        case Op.SET_BOUNDARY:
            aws.put_permissions_boundary(account, c.owner, c.after)
        case Op.TAG_ROLE:
            aws.tag_role(account, c.owner, c.tags)
        case Op.UNTAG_ROLE:
            aws.untag_role(account, c.owner, tuple(k for k, _ in c.tags))
        case Op.ATTACH_POLICY:
            aws.attach_role_policy(account, c.owner, c.key)
        case Op.DETACH_POLICY:
            aws.detach_role_policy(account, c.owner, c.key)
        case Op.PUT_ROLE_POLICY | Op.PUT_GRANT:
            aws.put_inline_policy(account, c.owner_kind, c.owner, c.key, c.after or "")
        case Op.DELETE_ROLE_POLICY | Op.DELETE_GRANT:
            aws.delete_inline_policy(account, c.owner_kind, c.owner, c.key)
        case Op.DELETE_ROLE:
            aws.delete_role(account, c.owner)


def _run_side(
    changes: tuple[Change, ...],
    account: aws.Account,
    deadline_s: float,
    done: list[Change],
    on_done: OnDone | None,
) -> None:
    for change in changes:
        _write(change, account, deadline_s)
        done.append(change)
        if on_done is not None:
            on_done(change)


def execute(
    plan: Plan,
    *,
    target: aws.Account,
    source: aws.Account,
    deadline_s: float,
    source_first: bool = False,
    on_done: OnDone | None = None,
) -> tuple[Change, ...]:
    """Make the plan's writes. Concurrently per side, or, with ``source_first`` (teardown), all of
    the source side before any of the target side. Returns the changes made, in order."""
    done: list[Change] = []
    accounts = {Side.SOURCE: source, Side.TARGET: target}
    errors: list[BootstrapError] = []

    def side(s: Side) -> None:
        try:
            _run_side(plan.side(s), accounts[s], deadline_s, done, on_done)
        except BootstrapError as err:
            errors.append(err)

    if source_first:
        side(Side.SOURCE)
        if not errors:
            side(Side.TARGET)
    else:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(side, (Side.TARGET, Side.SOURCE)))
    if errors:
        raise _partial_failure(plan, done, errors)
    return tuple(done)


def _partial_failure(plan: Plan, done: list[Change], errors: list[BootstrapError]) -> ApplyFailed:
    not_done = [c for c in plan.changes if c not in done]
    lines = [" ".join(e.message for e in errors)]
    if done:
        lines.append("Done: " + "; ".join(f"{c.action} {c.resource}" for c in done) + ".")
    else:
        lines.append("Nothing was changed.")
    lines.append("Not done: " + "; ".join(f"{c.action} {c.resource}" for c in not_done) + ".")
    lines.append("Fix the cause and re-run the same command: it reads both accounts again and finishes the job.")
    err = ApplyFailed(" ".join(lines))
    err.__cause__ = errors[0]
    return err
