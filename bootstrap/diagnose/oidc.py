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

from bootstrap.core import claims as claimkeys
from bootstrap.core import globs, oidc, oidcinput, platforms, tfc
from bootstrap.core.findings import Finding, Status

# Marks claims predicted for a described run (not read from a token): a claim it does not give is
# unknown, not absent. Not a claim name any platform uses, and never part of the request context.
DESCRIBED = "_described"


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


def _passed_keys(host: str) -> tuple[str, ...]:
    """The claims STS puts in the request besides sub and aud (core/claims.py cites the reference)."""
    return claimkeys.passed_keys(host)


def request_context(host: str, claims: Mapping[str, str]) -> dict[str, str | None]:
    """The condition keys the trust is evaluated on (lower-cased: IAM reads keys case-insensitively)."""
    context = {f"{host}:sub".lower(): claims.get("sub"), f"{host}:aud".lower(): claims.get("aud")}
    for key in _passed_keys(host):
        if claims.get(key) is not None:
            context[f"{host}:{key}".lower()] = str(claims[key])
    return context


def _statement_admits(statement: Mapping[str, Any], host: str, claims: Mapping[str, str]) -> bool:
    context = request_context(host, claims)
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
                "Re-run apply with --github-owner-id and --github-repo-id (both formats are then admitted), or set "
                "GITHUB_TOKEN so that apply looks them up.")  # fmt: skip
    if "@" not in sub and any("@" in w and strip.sub("", w) == sub for w in plain):
        return (f"the trust expects the immutable sub format (with owner/repository IDs) but the token's sub is {sub!r}",
                "Re-run apply with --github-subject-format both (names and IDs), or opt the repository in to "
                "immutable subject claims.")  # fmt: skip
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
        findings.append(
            Finding("aud-condition", Status.PASS, f"aud {claims.get('aud')!r} matches the trust's aud condition")
        )
        return findings + claim_findings(mine, host, claims)
    findings += claim_findings(mine, host, claims)
    wanted = [(o, v) for s in mine for o, values in _conditions(s, host, "sub") for v in values]
    sub_ok = any(all(_holds(o, v, sub) for o, v in _conditions(s, host, "sub")) for s in mine)
    aud_ok = any(all(_holds(o, v, claims.get("aud")) for o, v in _conditions(s, host, "aud")) for s in mine)
    if aud_ok:  # each condition reported, passed or failed: the one that refuses stands out
        findings.append(
            Finding("aud-condition", Status.PASS, f"aud {claims.get('aud')!r} matches the trust's aud condition")
        )
    else:
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


def claim_findings(mine: list[dict[str, Any]], host: str, claims: Mapping[str, str]) -> list[Finding]:
    """One finding per claim condition besides sub and aud (claim-KEY): passed, failed (naming the
    token's value and the one required), or unknown when a described run does not say its value."""
    context = request_context(host, claims)
    described = claims.get(DESCRIBED) == "true"
    prefix = f"{host}:".lower()
    seen: dict[str, Finding] = {}
    for statement in mine:
        for operator, pairs in (statement.get("Condition") or {}).items():
            for key, raw in pairs.items():
                claim = key.lower().removeprefix(prefix) if key.lower().startswith(prefix) else None
                if claim is None or claim in ("sub", "aud"):
                    continue
                values = [str(v) for v in _as_list(raw)]
                actual = context.get(key.lower())
                wanted = f"{operator} {' or '.join(repr(v) for v in values)}"
                if claim not in _passed_keys(host):
                    found = Finding(f"claim-{claim}", Status.FAIL,
                        f"the trust tests {claim}, a claim AWS does not put in the request: the condition fails for "
                        "every token", f"Remove the condition; AWS passes on {', '.join(_passed_keys(host)) or 'sub and aud only'}.")  # fmt: skip
                elif actual is None and described:
                    found = Finding(f"claim-{claim}", Status.UNKNOWN,
                        f"the trust requires {claim} {wanted}; the described run does not say its {claim}",
                        f"Describe it (--github-claim {claim}=VALUE) or pass the job's token.")  # fmt: skip
                elif _holds(operator, values, actual):
                    found = Finding(f"claim-{claim}", Status.PASS, f"{claim} {actual!r} matches {wanted}")
                else:
                    found = Finding(f"claim-{claim}", Status.FAIL,
                        f"the token's {claim} is {actual!r}, and the trust requires {wanted}: this condition refuses it",
                        f"Run the job the trust names, or admit this {claim} too (apply with --github-claim "
                        f"{claim}=VALUE, --github-workflow or --github-repo-id).")  # fmt: skip
                if seen.get(found.id) is None or found.status == Status.PASS:
                    seen[found.id] = found
    return list(seen.values())


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
    for spec in platforms.REGISTRY.values():  # CircleCI, Bitbucket, Buildkite: the run the trust is built for
        if any(options.get(key) for key in spec.flag_keys()):
            values = {f.key: tuple(_as_list(options.get(f"{spec.name}_{f.key}") or [])) for f in spec.fields}
            try:
                trust = spec.build(values, options.get("oidc_audience"), True)
            except ValueError as err:
                raise ValueError(f"{spec.title}: {err}") from err
            return dict(trust.contexts[0].claims), trust.contexts[0].description
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
        described = {"iss": issuer or oidc.GITHUB_ISSUER, "aud": audience or oidc.STS_AUDIENCE, "sub": sub,
                     "repository": repo, "ref": ref, DESCRIBED: "true"}  # fmt: skip
        described |= {k: v for k, v in (("environment", environment), ("repository_owner_id", owner_id),
                                        ("repository_id", repo_id)) if v}  # fmt: skip
        for text in options.get("github_claims") or ():
            key, value = claimkeys.check_claim(str(text))  # a ValueError: exit 2, as for any option here
            described[key] = value
        if options.get("github_workflow"):
            described["job_workflow_ref"] = opt("github_workflow", claimkeys.check_workflow) or ""
        return described, run
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
