"""Pure: why does sts:AssumeRoleWithWebIdentity fail? The token's claims (predicted for a described
CI run, or decoded from a real token) against the role's trust and the account's OIDC providers.

Each failure class of the field gets its own finding with the cause and the fix: the provider
missing, its URL or audience not matching, a `sub` that differs by case, names an environment or a
pull_request instead of the branch, or carries GitHub's immutable owner/repo IDs; StringEquals used
with a wildcard; ForAllValues on a single-valued claim (true when the claim is absent); and a trust
without any `sub` condition (a security finding even when it "works").
Condition semantics: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bootstrap.core import globs, oidc, oidcinput, tfc
from bootstrap.core.findings import Finding, Status


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(trust_policy: str) -> list[dict[str, Any]]:
    return [s for s in _as_list(json.loads(trust_policy).get("Statement", [])) if isinstance(s, dict)]


def _web_identity_statements(trust_policy: str) -> list[dict[str, Any]]:
    out = []
    for statement in _statements(trust_policy):
        actions = [str(a).lower() for a in _as_list(statement.get("Action", []))]
        if statement.get("Effect") == "Allow" and any(
            globs.matches(a, "sts:assumerolewithwebidentity") for a in actions
        ):
            out.append(statement)
    return out


def _federated(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal", {})
    return [str(p) for p in _as_list(principal.get("Federated", []))] if isinstance(principal, Mapping) else []


def _conditions(statement: Mapping[str, Any], host: str, claim: str) -> list[tuple[str, list[str]]]:
    """(operator, values) pairs of the statement that test HOST:CLAIM."""
    key = f"{host}:{claim}".lower()
    return [
        (operator, [str(v) for v in _as_list(values)])
        for operator, pairs in (statement.get("Condition") or {}).items()
        for ckey, values in pairs.items()
        if ckey.lower() == key
    ]


def _holds(operator: str, wanted: list[str], actual: str | None) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    negated = "Not" in base
    base = base.replace("Not", "")
    if base == "Null":
        return (actual is None) == (wanted[0].lower() == "true")
    if actual is None:
        return qualifier == "ForAllValues" or if_exists or (negated and not qualifier)
    if base == "StringEquals":
        hit = actual in wanted
    elif base == "StringEqualsIgnoreCase":
        hit = actual.lower() in [w.lower() for w in wanted]
    elif base == "StringLike":
        hit = any(globs.matches(w, actual) for w in wanted)
    else:
        return False  # an operator these keys do not take: fails, as IAM evaluates it
    return not hit if negated else hit


def _statement_admits(statement: Mapping[str, Any], host: str, claims: Mapping[str, str]) -> bool:
    context = {f"{host}:sub".lower(): claims.get("sub"), f"{host}:aud".lower(): claims.get("aud")}
    for operator, pairs in (statement.get("Condition") or {}).items():
        for key, values in pairs.items():
            if not _holds(operator, [str(v) for v in _as_list(values)], context.get(key.lower())):
                return False
    return True


def _sub_cause(sub: str, wanted: Sequence[tuple[str, str]]) -> tuple[str, str]:  # noqa: PLR0911 (one per failure class)
    """Name the failure class of a sub that no trust condition admits, and the fix."""
    values = ", ".join(f"{o} {v!r}" for o, v in wanted)
    for operator, w in wanted:
        if "Like" not in operator and globs.has_wildcard(w) and globs.matches(w, sub):
            return (f"the trust's {operator} {w!r} would admit {sub!r} as a pattern, but {operator} takes '*' literally",
                    "Use StringLike for the pattern (trust-bootstrap writes StringLike only when a wildcard is given).")  # fmt: skip
        like = "Like" in operator
        if globs.matches(w.lower(), sub.lower()) if like else w.lower() == sub.lower():
            names = "organization, project and workspace names as HCP Terraform" if tfc.is_tfc_subject(sub) else "owner and repository names as GitHub"  # fmt: skip
            return (f"the sub {sub!r} differs from the trust's {w!r} only in letter case: {operator} is case-sensitive, "
                    f"and the token carries the {names} spells them",
                    f"Write the sub exactly as the token carries it: {sub!r}.")  # fmt: skip
    plain = [w for _, w in wanted]
    if (phase_cause := tfc.run_phase_cause(sub, plain)) is not None:  # HCP Terraform: plan vs apply
        return phase_cause
    strip = re.compile(r"@\d+")
    if "@" in sub and any(
        strip.sub("", sub) == strip.sub("", w) or globs.matches(w, strip.sub("", sub)) for w in plain
    ):
        return (f"the sub {sub!r} carries GitHub's immutable owner/repository IDs (new or renamed repositories since "
                "July 2026), but the trust names the repository without them",
                "Re-run apply with --github-owner-id and --github-repo-id, or opt the repository out of immutable subjects.")  # fmt: skip
    if "@" not in sub and any("@" in w and strip.sub("", w) == sub for w in plain):
        return (f"the trust expects the immutable sub format (with owner/repository IDs) but the token's sub is {sub!r}",
                "Drop --github-owner-id/--github-repo-id, or opt the repository in to immutable subject claims.")  # fmt: skip
    if ":environment:" in sub and not any(":environment:" in w for w in plain):
        return (f"the job names an environment, so its sub is {sub!r} (the environment, not the branch); the trust "
                f"admits {values}",
                "Trust the environment: --github-environment NAME (or drop 'environment:' from the job).")  # fmt: skip
    if sub.endswith(":pull_request") and not any(w.endswith(":pull_request") for w in plain):
        return (f"pull_request runs carry the sub {sub!r}, not their branch; the trust admits {values}",
                "Trust pull requests with --github-pull-request (a separate, usually read-only role), or run on push.")  # fmt: skip
    return (f"the sub {sub!r} matches none of {values}",
            "Make the trust name this run's sub (apply with the CI options that describe it).")  # fmt: skip


def analyse(
    trust_policy: str,
    providers: Sequence[oidc.Provider],
    claims: Mapping[str, str],
    role_account: str,
    partition: str = "aws",
) -> list[Finding]:
    """The findings, in the order AWS checks: provider, audience, trust statement, sub; then the lint."""
    findings: list[Finding] = []
    issuer = str(claims.get("iss", "")).rstrip("/")
    host = oidc.provider_host(issuer)
    arn = f"arn:{partition}:iam::{role_account}:oidc-provider/{host}"
    provider = next((p for p in providers if p.url.rstrip("/") == host), None)
    statements = _web_identity_statements(trust_policy)
    named = sorted({f for s in statements for f in _federated(s)})
    if provider is None:
        fix = f"trust-bootstrap apply with the same CI options creates it; or: aws iam create-open-id-connect-provider --url {issuer} --client-id-list {claims.get('aud', 'sts.amazonaws.com')}"  # fmt: skip
        findings.append(
            Finding("provider", Status.FAIL, f"no IAM OIDC provider for {issuer} in account {role_account}", fix)
        )
    else:
        findings.append(Finding("provider", Status.PASS, f"{provider.arn} exists"))
    if named and arn not in named:
        findings.append(Finding("provider-url", Status.FAIL,
            f"the trust names {', '.join(named)}, but the token's issuer is {issuer} (provider {arn})",
            "The provider URL must equal the token's iss without https:// (mind a trailing slash or an enterprise slug)."))  # fmt: skip
    aud = str(claims.get("aud", ""))
    if provider is not None:
        if aud in provider.client_ids:
            findings.append(Finding("audience", Status.PASS, f"aud {aud!r} is a client ID of the provider"))
        else:
            findings.append(Finding("audience", Status.FAIL,
                f"aud {aud!r} is not among the provider's client IDs ({', '.join(provider.client_ids) or 'none'})",
                f"Request the token with audience {provider.client_ids[0]!r} (configure-aws-credentials: audience; GitLab: "
                f"id_tokens aud), or add it: aws iam add-client-id-to-open-id-connect-provider --client-id {aud}"
                if provider.client_ids else "Add the audience as a client ID of the provider."))  # fmt: skip
    findings += _trust_findings(statements, arn, host, claims)
    return findings


def _trust_findings(statements: list[dict[str, Any]], arn: str, host: str, claims: Mapping[str, str]) -> list[Finding]:
    findings: list[Finding] = []
    mine = [s for s in statements if arn in _federated(s)]
    if not mine:
        return [Finding("trust-policy", Status.FAIL, f"no trust statement allows sts:AssumeRoleWithWebIdentity to {arn}",
                        "Add one: trust-bootstrap apply with the CI options.")]  # fmt: skip
    for s in mine:
        if not _conditions(s, host, "sub"):
            findings.append(Finding("sub-condition", Status.FAIL,
                "a trust statement has no sub condition: any repository or project of the platform can assume the role "
                "(a security finding even when it works)", "Name the repository and ref: StringEquals on "
                f"{host}:sub."))  # fmt: skip
        for operator, values in _conditions(s, host, "sub") + _conditions(s, host, "aud"):
            if operator.startswith("ForAllValues"):
                findings.append(Finding("for-all-values", Status.FAIL,
                    f"{operator} on a single-valued claim is true when the claim is absent", f"Use {operator.split(':')[1]}."))  # fmt: skip
            if operator.removesuffix("IfExists") == "StringEquals" and any(globs.has_wildcard(v) for v in values):
                findings.append(Finding("string-equals-wildcard", Status.FAIL,
                    f"StringEquals compares {', '.join(values)} literally: '*' is not a wildcard there",
                    "Use StringLike for a pattern, or name the exact sub."))  # fmt: skip
    sub = claims.get("sub", "")
    admitted = [s for s in mine if _statement_admits(s, host, claims)]
    if admitted:
        name = admitted[0].get("Sid") or "a statement"
        findings.append(Finding("sub", Status.PASS, f"sub {sub!r} and aud are admitted by {name}"))
        return findings
    wanted = [(o, v) for s in mine for o, values in _conditions(s, host, "sub") for v in values]
    sub_ok = any(all(_holds(o, v, sub) for o, v in _conditions(s, host, "sub")) for s in mine)
    aud_ok = any(all(_holds(o, v, claims.get("aud")) for o, v in _conditions(s, host, "aud")) for s in mine)
    if not aud_ok:
        expected = [v for s in mine for _, values in _conditions(s, host, "aud") for v in values]
        findings.append(Finding("aud-condition", Status.FAIL, f"the trust requires aud {', '.join(expected)}; the token has {claims.get('aud')!r}",
                                "Request the token with that audience."))  # fmt: skip
    if wanted and sub_ok:
        findings.append(Finding("sub", Status.PASS, f"sub {sub!r} matches the trust's sub condition"))
    elif wanted:
        summary, fix = _sub_cause(sub, wanted)
        findings.append(Finding("sub", Status.FAIL, summary, fix))
    elif aud_ok:
        findings.append(Finding("sub", Status.FAIL, f"no statement admits these claims (sub {sub!r})", ""))
    return findings


def predicted_claims(options: Mapping[str, Any]) -> tuple[dict[str, str], str]:
    """The claims a described CI run's token carries, and the run in words. Raises ValueError naming
    the flag when a value breaks the platform's rules (the caller turns that into exit 2)."""

    def opt(key: str, check: Any = None) -> str | None:
        value = options.get(key)
        if value is None:
            return None
        try:
            return str(check(value)) if check is not None and not isinstance(check(value), tuple) else str(value)
        except ValueError as err:
            raise ValueError(f"--{key.replace('_', '-')}: {err}") from err

    if options.get("tfc_organization") or options.get("tfc_workspace"):  # HCP Terraform (core/tfc.py)
        return tfc.predicted(options)
    audience = opt("oidc_audience", oidcinput.check_audience)
    issuer = opt("oidc_issuer", oidcinput.check_issuer)
    if options.get("github_repo"):
        repo = opt("github_repo", oidcinput.check_github_repo) or ""
        ref = opt("github_ref", oidcinput.check_github_ref) or "refs/heads/main"
        environment = opt("github_environment", oidcinput.check_environment)
        event = options.get("github_event") or "push"
        owner_id, repo_id = opt("github_owner_id", oidcinput.check_id), opt("github_repo_id", oidcinput.check_id)
        sub = oidc.github_sub(repo, ref=ref, environment=environment, pull_request=event == "pull_request",
                              owner_id=owner_id, repo_id=repo_id)  # fmt: skip
        run = f"a GitHub Actions {event} run of {repo} on {ref}" + (
            f" in environment {environment}" if environment else ""
        )
        return {"iss": issuer or oidc.GITHUB_ISSUER, "aud": audience or oidc.STS_AUDIENCE, "sub": sub}, run
    if options.get("gitlab_project"):
        project = opt("gitlab_project", oidcinput.check_gitlab_project) or ""
        ref = opt("gitlab_ref", oidcinput.check_gitlab_ref) or "main"
        ref_type = str(options.get("gitlab_ref_type") or "branch")
        host = opt("gitlab_host", oidcinput.check_gitlab_host) or oidc.GITLAB_HOST
        sub = oidc.gitlab_sub(project, ref, ref_type)
        return {
            "iss": f"https://{host}",
            "aud": audience or f"https://{host}",
            "sub": sub,
        }, f"a GitLab CI job of {project} on {ref_type} {ref}"
    if issuer and options.get("oidc_subject"):
        sub = str(options["oidc_subject"])
        return {"iss": issuer, "aud": audience or oidc.STS_AUDIENCE, "sub": sub}, f"a token of {issuer} with sub {sub}"
    raise ValueError("describe the CI run: --github-repo (with --github-ref/--github-event/--github-environment), "
                     "--gitlab-project with --gitlab-ref, or --oidc-issuer with --oidc-subject; or pass "
                     "--web-identity-token-file")  # fmt: skip
