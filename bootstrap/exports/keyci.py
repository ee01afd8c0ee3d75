"""Pure: a key-based trust (an IAM user of A with access keys) as a GitHub Actions workflow (the keys
from the repository's secrets, aws-actions/configure-aws-credentials assumes the role) or a GitLab CI
job (the keys from masked CI/CD variables, the aws CLI assumes the role).

With access keys the action calls AssumeRole with its session tags (src/assumeRole.ts): the trust
and the grant admit them only with --for github-actions (trust/consumerpolicy.py); otherwise the
step sets `role-skip-session-tagging: true`, so that the call is the bare AssumeRole the trust was
built and proven for. Built as a structure and written by yamlwrite; only the ``secrets.*``
expressions, which are this module's own constants, are left for GitHub to evaluate.
"""

from __future__ import annotations

from typing import Any

from bootstrap.core import consumers
from bootstrap.exports import shellwrite, yamlwrite
from bootstrap.exports.formats import Trust
from bootstrap.exports.shellwrite import Var

# Repository (or environment) secrets the user creates from the CI user's access key.
SECRETS = {
    "aws-access-key-id": "${{ secrets.AWS_ACCESS_KEY_ID }}",
    "aws-secret-access-key": "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
}
EXTERNAL_ID_SECRET = "${{ secrets.AWS_ROLE_EXTERNAL_ID }}"  # noqa: S105 (a reference to a secret, not one)


def github_actions(trust: Trust, named: tuple[str, ...]) -> str:
    tagging = consumers.tags_session(named)
    inputs: dict[str, Any] = yamlwrite.github_inert(
        {
            "aws-region": trust.region,
            "role-to-assume": trust.role.arn,
            "role-session-name": consumers.GITHUB_SESSION,  # the action's default, never the proof's
            "role-duration-seconds": consumers.duration(
                min(trust.role.max_session_duration, consumers.GITHUB_DURATION_S), chained=False
            ),
        }
    )
    inputs = {**SECRETS, **inputs}
    if trust.external_id:
        inputs["role-external-id"] = EXTERNAL_ID_SECRET
    if not tagging:
        inputs["role-skip-session-tagging"] = True
    step = {"name": "Assume the role (access keys)", "uses": consumers.GITHUB_ACTION, "with": inputs}
    workflow = {
        "on": {"workflow_dispatch": None},
        "permissions": {"contents": "read"},  # no id-token: the credentials are the CI user's keys
        "jobs": {"deploy": {"runs-on": "ubuntu-latest", "steps": [step, {"run": "aws sts get-caller-identity"}]}},
    }
    comments = [
        f"trust-bootstrap: {trust.principal_arn} assumes {trust.role.arn} with its access keys",
        "Secrets: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" + (", AWS_ROLE_EXTERNAL_ID" if trust.external_id else ""),
        "The trust admits the action's session tags (sts:TagSession, its 13 keys)"
        if tagging
        else "role-skip-session-tagging: the trust has no sts:TagSession (add --for github-actions to admit the tags)",
    ]
    return yamlwrite.dump(workflow, comments)


def gitlab_ci(trust: Trust) -> str:
    """The job for a key-based trust: the CI user's keys come from masked CI/CD variables
    (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, which the aws CLI reads from the environment), and a
    profile of the job's own assumes the role from them (credential_source = Environment:
    https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-role.html). No tags: the aws CLI
    sends none, so the trust needs no sts:TagSession for it."""
    profile = ("--profile", "target")
    settings = [
        ("role_arn", trust.role.arn),
        ("credential_source", "Environment"),
        ("role_session_name", consumers.session_name(consumers.Consumer.GITLAB_CI, trust.role.name)),
        ("duration_seconds", str(consumers.duration(min(trust.role.max_session_duration, 3600), chained=False))),
    ]
    script = [shellwrite.line("aws", "configure", "set", key, value, *profile) for key, value in settings]
    if trust.external_id:  # from a masked variable, as the keys: not in the file
        script.append(shellwrite.line("aws", "configure", "set", "external_id", Var("AWS_ROLE_EXTERNAL_ID"), *profile))
    job = {
        "variables": {"AWS_DEFAULT_REGION": yamlwrite.gitlab_variable(trust.region)},
        "script": [*script, "export AWS_PROFILE=target", "aws sts get-caller-identity"],
    }
    comments = [
        f"trust-bootstrap: {trust.principal_arn} assumes {trust.role.arn} with its access keys",
        "Masked CI/CD variables: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"
        + (", AWS_ROLE_EXTERNAL_ID" if trust.external_id else ""),
    ]
    return yamlwrite.dump({"deploy": job}, comments)
