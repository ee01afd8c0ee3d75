"""teardown's workflow: find what this trust left in each account (the principal too, when not
given), plan its removal from "nothing desired", and remove it grant first. No printing here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bootstrap.aws import accounts as aws
from bootstrap.aws import iam as aws_iam
from bootstrap.aws import sessions
from bootstrap.config.model import Config
from bootstrap.core import arns, plan, policydoc
from bootstrap.core.errors import InvalidInput, NotConfirmed, NotOwned, PreconditionFailed
from bootstrap.core.plan import Plan, Side
from bootstrap.core.results import Confirm, Done, OnProgress
from bootstrap.core.state import GRANT_SID, Grant, Role, State
from bootstrap.trust import apply, desired, live
from bootstrap.trust.prepared import Prepared


@dataclass(frozen=True)
class TeardownData:
    """The key-based teardown's own: the sides it reads (one may be absent: --only). What it leaves
    (a side it does not touch, a grant it did not find) is the Prepared's ``left``."""

    source: aws.Account | None
    target: aws.Account | None


Teardown = Prepared[Plan, TeardownData]


# Deletes never wait for propagation; this only bounds retries that should not occur.
TEARDOWN_DEADLINE_S = 60.0
_GRANT_NAME = re.compile(r"trust-bootstrap-(\d{12})-(.+)")


def _target_account_from_grants(source: aws.Account, principal: arns.Principal, role_name: str) -> str:
    """With --only source and no target profile: the target account from our grant's name."""
    accounts = sorted(
        m.group(1)
        for name in aws_iam.list_inline_policies(source, principal.kind, principal.name)
        if (m := _GRANT_NAME.fullmatch(name)) and m.group(2) == role_name
    )
    if len(accounts) == 1:
        return accounts[0]
    if not accounts:
        raise PreconditionFailed(
            f"{principal.arn} holds no trust-bootstrap grant for a role named {role_name}: nothing to remove in the "
            "source account. Pass --target-account if the grant has another name."
        )
    raise InvalidInput(
        f"{principal.arn} holds grants for roles named {role_name} in several accounts ({', '.join(accounts)}): "
        "pass --target-account to say which."
    )


def trusted_principals(role: Role, source_account: str) -> list[arns.Principal]:
    """The users and roles of the source account that the role's trust policy names: the tool
    wrote it with exactly one (an account's root, with --trust-account, names none)."""
    return [p for p in policydoc.aws_principals(role.trust_policy) if p.account == source_account]


def _grant_holders(source: aws.Account, role_name: str, target_account: str | None) -> list[tuple[str, str]]:
    """(holder ARN, grant name) of every user or role in the source account holding this role's grant."""

    def ours(name: str) -> bool:
        m = _GRANT_NAME.fullmatch(name)
        return m is not None and m.group(2) == role_name and target_account in (None, m.group(1))

    return aws_iam.inline_policy_holders(source, ours)


def _find_grant(
    source: aws.Account, role: Role | None, source_account: str, role_name: str, target_account: str | None
) -> Grant | None:
    """No --principal: the principal from the role's trust policy, else whoever holds a grant with
    this role's name. Several holders: refuse rather than guess."""
    if role is not None and target_account is not None:
        name = desired.grant_policy_name(target_account, role_name)
        for candidate in trusted_principals(role, source_account):
            grant = live.read_grant(source, candidate, name)
            if grant is not None:
                return grant
    holders = _grant_holders(source, role_name, target_account)
    if not holders:
        return None
    if len(holders) > 1:
        listed = ", ".join(f"{name} on {arn}" for arn, name in holders)
        raise InvalidInput(
            f"Several identities hold a trust-bootstrap grant for a role named {role_name} ({listed}): pass "
            "--principal (and --target-account with --only source) to say which. Nothing was removed."
        )
    arn, name = holders[0]
    return live.read_grant(source, arns.parse_principal(arn), name)


def prepare_teardown(config: Config, only: Side | None = None, target_account: str | None = None) -> Teardown:
    """Plan the removal: the desired state is "nothing", planned against what is live. Read-only."""
    source = target = None
    principal: arns.Principal | None = None
    if only is None:
        sides = sessions.connect(config.source_profile, config.target_profile)
        source, target = sides.source, sides.target
        source_account, target_account = sides.source_identity.account, sides.target_identity.account
    elif only is Side.SOURCE:
        source, source_identity = sessions.open_profile(config.source_profile, "source")
        source_account = source_identity.account
    else:
        target, target_identity = sessions.open_profile(config.target_profile, "target")
        target_account, source_account = target_identity.account, "(not read)"
    if source is not None and config.principal is not None:
        principal = arns.parse_principal(config.principal)
        if target_account is None:
            target_account = _target_account_from_grants(source, principal, config.role_name)
    role = live.read_role(target, config.role_name) if target is not None else None
    grant = None
    if source is not None and principal is not None:
        assert target_account is not None
        grant = live.read_grant(source, principal, desired.grant_policy_name(target_account, config.role_name))
    elif source is not None:
        grant = _find_grant(source, role, source_account, config.role_name, target_account)
        if grant is not None and target_account is None:
            found = _GRANT_NAME.fullmatch(grant.policy_name)
            assert found is not None
            target_account = found.group(1)
    foreign = None
    if grant is not None and not _is_this_trusts(grant, role, target_account, config.role_name):
        foreign, grant = grant, None  # a grant's name is not enough: never delete another trust's grant
    left = _left(config, only, source_account, target_account, grant if foreign is None else foreign, principal)
    if foreign is not None:
        p = foreign.principal
        left.append(
            f"source account {source_account}: the inline policy {foreign.policy_name} on {p.kind}/{p.name} is "
            f"not this trust's grant (no statement {GRANT_SID} allowing sts:AssumeRole on exactly the role "
            f"{config.role_name} in {target_account or '(unknown)'})"
        )
    target_account = target_account or "(unknown)"
    live_state = State(target_account, source_account, role, grant)
    nothing_here = State(target_account, source_account, None, None)
    return Prepared(
        kind="key-based",
        plan=plan.diff(nothing_here, live_state),
        accounts={Side.SOURCE: source_account, Side.TARGET: target_account},
        data=TeardownData(source=source, target=target),
        left=tuple(left),
    )


def _is_this_trusts(grant: Grant, role: Role | None, target_account: str | None, role_name: str) -> bool:
    """Whether the grant's content is this trust's: its statement (the tool's id) allows
    sts:AssumeRole on exactly this role's ARN (when the role was not read, --only source: a role of
    this name in the target account, any path), and on nothing else."""
    for statement in json.loads(grant.document).get("Statement", []):
        if not isinstance(statement, dict) or statement.get("Sid") != GRANT_SID or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action")
        resources = statement.get("Resource")
        actions = [actions] if isinstance(actions, str) else actions or []
        resources = [resources] if isinstance(resources, str) else resources or []
        if [str(a).lower() for a in actions] != ["sts:assumerole"] or len(resources) != 1:
            continue
        arn = str(resources[0])
        if role is not None and arn == role.arn:
            return True
        exact = not any(c in arn for c in "*?") and f":iam::{target_account}:role/" in arn
        if role is None and exact and arns.name_of(arn) == role_name:
            return True
    return False


def _left(
    config: Config,
    only: Side | None,
    source_account: str,
    target_account: str | None,
    grant: Grant | None,
    principal: arns.Principal | None,
) -> list[str]:
    grant_name = desired.grant_policy_name(target_account or "<B>", config.role_name)
    if only is Side.TARGET:
        who = config.principal or "the principal"
        return [
            f"source account: the grant {grant_name} on {who} was not checked (--only target); remove it with "
            "'trust-bootstrap teardown --only source' and the same options"
        ]
    left = []
    if grant is None:
        where = principal.arn if principal is not None else "any user or role"
        left.append(f"source account {source_account}: no inline policy {grant_name} was found on {where}")
    if only is Side.SOURCE:
        left.append(
            f"target account {target_account or '(unknown)'}: the role {config.role_name} was not checked "
            "(--only source); remove it with 'trust-bootstrap teardown --only target' and the same options"
        )
    return left


def run_teardown(prepared: Teardown, confirm: Confirm, on_progress: OnProgress) -> tuple[plan.Change, ...]:
    """Remove what the plan lists: the source-side grant first, so nobody can assume the role from
    that moment, then the role's policies and the role."""
    the_plan = prepared.plan
    if the_plan.not_owned:
        raise NotOwned(
            f"{'; '.join(the_plan.not_owned)}: trust-bootstrap removes only what it created, so it removes "
            "nothing. Delete it by hand (aws iam delete-role after detaching its policies), or take it over "
            "first with 'trust-bootstrap apply --adopt' and the same options. Nothing was removed."
        )
    if the_plan.empty or not confirm(the_plan):
        if the_plan.empty:
            return ()
        raise NotConfirmed("Not confirmed: nothing was removed.")
    # One side may be absent (--only): it has no changes in the plan, so it is never used.
    source = prepared.data.source or prepared.data.target
    target = prepared.data.target or prepared.data.source
    assert source is not None and target is not None
    return apply.execute(
        the_plan,
        target=target,
        source=source,
        deadline_s=TEARDOWN_DEADLINE_S,
        source_first=True,
        on_done=lambda c: on_progress(Done(c)),
    )
