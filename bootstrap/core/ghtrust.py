"""Pure: the GitHub Actions trust as teams write it in 2026: many subjects (refs, environments, pull
requests), claim conditions, a pinned reusable workflow, and immutable repository IDs.

Subject formats (https://docs.github.com/en/actions/reference/security/oidc, "Example subject claims"
and "Immutable subject claims"; changelog 2026-04-23, "Immutable subject claims for GitHub Actions OIDC
tokens"): the name format `repo:OWNER/REPO:...`, and the immutable format
`repo:OWNER@OWNER_ID/REPO@REPO_ID:...`, the default for every repository created, renamed or
transferred on or after 2026-07-15 (older repositories may opt in). A trust that names only one format
admits nothing from a repository on the other, hence ``both`` while the IDs are known and the format
is not: it keeps working when the repository is renamed, transferred or opted in. A known repository
ID is also pinned as the `repository_id` condition, so a deleted and re-created repository of the same
name (a new ID) is refused whichever format its tokens use.
"""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.core.claims import passed_keys
from bootstrap.core.oidc import (
    GITHUB_ISSUER,
    STS_AUDIENCE,
    OidcTrust,
    Platform,
    RunContext,
    github_sub,
    provider_host,
)

FORMATS = ("name", "immutable", "both")


@dataclass(frozen=True)
class GithubRuns:
    """Which runs of the repository may assume the role: each ref, each environment, pull requests."""

    refs: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    pull_request: bool = False

    def each(self) -> list[tuple[str, dict[str, str | bool]]]:
        """(what, github_sub's keyword arguments) for each kind of run."""
        runs: list[tuple[str, dict[str, str | bool]]] = [(f"ref {r}", {"ref": r}) for r in self.refs]
        runs += [(f"environment {e}", {"environment": e}) for e in self.environments]
        runs += [("pull_request events", {"pull_request": True})] if self.pull_request else []
        return runs


def subject_format(requested: str | None, owner_id: str | None, repo_id: str | None) -> str:
    """The format written: as requested, else both formats when the IDs are known, else names."""
    if requested:
        return requested
    return "both" if owner_id and repo_id else "name"


def _example(value: str) -> str:
    return value.replace("*", "example").replace("?", "x")


def github_trust(
    repo: str | None,
    runs: GithubRuns,
    *,
    owner_id: str | None = None,
    repo_id: str | None = None,
    fmt: str | None = None,
    claims: tuple[tuple[str, str], ...] = (),
    workflow: str | None = None,
    issuer: str = GITHUB_ISSUER,
    audience: str = STS_AUDIENCE,
    hub_role: str | None = None,
) -> OidcTrust:
    """The trust; ``repo`` may be None when ``repo_id`` names the repository (the sub is then a
    pattern over any name, narrowed by the repository_id condition: IAM still sees a sub condition)."""
    chosen = subject_format(fmt, owner_id, repo_id)
    if chosen != "name" and not (owner_id and repo_id) and repo is not None:
        raise ValueError(f"the {chosen} subject format needs both the owner ID and the repository ID")
    subjects: list[tuple[str, str, dict[str, str | bool]]] = []  # (sub, what, run)
    for what, run in runs.each():
        if repo is None:
            subjects.append((github_sub("*/*", **run).replace("repo:*/*", "repo:*", 1), what, run))  # type: ignore[arg-type]
            continue
        if chosen in ("name", "both"):
            subjects.append((github_sub(repo, **run), what, run))  # type: ignore[arg-type]
        if chosen in ("immutable", "both"):
            subjects.append((github_sub(repo, owner_id=owner_id, repo_id=repo_id, **run), what, run))  # type: ignore[arg-type]
    unique = list(dict.fromkeys(s for s, _, _ in subjects))
    conditions: dict[str, list[str]] = {}
    # The IDs are pinned only where STS passes them (not on GitHub Enterprise Server's issuer: there
    # the condition would find no key and refuse every token; the immutable sub still names them).
    pins = bool(passed_keys(provider_host(issuer)))
    for key, value in (
        *claims,
        *((("repository_id", repo_id),) if repo_id and pins else ()),
        *((("repository_owner_id", owner_id),) if owner_id and pins else ()),
        *((("job_workflow_ref", workflow),) if workflow else ()),
    ):
        conditions.setdefault(key, [])
        if value not in conditions[key]:
            conditions[key].append(value)
    owner, _, name = (repo or "example-owner/example-repo").partition("/")
    example_repo = f"{owner}/{_example(name)}"
    contexts = tuple(_context(sub, what, run, example_repo, owner, owner_id, repo_id, conditions, issuer, audience)
                     for sub, what, run in subjects)  # fmt: skip
    whats = " or ".join(dict.fromkeys(what for _, what, _ in subjects))
    shown = repo or f"with ID {repo_id}"
    extras = [f"{chosen} subjects"] if repo is not None else []
    extras += [f"{k} {' or '.join(v)}" for k, v in conditions.items()]
    return OidcTrust(
        platform=Platform.GITHUB,
        issuer=issuer,
        audience=audience,
        subject=unique[0],
        more_subjects=tuple(unique[1:]),
        description=f"GitHub repository {shown}, {whats}" + (f" ({'; '.join(extras)})" if extras else ""),
        contexts=contexts,
        hub_role=hub_role,
        org_wildcard=name == "*",
        conditions=tuple((k, tuple(v)) for k, v in conditions.items()),
    )


def _context(
    sub: str,
    what: str,
    run: dict[str, str | bool],
    example_repo: str,
    owner: str,
    owner_id: str | None,
    repo_id: str | None,
    conditions: dict[str, list[str]],
    issuer: str,
    audience: str,
) -> RunContext:
    """The claims a run the trust is meant for carries (the first value of each condition)."""
    ref = str(run.get("ref") or ("refs/pull/1/merge" if run.get("pull_request") else "refs/heads/main"))
    claims: dict[str, str] = {
        "iss": issuer,
        "aud": audience,
        "sub": _example(sub),
        "repository": example_repo,
        "repository_owner": owner,
        "event_name": "pull_request" if run.get("pull_request") else "push",
        "ref": _example(ref),
    }
    if run.get("environment"):
        claims["environment"] = str(run["environment"])
    if owner_id:
        claims["repository_owner_id"] = owner_id
    if repo_id:
        claims["repository_id"] = repo_id
    claims.update({key: values[0] for key, values in conditions.items()})
    form = " (immutable sub)" if f"@{repo_id}" in sub else ""  # two runs alike but for the sub's format
    return RunContext(f"a GitHub Actions job of {example_repo} for {what}{form}", tuple(sorted(claims.items())))
