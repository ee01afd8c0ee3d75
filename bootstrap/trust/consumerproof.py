"""The proof per consumer (--for): after the bare AssumeRole is proven, each named consumer's own
call is replayed as that consumer sends it (its session name, duration, tags; chained when the
principal is a role) and judged. A refusal names what is missing, read from the trust and the grant
that stand (or were just written): e.g. "sts:TagSession in the trust"."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from bootstrap.aws import accounts as aws
from bootstrap.aws import sts as aws_sts
from bootstrap.core import consumers
from bootstrap.core.assumerequest import AssumeRequest
from bootstrap.core.consumers import ConsumerVerdict
from bootstrap.core.state import State
from bootstrap.trust import consumerpolicy, verify

if TYPE_CHECKING:
    from bootstrap.trust.prepared import Prepared

# STS's names of the permissions-only actions a call may need besides sts:AssumeRole (id_session-tags.html).
_EXTRA_ACTIONS = ("sts:TagSession", "sts:SetSourceIdentity")


def request_of(prepared: Prepared, call: consumers.ConsumerCall) -> AssumeRequest:
    config = prepared.config
    return AssumeRequest(
        prepared.plan.role_arn,
        session_name=call.session_name,
        external_id=prepared.external_id,
        mfa_serial=config.mfa_serial,
        mfa_token=config.mfa_token,
        duration_seconds=call.duration_s,
        tags=call.tags,
    )


def calls(prepared: Prepared) -> tuple[consumers.ConsumerCall, ...]:
    """Each named consumer's call. A role principal calling AssumeRole is role chaining (one hour at most)."""
    config = prepared.config
    chained = prepared.principal.kind == "role"
    return tuple(
        consumers.call_of(consumers.Consumer(name), config.role_name, config.max_session_duration, chained)
        for name in config.consumers
    )


def missing(state: State, aws_message: str) -> str:
    """What the refused call lacks, said as the fix: which action, on which side."""
    action = next((a for a in _EXTRA_ACTIONS if a in aws_message), None)
    if action is None:
        return "the call as this consumer sends it"
    trust = json.loads(state.role.trust_policy) if state.role is not None else {}
    if not consumerpolicy.allows(trust, action):
        return f"{action} in the trust"
    grant = json.loads(state.grant.document) if state.grant is not None else {}
    if not consumerpolicy.allows(grant, action):
        return f"{action} in the grant (the principal's policy in A)"
    return f"{action} for these tag keys (the conditions of the trust or the grant)"


def replay(prepared: Prepared, verifier: aws.Account, wrote: bool) -> tuple[ConsumerVerdict, ...]:
    """One verdict per named consumer. ``wrote``: this run wrote the documents (they are the desired
    ones, and a refusal may still be IAM propagation: waited through as for the bare proof)."""
    state = prepared.desired if wrote else prepared.live
    target_account = prepared.sides.target_identity.account
    verdicts = []
    for call in calls(prepared):
        request = request_of(prepared, call)
        deadline = prepared.config.verify_timeout if wrote else 0.0
        outcome = aws_sts.assume_role_through_propagation(verifier, request, deadline)
        if outcome.credentials is None:
            code, _, message = outcome.error.partition(": ")
            why = missing(state, message) if code == "AccessDenied" else "a call STS accepts"
            detail = f"missing {why} ({outcome.error})"
            verdicts.append(ConsumerVerdict(call.consumer.value, call.session_name, False, detail))
            continue
        checked = verify.check_assumed(verifier, outcome.credentials, request.role_arn, target_account)
        detail = checked.assumed_arn or "" if checked.ok else checked.error or ""
        verdicts.append(ConsumerVerdict(call.consumer.value, call.session_name, checked.ok, detail))
    return tuple(verdicts)


def first_refusal(verdicts: tuple[ConsumerVerdict, ...]) -> str | None:
    """The error of a proof whose consumer call was refused: the consumer and what is missing."""
    refused = [v for v in verdicts if not v.ok]
    if not refused:
        return None
    return "; ".join(f"{v.consumer}'s call (session {v.session_name}) was refused: {v.detail}" for v in refused)
