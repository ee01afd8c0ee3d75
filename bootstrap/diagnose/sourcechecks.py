"""The checks of the caller's side and the evidence: credentials, role-arn, source-permission (read,
or inferred when it cannot be read), live-assume, cloudtrail. Pure.

Cross-account, both sides must allow: the role's trust policy, and an identity policy of the caller
in its own account (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
So when the caller's policies cannot be read, the trust allows this very call and AWS still says
AccessDenied, the source side is what is left: diagnose says so as an inference, never as a reading.
"""

from __future__ import annotations

import json
import shlex

from bootstrap.core import arns, awswords
from bootstrap.core.facts import Facts
from bootstrap.core.findings import Finding, Status
from bootstrap.diagnose import evaluator, orgchecks
from bootstrap.diagnose.trustchecks import TrustView, check_session, request, trust_view


def check_credentials(f: Facts) -> Finding:
    if f.caller is not None:
        return Finding("credentials", Status.PASS, f"source credentials are valid: {f.caller.arn}")
    error = f.caller_error or "refused"
    kind = "expired" if "Expired" in error else "not valid"
    fix = (
        "Refresh them: 'aws sso login --profile PROFILE' for SSO, or new keys / a new session for the profile."
        if kind == "expired"
        else "Check the profile's access key: it may be deleted, deactivated or mistyped ('aws configure list')."
    )
    return Finding("credentials", Status.FAIL, f"the source credentials are {kind}: {error}", fix)


def check_role_arn(f: Facts) -> Finding:
    arn = f.params.role_arn
    if f.role_arn_problem:
        return Finding(
            "role-arn", Status.FAIL, f.role_arn_problem, "Use arn:aws:iam::ACCOUNT_ID:role/[PATH/]ROLE_NAME."
        )
    account = arns.account_of(arn)
    if f.target_account is None:
        why = f.target_error or "no --target-profile"
        return Finding("role-arn", Status.PASS, f"well-formed; not checked against the target account ({why})")
    if account != f.target_account:
        fixed = arn.replace(f":{account}:", f":{f.target_account}:", 1)
        return Finding(
            "role-arn", Status.FAIL,
            f"the ARN names account {account}, but the target profile is account {f.target_account}: a typo in the "
            "account ID?",
            f"Use {fixed}",
        )  # fmt: skip
    role = f.role
    assert role is not None
    if role.found_arn is None:
        name = arns.name_of(arn)
        if role.similar_names:
            names = ", ".join(role.similar_names)
            fix = f"Did you mean {names}? Use {arn.removesuffix(name)}{role.similar_names[0]}"
        else:
            fix = "Create the role: trust-bootstrap apply --role-name " + shlex.quote(name) + " ..."
        return Finding("role-arn", Status.FAIL, f"no role named {name} in account {account}", fix)
    if role.found_arn != arn:
        return Finding(
            "role-arn", Status.FAIL, f"the role exists as {role.found_arn} (another path)", f"Use {role.found_arn}"
        )
    return Finding("role-arn", Status.PASS, f"the role exists in account {account}")


def _role_arn_wrong(f: Facts) -> bool:
    """The ARN names no role that exists (only known with a target profile)."""
    if f.role_arn_problem:
        return True
    if f.target_account is None:
        return False
    return f.role is None or f.role.found_arn != f.params.role_arn


def _grant_command(f: Facts) -> str:
    assert f.caller is not None
    grant = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f.params.role_arn}],
    }
    named = arns.iam_name(f.caller.principal_arn)
    kind, name = named.kind, named.name
    return (
        f"aws iam put-{kind}-policy --{kind}-name {name} --policy-name assume-{arns.name_of(f.params.role_arn)} "
        f"--policy-document '{json.dumps(grant)}'"
    )


def _trust_allows(f: Facts) -> TrustView | None:
    """The trust view when the trust policy allows this very call and nothing else the checks read
    stands in its way (the role exists, the session parameters are fine); else None."""
    if _role_arn_wrong(f) or f.target_account is None:
        return None
    view = trust_view(f)
    if isinstance(view, Finding) or not view.decision.allowed:
        return None
    if check_session(f).status is Status.FAIL:
        return None
    return view


def check_source_permission(f: Facts) -> Finding:  # noqa: PLR0911 (a decision table: one return per verdict)
    if f.caller is None:
        return Finding("source-permission", Status.UNKNOWN, "no valid source credentials")
    if _role_arn_wrong(f):
        return Finding("source-permission", Status.UNKNOWN, "judged once the role ARN is right (see role-arn)")
    caller, role_arn = f.caller, f.params.role_arn
    words = awswords.read(f.live_error) if f.live_code == "AccessDenied" else None
    sim = f"Cross-check: {f.simulator_note}."
    if f.policies is None:
        return _unread_source_permission(f, words, sim)
    req = request(f)
    try:
        decision = evaluator.evaluate_all(f.policies, req)
        boundary = evaluator.evaluate_all([f.boundary], req) if f.boundary else None
    except evaluator.UnsupportedCondition as err:
        return Finding("source-permission", Status.UNKNOWN, f"a policy has a condition this tool cannot decide: {err}")
    if decision.explicit_deny:
        return Finding(
            "source-permission", Status.FAIL,
            f"{decision.deciding} explicitly denies sts:AssumeRole on {role_arn} to {caller.principal_arn}. {sim}",
            f"Remove or narrow that Deny statement ({decision.deciding}); an explicit Deny wins over any Allow.",
        )  # fmt: skip
    if boundary is not None and not boundary.allowed:
        name = f.boundary[0] if f.boundary else "boundary"
        return Finding(
            "source-permission", Status.FAIL,
            f"the {name} does not allow sts:AssumeRole on {role_arn}. {sim}",
            "Allow sts:AssumeRole on the role in the permissions boundary, or remove the boundary.",
        )  # fmt: skip
    if words is not None and words.source_side:
        return Finding(
            "source-permission", Status.FAIL,
            f"AWS's answer says it: {words.phrase}, though the policies read here seem to allow it "
            f"({decision.deciding or 'same account'}); a session policy or a change not yet propagated? {sim}",
            "Compare the principal's policies with the message, and retry once IAM has propagated a recent change.",
        )  # fmt: skip
    if decision.allowed:
        return Finding("source-permission", Status.PASS, f"allowed by {decision.deciding}. {sim}")
    if arns.account_of(role_arn) == caller.account:
        return Finding("source-permission", Status.PASS, f"same account: the trust policy alone can allow it. {sim}")
    return Finding(
        "source-permission", Status.FAIL,
        f"no identity policy of {caller.principal_arn} allows sts:AssumeRole on {role_arn}; cross-account, "
        f"the source account must allow it too. {sim}",
        f"Grant it: {_grant_command(f)}  (or let trust-bootstrap apply do both sides)",
    )  # fmt: skip


def _unread_source_permission(f: Facts, words: awswords.AwsWords | None, sim: str) -> Finding:
    assert f.caller is not None
    caller, role_arn = f.caller, f.params.role_arn
    confirm = "Pass --source-admin-profile with a profile that may read IAM in the source account to confirm."
    unread = f"could not read the identity policies of {caller.principal_arn}: {(f.policies_error or '').rstrip('.')}"
    if words is not None and words.source_side:
        kind = "explicitly denies it" if words.explicit else "does not allow it"
        return Finding(
            "source-permission", Status.FAIL,
            f"AWS's answer names the source side: {words.phrase} (a {words.policy} policy of "
            f"{caller.principal_arn} {kind}); {unread}",
            f"{'Remove or narrow the Deny' if words.explicit else f'Grant it: {_grant_command(f)}'}. {confirm}",
        )  # fmt: skip
    org_named = any(c(f).status is Status.FAIL for c in (orgchecks.check_scp, orgchecks.check_rcp))
    if (
        words is None
        and not org_named
        and f.live_code == "AccessDenied"
        and caller.account != arns.account_of(role_arn)
    ):
        view = _trust_allows(f)
        if view is not None:
            return Finding(
                "source-permission", Status.INFERRED,
                f"inferred, not read: AWS denied the AssumeRole although the role's trust policy allows this very "
                f"call ({view.decision.deciding}), so the source side is the likely cause: no identity policy of "
                f"{caller.principal_arn} allows sts:AssumeRole on {role_arn}, or one denies it explicitly (an SCP "
                f"can too: see scp); {unread}",
                f"{confirm} If it is the grant: {_grant_command(f)}",
            )  # fmt: skip
    return Finding("source-permission", Status.UNKNOWN, f"{unread}. {sim}", confirm)


def check_live_assume(f: Facts) -> Finding:
    if f.live_error is None:
        return Finding("live-assume", Status.PASS, f"AssumeRole succeeded: {f.live_arn}")
    return Finding("live-assume", Status.FAIL, f"AWS answered: {f.live_error}")


def check_cloudtrail(f: Facts) -> Finding:
    if f.denials is None:
        return Finding("cloudtrail", Status.UNKNOWN, f"not available: {f.denials_note}")
    if not f.denials:
        return Finding("cloudtrail", Status.PASS, "no AssumeRole denials for this role in CloudTrail's last 24 hours")
    latest = f.denials[:3]
    return Finding(
        "cloudtrail", Status.FAIL, f"{len(f.denials)} recent AssumeRole denial(s) for this role: {' | '.join(latest)}"
    )
