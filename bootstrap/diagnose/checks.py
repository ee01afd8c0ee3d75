"""The diagnose checks as data, in the spirit of cfn-lint's rules: each has an id, a title, whether
it can name a cause or is evidence, and the AWS page it follows; ``run`` walks them in the order a
person would walk the problem. The checks themselves live in trustchecks, sourcechecks and
orgchecks (pure: Facts -> Finding).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from bootstrap.core.facts import Facts
from bootstrap.core.findings import (
    DOC_ACCESS_DENIED,
    DOC_CLOUDTRAIL,
    DOC_CREDENTIALS,
    DOC_CROSS_ACCOUNT,
    DOC_EXTERNAL_ID,
    DOC_MFA,
    DOC_RCP,
    DOC_ROLE_ARN,
    DOC_SCP,
    DOC_SESSION,
    DOC_SESSION_TAGS,
    DOC_TRUST,
    Finding,
    Kind,
    Status,
)
from bootstrap.diagnose import consumerchecks, orgchecks, sourcechecks, trustchecks

# The plain names older callers use; the statuses are the Status enum.
PASS, FAIL, UNKNOWN, INFERRED = Status.PASS, Status.FAIL, Status.UNKNOWN, Status.INFERRED


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    kind: Kind
    doc: str
    judge: Callable[[Facts], Finding]


CHECKS: tuple[Check, ...] = (
    Check("credentials", "The source credentials are valid", Kind.CAUSE, DOC_CREDENTIALS,
          sourcechecks.check_credentials),
    Check("role-arn", "The role ARN names a role that exists", Kind.CAUSE, DOC_ROLE_ARN, sourcechecks.check_role_arn),
    Check("trust-policy", "The role's trust policy allows this call", Kind.CAUSE, DOC_TRUST,
          trustchecks.check_trust_policy),
    Check("external-id", "The ExternalId meets the trust policy", Kind.CAUSE, DOC_EXTERNAL_ID,
          trustchecks.check_external_id),
    Check("mfa", "The MFA conditions of the trust policy are met", Kind.CAUSE, DOC_MFA, trustchecks.check_mfa),
    Check("source-permission", "An identity policy of the caller allows sts:AssumeRole on the role", Kind.CAUSE,
          DOC_CROSS_ACCOUNT, sourcechecks.check_source_permission),
    Check("scp", "The organization's service control policies allow the call", Kind.CAUSE, DOC_SCP,
          orgchecks.check_scp),
    Check("rcp", "The organization's resource control policies allow the call", Kind.CAUSE, DOC_RCP,
          orgchecks.check_rcp),
    Check("session", "The session parameters are within the role's limits", Kind.CAUSE, DOC_SESSION,
          trustchecks.check_session),
    Check("session-tags", "An identity policy of the caller allows sts:TagSession for the call's tags", Kind.CAUSE,
          DOC_SESSION_TAGS, consumerchecks.check_session_tags),
    Check("live-assume", "A real AssumeRole with these parameters", Kind.EVIDENCE, DOC_ACCESS_DENIED,
          sourcechecks.check_live_assume),
    Check("cloudtrail", "Recent AssumeRole denials in CloudTrail", Kind.EVIDENCE, DOC_CLOUDTRAIL,
          sourcechecks.check_cloudtrail),
)  # fmt: skip


def run(facts: Facts) -> Iterator[Finding]:
    for check in CHECKS:
        found = check.judge(facts)
        yield replace(found, id=check.id, title=check.title, kind=check.kind, doc=check.doc)


def is_cause(finding: Finding) -> bool:
    """A failed or inferred check that names a cause (evidence checks only show what AWS did)."""
    return finding.kind is Kind.CAUSE and finding.status in (Status.FAIL, Status.INFERRED)
