"""The check of a consumer's tagged call on the caller's side: session-tags. Pure.

An AssumeRole that carries session tags (configure-aws-credentials sends 13 with access keys or
role-chaining) needs sts:TagSession allowed by the role's trust (the session check judges that) and
by an identity policy of the caller
(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required):
a trust built without --for github-actions refuses the action's call after a green bare proof.
"""

from __future__ import annotations

from bootstrap.core import arns
from bootstrap.core.facts import Facts
from bootstrap.core.findings import Finding, Status
from bootstrap.diagnose import evaluator
from bootstrap.diagnose.trustchecks import request

ID = "session-tags"
FIX = (
    "Re-run apply with --for github-actions: it allows sts:TagSession, for the action's tag keys only, in the trust "
    "and the grant; or set role-skip-session-tagging: true in the workflow step."
)


def check_session_tags(f: Facts) -> Finding:  # noqa: PLR0911 (a decision table: one return per verdict)
    tags = f.params.tags
    if not tags:
        return Finding(ID, Status.PASS, "the call sends no session tags: sts:TagSession is not needed")
    if f.caller is None:
        return Finding(ID, Status.UNKNOWN, "no valid source credentials")
    if f.policies is None:
        return Finding(ID, Status.UNKNOWN, "the caller's identity policies could not be read")
    keys = ", ".join(k for k, _ in tags)
    role_arn = f.params.role_arn
    try:
        decision = evaluator.evaluate_all(f.policies, request(f, "sts:TagSession"))
    except evaluator.UnsupportedCondition as err:
        return Finding(ID, Status.UNKNOWN, f"a policy has a condition this tool cannot decide: {err}")
    if decision.explicit_deny:
        return Finding(ID, Status.FAIL, f"{decision.deciding} explicitly denies sts:TagSession on {role_arn}", FIX)
    if decision.allowed:
        return Finding(ID, Status.PASS, f"sts:TagSession with keys {keys} allowed by {decision.deciding}")
    if arns.account_of(role_arn) == f.caller.account:
        return Finding(ID, Status.PASS, "same account: the trust policy alone can allow sts:TagSession")
    return Finding(
        ID,
        Status.FAIL,
        f"the call tags its session (keys {keys}), and no identity policy of {f.caller.principal_arn} allows "
        f"sts:TagSession on {role_arn} for those keys",
        FIX,
    )
