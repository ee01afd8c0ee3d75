"""Pure: the token claims STS puts in the request context of sts:AssumeRoleWithWebIdentity, per issuer,
and the checks of a claim condition (--github-claim KEY=VALUE, --github-workflow).

Only these claims reach the trust policy as condition keys (PROVIDER:KEY); a condition on any other
claim tests a key that is absent from the request, so StringEquals on it fails and the trust admits
nothing (or, negated, is misread as a restriction it is not). Source: the Service Authorization
Reference for STS, condition keys of AssumeRoleWithWebIdentity
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html),
and the IAM user guide, "Available keys for AWS OIDC federation"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
GitHub's own claims are described at https://docs.github.com/en/actions/reference/security/oidc.
"""

from __future__ import annotations

import re

from bootstrap.core.identifiers import check_one_line

# sub and aud are the trust's own conditions (the subjects and the audience), not claim conditions.
GITHUB_KEYS = (
    "actor",
    "actor_id",
    "enterprise_id",
    "environment",
    "job_workflow_ref",
    "ref",
    "repository",
    "repository_id",
    "repository_owner_id",
    "workflow",
)
# The issuers STS maps these claims for: GitHub.com's (and an enterprise's slug below it), GHE.com's data
# residency issuers and the enterprise issuer URL form. GitHub Enterprise Server's own issuer
# (https://HOST/_services/token) gets sub and aud only, so a claim condition there would admit nothing.
_GITHUB_ISSUERS = re.compile(
    r"token\.actions\.githubusercontent\.com(/.+)?|token\.actions\.[^/]+\.ghe\.com|github\.com/enterprises/[^/]+"
)
_NUMERIC = ("actor_id", "enterprise_id", "repository_id", "repository_owner_id")
# OWNER/REPO/PATH@REF: GitHub's job_workflow_ref names the reusable workflow file and the ref it ran
# from (https://docs.github.com/en/actions/reference/security/oidc, "job_workflow_ref").
# No '$', '{' or '}': the value is written into an exported workflow's `uses:`, where GitHub would read
# an expression.
_WORKFLOW = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+/\.github/workflows/[^@\s${}]+\.ya?ml@[^\s${}]+")


def passed_keys(host: str) -> tuple[str, ...]:
    """The claims (besides sub and aud) STS puts in the request for the issuer HOST[/PATH]."""
    return GITHUB_KEYS if _GITHUB_ISSUERS.fullmatch(host) else ()


def check_claim(text: str, supported: tuple[str, ...] = GITHUB_KEYS) -> tuple[str, str]:
    """KEY=VALUE -> (key, value); a key STS does not put in the request is refused, naming the supported."""
    check_one_line(text)
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or not value:
        raise ValueError(f"'{text}' is not KEY=VALUE (for example workflow=deploy)")
    if key in ("sub", "aud"):
        raise ValueError(f"'{key}' is the trust's own condition: use the subject and audience options, not a claim")
    if key not in supported:
        raise ValueError(
            f"AWS does not put the claim '{key}' in the AssumeRoleWithWebIdentity request, so a condition on it "
            f"would admit nothing; the supported claims are {', '.join(supported)}"
        )
    if any(c in value for c in "*?"):
        raise ValueError(f"'{value}': a claim condition is exact (StringEquals); a wildcard is not supported here")
    if key in _NUMERIC and not value.isdigit():
        raise ValueError(f"'{value}': {key} is a numeric ID")
    return key, value


def check_workflow(value: str) -> str:
    """A reusable workflow pinned by job_workflow_ref: OWNER/REPO/.github/workflows/FILE.yml@REF."""
    check_one_line(value)
    if "@" not in value:
        raise ValueError(
            f"'{value}' has no @REF: job_workflow_ref always names the ref the workflow ran from "
            "(OWNER/REPO/.github/workflows/FILE.yml@refs/heads/main)"
        )
    if any(c in value for c in "*?"):
        raise ValueError(f"'{value}': the workflow is matched exactly (StringEquals); a wildcard is not supported")
    if not _WORKFLOW.fullmatch(value):
        raise ValueError(f"'{value}' is not OWNER/REPO/.github/workflows/FILE.yml@REF")
    return value
