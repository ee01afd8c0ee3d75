"""What must hold before the first write, and the reads behind it: the policies to attach exist
(and are not admin-equivalent without --allow-admin), the grant fits the principal's inline-policy
quota, the verify profile is the principal.

Round trips decide how long a run takes, so for ``apply`` these reads go out in the first round,
beside the reads of the live state, before anyone knows whether anything will be written: a first
onboarding then writes one round earlier, and a no-op re-run pays a few reads more in a round it
waits for anyway. The decisions are taken only once the live state is known (a policy the role
already has is not judged again), and every one of them before the first write.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bootstrap.aws import accounts as aws
from bootstrap.aws import iam as aws_iam
from bootstrap.config.model import Config
from bootstrap.core import arns, plan, policydoc
from bootstrap.core.errors import BootstrapError, InvalidInput, PreconditionFailed
from bootstrap.core.plan import Plan
from bootstrap.core.quotas import IAM
from bootstrap.core.state import Grant, Role
from bootstrap.trust import admincheck, live, verify


@dataclass(frozen=True)
class PolicyFacts:
    """What the target account says about the policies the config wants attached."""

    missing: frozenset[str]  # do not exist there (or are not attachable)
    versions: Mapping[str, str]  # the default version of each that exists, by ARN
    close: tuple[tuple[str, str], ...] = ()  # a missing ARN -> the existing one closest to it (a typo's fix)


@dataclass(frozen=True)
class GrantRoom:
    """The principal's other inline policies: their names and total size."""

    names: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class Early:
    """The reads sent in the first round; ``inline_names`` is None when the principal was not given."""

    principal: arns.Principal | None
    policies: Future[PolicyFacts]
    inline_names: Future[list[str]] | None
    verifier: Future[None] | None  # verify.check_verifier for that principal, judged only if consumed


def send_early(
    pool: ThreadPoolExecutor,
    config: Config,
    target: aws.Account,
    source: aws.Account,
    principal: arns.Principal | None,
    verify_account: aws.Account | None,
) -> Early:
    names = verifier = None
    if principal is not None:
        names = pool.submit(aws_iam.list_inline_policies, source, principal.kind, principal.name)
        if verify_account is not None and config.verify_profile:
            verifier = pool.submit(verify.check_verifier, verify_account, principal, config.verify_profile)
    return Early(principal, pool.submit(read_policy_facts, target, config), names, verifier)


def inline_names(early: Early | None, principal: arns.Principal) -> tuple[str, ...] | None:
    """The principal's inline policy names from the first round, if it listed this principal and
    the listing succeeded (a failure is met again, in its turn, by the read that needs it)."""
    if early is None or early.inline_names is None or early.principal != principal:
        return None
    try:
        return tuple(early.inline_names.result())
    except BootstrapError:  # met again by the grant read, in its turn (after the principal check)
        return None


def grant_read(
    pool: ThreadPoolExecutor, early: Early | None, source: aws.Account, principal: arns.Principal, grant_name: str
) -> Future[Grant | None]:
    """The grant as it stands: read, unless the first round's listing shows there is none."""
    listed = inline_names(early, principal)
    if listed is not None and grant_name not in listed:
        absent: Future[Grant | None] = Future()
        absent.set_result(None)
        return absent
    return pool.submit(live.read_grant, source, principal, grant_name)


def _to_attach(config: Config) -> list[str]:
    """The managed policies the config attaches, and its permissions boundary."""
    return [*config.policy_arns, *([config.permissions_boundary] if config.permissions_boundary else [])]


def read_policy_facts(target: aws.Account, config: Config) -> PolicyFacts:
    """Does each policy to attach exist, and its default version: one iam:GetPolicy each, all at once."""
    wanted = _to_attach(config)
    if not wanted:
        return PolicyFacts(frozenset(), {})
    with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
        versions = dict(zip(wanted, pool.map(lambda a: aws_iam.policy_default_version(target, a), wanted), strict=True))
    missing = frozenset(a for a, v in versions.items() if v is None)
    return PolicyFacts(missing, {a: v for a, v in versions.items() if v is not None}, _closest(target, missing))


def _closest(target: aws.Account, missing: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """For each missing ARN, the existing policy of its kind (AWS managed, or the account's own)
    whose ARN is closest, if one is close: a mistyped name's "did you mean". Read only when a
    policy is missing; a listing the profile may not read gives no suggestion, never an error."""
    close = []
    for arn in sorted(missing):
        scope = "AWS" if arns.parse_arn(arn).account == "aws" else "Local"
        try:
            known = aws_iam.policy_arns(target, scope)
        except BootstrapError:
            continue
        # Names, not whole ARNs: every ARN of a scope shares its long prefix, which would make any two look alike.
        by_name = {arns.name_of(k): k for k in known}
        found = difflib.get_close_matches(arns.name_of(arn), list(by_name), n=1, cutoff=0.8)
        if found:
            close.append((arn, by_name[found[0]]))
    return tuple(close)


def check_policies(facts: PolicyFacts, config: Config, role: Role | None, target: aws.Account) -> None:
    """Policies to attach (or the boundary) must exist in the target account: a typo found now
    costs nothing, found after CreateRole it leaves half a role. Those the role has already were
    accepted before and are not judged again. Then, without --allow-admin and when the role gets a
    policy it does not have, the managed policies' documents (the versions the first round found)
    are read and judged with the inline ones: one round more, only when something will be written."""
    attached = set(role.managed_policies) if role else set()
    if role and role.permissions_boundary:
        attached.add(role.permissions_boundary)
    missing = [arn for arn in _to_attach(config) if arn not in attached and arn in facts.missing]
    if missing:
        close = dict(facts.close)
        hints = "".join(f" Did you mean {close[arn]}?" for arn in missing if arn in close)
        raise InvalidInput(
            f"{', '.join(missing)} does not exist in the target account (or is not attachable): check the ARN; "
            f"customer managed policies are per account.{hints} Nothing was written."
        )
    new = admincheck.fresh(config, role)
    if config.allow_admin or not config.policy_arns or not new:
        return  # inline policies alone were judged when the config loaded
    versions = {a: facts.versions[a] for a in config.policy_arns if a in facts.versions}
    admincheck.refuse_admin(config, admincheck.read_versions(target, versions), new)


def grant_room(
    source: aws.Account, principal: arns.Principal, grant_name: str, names: tuple[str, ...] | None = None
) -> GrantRoom:
    listed = names if names is not None else aws_iam.list_inline_policies(source, principal.kind, principal.name)
    others = [n for n in listed if n != grant_name]
    with ThreadPoolExecutor(max_workers=min(aws.AT_ONCE, len(others) or 1)) as pool:
        documents = list(
            pool.map(lambda n: aws_iam.get_inline_policy(source, principal.kind, principal.name, n), others)
        )
    return GrantRoom(tuple(others), sum(policydoc.size(json.dumps(d)) for d in documents if d))


def check_grant_fits(the_plan: Plan, room: GrantRoom) -> None:
    """IAM caps the inline policies of a user (2,048 characters) or role (10,240) in total, and
    answers LimitExceeded only when the grant is written, perhaps after the role. Count first."""
    puts = [c for c in the_plan.changes if c.op is plan.Op.PUT_GRANT]
    if not puts:
        return
    grant = puts[0]
    others, mine = room.size, policydoc.size(grant.after or "")
    limit = IAM.inline_total_chars[grant.owner_kind]
    if others + mine > limit:
        raise PreconditionFailed(
            f"The grant would bring the inline policies of {grant.owner_kind}/{grant.owner} to {others + mine:,} "
            f"characters ({len(room.names)} other inline policies: {others:,}; the grant: {mine:,}), but IAM allows "
            f"{limit:,} in total for a {grant.owner_kind} (white space not counted) and would refuse it with "
            "LimitExceeded part-way through the run. Remove or shrink another inline policy of the principal "
            "(or move it into a managed policy), or onboard these roles as a fleet, whose grant becomes one "
            "customer managed policy when it does not fit inline. Nothing was written."
        )


def checks(
    pool: ThreadPoolExecutor,
    config: Config,
    target: aws.Account,
    source: aws.Account,
    live_role: Role | None,
    principal: arns.Principal,
    grant_name: str,
    verify_account: aws.Account | None,
    early: Early | None,
) -> list[Future[Any]]:
    """The checks, each a future the caller waits for (a GrantRoom's is judged against the plan).
    Reads the first round sent are used, not sent again."""
    if early is None:
        early = send_early(pool, config, target, source, None, verify_account)
    facts = early.policies
    jobs: list[Future[Any]] = [
        pool.submit(lambda: check_policies(facts.result(), config, live_role, target)),
        pool.submit(grant_room, source, principal, grant_name, inline_names(early, principal)),
    ]
    if verify_account is not None and config.verify_profile:
        sent = early.verifier if early.principal == principal else None
        jobs.append(sent or pool.submit(verify.check_verifier, verify_account, principal, config.verify_profile))
    return jobs
