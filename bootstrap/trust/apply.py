"""Plan -> AWS writes. Each change is one idempotent call; the two sides run in parallel, and a
role's attachments, inline policies and tags go out together once the role exists.

On a failure the error lists what was done and what was not; re-running the same command
converges, because the next plan is computed from the live state again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bootstrap.aws import accounts as aws
from bootstrap.aws import iam as aws_iam
from bootstrap.aws import iam_write as aws_iam_write
from bootstrap.aws import oidc as aws_oidc
from bootstrap.core.errors import ApplyFailed, AwsError, BootstrapError, Interrupted, NotOwned, PreconditionFailed
from bootstrap.core.plan import Change, Op, Plan, Side
from bootstrap.core.state import is_ours

OnDone = Callable[[Change], None]


def _create_role(c: Change, account: aws.Account, deadline_s: float) -> None:
    assert c.role is not None
    r = c.role
    aws_iam_write.create_role(
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


def _update_role(c: Change, account: aws.Account, _: float) -> None:
    assert c.role is not None
    aws_iam_write.update_role(account, c.owner, c.role.description, c.role.max_session_duration)


def _delete_provider(c: Change, account: aws.Account) -> None:
    """The plan deletes a provider only when no role but those it removes names it; the roles it
    removes are gone by now (they come first), so any role naming it here appeared since the plan
    was made: the provider is kept, and the error says so."""
    naming = aws_oidc.roles_naming(account, c.owner)
    if naming:
        raise PreconditionFailed(
            f"The OIDC provider {c.owner} was not deleted: the trust of {', '.join(naming)} names it now."
        )
    aws_oidc.delete_provider(account, c.owner)


Writer = Callable[[Change, aws.Account, float], None]
# One AWS write per kind of change; each is idempotent, so a re-run after a failure converges.
WRITERS: dict[Op, Writer] = {
    Op.CREATE_ROLE: _create_role,
    Op.UPDATE_TRUST: lambda c, a, deadline: aws_iam_write.update_trust_policy(a, c.owner, c.after or "", deadline),
    Op.UPDATE_ROLE: _update_role,
    Op.SET_BOUNDARY: lambda c, a, _: aws_iam_write.put_permissions_boundary(a, c.owner, c.after),
    Op.TAG_ROLE: lambda c, a, _: aws_iam_write.tag_role(a, c.owner, c.tags),
    Op.UNTAG_ROLE: lambda c, a, _: aws_iam_write.untag_role(a, c.owner, tuple(k for k, _ in c.tags)),
    Op.ATTACH_POLICY: lambda c, a, _: aws_iam_write.attach_role_policy(a, c.owner, c.key),
    Op.DETACH_POLICY: lambda c, a, _: aws_iam_write.detach_role_policy(a, c.owner, c.key),
    Op.PUT_ROLE_POLICY: lambda c, a, _: aws_iam_write.put_inline_policy(a, c.owner_kind, c.owner, c.key, c.after or ""),
    Op.PUT_GRANT: lambda c, a, _: aws_iam_write.put_inline_policy(a, c.owner_kind, c.owner, c.key, c.after or ""),
    Op.DELETE_ROLE_POLICY: lambda c, a, _: aws_iam_write.delete_inline_policy(a, c.owner_kind, c.owner, c.key),
    Op.DELETE_GRANT: lambda c, a, _: aws_iam_write.delete_inline_policy(a, c.owner_kind, c.owner, c.key),
    Op.DELETE_ROLE: lambda c, a, _: aws_iam_write.delete_role(a, c.owner),
    Op.PUT_MANAGED_GRANT: lambda c, a, _: aws_iam_write.put_managed_policy(
        a, c.key, c.after or "", c.owner_kind, c.owner
    ),
    Op.DELETE_MANAGED_GRANT: lambda c, a, _: aws_iam_write.delete_managed_policy(a, c.key, c.owner_kind, c.owner),
    # CI trusts: key is the provider URL, owner its ARN, after the audience (client ID)
    Op.CREATE_OIDC_PROVIDER: lambda c, a, _: aws_oidc.create_provider(a, c.key, c.after or "", c.tags),
    Op.ADD_OIDC_CLIENT_ID: lambda c, a, _: aws_oidc.add_client_id(a, c.owner, c.after or ""),
    Op.DELETE_OIDC_PROVIDER: lambda c, a, _: _delete_provider(c, a),
}


def _write(change: Change, account: aws.Account, deadline_s: float) -> None:
    WRITERS[change.op](change, account, deadline_s)


# Writes to one role that depend on nothing but the role existing: sent together, one round trip
# instead of one each (the role's trust, boundary, deletions and the role itself stay in order).
_TOGETHER = frozenset({Op.ATTACH_POLICY, Op.PUT_ROLE_POLICY, Op.TAG_ROLE, Op.UPDATE_ROLE})


def _batches(changes: tuple[Change, ...]) -> list[tuple[Change, ...]]:
    """The side's changes in order, with each run of consecutive _TOGETHER changes as one batch."""
    batches: list[tuple[Change, ...]] = []
    for change in changes:
        if batches and change.op in _TOGETHER and all(c.op in _TOGETHER for c in batches[-1]):
            batches[-1] = (*batches[-1], change)
        else:
            batches.append((change,))
    return batches


def _write_one(change: Change, account: aws.Account, deadline_s: float) -> None:
    try:
        _write(change, account, deadline_s)
    except AwsError as err:
        if not (
            change.op is Op.CREATE_ROLE and err.code == "EntityAlreadyExists" and _created_by_a_twin(change, account)
        ):
            raise


def _run_side(
    changes: tuple[Change, ...],
    account: aws.Account,
    deadline_s: float,
    done: list[Change],
    on_done: OnDone | None,
    stop: threading.Event,
) -> None:
    for batch in _batches(changes):
        if stop.is_set():
            return
        if len(batch) == 1:
            _write_one(batch[0], account, deadline_s)
            done.append(batch[0])
            if on_done is not None:
                on_done(batch[0])
            continue
        # Every write of a batch finishes (or fails) before the first error is raised, and what
        # was written is recorded in the plan's order, so ``done`` says exactly what was written.
        with ThreadPoolExecutor(max_workers=min(8, len(batch))) as pool:
            futures = [pool.submit(_write_one, c, account, deadline_s) for c in batch]
            errors = [f.exception() for f in futures]
        for change, error in zip(batch, errors, strict=True):
            if error is None:
                done.append(change)
                if on_done is not None:
                    on_done(change)
        for error in errors:
            if error is not None:
                raise error


def _created_by_a_twin(change: Change, account: aws.Account) -> bool:
    """CreateRole lost a race: another run of trust-bootstrap created the role a moment ago. That is
    the expected outcome of two concurrent applies, not an error, if the role is ours; the steps
    after it are idempotent. A role someone else made is still refused."""
    role = aws_iam.get_role(account, change.owner) or {}
    tags = {(t["Key"], t["Value"]) for t in role.get("Tags", [])}
    if not is_ours(tags, role.get("AssumeRolePolicyDocument")):
        raise NotOwned(
            f"Role {change.owner} appeared while this run was creating it, and trust-bootstrap does not own it. "
            "Nothing else was written on that side; re-run to see the plan."
        )
    return True


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
    the source side before any of the target side. Returns the changes made, in order.

    On Ctrl-C the write in flight finishes, nothing after it starts, and Interrupted says what was
    done."""
    done: list[Change] = []
    accounts = {Side.SOURCE: source, Side.TARGET: target}
    errors: list[BootstrapError] = []
    stop = threading.Event()

    def side(s: Side) -> None:
        try:
            _run_side(plan.side(s), accounts[s], deadline_s, done, on_done, stop)
        except BootstrapError as err:
            errors.append(err)

    try:
        if source_first:
            side(Side.SOURCE)
            if not errors:
                side(Side.TARGET)
        else:
            with ThreadPoolExecutor(max_workers=2) as pool:
                futures = [pool.submit(side, s) for s in (Side.TARGET, Side.SOURCE)]
                try:
                    for future in futures:
                        future.result()
                except KeyboardInterrupt:
                    stop.set()
                    raise
    except KeyboardInterrupt:
        stop.set()
        raise _interrupted(plan, done) from None
    if errors:
        raise _partial_failure(plan, done, errors)
    return tuple(done)


def _progress(plan: Plan, done: list[Change]) -> str:
    not_done = [c for c in plan.changes if c not in done]
    lines = ["Done: " + "; ".join(c.said for c in done) + "." if done else "Nothing was changed."]
    if not_done:
        lines.append("Not done: " + "; ".join(c.said for c in not_done) + ".")
    return " ".join(lines)


def _done_lines(done: list[Change]) -> tuple[str, ...]:
    return tuple(c.said for c in done)


def _interrupted(plan: Plan, done: list[Change]) -> Interrupted:
    return Interrupted(
        f"Interrupted while writing. {_progress(plan, done)} Re-run the same command to finish: it converges.",
        done=_done_lines(done),
    )


def _partial_failure(plan: Plan, done: list[Change], errors: list[BootstrapError]) -> ApplyFailed:
    message = " ".join(e.message for e in errors)
    err = ApplyFailed(
        f"{message} {_progress(plan, done)} Fix the cause and re-run the same command: it reads both accounts "
        "again and finishes the job.",
        done=_done_lines(done),
    )
    err.__cause__ = errors[0]
    return err
