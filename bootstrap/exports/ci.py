"""Pure: a CI trust rendered for the CI side: a GitHub Actions workflow fragment and a GitLab CI job.

GitHub: the job needs `permissions: id-token: write` to request its token
(https://docs.github.com/en/actions/reference/security/oidc#methods-for-requesting-the-oidc-token);
aws-actions/configure-aws-credentials assumes `role-to-assume` with it (audience sts.amazonaws.com
unless told), and `role-chaining: true` assumes the next role with the credentials it holds.
GitLab: `id_tokens` makes the job's token with the `aud` it names
(https://docs.gitlab.com/ci/secrets/id_token_authentication/); boto3 and the aws CLI assume
AWS_ROLE_ARN with the token in AWS_WEB_IDENTITY_TOKEN_FILE.

Both are built as structures and written by yamlwrite (values through PyYAML's emitter, made inert
for GitHub's ${{ }} expressions and GitLab's variable expansion) and shellwrite (script lines): no
value is pasted into the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bootstrap.core import consumers, globs, oidc
from bootstrap.exports import shellwrite, yamlwrite
from bootstrap.exports.shellwrite import Redirect, Var

# The action's current major: @v4 and @v5 declare the node20 runtime, which GitHub removes from its
# runners on 2026-09-23; v6's action.yml declares `using: node24` (read at v6-43-gbcd4089).
ACTION = consumers.GITHUB_ACTION


@dataclass(frozen=True)
class CiExport:
    trust: oidc.OidcTrust
    role_arn: str
    hub_role_arn: str | None
    region: str
    role_name: str
    consumers: tuple[str, ...] = ()  # --for: a consumer that tags its sessions is admitted by the trust


def comments(trust: oidc.OidcTrust) -> list[str]:
    lines = [f"trust-bootstrap: {trust.description}"]
    lines += [
        f"The role admits sub {'StringLike' if globs.has_wildcard(s) else 'StringEquals'} {s}" for s in trust.subjects
    ]
    # what the token must carry besides sub and aud: the job cannot pass without it
    lines += [f"The token must carry {key} = {' or '.join(values)}" for key, values in trust.conditions]
    return lines


def _github_trigger(trust: oidc.OidcTrust) -> tuple[dict[str, Any], str | None]:
    """(the `on:` mapping, the job's environment) for the runs the trust admits: each ref's branch or
    tag, pull requests, and the first environment (a job names one; the comments list every sub)."""
    contexts = [dict(c.claims) for c in trust.contexts]
    environment = next((str(c["environment"]) for c in contexts if c.get("environment")), None)
    refs = {s.rpartition(":ref:")[2].replace("%3A", ":") for s in trust.subjects if ":ref:" in s}
    # A job in an environment sends an environment sub (any ref), so its pushes are not narrowed by the
    # subjects' refs; a `ref` claim the trust requires holds for every job, so it narrows them all.
    claimed = {v for key, values in trust.conditions if key == "ref" for v in values}
    if environment:
        refs = claimed
    elif claimed:  # both must hold: the claimed refs that a subject's ref (or pattern) admits
        refs = {c for c in claimed if any(globs.matches(r, c) for r in refs)} or refs
    branches = sorted(r.removeprefix("refs/heads/") for r in refs if r.startswith("refs/heads/"))
    tags = sorted(r.removeprefix("refs/tags/") for r in refs if r.startswith("refs/tags/"))
    push: dict[str, Any] = {**({"branches": branches} if branches else {}), **({"tags": tags} if tags else {})}
    trigger: dict[str, Any] = {}
    if environment or push or not any(c.get("event_name") == "pull_request" for c in contexts):
        trigger["push"] = push or None  # None: any push (the trust narrows it)
    if any(c.get("event_name") == "pull_request" for c in contexts):
        trigger["pull_request"] = None
    return trigger, environment


def _credentials_step(name: str, role_arn: str, export: CiExport, chain: bool) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "role-to-assume": role_arn,
        "aws-region": export.region,
        "role-session-name": consumers.GITHUB_SESSION,  # the action's own default, never the proof's
    }
    if chain:
        inputs["role-chaining"] = True
        # With role-chaining the action sends AssumeRole with its session tags (src/assumeRole.ts), which
        # needs sts:TagSession in B's trust and the hub role's grant: those hold it only with --for
        # github-actions; without it the step does not tag, so the trust needs no sts:TagSession.
        if not consumers.tags_session(export.consumers):
            inputs["role-skip-session-tagging"] = True
    elif export.trust.audience != oidc.STS_AUDIENCE:
        inputs["audience"] = export.trust.audience
    return {"name": name, "uses": ACTION, "with": inputs}


def github_actions(export: CiExport) -> str:
    trigger, environment = _github_trigger(export.trust)
    job: dict[str, Any] = {"runs-on": "ubuntu-latest"}
    if environment:
        job["environment"] = environment  # the sub names the environment
    if export.hub_role_arn:
        steps = [
            _credentials_step("Assume the CI hub role (web identity)", export.hub_role_arn, export, chain=False),
            _credentials_step("Chain into the target role", export.role_arn, export, chain=True),
        ]
    else:
        steps = [_credentials_step("Assume the role (web identity)", export.role_arn, export, chain=False)]
    job["steps"] = [*steps, {"run": "aws sts get-caller-identity"}]
    workflow_ref = dict(export.trust.conditions).get("job_workflow_ref")
    if workflow_ref:  # only the pinned reusable workflow's jobs are admitted: this job calls it
        path, _, ref = workflow_ref[0].partition("@")
        job = {"uses": f"{path}@{ref.removeprefix('refs/heads/').removeprefix('refs/tags/')}", "secrets": "inherit"}
    # the token's workflow claim is the workflow's name: a trust that requires it needs this name
    names = dict(export.trust.conditions).get("workflow")
    workflow = {
        "on": trigger,
        "permissions": {"id-token": "write", "contents": "read"},  # id-token: the job may request its OIDC token
        "jobs": {"deploy": job},
    }
    # a workflow's name is never evaluated (no context is available to it, unlike run-name): written as it is
    named = {"name": names[0]} if names else {}
    if names and "${{" in names[0]:  # actionlint reads an expression there: no literal form is sure
        raise ValueError(f"the workflow name {names[0]!a} holds '${{{{', which GitHub may read as an expression")
    return yamlwrite.dump({**named, **yamlwrite.github_inert(workflow)}, comments(export.trust))


def chain_profiles(target_role_arn: str, session: str) -> list[str]:
    """Role chaining in a CI job's shell: profile hub assumes AWS_ROLE_ARN with the token in
    AWS_WEB_IDENTITY_TOKEN_FILE, profile target the role in B with hub's credentials, under the
    consumer's own session name (the aws CLI's default is botocore-session-N). AWS_PROFILE=target
    selects it (the caller sets it as its platform sets variables)."""
    return [
        shellwrite.line("aws", "configure", "set", "role_arn", Var("AWS_ROLE_ARN"), "--profile", "hub"),
        shellwrite.line(
            "aws", "configure", "set", "web_identity_token_file", Var("AWS_WEB_IDENTITY_TOKEN_FILE"), "--profile", "hub"
        ),
        shellwrite.line("aws", "configure", "set", "role_arn", target_role_arn, "--profile", "target"),
        shellwrite.line("aws", "configure", "set", "source_profile", "hub", "--profile", "target"),
        shellwrite.line("aws", "configure", "set", "role_session_name", session, "--profile", "target"),
    ]


def gitlab_ci(export: CiExport) -> str:
    trust = export.trust
    context = dict(trust.contexts[0].claims) if trust.contexts else {}
    ref = context.get("ref", "")
    first = export.hub_role_arn or export.role_arn
    session = consumers.session_name(consumers.Consumer.GITLAB_CI, export.role_name)  # never the proof's
    job: dict[str, Any] = {
        "id_tokens": {"AWS_ID_TOKEN": {"aud": trust.audience}},
        "variables": {
            "AWS_ROLE_ARN": yamlwrite.gitlab_variable(first),
            # expanded by GitLab on purpose: the job's own directory and ID
            "AWS_WEB_IDENTITY_TOKEN_FILE": "$CI_BUILDS_DIR/aws-web-identity-token-$CI_JOB_ID",
            "AWS_ROLE_SESSION_NAME": yamlwrite.gitlab_variable(session),
            "AWS_DEFAULT_REGION": yamlwrite.gitlab_variable(export.region),
        },
    }
    if trust.platform == oidc.Platform.GITLAB and ref and not trust.wildcard:  # one rule per admitted ref
        job["rules"] = [
            {"if": f"{'$CI_COMMIT_TAG' if c.get('ref_type') == 'tag' else '$CI_COMMIT_BRANCH'} == "
                   f"{yamlwrite.gitlab_string_literal(str(c.get('ref', '')))}"}
            for c in (dict(context.claims) for context in trust.contexts)
        ]  # fmt: skip
    token_file = Var("AWS_WEB_IDENTITY_TOKEN_FILE")
    script = [shellwrite.line("printf", "%s", Var("AWS_ID_TOKEN"), Redirect(token_file))]
    if export.hub_role_arn:
        script += [*chain_profiles(export.role_arn, session), "export AWS_PROFILE=target"]
    job["script"] = [*script, "aws sts get-caller-identity"]
    return yamlwrite.dump({"deploy": job}, comments(trust))
