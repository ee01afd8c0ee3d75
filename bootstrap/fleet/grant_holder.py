"""Fleet teardown without --principal: who holds the fleet's grant in the source account.

The grant is trust-bootstrap's own by its name (trust-bootstrap-fleet-NAME: an inline policy, or a
customer managed policy under /trust-bootstrap/). Its holder is looked for first among the
principals that the trust policies of the fleet's own roles name (the tool wrote them with the
fleet's one principal), then among every user and role of the source account holding a policy of
that name. One holder: its grant is removed. Several: none is, and the run says which flag removes
it. The source profile's own identity is never assumed to be the holder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bootstrap.aws import accounts as aws
from bootstrap.aws import iam as aws_iam
from bootstrap.core import arns
from bootstrap.core.plan import Plan
from bootstrap.core.state import Role
from bootstrap.trust.teardown import trusted_principals


@dataclass(frozen=True)
class LiveGrant:
    """What the source account holds of the fleet's grant, read while the targets are planned."""

    inline: dict[str, Any] | None
    managed: dict[str, Any] | None
    attached: bool
    other_inline_size: int
    managed_arn: str


class _Reached(Protocol):
    @property
    def plan(self) -> Plan: ...

    @property
    def role(self) -> Role | None: ...


def _holds(grant: LiveGrant) -> bool:
    return grant.inline is not None or grant.attached


def find(
    grant_name: str,
    managed_arn: str,
    source: aws.Account,
    source_account: str,
    default: tuple[arns.Principal, LiveGrant],
    reached: Sequence[_Reached],
    read: Callable[[arns.Principal], LiveGrant],
) -> tuple[arns.Principal, LiveGrant, tuple[str, ...]]:
    """(the principal whose grant to remove, its grant as read, what is left alone and why)."""
    named: dict[str, arns.Principal] = {}
    for target in reached:
        if target.role is not None and not target.plan.not_owned:
            named.update((p.arn, p) for p in trusted_principals(target.role, source_account))
    holders = [(p, g) for p, g in ((p, default[1] if p.arn == default[0].arn else read(p)) for p in named.values())
               if _holds(g)]  # fmt: skip
    if not holders:  # the roles are gone or name no one: whoever holds a policy of the grant's own name
        found = {arn for arn, _ in aws_iam.inline_policy_holders(source, lambda name: name == grant_name)}
        found |= set(aws_iam.managed_policy_holders(source, managed_arn))
        holders = [(p, read(p)) for p in (arns.parse_principal(arn) for arn in sorted(found))]
        holders = [(p, g) for p, g in holders if _holds(g)]
    if len(holders) == 1:
        return holders[0][0], holders[0][1], ()
    nothing = replace(default[1], inline=None, managed=None, attached=False)  # nothing of it is removed
    if not holders:
        return default[0], nothing, (f"source account {source_account}: no fleet grant {grant_name} was found on any "
                                     "user or role",)  # fmt: skip
    listed = ", ".join(p.arn for p, _ in holders)
    return default[0], nothing, (
        f"source account {source_account}: the fleet's grant {grant_name} on {listed} (several identities hold it, "
        "so none was removed); remove it from one with 'trust-bootstrap teardown --principal ARN' and the same options",
    )  # fmt: skip
