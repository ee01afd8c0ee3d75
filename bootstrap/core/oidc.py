"""Pure: CI without keys. OIDC issuers, the `sub` claims GitHub Actions and GitLab CI put in their job
tokens, and the role trust that admits exactly those (sts:AssumeRoleWithWebIdentity). No AWS calls.

Claim formats, from the platforms' own documentation:
- GitHub: https://docs.github.com/en/actions/reference/security/oidc#example-subject-claims
  `repo:OWNER/REPO:environment:NAME` when the job names an environment; else
  `repo:OWNER/REPO:pull_request` for pull_request events; else `repo:OWNER/REPO:ref:refs/heads/BRANCH`
  (or refs/tags/TAG). A `:` inside a value is written `%3A`. Issuer https://token.actions.githubusercontent.com.
- GitHub immutable subjects (repositories created or renamed after 2026-07-15, or opted in):
  https://docs.github.com/en/actions/reference/security/oidc#immutable-subject-claims
  `repo:OWNER@OWNER-ID/REPO@REPO-ID:ref:refs/heads/BRANCH`.
- GitLab: https://docs.gitlab.com/ci/secrets/id_token_authentication/ (token payload) -
  `project_path:GROUP/PROJECT:ref_type:branch|tag:ref:NAME` (a bare ref name, no refs/ prefix);
  issuer https://HOST (https://gitlab.com). The job chooses `aud` in its `id_tokens` block.
- AWS: the condition keys are the provider URL without https:// followed by `:aud` / `:sub`, and the
  trust names the provider ARN arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST[/PATH]
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bootstrap.core.globs import has_wildcard, matches
from bootstrap.core.state import TRUST_SID as OWNED_TRUST_SID

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_HOST = "gitlab.com"
STS_AUDIENCE = "sts.amazonaws.com"  # what aws-actions/configure-aws-credentials asks for
WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity"
# The statement id every trust the tool writes carries: with the tag, it marks the role as ours (state.py).
TRUST_SID = OWNED_TRUST_SID

# GitHub: a user or organization name is alphanumerics and single hyphens, not at either end, at
# most 39 characters; a repository name is letters, digits, '.', '_' and '-', at most 100.


class Platform:
    GITHUB = "github"
    GITLAB = "gitlab"
    TFC = "tfc"  # HCP Terraform / Terraform Enterprise (core/tfc.py)
    GENERIC = "generic"


@dataclass(frozen=True)
class RunContext:
    """One CI run the trust is meant for, and the claims its token will carry (a wildcard in the
    trust is shown with an example value)."""

    description: str
    claims: tuple[tuple[str, str], ...]

    @property
    def sub(self) -> str:
        return dict(self.claims)["sub"]


@dataclass(frozen=True)
class OidcTrust:
    """Who may assume the role with a web identity token: issuer, audience and subject."""

    platform: str
    issuer: str  # https URL, no trailing slash
    audience: str
    subject: str  # the exact sub, or a StringLike pattern
    description: str  # for people: "GitHub repository o/r, ref refs/heads/main"
    contexts: tuple[RunContext, ...] = ()
    hub_role: str | None = None  # hub topology: a CI role in A that the workflow assumes first
    org_wildcard: bool = False  # the subject admits a whole organization / group (warned)
    more_subjects: tuple[str, ...] = ()  # further subjects admitted alike (HCP Terraform: plan and apply)
    companion: Companion | None = None  # a second role of the same trust (HCP Terraform's plan role)
    # Further claim conditions, each KEY -> the values admitted (StringEquals, any of them): only keys
    # STS puts in the request context for this issuer (core/claims.py), else the trust admits nothing.
    conditions: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def subjects(self) -> tuple[str, ...]:
        return (self.subject, *self.more_subjects)

    @property
    def host(self) -> str:
        """The provider URL as IAM keys it: no scheme (condition keys and the provider ARN)."""
        return provider_host(self.issuer)

    @property
    def wildcard(self) -> bool:
        return any(has_wildcard(s) for s in self.subjects)

    @property
    def exact_subjects(self) -> tuple[str, ...]:
        return tuple(s for s in self.subjects if not has_wildcard(s))

    @property
    def pattern_subjects(self) -> tuple[str, ...]:
        return tuple(s for s in self.subjects if has_wildcard(s))

    @property
    def sub_operator(self) -> str:
        """Narrowest operator that fits: StringEquals when exact, StringLike only with a wildcard."""
        return "StringLike" if self.wildcard else "StringEquals"

    def provider_arn(self, partition: str, account: str) -> str:
        return f"arn:{partition}:iam::{account}:oidc-provider/{self.host}"


@dataclass(frozen=True)
class Companion:
    """A second role planned, applied, proved and torn down with the main one, admitting other runs of
    the same source (HCP Terraform's plan role: run_phase plan, read-only by default)."""

    role_name: str
    policy_arns: tuple[str, ...]
    trust: OidcTrust


@dataclass(frozen=True)
class Provider:
    """An IAM OIDC identity provider as IAM reports it (aws_oidc.py reads it)."""

    arn: str
    url: str  # without https://, as IAM keys it
    client_ids: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]


def provider_host(issuer: str) -> str:
    return issuer.removeprefix("https://").rstrip("/")


# -- subjects ------------------------------------------------------------------------------------


def _escape(value: str) -> str:
    """GitHub writes a ':' inside a value as %3A, so the sub stays splittable."""
    return value.replace(":", "%3A")


def github_repo_part(repo: str, owner_id: str | None = None, repo_id: str | None = None) -> str:
    owner, _, name = repo.partition("/")
    if owner_id and repo_id:
        return f"{owner}@{owner_id}/{name}@{repo_id}"
    return f"{owner}/{name}"


def github_sub(
    repo: str,
    *,
    ref: str | None = None,
    environment: str | None = None,
    pull_request: bool = False,
    owner_id: str | None = None,
    repo_id: str | None = None,
) -> str:
    """GitHub's default sub: environment wins over pull_request, which wins over the ref."""
    base = "repo:" + github_repo_part(repo, owner_id, repo_id)
    if environment:
        return f"{base}:environment:{_escape(environment)}"
    if pull_request:
        return f"{base}:pull_request"
    if ref:
        return f"{base}:ref:{_escape(ref)}"
    raise ValueError("a GitHub subject needs a ref, an environment or pull_request")


def gitlab_sub(project: str, ref: str, ref_type: str = "branch") -> str:
    return f"project_path:{project}:ref_type:{ref_type}:ref:{ref}"


def _example(value: str) -> str:
    """A concrete value matching a pattern, to show (and mint) what a matching run carries."""
    return value.replace("*", "example").replace("?", "x")


def github_trust(
    repo: str,
    *,
    ref: str | None,
    environment: str | None,
    pull_request: bool,
    owner_id: str | None,
    repo_id: str | None,
    issuer: str = GITHUB_ISSUER,
    audience: str = STS_AUDIENCE,
    hub_role: str | None = None,
) -> OidcTrust:
    subject = github_sub(
        repo, ref=ref, environment=environment, pull_request=pull_request, owner_id=owner_id, repo_id=repo_id
    )
    if environment:
        what, event = f"environment {environment}", "push"
    elif pull_request:
        what, event = "pull_request events", "pull_request"
    else:
        what, event = f"ref {ref}", "push"
    owner, _, name = repo.partition("/")
    example_repo = f"{owner}/{_example(name)}"
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": _example(subject),
        "repository": example_repo,
        "repository_owner": owner,
        "event_name": event,
        "ref": _example(ref) if ref else ("refs/pull/1/merge" if pull_request else "refs/heads/main"),
    }
    if environment:
        claims["environment"] = environment
    if owner_id and repo_id:
        claims["repository_owner_id"], claims["repository_id"] = owner_id, repo_id
    context = RunContext(f"a GitHub Actions job of {example_repo} for {what}", tuple(sorted(claims.items())))
    return OidcTrust(
        platform=Platform.GITHUB,
        issuer=issuer,
        audience=audience,
        subject=subject,
        description=f"GitHub repository {repo}, {what}" + (" (immutable IDs)" if owner_id else ""),
        contexts=(context,),
        hub_role=hub_role,
        org_wildcard=name == "*",
    )


def gitlab_trust(
    project: str,
    *,
    ref: str,
    ref_type: str,
    host: str = GITLAB_HOST,
    audience: str | None = None,
    hub_role: str | None = None,
) -> OidcTrust:
    issuer = f"https://{host}"
    aud = audience or issuer  # GitLab has no default: the job names it in id_tokens; the instance URL is usual
    subject = gitlab_sub(project, ref, ref_type)
    example_project = _example(project)
    claims = {
        "iss": issuer,
        "aud": aud,
        "sub": _example(subject),
        "project_path": example_project,
        "namespace_path": example_project.rsplit("/", 1)[0],
        "ref": _example(ref),
        "ref_type": ref_type,
    }
    context = RunContext(f"a GitLab CI job of {example_project} on {ref_type} {ref}", tuple(sorted(claims.items())))
    return OidcTrust(
        platform=Platform.GITLAB,
        issuer=issuer,
        audience=aud,
        subject=subject,
        description=f"GitLab project {project} ({host}), {ref_type} {ref}",
        contexts=(context,),
        hub_role=hub_role,
        org_wildcard=project.endswith("/*"),
    )


def generic_trust(
    issuer: str, audience: str, subject: str, hub_role: str | None = None, org_wildcard: bool = False
) -> OidcTrust:
    claims = {"iss": issuer, "aud": audience, "sub": _example(subject)}
    return OidcTrust(
        platform=Platform.GENERIC,
        issuer=issuer,
        audience=audience,
        subject=subject,
        description=f"tokens of {issuer} with sub {subject}",
        contexts=(RunContext(f"a token of {issuer} with sub {_example(subject)}", tuple(sorted(claims.items()))),),
        hub_role=hub_role,
        org_wildcard=org_wildcard,
    )


# -- the trust policy ----------------------------------------------------------------------------


def _one(values: tuple[str, ...]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def trust_statements(trust: OidcTrust, provider_arn: str) -> list[dict[str, Any]]:
    """aud and each claim with StringEquals; exact subjects under StringEquals (a list when several),
    patterns under StringLike. Operators in one statement are ANDed, so exact subjects and patterns
    together take two statements (a sub can't satisfy both): an exact subject never becomes a
    pattern. Never without sub: IAM refuses a trust on GitHub's or HCP Terraform's shared provider
    that does not evaluate it (IAM user guide, id_roles_providers_oidc_secure-by-default.html)."""
    equals: dict[str, str | list[str]] = {f"{trust.host}:aud": trust.audience}
    for key, values in trust.conditions:
        equals[f"{trust.host}:{key}"] = _one(values)
    groups = [("StringEquals", trust.exact_subjects), ("StringLike", trust.pattern_subjects)]
    statements = []
    for index, (operator, subjects) in enumerate((op, subs) for op, subs in groups if subs):
        condition: dict[str, dict[str, str | list[str]]] = {"StringEquals": dict(equals)}
        condition.setdefault(operator, {})[f"{trust.host}:sub"] = _one(subjects)
        statements.append({
            # The first statement keeps the Sid that marks the role as ours (state.is_ours).
            "Sid": TRUST_SID if index == 0 else f"{TRUST_SID}Patterns",
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": WEB_IDENTITY_ACTION,
            "Condition": condition,
        })  # fmt: skip
    return statements


def trust_statement(trust: OidcTrust, provider_arn: str) -> dict[str, Any]:
    return trust_statements(trust, provider_arn)[0]


def trust_policy(trust: OidcTrust, provider_arn: str) -> str:
    document = {"Version": "2012-10-17", "Statement": trust_statements(trust, provider_arn)}
    return json.dumps(document, separators=(",", ":"))


def admits(trust: OidcTrust, claims: dict[str, str]) -> tuple[bool, str]:
    """Would our own trust admit a token with these claims? (the static proof; pure)."""
    if claims.get("iss", "").rstrip("/") != trust.issuer:
        return False, f"iss {claims.get('iss')!r} is not the provider {trust.issuer}"
    if claims.get("aud") != trust.audience:
        return False, f"aud {claims.get('aud')!r} is not {trust.audience!r}"
    for key, values in trust.conditions:  # a claim the token lacks fails, as in STS
        if claims.get(key) not in values:
            return False, f"{key} {claims.get(key)!r} is not {' or '.join(repr(v) for v in values)}"
    sub = claims.get("sub", "")
    hit = next((s for s in trust.exact_subjects if sub == s), None)
    hit = hit or next((s for s in trust.pattern_subjects if matches(s, sub)), None)
    if hit is None:
        wanted = " or ".join(repr(s) for s in trust.subjects)
        return False, f"sub {sub!r} does not match {trust.sub_operator} {wanted}"
    return True, f"sub {sub!r} matches {'StringLike' if has_wildcard(hit) else 'StringEquals'} {hit!r}"


def static_proof(trust: OidcTrust) -> tuple[str, ...]:
    """For each described run: the sub its token will carry and whether the trust admits it."""
    lines = []
    for context in trust.contexts:
        ok, why = admits(trust, dict(context.claims))
        lines.append(
            f"{context.description} carries sub {context.sub!r}: {'admitted' if ok else 'NOT admitted'} ({why})"
        )
    return tuple(lines)
