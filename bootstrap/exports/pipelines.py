"""Pure: a trust of a registry platform (core/platforms.py: CircleCI, Bitbucket Pipelines, Buildkite)
rendered as its pipeline snippet: a job that writes its token to AWS_WEB_IDENTITY_TOKEN_FILE, so that
the AWS CLI and SDKs assume AWS_ROLE_ARN with it (AssumeRoleWithWebIdentity from the environment:
https://docs.aws.amazon.com/sdkref/latest/guide/feature-assume-role-credentials.html).

Token sources, as each platform documents them (cited in core/platforms.py): CircleCI's job has
$CIRCLE_OIDC_TOKEN; a Bitbucket step with `oidc: true` has $BITBUCKET_STEP_OIDC_TOKEN; a Buildkite job
runs `buildkite-agent oidc request-token --audience AUD`. Built as structures and written by yamlwrite
(values through PyYAML's emitter) and shellwrite (script lines); Buildkite interpolates `$NAME` when
the pipeline is uploaded, so its lines have each `$` doubled, which the agent reads back as one.
"""

from __future__ import annotations

from typing import Any

from bootstrap.core.platforms import REGISTRY
from bootstrap.exports import shellwrite, yamlwrite
from bootstrap.exports.ci import CiExport, chain_profiles, comments
from bootstrap.exports.shellwrite import Redirect, Var

# Relative to the step's working directory (the job's own checkout), never a shared /tmp: a predictable
# name there lets another user of a self-hosted runner plant a symlink or read the token. botocore opens
# AWS_WEB_IDENTITY_TOKEN_FILE as given, so every step of the job, run from that directory, finds it.
TOKEN_FILE = ".aws-web-identity-token"  # noqa: S105 (a file name, not a secret)


def _script(platform: str, audience: str, export: CiExport) -> list[str]:
    spec = REGISTRY[platform]
    token_file = Var("AWS_WEB_IDENTITY_TOKEN_FILE")
    if spec.export.token_variable is not None:
        first = shellwrite.line("printf", "%s", Var(spec.export.token_variable), Redirect(token_file))
    else:  # Buildkite: the agent requests the token with the trust's audience
        first = shellwrite.line(
            "buildkite-agent", "oidc", "request-token", "--audience", audience, Redirect(token_file)
        )
    lines = [first, *_chain(export), "aws sts get-caller-identity"]
    return [line.replace("$", "$$") for line in lines] if spec.export.dollar_escape else lines


def _chain(export: CiExport) -> list[str]:
    """The hub topology: the hub role by web identity (profile hub), then the target role with its
    credentials (profile target, which AWS_PROFILE names), the GitLab job's lines (exports/ci.py);
    without these lines the job would stop at the hub role."""
    if not export.hub_role_arn:
        return []
    return chain_profiles(export.role_arn, _session_name(export))


def _session_name(export: CiExport) -> str:
    """The platform's own session name, never the proof's (a CloudTrail reader tells them apart);
    STS allows 64 characters."""
    return f"{export.trust.platform}-{export.role_name}"[:64]


def _literal(platform: str, value: str) -> str:
    """``value`` as the platform reads it from the file: Buildkite interpolates ``$`` in every value
    when the pipeline is uploaded (written ``$$``); CircleCI replaces ``<< ... >>`` in every value of
    a 2.1 config, so a value holding ``<<`` (an IAM path may) is refused."""
    if REGISTRY[platform].export.dollar_escape:
        return value.replace("$", "$$")
    if platform == "circleci" and "<<" in value:
        raise ValueError(f"{value!a} holds '<<', which CircleCI would read as a pipeline parameter")
    return value


# The aud of the token a platform puts in its variable: the job cannot choose it (CircleCI: the
# organization ID; Bitbucket: the workspace's ari), so a trust with another --oidc-audience refuses it.
_VARIABLE_AUDIENCE = {
    "circleci": lambda trust: trust.audience == trust.issuer.rpartition("/")[2],
    "bitbucket": lambda trust: trust.audience.startswith("ari:cloud:bitbucket::workspace/"),
}


def pipeline(export: CiExport) -> str:
    """The snippet for the trust's platform, with comments naming what the trust admits."""
    trust = export.trust
    if trust.platform in _VARIABLE_AUDIENCE and not _VARIABLE_AUDIENCE[trust.platform](trust):
        raise ValueError(
            f"the job's ${REGISTRY[trust.platform].export.token_variable} carries the platform's own aud, not "
            f"{trust.audience!a} (--oidc-audience): the trust would refuse it. Drop --oidc-audience, or fetch a "
            "token with that audience in the job yourself"
        )
    spec = REGISTRY[trust.platform]
    env = {
        "AWS_ROLE_ARN": export.hub_role_arn or export.role_arn,
        "AWS_WEB_IDENTITY_TOKEN_FILE": TOKEN_FILE,
        # the platform's own session name, never the proof's (a CloudTrail reader tells them apart)
        "AWS_ROLE_SESSION_NAME": _session_name(export),
        "AWS_DEFAULT_REGION": export.region,
        **({"AWS_PROFILE": "target"} if export.hub_role_arn else {}),  # the chained role (_chain)
    }
    env = {key: _literal(trust.platform, value) for key, value in env.items()}
    script = _script(trust.platform, trust.audience, export)
    if trust.platform == "circleci":
        script = [_literal(trust.platform, line) for line in script]
    document: dict[str, Any]
    if trust.platform == "circleci":
        job = {"docker": [{"image": "amazon/aws-cli:latest"}], "environment": env,
               "steps": [{"run": line} for line in script]}  # fmt: skip
        document = {"version": 2.1, "jobs": {"deploy": job}, "workflows": {"deploy": {"jobs": ["deploy"]}}}
    elif trust.platform == "bitbucket":
        exports = [shellwrite.line("export", f"{k}={v}") for k, v in env.items()]
        step = {"name": "Assume the role (web identity)", "image": "amazon/aws-cli:latest", "oidc": True,
                "script": [*exports, *script]}  # fmt: skip
        document = {"pipelines": {"default": [{"step": step}]}}
    else:
        document = {"steps": [{"label": "Assume the role (web identity)", "env": env, "command": script}]}
    return yamlwrite.dump(document, [f"{spec.export.file} ({spec.title})", *comments(trust)])
