"""Pure: a CI trust rendered for the CI side: a GitHub Actions workflow fragment and a GitLab CI job.

GitHub: the job needs `permissions: id-token: write` to request its token
(https://docs.github.com/en/actions/reference/security/oidc#methods-for-requesting-the-oidc-token);
aws-actions/configure-aws-credentials assumes `role-to-assume` with it (audience sts.amazonaws.com
unless told), and `role-chaining: true` assumes the next role with the credentials it holds.
GitLab: `id_tokens` makes the job's token with the `aud` it names
(https://docs.gitlab.com/ci/secrets/id_token_authentication/); boto3 and the aws CLI assume
AWS_ROLE_ARN with the token in AWS_WEB_IDENTITY_TOKEN_FILE.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bootstrap.core import oidc

ACTION = "aws-actions/configure-aws-credentials@v4"


@dataclass(frozen=True)
class CiExport:
    trust: oidc.OidcTrust
    role_arn: str
    hub_role_arn: str | None
    region: str
    session_name: str


def _q(value: str) -> str:
    """A YAML scalar that stays a string (JSON strings are valid YAML)."""
    return json.dumps(value)


def _github_trigger(trust: oidc.OidcTrust) -> tuple[list[str], str | None]:
    """(the `on:` lines, the job's environment) for the runs the trust admits."""
    context = dict(trust.contexts[0].claims) if trust.contexts else {}
    environment = context.get("environment")
    if environment:
        return ["on:", "  push:"], environment
    if context.get("event_name") == "pull_request":
        return ["on:", "  pull_request:"], None
    ref = trust.subject.rpartition(":ref:")[2].replace("%3A", ":")
    if ref.startswith("refs/heads/"):
        return ["on:", "  push:", f"    branches: [{_q(ref.removeprefix('refs/heads/'))}]"], None
    if ref.startswith("refs/tags/"):
        return ["on:", "  push:", f"    tags: [{_q(ref.removeprefix('refs/tags/'))}]"], None
    return ["on:", "  push:"], None


def _credentials_step(name: str, role_arn: str, export: CiExport, chain: bool) -> list[str]:
    lines = [f"      - name: {name}", f"        uses: {ACTION}", "        with:",
             f"          role-to-assume: {role_arn}", f"          aws-region: {export.region}",
             f"          role-session-name: {export.session_name}"]  # fmt: skip
    if chain:
        lines.append("          role-chaining: true")
    elif export.trust.audience != oidc.STS_AUDIENCE:
        lines.append(f"          audience: {_q(export.trust.audience)}")
    return lines


def github_actions(export: CiExport) -> str:
    trigger, environment = _github_trigger(export.trust)
    lines = [
        f"# trust-bootstrap: {export.trust.description}",
        f"# The role admits sub {export.trust.sub_operator} {export.trust.subject}",
        *trigger,
        "permissions:",
        "  id-token: write  # lets the job request its OIDC token",
        "  contents: read",
        "jobs:",
        "  deploy:",
        "    runs-on: ubuntu-latest",
    ]
    if environment:
        lines.append(f"    environment: {_q(environment)}  # the sub names the environment")
    lines.append("    steps:")
    if export.hub_role_arn:
        lines += _credentials_step("Assume the CI hub role (web identity)", export.hub_role_arn, export, chain=False)
        lines += _credentials_step("Chain into the target role", export.role_arn, export, chain=True)
    else:
        lines += _credentials_step("Assume the role (web identity)", export.role_arn, export, chain=False)
    lines += ["      - run: aws sts get-caller-identity"]
    return "\n".join(lines) + "\n"


def gitlab_ci(export: CiExport) -> str:
    trust = export.trust
    context = dict(trust.contexts[0].claims) if trust.contexts else {}
    ref, ref_type = context.get("ref", ""), context.get("ref_type", "branch")
    first = export.hub_role_arn or export.role_arn
    lines = [
        f"# trust-bootstrap: {trust.description}",
        f"# The role admits sub {trust.sub_operator} {trust.subject}",
        "deploy:",
        "  id_tokens:",
        "    AWS_ID_TOKEN:",
        f"      aud: {_q(trust.audience)}",
        "  variables:",
        f"    AWS_ROLE_ARN: {_q(first)}",
        '    AWS_WEB_IDENTITY_TOKEN_FILE: "$CI_BUILDS_DIR/aws-web-identity-token-$CI_JOB_ID"',
        f"    AWS_ROLE_SESSION_NAME: {_q(export.session_name)}",
        f"    AWS_DEFAULT_REGION: {_q(export.region)}",
    ]
    if trust.platform == oidc.Platform.GITLAB and ref and not oidc.has_wildcard(trust.subject):
        variable = "$CI_COMMIT_TAG" if ref_type == "tag" else "$CI_COMMIT_BRANCH"
        lines += ["  rules:", f"    - if: {variable} == {_q(ref)}"]
    lines += ["  script:", '    - printf \'%s\' "$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"']
    if export.hub_role_arn:
        lines += [
            "    # role chaining: the hub role (web identity), then the target role with its credentials",
            '    - aws configure set role_arn "$AWS_ROLE_ARN" --profile hub',
            '    - aws configure set web_identity_token_file "$AWS_WEB_IDENTITY_TOKEN_FILE" --profile hub',
            f"    - aws configure set role_arn {_q(export.role_arn)} --profile target",
            "    - aws configure set source_profile hub --profile target",
            "    - export AWS_PROFILE=target",
        ]
    lines.append("    - aws sts get-caller-identity")
    return "\n".join(lines) + "\n"
