"""Gather the facts of a failing AssumeRole from both accounts (read-only, plus the one real
AssumeRole), then hand them to the pure checks in checks.py.

Every fact that cannot be read is recorded as such, so a check can say "unknown" and why,
instead of guessing: a missing target profile, an IAM read the source profile may not make, an
API the endpoint does not offer (the sandbox has no policy simulator and no CloudTrail).
"""

from __future__ import annotations

import difflib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from bootstrap.aws import accounts as aws
from bootstrap.aws import errors as aws_errors
from bootstrap.aws import evidence as aws_evidence
from bootstrap.aws import iam as aws_iam
from bootstrap.aws import org as aws_org
from bootstrap.aws import sts as aws_sts
from bootstrap.config.diagnose import DiagnoseConfig
from bootstrap.core import arns
from bootstrap.core.assumerequest import AssumeRequest
from bootstrap.core.errors import BootstrapError, CredentialsError, InvalidInput
from bootstrap.core.facts import Caller, Facts, OrgPolicies, RoleFacts, request_context
from bootstrap.core.results import Diagnosis
from bootstrap.diagnose import checks


def _caller(identity: aws.Identity, reader: aws.Account | None, principal_override: str | None) -> Caller:
    arn, named = arns.parse_arn(identity.arn), arns.iam_name(identity.arn)
    session_arn = identity.arn if named.kind == "assumed-role" else None
    username = named.name if named.kind == "user" else None
    if principal_override:
        principal_arn = principal_override
    elif session_arn:
        role = _quietly(lambda: aws_iam.get_role(reader, named.name)) if reader else None
        principal_arn = role["Arn"] if role else arns.role_arn(arn.partition, arn.account, "/", named.name)
    else:
        principal_arn = identity.arn
    return Caller(identity.arn, identity.account, principal_arn, session_arn, username)


def _quietly(read: Any) -> Any:
    """A read that may be refused: its value, or None."""
    try:
        return read()
    except BootstrapError:
        return None


def _role_facts(target: aws.Account, role_arn: str) -> RoleFacts:
    name = arns.name_of(role_arn)
    raw = aws_iam.get_role(target, name)
    if raw is None:
        names = aws_iam.list_role_names(target)
        similar = tuple(difflib.get_close_matches(name, names, n=3, cutoff=0.6))
        return RoleFacts(None, None, 0, similar)
    return RoleFacts(raw["Arn"], dict(raw["AssumeRolePolicyDocument"]), int(raw.get("MaxSessionDuration", 3600)))


def gather(
    source: aws.Account,
    params: AssumeRequest,
    *,
    target: aws.Account | None = None,
    reader: aws.Account | None = None,
    principal: str | None = None,
    management: aws.Account | None = None,
) -> Facts:
    """``source``: the identity that tries to assume. ``target``: reads the role in B.
    ``reader``: reads the principal's policies in A (default: the source itself).
    ``management``: reads the organization's SCPs and RCPs (optional)."""
    reader = reader or source
    problem = None
    try:
        parsed = arns.parse_role_arn(params.role_arn)
        arns.check_account_id(parsed.account)
        arns.check_role_name(arns.name_of(params.role_arn))
    except ValueError as err:
        problem = str(err)

    caller, caller_error = None, None
    try:
        caller = _caller(aws_sts.get_caller_identity(source), reader, principal)
    except CredentialsError as err:
        caller_error = err.message

    role_account = None if problem else arns.parse_arn(params.role_arn).account
    with ThreadPoolExecutor(max_workers=4) as pool:
        target_job = pool.submit(_read_target, target, params, problem)
        policy_job = pool.submit(_read_policies, reader, caller) if caller else None
        live_job = pool.submit(aws_sts.try_assume_role, source, params) if caller and not problem else None
        scp_job = pool.submit(_read_org, management, caller.account if caller else None, "SCP")
        rcp_job = pool.submit(_read_org, management, role_account, "RCP")
        target_account, target_error, role, denials, denials_note = target_job.result()
        policies, boundary, policies_error = policy_job.result() if policy_job else (None, None, "no caller")
        live_error, live_arn = live_job.result() if live_job else (caller_error or problem, None)
        (scp, scp_note), (rcp, rcp_note) = scp_job.result(), rcp_job.result()

    simulator, simulator_note = None, "not asked"
    if caller and not problem:
        simulator, simulator_note = _simulate(reader, caller, params.role_arn, request_context(params, caller))
    return Facts(
        params=params,
        role_arn_problem=problem,
        caller=caller,
        caller_error=caller_error,
        target_account=target_account,
        target_error=target_error,
        role=role,
        policies=policies,
        boundary=boundary,
        policies_error=policies_error,
        simulator=simulator,
        simulator_note=simulator_note,
        live_error=live_error,
        live_arn=live_arn,
        denials=denials,
        denials_note=denials_note,
        scp=scp,
        scp_note=scp_note,
        rcp=rcp,
        rcp_note=rcp_note,
    )


def _read_org(management: aws.Account | None, account: str | None, kind: str) -> tuple[OrgPolicies | None, str]:
    if management is None:
        return None, f"no --management-profile: the organization's {kind}s were not read"
    if account is None:
        return None, "the account to read them for is not known"
    try:
        return aws_org.org_policies(management, account, kind), f"{kind}s read from the organization"
    except BootstrapError as err:
        return None, f"could not read them: {err.message}"


def _read_target(
    target: aws.Account | None, params: AssumeRequest, problem: str | None
) -> tuple[str | None, str | None, RoleFacts | None, tuple[str, ...] | None, str]:
    if target is None:
        return None, None, None, None, "no --target-profile to read CloudTrail in the role's account"
    try:
        account = aws_sts.get_caller_identity(target).account
    except BootstrapError as err:
        return None, err.message, None, None, "the target profile was refused"
    role = None
    if not problem and arns.parse_arn(params.role_arn).account == account:
        role = _role_facts(target, params.role_arn)
    denials, note = None, "LookupEvents is not available at this endpoint"
    try:
        found = aws_evidence.assume_role_denials(target, params.role_arn)
    except BootstrapError as err:  # an optional source: any answer ends here, as one clean line
        found, note = None, err.message
    if found is not None:
        denials, note = tuple(found), "CloudTrail event history, last 24 hours"
    return account, None, role, denials, note


def _read_policies(
    reader: aws.Account, caller: Caller
) -> tuple[tuple[tuple[str, dict[str, Any]], ...] | None, tuple[str, dict[str, Any]] | None, str | None]:
    named = arns.iam_name(caller.principal_arn)
    if named.kind not in ("user", "role"):
        return None, None, f"{caller.principal_arn} is not a user or role"
    try:
        with aws_errors.optional_source(f"{reader.label}: reading the policies of {caller.principal_arn}"):
            policies, boundary = aws_evidence.identity_policies(reader, named.kind, named.name)
    except BootstrapError as err:
        return None, None, err.message
    return tuple(policies), boundary, None


def _simulate(
    reader: aws.Account, caller: Caller, role_arn: str, context: dict[str, list[str]]
) -> tuple[str | None, str]:
    try:
        decision = aws_evidence.simulate_assume_role(reader, caller.principal_arn, role_arn, context)
    except BootstrapError as err:
        return None, f"the policy simulator gave no answer: {err.message}"
    if decision is None:
        return None, "the IAM policy simulator is not available at this endpoint"
    return decision, f"IAM's policy simulator says: {decision}"


# -- the command ------------------------------------------------------------------------------------


def run(request: DiagnoseConfig, management_profile: str | None = None) -> Diagnosis:
    source = aws.open_account(request.source_profile, "source")
    target = _open_optional(request.target_profile, "target")
    reader = _open_optional(request.reader_profile, "source-admin")
    management = _open_optional(management_profile, "management")
    call = request.call
    if not call.role_arn:
        # From a config file: the role's ARN needs the target account.
        if target is None or request.role_name is None:
            raise InvalidInput("Say which role: pass --role-arn, or a config file with target_profile and role_name.")
        identity = aws_sts.get_caller_identity(target)
        partition = arns.parse_arn(identity.arn).partition
        call = replace(call, role_arn=arns.role_arn(partition, identity.account, request.path, request.role_name))
    facts = gather(source, call, target=target, reader=reader, principal=request.principal, management=management)
    return Diagnosis(facts, tuple(checks.run(facts)))


def _open_optional(profile: str | None, what: str) -> aws.Account | None:
    return None if profile is None else aws.open_account(profile, what)


def for_trust(
    request: AssumeRequest,
    caller: aws.Account,
    *,
    target: aws.Account,
    reader: aws.Account,
    principal: str,
    management: aws.Account | None = None,
) -> Diagnosis:
    """The checks for a trust the tool manages, with the AssumeRole its config describes
    (assumerequest.for_trust; ``management``: reads the organization's SCPs and RCPs, when given)."""
    facts = gather(caller, request, target=target, reader=reader, principal=principal, management=management)
    return Diagnosis(facts, tuple(checks.run(facts)))
