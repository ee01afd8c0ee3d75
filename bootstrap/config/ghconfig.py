"""The `github:` section and the --github-* flags -> one validated GitHub Actions trust. Pure.

File form: `github: {repo, ref, environment, pull_request, owner_id, repo_id, subject_format, claims,
workflow, issuer, audience}`; `ref` and `environment` take one value or a list (each admits its runs),
`claims` a mapping KEY: VALUE (or a list of values, any of them admitted). Flags: --github-ref and
--github-environment repeat; --github-claim KEY=VALUE repeats (the flags replace the file's list).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bootstrap.core.errors import InvalidInput

if TYPE_CHECKING:
    from bootstrap.core import oidc

Where = Callable[[str], str]


class NeedsIds(InvalidInput):
    """The subject format asked for needs the repository's IDs, and none were given: the CLI may look
    them up (GITHUB_TOKEN) and read the config again; else exit 2 with this message."""


# Claim keys a dedicated option sets: given as a claim too, the two could disagree (and be ORed).
_DEDICATED = {"repository_id": "--github-repo-id", "repository_owner_id": "--github-owner-id",
              "job_workflow_ref": "--github-workflow"}  # fmt: skip


def _where(key: str, merged: Mapping[str, Any], where: Where, name: str = "github") -> str:
    flat = f"{name}_{key}"
    return where(flat) if merged.get(flat) is not None else f"{where(name)} ('{key}')"


def strings(
    section: Mapping[str, Any], key: str, merged: Mapping[str, Any], where: Where, name: str = "github"
) -> tuple[str, ...]:
    """A key that takes one string or a list of them, as a tuple without repeats (order kept): a
    repeated flag adds a subject, it never silently replaces the one before."""
    raw = section.get(key)
    if raw is None:
        return ()
    items = raw if isinstance(raw, list | tuple) else [raw]
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise InvalidInput(
                f"{_where(key, merged, where, name)}: expected a string or a list of strings, got {item!r}."
            )
    return tuple(dict.fromkeys(str(i) for i in items))


def checked(values: tuple[str, ...], where: str, check: Callable[[str], object]) -> tuple[str, ...]:
    for text in values:
        try:
            check(text)
        except ValueError as err:
            raise InvalidInput(f"{where}: {err}.") from err
    return values


def _claims(section: Mapping[str, Any], merged: Mapping[str, Any], where: Where) -> tuple[tuple[str, str], ...]:
    """The claim conditions, from KEY=VALUE flags or the file's mapping, each key checked."""
    from bootstrap.core import claims  # noqa: PLC0415 (a CI trust only)

    raw = section.get("claims")
    if raw is None:
        return ()
    at = _where("claims", merged, where)
    if isinstance(raw, Mapping):  # the file: KEY: VALUE or KEY: [VALUE, ...]
        texts = [f"{k}={v}" for k, vs in raw.items() for v in (vs if isinstance(vs, list) else [vs])]
    elif isinstance(raw, list | tuple):  # the flags: KEY=VALUE each
        texts = [str(t) for t in raw]
    else:
        raise InvalidInput(f"{at}: expected a mapping of claim: value, got {raw!r}.")
    pairs = []
    for text in texts:
        try:
            key, value = claims.check_claim(text)
        except ValueError as err:
            raise InvalidInput(f"{at}: {err}. Nothing was written.") from err
        if key in _DEDICATED:
            raise InvalidInput(f"{at}: the claim {key} has its own option, {_DEDICATED[key]}: use it instead.")
        pairs.append((key, value))
    return tuple(dict.fromkeys(pairs))


def build(
    section: Mapping[str, Any],
    value: Callable[..., str | None],
    merged: Mapping[str, Any],
    where: Where,
    issuer_override: str | None,
    audience: str | None,
    hub_role: str | None,
    allow_wide: bool,
) -> oidc.OidcTrust:
    from bootstrap.core import claims, ghtrust, oidc, oidcinput  # noqa: PLC0415 (a CI trust only)

    repo = value("github", "repo", lambda r: oidcinput.check_github_repo(r, allow_wide))
    repo_id = value("github", "repo_id", oidcinput.check_id)
    owner_id = value("github", "owner_id", oidcinput.check_id)
    if repo is None and repo_id is None:
        raise InvalidInput(
            "A GitHub trust needs the repository: pass --github-repo OWNER/REPO (config: github.repo), or its "
            "numeric ID with --github-repo-id."
        )
    if "subject" in (merged.get("oidc") or {}) or merged.get("oidc_subject") is not None:
        raise InvalidInput("--oidc-subject and --github-repo exclude each other: the subject is built from the repo.")
    refs = checked(strings(section, "ref", merged, where), _where("ref", merged, where), oidcinput.check_github_ref)
    envs = strings(section, "environment", merged, where)
    envs = checked(envs, _where("environment", merged, where), oidcinput.check_environment)
    pull_request = section.get("pull_request") is True
    if not (refs or envs or pull_request):
        raise InvalidInput(
            "Say which runs of the repository may assume the role: give at least one of --github-ref "
            "refs/heads/BRANCH|refs/tags/TAG, --github-environment NAME (each may repeat) or --github-pull-request."
        )
    if owner_id and not repo_id:
        raise InvalidInput(
            "--github-owner-id and --github-repo-id go together (the owner ID alone names no repository)."
        )
    if repo_id and repo is not None and repo.endswith("/*"):
        raise InvalidInput("--github-repo-id names one repository: it cannot go with OWNER/*.")
    fmt = value("github", "subject_format")
    if fmt is not None and fmt not in ghtrust.FORMATS:
        raise InvalidInput(f"{_where('subject_format', merged, where)}: '{fmt}' is not name, immutable or both.")
    if fmt in ("immutable", "both") and not (owner_id and repo_id) and repo is not None:
        raise NeedsIds(
            f"{_where('subject_format', merged, where)}: the {fmt} subject reads repo:OWNER@OWNER_ID/REPO@REPO_ID, "
            "so it needs both IDs: pass --github-owner-id and --github-repo-id, or set GITHUB_TOKEN (or "
            "--github-token-file) to look them up. Nothing was written."
        )
    workflow = value("github", "workflow", claims.check_workflow)
    issuer = value("github", "issuer", oidcinput.check_issuer) or issuer_override or oidc.GITHUB_ISSUER
    aud = value("github", "audience", oidcinput.check_audience) or audience or oidc.STS_AUDIENCE
    conditions = _claims(section, merged, where)
    if not claims.passed_keys(oidc.provider_host(issuer)) and (conditions or workflow or repo is None):
        raise InvalidInput(
            f"AWS puts no claim but sub and aud in the request for the issuer {issuer} (GitHub Enterprise Server), so "
            "--github-claim, --github-workflow and a trust on --github-repo-id alone would admit nothing there: "
            "name the repository with --github-repo and its runs. Nothing was written."
        )
    if any(key == "environment" for key, _ in conditions) and not envs:
        # GitHub's default sub for a job that names an environment is repo:O/R:environment:NAME, not :ref: or
        # :pull_request (docs.github.com, "About security hardening with OpenID Connect", example subject claims).
        raise InvalidInput(
            f"{_where('claims', merged, where)}: a job that names an environment sends sub "
            "repo:OWNER/REPO:environment:NAME, so a trust on refs or pull requests with an environment claim admits "
            "no token at all. Name the environment with --github-environment NAME instead. Nothing was written."
        )
    return ghtrust.github_trust(
        repo,
        ghtrust.GithubRuns(refs, envs, pull_request),
        owner_id=owner_id,
        repo_id=repo_id,
        fmt=fmt,
        claims=conditions,
        workflow=workflow,
        issuer=oidcinput.check_issuer(issuer),
        audience=aud,
        hub_role=hub_role,
    )
