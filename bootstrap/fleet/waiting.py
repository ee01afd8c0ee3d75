"""Whether a fleet target's denied AssumeRole can still be IAM propagation, so worth waiting for.

Waiting helps only while a write of this run (the grant, the target's role) may not have reached
every IAM endpoint, or the role is new. It cannot help when the cause is read: the fleet's grant in
the source account does not list the target's role, so IAM denies the principal however long it
waits (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html:
a cross-account AssumeRole needs the caller's own policies to allow it too). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bootstrap.core import globs, policydoc
from bootstrap.core.plan import Change, Op

# A role created this recently may still be propagating (the same bound as a single trust's proof).
RECENT_S = 600.0

_PUTS = (Op.PUT_GRANT, Op.PUT_MANAGED_GRANT)
_DELETES = (Op.DELETE_GRANT, Op.DELETE_MANAGED_GRANT)


def grant_after(live_document: str | None, grant_done: Iterable[Change]) -> str | None:
    """The fleet's grant as it stands after this run's grant changes (None: there is none)."""
    document = live_document
    for change in grant_done:
        if change.op in _PUTS:
            return change.after
        if change.op in _DELETES:
            document = None
    return document


def _listed(value: object) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []


def allows_assume(document: str | None, role_arn: str) -> bool:
    """Does this grant allow sts:AssumeRole on the role? (Allow statements only: the grant is ours,
    and written without Deny, NotAction or NotResource.) Actions match case-insensitively."""
    if not document:
        return False
    for statement in policydoc.statements(document):
        if statement.get("Effect") != "Allow":
            continue
        actions = _listed(statement.get("Action"))
        resources = _listed(statement.get("Resource"))
        if any(globs.action_matches(a, "sts:AssumeRole") for a in actions) and any(
            globs.matches(r, role_arn) for r in resources
        ):
            return True
    return False


@dataclass
class TargetJudge:
    """For one target's proof: keep waiting on a denial only while it can be propagation."""

    role_arn: str
    grant: str | None  # the grant's document after this run
    grant_where: str  # "the fleet's grant NAME on PRINCIPAL", for the message
    wrote: bool  # this run wrote the grant or this target's role
    created: datetime | None  # the role's CreateDate, as read by the plan (None: created by this run)
    stopped: str = field(default="")  # why waiting stopped before the deadline

    def keep_waiting(self, _: BaseException) -> bool:
        if not allows_assume(self.grant, self.role_arn):
            self.stopped = (
                f"not retried: {self.grant_where} does not allow sts:AssumeRole on {self.role_arn}, which waiting "
                "cannot fix; run apply with the fleet's config to write it"
            )
            return False
        young = self.created is None or (datetime.now(UTC) - self.created).total_seconds() < RECENT_S
        if not (self.wrote or young):
            self.stopped = (
                "not retried: this run wrote nothing and the role is older than "
                f"{RECENT_S / 60:.0f} minutes, so the denial is not IAM propagation"
            )
            return False
        return True
