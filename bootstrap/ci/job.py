"""CI-side workflows of a CI (web identity) trust: the CI snippets' inputs, verify from inside a CI
job (no profile: the token is the only credential), and diagnose of a failing AssumeRoleWithWebIdentity."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

from bootstrap.aws import accounts as aws
from bootstrap.aws import errors as aws_errors
from bootstrap.aws import iam as aws_iam
from bootstrap.aws import oidc as aws_oidc
from bootstrap.aws import sessions
from bootstrap.ci import flow as oidcflow
from bootstrap.ci import token as ci_token
from bootstrap.config.model import Config
from bootstrap.core import arns, oidc
from bootstrap.core.errors import InvalidInput
from bootstrap.core.findings import Finding, Status
from bootstrap.core.plan import Plan, Side
from bootstrap.diagnose import oidc as oidcdiagnose
from bootstrap.exports import ci as ciexports
from bootstrap.trust.prepared import Prepared


def build_ci_export(config: Config, *, offline: bool, target_account: str | None) -> ciexports.CiExport:
    """What the CI snippets need: the role ARNs (read from the profiles' accounts, or --offline)."""
    trust = config.oidc
    assert trust is not None
    region = aws.profile_setting(config.target_profile, "region") or aws.DEFAULT_REGION
    if offline:
        if target_account is None:
            raise InvalidInput("--offline needs the target account for the role's ARN: pass --target-account ID.")
        if trust.hub_role:
            raise InvalidInput("--offline cannot know the hub role's account: export the hub topology online.")
        partition, source_account = "aws", target_account
    else:
        _, identity = sessions.open_profile(config.target_profile, "target")
        partition, target_account = arns.parse_arn(identity.arn).partition, identity.account
        source_account = target_account
        if trust.hub_role:
            _, source_identity = sessions.open_profile(config.source_profile, "source")
            source_account = source_identity.account
    role_arn = arns.role_arn(partition, target_account, config.path, config.role_name)
    hub_arn = arns.role_arn(partition, source_account, "/", trust.hub_role) if trust.hub_role else None
    return ciexports.CiExport(trust, role_arn, hub_arn, region, config.role_name, config.consumers)


def prepare_for(
    mode: str,
    config: Config,
    *,
    adopt: bool = False,
    target_account: str | None = None,
    source_account: str | None = None,
) -> oidcflow.Ci:
    """What a CI trust's command reads and plans: ``verify --target-account`` runs inside the CI job
    (nothing is read); every other command reads the account(s) through the profiles."""
    if mode == "verify" and target_account is not None:
        return prepare_in_ci(config, target_account, source_account)
    return oidcflow.prepare(config, adopt=adopt, teardown=mode == "teardown")


def prepare_in_ci(config: Config, target_account: str, source_account: str | None) -> oidcflow.Ci:
    """verify from inside a CI job: no profile, no reads; the token is the only credential.
    The role ARNs come from the account IDs (the STS endpoint from the environment, as boto3 finds it)."""
    trust = config.oidc
    assert trust is not None
    if trust.hub_role and source_account is None:
        raise InvalidInput("The hub topology needs the hub role's account too: pass --source-account ID.")
    account = aws.open_account(None, "CI job", label="CI job")
    hub_account = source_account or target_account
    role_arn = arns.role_arn("aws", target_account, config.path, config.role_name)
    hub_arn = arns.role_arn("aws", hub_account, "/", trust.hub_role) if trust.hub_role else None
    data = oidcflow.CiData(
        config=config,
        trust=trust,
        target=account,
        source=account,
        provider_arn=trust.provider_arn("aws", hub_account),
        role_arn=role_arn,
        hub_role_arn=hub_arn,
        proof=oidc.static_proof(trust),
    )
    accounts = {Side.SOURCE: hub_account, Side.TARGET: target_account}
    return Prepared(oidcflow.kind_of(trust), Plan(changes=(), role_arn=role_arn), accounts, data)


def run_diagnose(
    role_arn: str, target_profile: str | None, options: Mapping[str, object], token_file: Path | None
) -> tuple[list[Finding], str]:
    """The findings for a CI run (predicted, or a real token's claims) against the live role."""
    token = None
    if token_file is not None:
        token = ci_token.read_file(token_file)
        claims = {k: str(v) for k, v in ci_token.claims_of(token, "--web-identity-token-file").items()}
        who = f"a token of {claims.get('iss')} with sub {claims.get('sub')}"
    else:
        try:
            claims, who = oidcdiagnose.predicted_claims(options)
        except ValueError as err:
            raise InvalidInput(f"{err}.") from err
    return _findings(role_arn, target_profile, claims, token), who


def run_diagnose_config(config: Config) -> tuple[str, list[Finding], str]:
    """diagnose --config of a CI trust: the run the config describes, against the role it names
    (the hub role in A for the hub topology). Returns (role ARN, findings, the run in words)."""
    trust = config.oidc
    assert trust is not None
    profile = config.source_profile if trust.hub_role else config.target_profile
    _, identity = sessions.open_profile(profile, "source" if trust.hub_role else "target")
    partition = arns.parse_arn(identity.arn).partition
    if trust.hub_role:
        role_arn = arns.role_arn(partition, identity.account, "/", trust.hub_role)
    else:
        role_arn = arns.role_arn(partition, identity.account, config.path, config.role_name)
    context = trust.contexts[0]
    return role_arn, _findings(role_arn, profile, dict(context.claims), None), context.description


def _findings(role_arn: str, target_profile: str | None, claims: Mapping[str, str], token: str | None) -> list[Finding]:
    arn = arns.parse_arn(role_arn)
    target, identity = sessions.open_profile(target_profile, "target")
    if identity.account != arn.account:
        raise InvalidInput(
            f"The role {role_arn} is in account {arn.account}, but the target profile is in {identity.account}: "
            "pass the profile of the role's account."
        )
    role = aws_iam.get_role(target, arns.name_of(role_arn))
    if role is None:
        return [Finding("role-arn", Status.FAIL, f"there is no role {role_arn}", "Check the name.")]
    trust_policy = json.dumps(role["AssumeRolePolicyDocument"])
    findings = oidcdiagnose.analyse(trust_policy, aws_oidc.list_providers(target), claims, arn.account, arn.partition)
    exp = claims.get("exp")
    if token is not None and exp is not None and exp.isdigit() and int(exp) < time.time():
        findings.append(Finding("expiry", Status.FAIL, f"the token expired at {exp}", "Use a fresh token."))
    if token is not None:
        try:
            aws_oidc.assume_role_with_web_identity(target, role_arn, "trust-bootstrap-diagnose", token)
            findings.append(Finding("live-assume", Status.PASS, "AWS admitted the token"))
        except aws_errors.AssumeRefused as err:
            findings.append(Finding("live-assume", Status.FAIL, f"AWS answered: {err.reason}"))
    return findings
