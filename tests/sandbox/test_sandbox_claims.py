"""Web identity in the sandbox as STS evaluates it, over HTTP with boto3: tokens of any shape from the
sandbox's issuer (GitHub Actions' and HCP Terraform's included), only the claims AWS maps reaching the
trust policy, and IAM's identity-provider controls for shared OIDC providers."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bootstrap.sandbox import ci_claims
from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_B, iam

GITHUB = "token.actions.githubusercontent.com"
TERRAFORM = "app.terraform.io"
ROLE = "ci-probe"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}"


def _provider(url: str, audience: str) -> str:
    arn = iam("b-admin").create_open_id_connect_provider(Url=url, ClientIDList=[audience], ThumbprintList=["a" * 40])
    return str(arn["OpenIDConnectProviderArn"])


def _trust(provider_arn: str, condition: dict[str, Any]) -> str:
    statement = {"Effect": "Allow", "Principal": {"Federated": provider_arn},
                 "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}  # fmt: skip
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _role(provider_arn: str, condition: dict[str, Any], max_session: int = 3600) -> None:
    iam("b-admin").create_role(
        RoleName=ROLE, AssumeRolePolicyDocument=_trust(provider_arn, condition), MaxSessionDuration=max_session
    )


def _sts() -> Any:
    config = Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"})
    return boto3.Session(profile_name="b-admin").client("sts", config=config)


def _assume(token: str, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("RoleSessionName", "ci-probe")
    return dict(_sts().assume_role_with_web_identity(RoleArn=ROLE_ARN, WebIdentityToken=token, **kwargs))


def _refused(token: str, code: str = "AccessDenied", **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        _assume(token, **kwargs)
    error = caught.value.response["Error"]
    assert error["Code"] == code, error
    return str(error["Message"])


def _payload(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


@pytest.fixture
def github(sandbox: Sandbox) -> str:
    """The sandbox's issuer standing in for GitHub Actions, and GitHub's provider in account B."""
    sandbox.issuer.stand_in_for(ci_claims.GITHUB_ISSUER)
    return _provider(ci_claims.GITHUB_ISSUER, ci_claims.STS_AUDIENCE)


@pytest.fixture
def terraform(sandbox: Sandbox) -> str:
    sandbox.issuer.stand_in_for(ci_claims.HCP_TERRAFORM_ISSUER)
    return _provider(ci_claims.HCP_TERRAFORM_ISSUER, ci_claims.HCP_TERRAFORM_AWS_AUDIENCE)


# -- 7. the issuer mints any claims -----------------------------------------------------------------------------


def test_tokens_of_any_shape_with_an_explicit_subject_and_audience(sandbox: Sandbox) -> None:
    token = sandbox.issuer.mint_token("svc:42", ["a", "b"], {"tenant": "t-1", "nested": {"k": [1, 2]}})
    claims = _payload(token)
    assert (claims["iss"], claims["sub"], claims["aud"]) == (sandbox.issuer.url, "svc:42", ["a", "b"])
    assert claims["tenant"] == "t-1" and claims["nested"] == {"k": [1, 2]}
    assert sandbox.issuer.signature_valid(token)


def test_hcp_terraform_and_github_shaped_claims(sandbox: Sandbox) -> None:
    terraform = _payload(sandbox.issuer.mint(ci_claims.hcp_terraform_claims("acme", "Platform", "prod", "plan")))
    assert terraform["iss"] == "https://app.terraform.io"
    assert terraform["sub"] == "organization:acme:project:Platform:workspace:prod:run_phase:plan"
    assert terraform["terraform_full_workspace"] == "organization:acme:project:Platform:workspace:prod"
    for claim in ("terraform_organization_name", "terraform_project_name", "terraform_workspace_name",
                  "terraform_workspace_id", "terraform_run_phase", "terraform_run_id"):  # fmt: skip
        assert terraform[claim], claim
    job = _payload(sandbox.issuer.mint(ci_claims.github_claims("octo-org/octo-repo", environment="Prod:V1")))
    assert job["sub"] == "repo:octo-org/octo-repo:environment:Prod%3AV1"
    for claim in ("repository", "repository_id", "repository_owner", "repository_owner_id", "ref", "environment",
                  "job_workflow_ref", "workflow", "actor", "actor_id", "event_name", "run_id"):  # fmt: skip
        assert job[claim], claim
    pull = ci_claims.github_claims("o/r", event_name="pull_request", immutable_subject=True, repository_id="7")
    assert pull["sub"] == "repo:o@123456/r@7:pull_request"


def test_the_mint_endpoint_signs_for_a_public_issuer_only_once_the_sandbox_stands_in_for_it(sandbox: Sandbox) -> None:
    url = sandbox.env()["TRUST_BOOTSTRAP_TOKEN_MINTER"]

    def post(claims: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(url, data=json.dumps(claims).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return dict(json.loads(answer.read()))

    claims = ci_claims.hcp_terraform_claims()
    with pytest.raises(urllib.error.HTTPError) as refused:
        post(claims)
    assert refused.value.code == 400
    sandbox.issuer.stand_in_for(ci_claims.HCP_TERRAFORM_ISSUER)
    assert _payload(post(claims)["token"])["terraform_workspace_name"] == "prod"


# -- 8. only the claims AWS maps reach the trust policy --------------------------------------------------------


@pytest.mark.parametrize("claim", ["actor", "actor_id", "enterprise_id", "environment", "job_workflow_ref", "ref",
                                   "repository", "repository_id", "repository_owner_id", "workflow"])  # fmt: skip
def test_each_github_claim_aws_maps_can_be_conditioned_on(sandbox: Sandbox, github: str, claim: str) -> None:
    claims = ci_claims.github_claims(environment="prod", enterprise_id="9001")
    _role(github, {"StringEquals": {f"{GITHUB}:sub": claims["sub"], f"{GITHUB}:{claim}": str(claims[claim])}})
    _refused(sandbox.issuer.mint({**claims, claim: "something-else"}))
    assert _assume(sandbox.issuer.mint(claims))["SubjectFromWebIdentityToken"] == claims["sub"]


@pytest.mark.parametrize("claim", ["repository_owner", "event_name", "run_id", "sha", "ref_type", "run_attempt"])
def test_a_github_claim_aws_does_not_map_is_absent_from_the_request(sandbox: Sandbox, github: str, claim: str) -> None:
    claims = ci_claims.github_claims()
    sub = {f"{GITHUB}:sub": claims["sub"]}
    _role(github, {"StringEquals": {**sub, f"{GITHUB}:{claim}": str(claims[claim])}})
    _refused(sandbox.issuer.mint(claims))  # the token carries the claim with that very value
    # an absent key: ...IfExists holds, ForAllValues holds on the empty set, a negated operator holds
    for condition in ({"StringEqualsIfExists": {f"{GITHUB}:{claim}": "other"}},
                      {"ForAllValues:StringEquals": {f"{GITHUB}:{claim}": "other"}},
                      {"StringNotEquals": {f"{GITHUB}:{claim}": str(claims[claim])}}):  # fmt: skip
        iam("b-admin").update_assume_role_policy(RoleName=ROLE, PolicyDocument=_trust(github, {"StringEquals": sub, **condition}))  # fmt: skip
        _assume(sandbox.issuer.mint(claims))
    iam("b-admin").update_assume_role_policy(
        RoleName=ROLE,
        PolicyDocument=_trust(
            github, {"StringEquals": sub, "ForAnyValue:StringEquals": {f"{GITHUB}:{claim}": str(claims[claim])}}
        ),
    )
    _refused(sandbox.issuer.mint(claims))  # ForAnyValue on an absent key: false


def test_hcp_terraform_claims_beyond_sub_and_aud_are_not_in_the_request(sandbox: Sandbox, terraform: str) -> None:
    claims = ci_claims.hcp_terraform_claims("acme", "Platform", "prod", "apply")
    subject = {"StringLike": {f"{TERRAFORM}:sub": "organization:acme:project:Platform:workspace:prod:run_phase:*"},
               "StringEquals": {f"{TERRAFORM}:aud": ci_claims.HCP_TERRAFORM_AWS_AUDIENCE}}  # fmt: skip
    workspace = {f"{TERRAFORM}:terraform_workspace_id": claims["terraform_workspace_id"]}
    _role(terraform, {**subject, "StringEquals": {**subject["StringEquals"], **workspace}})
    _refused(sandbox.issuer.mint(claims))
    iam("b-admin").update_assume_role_policy(RoleName=ROLE, PolicyDocument=_trust(terraform, subject))
    _refused(sandbox.issuer.mint(ci_claims.hcp_terraform_claims("other-org", "Platform", "prod", "apply")))
    assert _assume(sandbox.issuer.mint(claims))["Provider"] == TERRAFORM


def test_a_public_issuers_token_the_sandbox_does_not_stand_in_for_cannot_be_verified(sandbox: Sandbox) -> None:
    provider = _provider(ci_claims.GITHUB_ISSUER, ci_claims.STS_AUDIENCE)
    claims = ci_claims.github_claims()
    _role(provider, {"StringEquals": {f"{GITHUB}:sub": claims["sub"]}})
    assert "verification key" in _refused(sandbox.issuer.mint(claims), "InvalidIdentityToken")
    sandbox.issuer.stand_in_for(ci_claims.GITHUB_ISSUER)
    _assume(sandbox.issuer.mint(claims))


def test_web_identity_session_name_and_duration_are_checked(sandbox: Sandbox, github: str) -> None:
    claims = ci_claims.github_claims()
    _role(github, {"StringEquals": {f"{GITHUB}:sub": claims["sub"]}})
    token = sandbox.issuer.mint(claims)
    assert "'roleSessionName'" in _refused(token, "ValidationError", RoleSessionName="a")
    assert "MaxSessionDuration" in _refused(token, "ValidationError", DurationSeconds=7200)
    _assume(token, RoleSessionName="ab", DurationSeconds=3600)


# -- 8. IAM's identity-provider controls for shared OIDC providers ---------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}},
        {"StringLike": {f"{GITHUB}:sub": "*"}},
        {"ForAllValues:StringLike": {f"{GITHUB}:sub": "repo:octo-org/*"}},
        {"StringLikeIfExists": {f"{GITHUB}:sub": "repo:octo-org/*"}},
        {"StringNotEquals": {f"{GITHUB}:sub": "repo:evil/*"}},
    ],
    ids=["aud-only", "sub-wildcard", "for-all-values", "if-exists", "negated"],
)
def test_a_github_trust_that_does_not_evaluate_sub_is_refused_when_written(
    github: str, condition: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as caught:
        _role(github, condition)
    error = caught.value.response["Error"]
    assert error["Code"] == "MalformedPolicyDocument", error
    assert error["Message"] == (
        f"Trust policy with trusted principal {github} must evaluate, using StringEquals, StringLike or "
        f"StringEqualsIgnoreCase, {GITHUB}:sub which is not scoped to all."
    )
    assert ROLE not in [r["RoleName"] for r in iam("b-admin").list_roles()["Roles"]]
    scoped = {f"{GITHUB}:sub": "repo:octo-org/octo-repo:ref:refs/heads/main"}
    _role(
        github, {**condition, "StringEquals": {**condition.get("StringEquals", {}), **scoped}}
    )  # sub evaluated: written


def test_the_controls_apply_to_trust_updates_and_to_hcp_terraform_not_to_a_private_issuer(
    sandbox: Sandbox, github: str, terraform: str
) -> None:
    _role(github, {"StringEquals": {f"{GITHUB}:sub": "repo:octo-org/octo-repo:ref:refs/heads/main"}})
    with pytest.raises(ClientError, match="MalformedPolicyDocument"):
        iam("b-admin").update_assume_role_policy(RoleName=ROLE, PolicyDocument=_trust(github, {}))
    with pytest.raises(ClientError, match=f"{TERRAFORM}:sub"):
        iam("b-admin").update_assume_role_policy(
            RoleName=ROLE,
            PolicyDocument=_trust(terraform, {"StringEquals": {f"{TERRAFORM}:aud": "aws.workload.identity"}}),
        )
    private = _provider(sandbox.issuer.url, "sts.amazonaws.com")
    iam("b-admin").update_assume_role_policy(RoleName=ROLE, PolicyDocument=_trust(private, {}))


def test_a_legacy_trust_without_sub_stays_assumable(sandbox: Sandbox, github: str) -> None:
    # IAM does not re-check trust policies written before the controls until they are modified.
    _role(github, {"StringEquals": {f"{GITHUB}:sub": "repo:octo-org/octo-repo:ref:refs/heads/main"}})
    legacy = json.loads(_trust(github, {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}))
    sandbox.plant_legacy_trust(ACCOUNT_B, ROLE, legacy)
    _assume(sandbox.issuer.mint(ci_claims.github_claims("anyone/anything")))
