"""The proof per consumer (--for): after the bare AssumeRole is proven, each named consumer's own
call is replayed as that consumer sends it (its session name, duration, tags; chained when the
principal is a role) and judged. A refusal names what is missing, read from the trust and the grant
that stand (or were just written): e.g. "sts:TagSession in the trust"."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from bootstrap.aws import accounts as aws
from bootstrap.aws import sts as aws_sts
from bootstrap.config.model import Config
from bootstrap.core import arns, consumers
from bootstrap.core.assumerequest import AssumeRequest
from bootstrap.core.consumers import ConsumerVerdict
from bootstrap.core.results import Verification
from bootstrap.core.state import State
from bootstrap.trust import consumerpolicy, verify

if TYPE_CHECKING:
    from bootstrap.trust.prepared import KeyBased

# STS's names of the permissions-only actions a call may need besides sts:AssumeRole (id_session-tags.html).
_EXTRA_ACTIONS = ("sts:TagSession", "sts:SetSourceIdentity")


def base_request(prepared: KeyBased) -> AssumeRequest:
    """What every consumer's call shares with the proof: the role, the ExternalId, MFA."""
    config = prepared.data.config
    return AssumeRequest(
        prepared.plan.role_arn,
        external_id=prepared.data.external_id,
        mfa_serial=config.mfa_serial,
        mfa_token=config.mfa_token,
    )


def as_sent(base: AssumeRequest, call: consumers.ConsumerCall) -> AssumeRequest:
    """The consumer's own call: its session name, duration and tags."""
    return replace(base, session_name=call.session_name, duration_seconds=call.duration_s, tags=call.tags)


def request_of(prepared: KeyBased, call: consumers.ConsumerCall) -> AssumeRequest:
    return as_sent(base_request(prepared), call)


def calls_for(config: Config, chained: bool) -> tuple[consumers.ConsumerCall, ...]:
    """Each named consumer's call. A role principal calling AssumeRole is role chaining (one hour at most)."""
    return tuple(
        consumers.call_of(consumers.Consumer(name), config.role_name, config.max_session_duration, chained)
        for name in config.consumers
    )


def calls(prepared: KeyBased) -> tuple[consumers.ConsumerCall, ...]:
    return calls_for(prepared.data.config, chained=prepared.data.principal.kind == "role")


def missing(state: State | None, aws_message: str) -> str:
    """What the refused call lacks, said as the fix: which action, on which side (both, unread)."""
    action = next((a for a in _EXTRA_ACTIONS if a in aws_message), None)
    if action is None:  # sts:AssumeRole itself, for this session name, duration or ExternalId
        return "a statement that admits this call as the consumer sends it"
    if state is None:
        return f"{action} in the trust or the grant"
    trust = json.loads(state.role.trust_policy) if state.role is not None else {}
    if not consumerpolicy.allows(trust, action):
        return f"{action} in the trust"
    grant = json.loads(state.grant.document) if state.grant is not None else {}
    if not consumerpolicy.allows(grant, action):
        return f"{action} in the grant (the principal's policy in A)"
    return f"{action} for these tag keys (the conditions of the trust or the grant)"


def replay_calls(
    verifier: aws.Account,
    base: AssumeRequest,
    named: tuple[consumers.ConsumerCall, ...],
    target_account: str,
    state: State | None,
    deadline_s: float,
) -> tuple[ConsumerVerdict, ...]:
    """Each call sent with ``verifier``'s credentials and judged: admitted (and who the credentials
    are), or refused with what is missing; ``state``: the documents that stand, when known."""
    verdicts = []
    for call in named:
        request = as_sent(base, call)
        outcome = aws_sts.assume_role_through_propagation(verifier, request, deadline_s)
        if outcome.credentials is None:
            code, _, message = outcome.error.partition(": ")
            # AccessDenied: a permission is missing; anything else (ValidationError: a duration over the
            # chained hour or the role's maximum) is STS's own answer, shown as it is.
            detail = f"missing {missing(state, message)} ({outcome.error})" if code == "AccessDenied" else outcome.error
            verdicts.append(ConsumerVerdict(call.consumer.value, call.session_name, False, detail))
            continue
        checked = verify.check_assumed(verifier, outcome.credentials, request.role_arn, target_account)
        detail = checked.assumed_arn or "" if checked.ok else checked.error or ""
        verdicts.append(ConsumerVerdict(call.consumer.value, call.session_name, checked.ok, detail))
    return tuple(verdicts)


def replay(prepared: KeyBased, verifier: aws.Account, wrote: bool) -> tuple[ConsumerVerdict, ...]:
    """One verdict per named consumer. ``wrote``: this run wrote the documents (they are the desired
    ones, and a refusal may still be IAM propagation: waited through as for the bare proof)."""
    state = prepared.data.desired if wrote else prepared.data.live
    base = base_request(prepared)
    deadline = prepared.data.config.verify_timeout if wrote else 0.0
    return replay_calls(verifier, base, calls(prepared), prepared.data.sides.target_identity.account, state, deadline)


def for_target(
    verifier: aws.Account, base: AssumeRequest, config: Config, target_account: str, result: Verification, wrote: bool
) -> Verification:
    """A fleet target's proof, its consumers' calls replayed after the bare one (a role principal's
    AssumeRole is role chaining)."""
    if not result.ok or not config.consumers:
        return result
    chained = config.principal is not None and arns.parse_principal(config.principal).kind == "role"
    deadline = config.verify_timeout if wrote else 0.0
    verdicts = replay_calls(verifier, base, calls_for(config, chained), target_account, None, deadline)
    refusal = first_refusal(verdicts)
    return replace(result, ok=refusal is None, error=refusal, consumers=verdicts)


def first_refusal(verdicts: tuple[ConsumerVerdict, ...]) -> str | None:
    """The error of a proof whose consumer call was refused: the consumer and what is missing."""
    refused = [v for v in verdicts if not v.ok]
    if not refused:
        return None
    return "; ".join(f"{v.consumer}'s call (session {v.session_name}) was refused: {v.detail}" for v in refused)
