"""Pure: Facts -> Findings. One function per check, each with a stable id; a failing check names
the cause and a concrete fix (the JSON to put in place, or the command that does it).

Checks are data in the spirit of cfn-lint's rules: ``CHECKS`` lists them in the order a person
would walk the problem, and ``run`` yields one Finding per check.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bootstrap import evaluator
from bootstrap.facts import Facts

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
EXTERNAL_ID_KEYS = ("sts:externalid",)
MFA_KEYS = ("aws:multifactorauthpresent", "aws:multifactorauthage")
ROLE_CHAINING_MAX_S = 3600


@dataclass(frozen=True)
class Finding:
    id: str
    status: str  # pass / fail / unknown
    summary: str
    fix: str = ""


def _request(f: Facts, action: str = "sts:AssumeRole") -> evaluator.Request:
    assert f.caller is not None
    return evaluator.Request(
        action=action,
        resource=f.params.role_arn,
        principal_arn=f.caller.principal_arn,
        account=f.caller.account,
        session_arn=f.caller.session_arn,
        context=f.context(),
    )


def _trust(f: Facts) -> dict[str, Any] | None:
    return f.role.trust_policy if f.role is not None else None


def _unknown_without_role(f: Facts) -> Finding | None:
    if f.caller is None:
        return Finding("", UNKNOWN, "no valid source credentials to evaluate with")
    if f.target_account is None:
        reason = f.target_error or "no --target-profile: the role in the target account was not read"
        return Finding("", UNKNOWN, reason)
    if f.role is None or f.role.trust_policy is None:
        return Finding("", UNKNOWN, "the role could not be read (see role-arn)")
    return None


def _statement_json(f: Facts) -> str:
    assert f.caller is not None
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": f.caller.principal_arn},
        "Action": "sts:AssumeRole",
    }
    return json.dumps(statement)


def check_credentials(f: Facts) -> Finding:
    if f.caller is not None:
        return Finding("credentials", PASS, f"source credentials are valid: {f.caller.arn}")
    error = f.caller_error or "refused"
    kind = "expired" if "Expired" in error else "not valid"
    fix = (
        "Refresh them: 'aws sso login --profile PROFILE' for SSO, or new keys / a new session for the profile."
        if kind == "expired"
        else "Check the profile's access key: it may be deleted, deactivated or mistyped ('aws configure list')."
    )
    return Finding("credentials", FAIL, f"the source credentials are {kind}: {error}", fix)


def check_role_arn(f: Facts) -> Finding:
    arn = f.params.role_arn
    if f.role_arn_problem:
        return Finding("role-arn", FAIL, f.role_arn_problem, "Use arn:aws:iam::ACCOUNT_ID:role/[PATH/]ROLE_NAME.")
    account = arn.split(":")[4]
    if f.target_account is None:
        why = f.target_error or "no --target-profile"
        return Finding("role-arn", PASS, f"well-formed; not checked against the target account ({why})")
    if account != f.target_account:
        fixed = arn.replace(f":{account}:", f":{f.target_account}:", 1)
        return Finding(
            "role-arn",
            FAIL,
            f"the ARN names account {account}, but the target profile is account {f.target_account}: a typo in the "
            "account ID?",
            f"Use {fixed}",
        )
    role = f.role
    assert role is not None
    if role.found_arn is None:
        name = arn.rsplit("/", 1)[-1]
        if role.similar_names:
            names = ", ".join(role.similar_names)
            fix = f"Did you mean {names}? Use {arn.rsplit('/', 1)[0]}/{role.similar_names[0]}"
        else:
            fix = "Create the role: trust-bootstrap apply --role-name " + shlex.quote(name) + " ..."
        return Finding("role-arn", FAIL, f"no role named {name} in account {account}", fix)
    if role.found_arn != arn:
        return Finding("role-arn", FAIL, f"the role exists as {role.found_arn} (another path)", f"Use {role.found_arn}")
    return Finding("role-arn", PASS, f"the role exists in account {account}")


def check_trust_policy(f: Facts) -> Finding:
    missing = _unknown_without_role(f)
    if missing:
        return Finding("trust-policy", missing.status, missing.summary)
    trust = _trust(f)
    assert trust is not None and f.caller is not None
    # ExternalId and MFA conditions have checks of their own; this one asks whether the trust
    # policy lets this principal in at all.
    try:
        decision = evaluator.evaluate(
            trust, _request(f), is_resource_policy=True, ignore_condition_keys=EXTERNAL_ID_KEYS + MFA_KEYS
        )
    except evaluator.UnsupportedCondition as err:
        return Finding("trust-policy", UNKNOWN, f"the trust policy has a condition this tool cannot evaluate: {err}")
    role_name = f.params.role_arn.rsplit("/", 1)[-1]
    update = f"aws iam update-assume-role-policy --role-name {role_name} --policy-document file://trust.json"
    if decision.allowed:
        return Finding("trust-policy", PASS, f"allows {f.caller.principal_arn}, by {decision.deciding}")
    if decision.explicit_deny:
        return Finding(
            "trust-policy",
            FAIL,
            f"the trust policy explicitly denies {f.caller.principal_arn} ({decision.deciding})",
            f"Remove or narrow the Deny statement {decision.deciding}, then: {update}",
        )
    if decision.orphaned:
        ids = ", ".join(decision.orphaned)
        return Finding(
            "trust-policy",
            FAIL,
            f"the trust policy names {ids}: a unique ID, which IAM shows in place of a principal that was deleted. "
            "A principal recreated with the same name is a new principal, so the trust is orphaned",
            f"Name the principal by ARN again, e.g. the statement {_statement_json(f)}, then: {update}",
        )
    reasons = "; ".join(f"{s.label}: {s.why_not}" for s in decision.statements) or "it has no statements"
    return Finding(
        "trust-policy",
        FAIL,
        f"no statement of the trust policy allows {f.caller.principal_arn} ({reasons})",
        f"Add the statement {_statement_json(f)} to the trust policy, then: {update}",
    )


def _applicable_statements(f: Facts, judged_keys: tuple[str, ...]) -> tuple[list[dict[str, Any]], bool]:
    """Trust statements that let this principal in apart from the keys judged here, and whether
    one of them also holds for those keys as the request sends them."""
    trust = _trust(f)
    assert trust is not None
    others = tuple(k for k in EXTERNAL_ID_KEYS + MFA_KEYS if k not in judged_keys)
    statements = trust.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    applicable, holds = [], False
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        single = {"Statement": [statement]}
        if evaluator.evaluate(
            single, _request(f), is_resource_policy=True, ignore_condition_keys=judged_keys + others
        ).allowed:
            applicable.append(statement)
            holds = (
                holds
                or evaluator.evaluate(
                    single, _request(f), is_resource_policy=True, ignore_condition_keys=others
                ).allowed
            )
    return applicable, holds


def _condition_values(statements: list[dict[str, Any]], keys: tuple[str, ...]) -> list[tuple[str, str, list[str]]]:
    found = []
    for statement in statements:
        for operator, pairs in (statement.get("Condition") or {}).items():
            for key, values in pairs.items():
                if key.lower() in keys:
                    found.append((operator, key, [str(v) for v in (values if isinstance(values, list) else [values])]))
    return found


def _judge_keys(
    f: Facts, check_id: str, keys: tuple[str, ...]
) -> Finding | tuple[bool, list[tuple[str, str, list[str]]]]:
    """For the checks of one kind of trust condition: an 'unknown' Finding when the question cannot
    be asked, else (whether the request satisfies it, the conditions the trust sets on those keys)."""
    missing = _unknown_without_role(f)
    if missing:
        return Finding(check_id, missing.status, missing.summary)
    try:
        applicable, holds = _applicable_statements(f, keys)
    except evaluator.UnsupportedCondition as err:
        return Finding(check_id, UNKNOWN, f"cannot evaluate the trust policy: {err}")
    if not applicable:
        return Finding(check_id, UNKNOWN, "no trust statement applies to this principal (see trust-policy)")
    return holds, _condition_values(applicable, keys)


def check_external_id(f: Facts) -> Finding:
    judged = _judge_keys(f, "external-id", EXTERNAL_ID_KEYS)
    if isinstance(judged, Finding):
        return judged
    holds, required = judged
    given = f.params.external_id
    if not required:
        note = " (the ExternalId given is ignored)" if given else ""
        return Finding("external-id", PASS, f"not required{note}")
    if holds:
        return Finding("external-id", PASS, "required, and the ExternalId given matches")
    wanted = " or ".join(f"{op} {', '.join(values)}" for op, _, values in required)
    if given is None:
        return Finding(
            "external-id", FAIL, f"the trust policy requires an ExternalId ({wanted}); none was given",
            f"Pass it: --external-id {shlex.quote(required[0][2][0])} (Terraform: assume_role {{ external_id = ... }}).",
        )  # fmt: skip
    return Finding(
        "external-id", FAIL, f"the ExternalId given ({given!r}) does not match the trust policy ({wanted})",
        f"Pass the ExternalId the role's owner gave you: --external-id {shlex.quote(required[0][2][0])}",
    )  # fmt: skip


def check_mfa(f: Facts) -> Finding:
    judged = _judge_keys(f, "mfa", MFA_KEYS)
    if isinstance(judged, Finding):
        return judged
    holds, required = judged
    if not required:
        return Finding("mfa", PASS, "not required")
    wanted = "; ".join(f"{op} {key} = {', '.join(values)}" for op, key, values in required)
    if holds:
        return Finding("mfa", PASS, f"required ({wanted}), and an MFA code was given")
    return Finding(
        "mfa", FAIL, f"the trust policy requires MFA ({wanted}); no MFA serial and code were given",
        "Pass --mfa-serial arn:aws:iam::ACCOUNT:mfa/DEVICE --mfa-token CODE (aws cli: --serial-number/--token-code; "
        "Terraform: an MFA-enabled source profile).",
    )  # fmt: skip


def _role_arn_wrong(f: Facts) -> bool:
    """The ARN names no role that exists (only known with a target profile)."""
    if f.role_arn_problem:
        return True
    if f.target_account is None:
        return False
    return f.role is None or f.role.found_arn != f.params.role_arn


def check_source_permission(f: Facts) -> Finding:
    if f.caller is None:
        return Finding("source-permission", UNKNOWN, "no valid source credentials")
    if _role_arn_wrong(f):
        return Finding("source-permission", UNKNOWN, "judged once the role ARN is right (see role-arn)")
    caller = f.caller
    role_account = f.params.role_arn.split(":")[4] if not f.role_arn_problem else ""
    if f.policies is None:
        return Finding(
            "source-permission",
            UNKNOWN,
            f"could not read the identity policies of {caller.principal_arn}: {f.policies_error}. "
            f"{_simulator_sentence(f)}",
            "Pass --source-admin-profile with a profile that may read IAM in the source account.",
        )
    request = _request(f)
    try:
        decision = evaluator.evaluate_all(f.policies, request)
        boundary = evaluator.evaluate_all([f.boundary], request) if f.boundary else None
    except evaluator.UnsupportedCondition as err:
        return Finding("source-permission", UNKNOWN, f"a policy has a condition this tool cannot evaluate: {err}")
    sim = _simulator_sentence(f)
    if decision.explicit_deny:
        return Finding(
            "source-permission", FAIL,
            f"{decision.deciding} explicitly denies sts:AssumeRole on {f.params.role_arn} to {caller.principal_arn}. {sim}",
            f"Remove or narrow that Deny statement ({decision.deciding}); an explicit Deny wins over any Allow.",
        )  # fmt: skip
    if boundary is not None and not boundary.allowed:
        return Finding(
            "source-permission", FAIL,
            f"the {f.boundary[0] if f.boundary else 'boundary'} does not allow sts:AssumeRole on {f.params.role_arn}. {sim}",
            "Allow sts:AssumeRole on the role in the permissions boundary, or remove the boundary.",
        )  # fmt: skip
    if decision.allowed:
        return Finding("source-permission", PASS, f"allowed by {decision.deciding}. {sim}")
    if role_account == caller.account:
        return Finding("source-permission", PASS, f"same account: the trust policy alone can allow it. {sim}")
    grant = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f.params.role_arn}],
    }
    kind, name = caller.principal_arn.split(":", 5)[5].split("/")[0], caller.principal_arn.rsplit("/", 1)[-1]
    command = (
        f"aws iam put-{kind}-policy --{kind}-name {name} --policy-name assume-{f.params.role_arn.rsplit('/', 1)[-1]} "
        f"--policy-document '{json.dumps(grant)}'"
    )
    return Finding(
        "source-permission", FAIL,
        f"no identity policy of {caller.principal_arn} allows sts:AssumeRole on {f.params.role_arn}; cross-account, "
        f"the source account must allow it too. {sim}",
        f"Grant it: {command}  (or let trust-bootstrap apply do both sides)",
    )  # fmt: skip


def _simulator_sentence(f: Facts) -> str:
    return f"Cross-check: {f.simulator_note}."


def check_session(f: Facts) -> Finding:
    p = f.params
    problems: list[tuple[str, str]] = []
    if f.caller is not None and f.caller.session_arn and p.duration_seconds > ROLE_CHAINING_MAX_S:
        problems.append((
            f"the caller is itself a role session: role chaining limits the session to {ROLE_CHAINING_MAX_S}s, "
            f"but {p.duration_seconds}s was asked",
            f"Ask for at most {ROLE_CHAINING_MAX_S} seconds (--duration-seconds {ROLE_CHAINING_MAX_S}).",
        ))  # fmt: skip
    trust = _trust(f)
    if f.role is not None and f.role.found_arn and p.duration_seconds > f.role.max_session_duration:
        name = p.role_arn.rsplit("/", 1)[-1]
        problems.append((
            f"the requested duration {p.duration_seconds}s exceeds the role's MaxSessionDuration "
            f"{f.role.max_session_duration}s",
            f"Ask for at most {f.role.max_session_duration}s, or raise it: aws iam update-role --role-name {name} "
            f"--max-session-duration {p.duration_seconds}",
        ))  # fmt: skip
    extra_actions = [("sts:TagSession", bool(p.tags)), ("sts:SetSourceIdentity", bool(p.source_identity))]
    for action, needed in extra_actions:
        allowed = (
            trust is None
            or f.caller is None
            or evaluator.evaluate(trust, _request(f, action), is_resource_policy=True).allowed
        )
        if needed and not allowed:
            problems.append((
                    f"the request sets {'session tags' if action == 'sts:TagSession' else 'a source identity'}, "
                    f"which needs {action} in the trust policy; it is not allowed",
                    f'Add "{action}" to the Action of the trust statement for this principal.',
                ))  # fmt: skip
    if problems:
        return Finding("session", FAIL, "; ".join(s for s, _ in problems), " ".join(fix for _, fix in problems))
    if f.role is None or not f.role.found_arn:
        return Finding(
            "session", UNKNOWN, f"{p.duration_seconds}s requested; the role's MaxSessionDuration was not read"
        )
    return Finding(
        "session", PASS, f"{p.duration_seconds}s requested, within the role's {f.role.max_session_duration}s"
    )


def check_live_assume(f: Facts) -> Finding:
    if f.live_error is None:
        return Finding("live-assume", PASS, f"AssumeRole succeeded: {f.live_arn}")
    return Finding("live-assume", FAIL, f"AWS answered: {f.live_error}")


def check_cloudtrail(f: Facts) -> Finding:
    if f.denials is None:
        return Finding("cloudtrail", UNKNOWN, f"not available: {f.denials_note}")
    if not f.denials:
        return Finding("cloudtrail", PASS, "no AssumeRole denials for this role in CloudTrail's last 24 hours")
    latest = f.denials[:3]
    return Finding(
        "cloudtrail", FAIL, f"{len(f.denials)} recent AssumeRole denial(s) for this role: {' | '.join(latest)}"
    )


Check = Callable[[Facts], Finding]
CHECKS: tuple[Check, ...] = (
    check_credentials,
    check_role_arn,
    check_trust_policy,
    check_external_id,
    check_mfa,
    check_source_permission,
    check_session,
    check_live_assume,
    check_cloudtrail,
)


def run(facts: Facts) -> Iterator[Finding]:
    for check in CHECKS:
        yield check(facts)
