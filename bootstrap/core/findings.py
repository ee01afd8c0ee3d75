"""What a diagnose check says: its status (an enum), and the check's own data (id, title, whether it
can name a cause or is evidence, the AWS page it follows). Pure values shared by the check modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 (a status, not a password)
    FAIL = "fail"  # read and judged: this is a cause
    UNKNOWN = "unknown"  # could not be judged; the summary says why and how to make it judgeable
    # Not read, but the only explanation left by what was read and by AWS's answer: a likely
    # cause, never to be taken for a reading (the summary starts with "inferred").
    INFERRED = "inferred"


class Kind(StrEnum):
    CAUSE = "cause"  # judges one possible cause of a denied AssumeRole
    EVIDENCE = "evidence"  # shows what AWS did (the live call, CloudTrail): no cause of its own


@dataclass(frozen=True)
class Finding:
    id: str
    status: Status
    summary: str
    fix: str = ""
    title: str = ""
    kind: Kind = Kind.CAUSE
    doc: str = ""


IAM_DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
ORG_DOCS = "https://docs.aws.amazon.com/organizations/latest/userguide/"
DOC_EVALUATION = IAM_DOCS + "reference_policies_evaluation-logic.html"
DOC_CROSS_ACCOUNT = IAM_DOCS + "reference_policies_evaluation-logic-cross-account.html"
DOC_CONDITIONS = IAM_DOCS + "reference_policies_elements_condition_operators.html"
DOC_ACCESS_DENIED = IAM_DOCS + "troubleshoot_access-denied.html"
DOC_TRUST = IAM_DOCS + "id_roles_update-role-trust-policy.html"
DOC_EXTERNAL_ID = IAM_DOCS + "id_roles_common-scenarios_third-party.html"
DOC_MFA = IAM_DOCS + "id_credentials_mfa_configure-api-require.html"
DOC_SESSION = IAM_DOCS + "id_roles_use.html"
DOC_SESSION_TAGS = IAM_DOCS + "id_session-tags.html#id_session-tags_permissions-required"
DOC_CREDENTIALS = IAM_DOCS + "id_credentials_access-keys.html"
DOC_ROLE_ARN = IAM_DOCS + "reference_identifiers.html"
DOC_CLOUDTRAIL = IAM_DOCS + "cloudtrail-integration.html"
DOC_SCP = ORG_DOCS + "orgs_manage_policies_scps_evaluation.html"
DOC_RCP = ORG_DOCS + "orgs_manage_policies_rcps_evaluation.html"


def healthy(findings: tuple[Finding, ...] | list[Finding]) -> bool:
    """No check failed and nothing was inferred as a cause."""
    return not any(f.status in (Status.FAIL, Status.INFERRED) for f in findings)
