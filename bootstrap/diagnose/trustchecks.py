"""The checks of the role's side: trust-policy, external-id, mfa, session. Pure.

The trust policy is decided once, with the whole request context (evaluator.evaluate): that one
decision is the verdict. external-id and mfa do not re-decide their keys on their own: they explain
the decision through the statement that would allow (the Allow naming this principal with the
fewest failing conditions), saying which of its conditions on their keys fail, or through the
Deny that applied. So when the trust denies, at least one of these three checks fails.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bootstrap.core import arns, awswords
from bootstrap.core.facts import UNKNOWN_KEYS, Facts
from bootstrap.core.findings import Finding, Status
from bootstrap.diagnose import evaluator

EXTERNAL_ID_KEYS = frozenset({"sts:externalid"})
MFA_KEYS = frozenset({"aws:multifactorauthpresent", "aws:multifactorauthage"})
EXPLAINED_KEYS = EXTERNAL_ID_KEYS | MFA_KEYS
ROLE_CHAINING_MAX_S = 3600


def request(f: Facts, action: str = "sts:AssumeRole") -> evaluator.Request:
    assert f.caller is not None
    return evaluator.Request(
        action=action,
        resource=f.params.role_arn,
        principal_arn=f.caller.principal_arn,
        account=f.caller.account,
        session_arn=f.caller.session_arn,
        context=f.context(),
        unknown=UNKNOWN_KEYS,
    )


@dataclass(frozen=True)
class TrustView:
    decision: evaluator.Decision
    # The Allow statement that allows, or else the one naming this principal (principal, action,
    # resource) with the fewest failing conditions: the one a fix should aim at.
    candidate: evaluator.StatementResult | None
    statements: tuple[Mapping[str, Any], ...]  # the raw statements, in order

    @property
    def deny(self) -> evaluator.StatementResult | None:
        return next((s for s in self.decision.statements if s.applies and s.effect == "Deny"), None)

    def raw(self, result: evaluator.StatementResult) -> Mapping[str, Any]:
        return self.statements[self.decision.statements.index(result)]


def trust_view(f: Facts) -> TrustView | Finding:
    """The one decision of the trust policy, or an 'unknown' Finding (id filled by the caller)."""
    if f.caller is None:
        return Finding("", Status.UNKNOWN, "no valid source credentials to evaluate with")
    if f.target_account is None:
        reason = f.target_error or "no --target-profile: the role in the target account was not read"
        return Finding("", Status.UNKNOWN, reason, "Pass --target-profile with a profile that may read the role.")
    if f.role is None or f.role.trust_policy is None:
        return Finding("", Status.UNKNOWN, "the role could not be read (see role-arn)")
    trust = f.role.trust_policy
    try:
        decision = evaluator.evaluate(trust, request(f), is_resource_policy=True)
    except evaluator.UnsupportedCondition as err:
        return Finding("", Status.UNKNOWN, f"the trust policy has a condition this tool cannot decide: {err}")
    raw = trust.get("Statement", [])
    statements = tuple(raw if isinstance(raw, list) else [raw])
    allows = [s for s in decision.statements if s.effect == "Allow" and s.named]
    applying = [s for s in allows if s.applies]
    candidate = applying[0] if applying else min(allows, key=lambda s: len(s.failed), default=None)
    return TrustView(decision, candidate, statements)


def _update_command(f: Facts) -> str:
    role_name = arns.name_of(f.params.role_arn)
    return f"aws iam update-assume-role-policy --role-name {role_name} --policy-document file://trust.json"


def _statement_json(f: Facts) -> str:
    assert f.caller is not None
    return json.dumps({"Effect": "Allow", "Principal": {"AWS": f.caller.principal_arn}, "Action": "sts:AssumeRole"})


def _conditions_text(failed: tuple[evaluator.FailedCondition, ...]) -> str:
    return "; ".join(c.describe() for c in failed)


def check_trust_policy(f: Facts) -> Finding:  # noqa: PLR0911 (a decision table: one return per verdict)
    view = trust_view(f)
    if isinstance(view, Finding):
        return Finding("trust-policy", view.status, view.summary, view.fix)
    assert f.caller is not None
    who, update = f.caller.principal_arn, _update_command(f)
    decision = view.decision
    words = awswords.read(f.live_error) if f.live_code == "AccessDenied" else None
    if decision.allowed and words is not None and words.policy == "resource":
        return Finding(
            "trust-policy", Status.FAIL,
            f"AWS's answer says it: {words.phrase}, though {decision.deciding} reads as allowing {who}: a condition on "
            "a key this tool cannot see, or a trust change IAM has not propagated yet",
            f"Compare the trust policy with the call, and retry once IAM has propagated a recent change; if needed: {update}",
        )  # fmt: skip
    if decision.allowed:
        return Finding("trust-policy", Status.PASS, f"allows {who}, by {decision.deciding}")
    deny = view.deny
    if deny is not None:
        held = view.raw(deny).get("Condition")
        why = f" (its conditions all hold for this request: {json.dumps(held)})" if held else ""
        return Finding(
            "trust-policy", Status.FAIL, f"the trust policy explicitly denies {who} ({deny.label}){why}",
            f"Remove or narrow the Deny statement {deny.label} (an explicit Deny wins over any Allow), then: {update}",
        )  # fmt: skip
    candidate = view.candidate
    if candidate is not None:
        others = tuple(c for c in candidate.failed if c.key.lower() not in EXPLAINED_KEYS)
        if others:
            return Finding(
                "trust-policy", Status.FAIL,
                f"{candidate.label} names {who}, but its condition(s) {_conditions_text(others)} do not hold for "
                "this request (every condition of a statement must hold)",
                f"Send what the condition asks, or change the condition in {candidate.label}, then: {update}",
            )  # fmt: skip
        return Finding(
            "trust-policy", Status.PASS,
            f"{candidate.label} names {who}; it allows only when its ExternalId/MFA conditions hold (see external-id, mfa)",
        )  # fmt: skip
    if decision.orphaned:
        ids = ", ".join(decision.orphaned)
        return Finding(
            "trust-policy", Status.FAIL,
            f"the trust policy names {ids}: a unique ID, which IAM shows in place of a principal that was deleted. "
            "A principal recreated with the same name is a new principal, so the trust is orphaned",
            f"Name the principal by ARN again, e.g. the statement {_statement_json(f)}, then: {update}",
        )  # fmt: skip
    reasons = "; ".join(f"{s.label}: {s.why_not}" for s in decision.statements) or "it has no statements"
    return Finding(
        "trust-policy", Status.FAIL, f"no statement of the trust policy allows {who} ({reasons})",
        f"Add the statement {_statement_json(f)} to the trust policy, then: {update}",
    )  # fmt: skip


def _conditions_on(statement: Mapping[str, Any], keys: frozenset[str]) -> list[tuple[str, str, list[str]]]:
    found = []
    for operator, pairs in (statement.get("Condition") or {}).items():
        for key, values in (pairs or {}).items():
            if key.lower() in keys:
                found.append((operator, key, [str(v) for v in (values if isinstance(values, list) else [values])]))
    return found


@dataclass(frozen=True)
class _Explained:
    """What one kind of condition (ExternalId or MFA) contributes to the decision."""

    deny: tuple[str, list[tuple[str, str, list[str]]]] | None  # a Deny that applies through these keys
    statement: str  # the label of the statement that would allow
    required: list[tuple[str, str, list[str]]]  # its conditions on these keys
    failing: tuple[evaluator.FailedCondition, ...]  # those that do not hold
    allowed: bool


def _explain(f: Facts, check_id: str, keys: frozenset[str]) -> _Explained | Finding:
    view = trust_view(f)
    if isinstance(view, Finding):
        return Finding(check_id, view.status, view.summary, view.fix)
    deny = view.deny
    deny_part = None
    if deny is not None and _conditions_on(view.raw(deny), keys):
        deny_part = (deny.label, _conditions_on(view.raw(deny), keys))
    candidate = view.candidate
    if candidate is None:
        if deny_part is None:
            return Finding(check_id, Status.UNKNOWN, "no trust statement names this principal (see trust-policy)")
        return _Explained(deny_part, "", [], (), False)
    required = _conditions_on(view.raw(candidate), keys)
    failing = tuple(c for c in candidate.failed if c.key.lower() in keys)
    return _Explained(deny_part, candidate.label, required, failing, view.decision.allowed)


def _deny_finding(check_id: str, e: _Explained, what: str, fix: str) -> Finding:
    assert e.deny is not None
    label, conditions = e.deny
    text = "; ".join(f"{op} {key} = {', '.join(values)}" for op, key, values in conditions)
    return Finding(
        check_id, Status.FAIL,
        f"the Deny statement {label} applies to this request through its {what} condition ({text})", fix,
    )  # fmt: skip


def check_external_id(f: Facts) -> Finding:
    e = _explain(f, "external-id", EXTERNAL_ID_KEYS)
    if isinstance(e, Finding):
        return e
    given = f.params.external_id
    wanted = " or ".join(f"{op} {', '.join(values)}" for op, _, values in e.required)
    fix_value = shlex.quote(e.required[0][2][0]) if e.required else "VALUE"
    if e.deny is not None:
        return _deny_finding(
            "external-id", e, "ExternalId", f"Pass the ExternalId the role's owner gave you: --external-id {fix_value}"
        )
    role = "the statement that allows" if e.allowed else "the statement that would allow"
    if not e.required:
        note = " (the ExternalId given is ignored)" if given else ""
        return Finding("external-id", Status.PASS, f"not required by {e.statement}, {role}{note}")
    if not e.failing:
        return Finding(
            "external-id", Status.PASS, f"required by {e.statement} ({wanted}), and the ExternalId given matches"
        )
    if given is None:
        return Finding(
            "external-id", Status.FAIL, f"{e.statement}, {role}, requires an ExternalId ({wanted}); none was given",
            f"Pass it: --external-id {fix_value} (Terraform: assume_role {{ external_id = ... }}).",
        )  # fmt: skip
    return Finding(
        "external-id", Status.FAIL,
        f"the ExternalId given ({given!r}) does not match {e.statement}, {role} ({wanted})",
        f"Pass the ExternalId the role's owner gave you: --external-id {fix_value}",
    )  # fmt: skip


MFA_FIX = (
    "Pass --mfa-serial arn:aws:iam::ACCOUNT:mfa/DEVICE --mfa-token CODE (aws cli: --serial-number/--token-code; "
    "Terraform: an MFA-enabled source profile)."
)


def check_mfa(f: Facts) -> Finding:
    e = _explain(f, "mfa", MFA_KEYS)
    if isinstance(e, Finding):
        return e
    if e.deny is not None:
        return _deny_finding("mfa", e, "MFA", MFA_FIX)
    role = "the statement that allows" if e.allowed else "the statement that would allow"
    if not e.required:
        return Finding("mfa", Status.PASS, f"not required by {e.statement}, {role}")
    wanted = "; ".join(f"{op} {key} = {', '.join(values)}" for op, key, values in e.required)
    if not e.failing:
        return Finding("mfa", Status.PASS, f"required by {e.statement} ({wanted}), and the request meets it")
    given = "an MFA code was given but does not meet it" if f.params.mfa_given else "no MFA serial and code were given"
    return Finding("mfa", Status.FAIL, f"{e.statement}, {role}, requires MFA ({wanted}); {given}", MFA_FIX)


def check_session(f: Facts) -> Finding:
    p = f.params
    problems: list[tuple[str, str]] = []
    if f.caller is not None and f.caller.session_arn and p.duration > ROLE_CHAINING_MAX_S:
        problems.append((
            f"the caller is itself a role session: role chaining limits the session to {ROLE_CHAINING_MAX_S}s, "
            f"but {p.duration}s was asked",
            f"Ask for at most {ROLE_CHAINING_MAX_S} seconds (--duration-seconds {ROLE_CHAINING_MAX_S}).",
        ))  # fmt: skip
    trust = f.role.trust_policy if f.role is not None else None
    if f.role is not None and f.role.found_arn and p.duration > f.role.max_session_duration:
        name = arns.name_of(p.role_arn)
        problems.append((
            f"the requested duration {p.duration}s exceeds the role's MaxSessionDuration "
            f"{f.role.max_session_duration}s",
            f"Ask for at most {f.role.max_session_duration}s, or raise it: aws iam update-role --role-name {name} "
            f"--max-session-duration {p.duration}",
        ))  # fmt: skip
    extra_actions = [("sts:TagSession", bool(p.tags)), ("sts:SetSourceIdentity", bool(p.source_identity))]
    for action, needed in extra_actions:
        if not needed or trust is None or f.caller is None:
            continue
        try:
            allowed = evaluator.evaluate(trust, request(f, action), is_resource_policy=True).allowed
        except evaluator.UnsupportedCondition:
            continue  # the trust-policy check says what cannot be decided
        if not allowed:
            problems.append((
                f"the request sets {'session tags' if action == 'sts:TagSession' else 'a source identity'}, "
                f"which needs {action} in the trust policy; it is not allowed",
                f'Add "{action}" to the Action of the trust statement for this principal.',
            ))  # fmt: skip
    if problems:
        return Finding("session", Status.FAIL, "; ".join(s for s, _ in problems), " ".join(x for _, x in problems))
    if f.role is None or not f.role.found_arn:
        return Finding(
            "session", Status.UNKNOWN, f"{p.duration}s requested; the role's MaxSessionDuration was not read"
        )
    return Finding("session", Status.PASS, f"{p.duration}s requested, within the role's {f.role.max_session_duration}s")
