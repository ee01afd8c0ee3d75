"""Pure: the registry of further CI platforms (CircleCI, Bitbucket Pipelines, Buildkite). One entry per
platform: its config section and flags (``--NAME-KEY``), its issuer, audience and subjects, and how a
job hands its token to the AWS SDK (the export). Config, the CLI, exports and diagnose read this
table; a platform is one entry here, not a set of modules.

Facts, from each platform's documentation:
- CircleCI (https://circleci.com/docs/guides/permissions-authentication/openid-connect-tokens/): issuer
  https://oidc.circleci.com/org/ORG_ID, aud the organization ID, sub
  `org/ORG_ID/project/PROJECT_ID/user/USER_ID`; the job's token is $CIRCLE_OIDC_TOKEN.
- Bitbucket Pipelines (https://support.atlassian.com/bitbucket-cloud/docs/integrate-pipelines-with-resource-servers-using-oidc/):
  issuer https://api.bitbucket.org/2.0/workspaces/WORKSPACE/pipelines-config/identity/oidc, aud
  `ari:cloud:bitbucket::workspace/WORKSPACE_UUID`, sub `{REPOSITORY_UUID}:{STEP_UUID}`, or
  `{REPOSITORY_UUID}:{ENVIRONMENT_UUID}:{STEP_UUID}` for a deployment step; a step with `oidc: true`
  gets $BITBUCKET_STEP_OIDC_TOKEN.
- Buildkite (https://buildkite.com/docs/pipelines/security/oidc/aws): issuer https://agent.buildkite.com
  (shared by every organization), the audience the job requests (`buildkite-agent oidc request-token
  --audience sts.amazonaws.com`), sub `organization:ORG:pipeline:PIPELINE:ref:REF:commit:SHA:step:KEY`.
AWS passes only sub and aud of these issuers to the trust policy (no further condition keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bootstrap.core.identifiers import check_one_line

if TYPE_CHECKING:  # imported by the builders only: the CLI reads this table on every run, most build no CI trust
    from bootstrap.core.oidc import OidcTrust

STS_AUDIENCE = "sts.amazonaws.com"  # what the job asks for (as core/oidc.py's)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
_WORKSPACE = re.compile(r"[A-Za-z0-9_.-]{1,62}")


@dataclass(frozen=True)
class Field:
    key: str  # the section's key; the flag is --PLATFORM-KEY
    help: str
    metavar: str
    repeat: bool = False  # each value adds subjects


@dataclass(frozen=True)
class Export:
    """How a job of the platform gets its token into AWS_WEB_IDENTITY_TOKEN_FILE (exports/pipelines.py)."""

    file: str  # the pipeline file the snippet belongs in
    token_variable: str | None  # the job's token, when the platform puts it in a variable
    dollar_escape: bool = False  # Buildkite interpolates $VAR when the pipeline is uploaded: write $$


Values = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Spec:
    name: str  # the config section and the flags' prefix
    title: str
    doc: str
    fields: tuple[Field, ...]
    build: Callable[[Values, str | None, bool], OidcTrust]  # (values, audience override, allow_org_wildcard)
    export: Export

    def flag_keys(self) -> tuple[str, ...]:
        return tuple(f"{self.name}_{f.key}" for f in self.fields)


def _one(values: Values, key: str, what: str, pattern: re.Pattern[str], required: bool = True) -> str | None:
    found = values.get(key, ())
    if not found:
        if required:
            raise ValueError(f"{what} is required")
        return None
    if len(found) > 1:
        raise ValueError(f"{what} takes one value (given: {', '.join(found)})")
    text = found[0].strip()
    check_one_line(text)
    if not pattern.fullmatch(text.strip("{}")):
        raise ValueError(f"'{text}' is not a valid {what}")
    return text.strip("{}")


def _trust(platform: str, issuer: str, audience: str, subjects: list[str], what: str, wide: bool) -> OidcTrust:
    from bootstrap.core.oidc import OidcTrust, RunContext  # noqa: PLC0415 (see the imports)

    contexts = tuple(
        RunContext(f"a {platform} job ({what})", tuple(sorted({"iss": issuer, "aud": audience,
                                                               "sub": s.replace("*", "example")}.items())))
        for s in subjects
    )  # fmt: skip
    return OidcTrust(platform=platform, issuer=issuer, audience=audience, subject=subjects[0],
                     more_subjects=tuple(subjects[1:]), description=what, contexts=contexts, org_wildcard=wide)  # fmt: skip


def _wide(subject: str, allow: bool, scope: str) -> bool:
    if not allow:
        raise ValueError(f"'{subject}' admits every {scope}: pass --allow-org-wildcard if that is intended")
    return True


def circleci(values: Values, audience: str | None, allow_wide: bool) -> OidcTrust:
    org = _one(values, "org_id", "--circleci-org-id (the organization ID, a UUID)", _UUID)
    assert org is not None
    projects = values.get("project_id", ())
    for project in projects:
        if not _UUID.fullmatch(project):
            raise ValueError(f"'{project}' is not a CircleCI project ID (a UUID)")
    issuer = f"https://oidc.circleci.com/org/{org}"
    if not projects:  # every project of the organization
        subjects, wide = [f"org/{org}/*"], _wide(f"org/{org}/*", allow_wide, "project of the organization")
    else:  # any user of one project: confined to the project, not organization-wide
        subjects, wide = [f"org/{org}/project/{p}/user/*" for p in projects], False
    what = f"CircleCI organization {org}, " + (f"project {' or '.join(projects)}" if projects else "every project")
    return _trust("circleci", issuer, audience or org, subjects, what, wide)


def bitbucket(values: Values, audience: str | None, allow_wide: bool) -> OidcTrust:
    workspace = _one(values, "workspace", "--bitbucket-workspace (the workspace's slug)", _WORKSPACE)
    workspace_uuid = _one(values, "workspace_uuid", "--bitbucket-workspace-uuid", _UUID)
    repo = _one(values, "repository_uuid", "--bitbucket-repository-uuid", _UUID, required=not allow_wide)
    environments = [e.strip("{}") for e in values.get("environment_uuid", ())]
    for env in environments:
        if not _UUID.fullmatch(env):
            raise ValueError(f"'{env}' is not a Bitbucket deployment environment UUID")
    issuer = f"https://api.bitbucket.org/2.0/workspaces/{workspace}/pipelines-config/identity/oidc"
    aud = audience or f"ari:cloud:bitbucket::workspace/{workspace_uuid}"
    if repo is None:
        subjects, wide = ["{*}:*"], _wide("{*}:*", allow_wide, "repository of the workspace")
    elif environments:  # a deployment step: {REPO}:{ENV}:{STEP}
        subjects, wide = [f"{{{repo}}}:{{{e}}}:*" for e in environments], False
    else:
        subjects, wide = [f"{{{repo}}}:*"], False
    what = f"Bitbucket workspace {workspace}, " + (f"repository {{{repo}}}" if repo else "every repository")
    what += f", environment {' or '.join(environments)}" if environments else ""
    return _trust("bitbucket", issuer, aud, subjects, what, wide)


def buildkite(values: Values, audience: str | None, allow_wide: bool) -> OidcTrust:
    org = _one(values, "organization", "--buildkite-organization (the organization's slug)", _SLUG)
    pipeline = _one(values, "pipeline", "--buildkite-pipeline (the pipeline's slug)", _SLUG, required=not allow_wide)
    refs = values.get("ref", ())
    for ref in refs:
        check_one_line(ref)
        if not ref.startswith("refs/") or any(c in ref for c in "*?:"):
            raise ValueError(f"'{ref}' is not a full Git ref (refs/heads/BRANCH or refs/tags/TAG, no wildcard)")
    if pipeline is None:  # the issuer is shared by every Buildkite organization: never wider than one
        subjects, wide = [f"organization:{org}:pipeline:*"], _wide(f"organization:{org}:*", allow_wide, "pipeline")
    else:
        base = f"organization:{org}:pipeline:{pipeline}:ref:"
        subjects, wide = ([f"{base}{r}:commit:*:step:*" for r in refs] or [f"{base}*"]), False
    what = f"Buildkite organization {org}, " + (f"pipeline {pipeline}" if pipeline else "every pipeline")
    what += f", ref {' or '.join(refs)}" if refs else ""
    return _trust("buildkite", "https://agent.buildkite.com", audience or STS_AUDIENCE, subjects, what, wide)


REGISTRY: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec("circleci", "CircleCI", "https://circleci.com/docs/guides/permissions-authentication/openid-connect-tokens/",
             (Field("org_id", "CircleCI: the organization ID (UUID; the issuer and audience name it).", "UUID"),
              Field("project_id", "CircleCI: a project ID (UUID; repeatable); none: every project.", "UUID",
                    repeat=True)),
             circleci, Export(".circleci/config.yml", "CIRCLE_OIDC_TOKEN")),
        Spec("bitbucket", "Bitbucket Pipelines",
             "https://support.atlassian.com/bitbucket-cloud/docs/integrate-pipelines-with-resource-servers-using-oidc/",
             (Field("workspace", "Bitbucket: the workspace slug (it names the issuer).", "SLUG"),
              Field("workspace_uuid", "Bitbucket: the workspace UUID (the audience names it).", "UUID"),
              Field("repository_uuid", "Bitbucket: the repository UUID.", "UUID"),
              Field("environment_uuid", "Bitbucket: a deployment environment UUID (repeatable).", "UUID",
                    repeat=True)),
             bitbucket, Export("bitbucket-pipelines.yml", "BITBUCKET_STEP_OIDC_TOKEN")),
        Spec("buildkite", "Buildkite", "https://buildkite.com/docs/pipelines/security/oidc/aws",
             (Field("organization", "Buildkite: the organization slug.", "SLUG"),
              Field("pipeline", "Buildkite: the pipeline slug.", "SLUG"),
              Field("ref", "Buildkite: a full Git ref, refs/heads/BRANCH (repeatable); none: any ref.", "REF",
                    repeat=True)),
             buildkite, Export(".buildkite/pipeline.yml", None, dollar_escape=True)),
    )
}  # fmt: skip
NAMES = tuple(REGISTRY)
