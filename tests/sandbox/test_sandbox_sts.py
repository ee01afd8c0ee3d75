"""AssumeRole as STS enforces it, over HTTP against the sandbox: session tags and source identity need
their own permission on both sides, role chaining caps a session at one hour, MaxSessionDuration caps
any, and the parameters' constraints are checked. Each rule: a refused call, then the fixed call admitted."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ACCOUNT_A, ACCOUNT_B, CI_USER_ARN, iam

ROLE = "probe"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}"
TAGS = [{"Key": "Repository", "Value": "octo-org/octo-repo"}, {"Key": "Workflow", "Value": "deploy"}]

pytestmark = pytest.mark.usefixtures("sandbox")


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _trust(actions: list[str], principal: str = CI_USER_ARN, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions}
    if condition:
        statement["Condition"] = condition
    return statement


def make_role(*statements: dict[str, Any], max_session: int = 3600, name: str = ROLE) -> str:
    role = iam("b-admin").create_role(
        RoleName=name, AssumeRolePolicyDocument=_document(*statements), MaxSessionDuration=max_session
    )
    return str(role["Role"]["Arn"])


def grant_ci(actions: list[str]) -> None:
    """The ci user's identity policy: exactly these actions, on any role."""
    grant = _document({"Effect": "Allow", "Action": actions, "Resource": "*"})
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName="probe", PolicyDocument=grant)


def sts(profile: str = "ci", **credentials: str) -> Any:
    # No client-side checks (AWS's own answer is under test), no retries (each call is one request).
    config = Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"})
    return boto3.Session(profile_name=profile).client("sts", config=config, **credentials)


def refused(call: Any, code: str, needle: str = "") -> str:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert error["Code"] == code, error
    assert needle in error["Message"], error
    return str(error["Message"])


def assume(client: Any, role_arn: str = ROLE_ARN, **kwargs: Any) -> dict[str, Any]:
    return dict(client.assume_role(RoleArn=role_arn, RoleSessionName=kwargs.pop("RoleSessionName", "probe"), **kwargs))


# -- 1. session tags: sts:TagSession in the trust policy and in the identity policy -----------------------


def test_session_tags_need_tag_session_in_the_trust_policy() -> None:
    make_role(_trust(["sts:AssumeRole"]))
    grant_ci(["sts:AssumeRole", "sts:TagSession"])
    message = refused(lambda: assume(sts(), Tags=TAGS), "AccessDenied", "sts:TagSession")
    assert f"User: {CI_USER_ARN} is not authorized to perform: sts:TagSession on resource: {ROLE_ARN}" == message
    assume(sts())  # the same caller without tags needs no sts:TagSession
    iam("b-admin").update_assume_role_policy(
        RoleName=ROLE, PolicyDocument=_document(_trust(["sts:AssumeRole", "sts:TagSession"]))
    )
    assert assume(sts(), Tags=TAGS)["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{ACCOUNT_B}:assumed-role/")


def test_session_tags_need_tag_session_in_the_callers_identity_policy() -> None:
    make_role(_trust(["sts:AssumeRole", "sts:TagSession"]))
    grant_ci(["sts:AssumeRole"])
    refused(lambda: assume(sts(), Tags=TAGS), "AccessDenied", "sts:TagSession")
    grant_ci(["sts:AssumeRole", "sts:TagSession"])
    assume(sts(), Tags=TAGS)


def test_an_identity_deny_on_tag_session_wins() -> None:
    make_role(_trust(["sts:AssumeRole", "sts:TagSession"]))
    policy = _document(
        {"Effect": "Allow", "Action": "sts:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sts:TagSession", "Resource": ROLE_ARN},
    )
    iam("a-admin").put_user_policy(UserName="ci-user", PolicyName="probe", PolicyDocument=policy)
    refused(lambda: assume(sts(), Tags=TAGS), "AccessDenied", "sts:TagSession")
    assume(sts())


def test_transitive_tag_keys_need_tag_session_but_an_empty_list_is_no_keys() -> None:
    make_role(_trust(["sts:AssumeRole"]))
    grant_ci(["sts:AssumeRole", "sts:TagSession"])
    client = sts()
    sent: list[bytes] = []
    client.meta.events.register(
        "before-send.sts.AssumeRole",
        lambda request, **_: sent.append(request.body if isinstance(request.body, bytes) else request.body.encode()),
    )
    # configure-aws-credentials v6 sends an empty 'TransitiveTagKeys=' when it has none; botocore does the same for [].
    assume(client, TransitiveTagKeys=[])
    assert b"TransitiveTagKeys=&" in sent[-1] or sent[-1].endswith(b"TransitiveTagKeys="), sent[-1]
    refused(lambda: assume(client, TransitiveTagKeys=["Repository"]), "AccessDenied", "sts:TagSession")
    iam("b-admin").update_assume_role_policy(
        RoleName=ROLE, PolicyDocument=_document(_trust(["sts:AssumeRole", "sts:TagSession"]))
    )
    assume(client, Tags=TAGS, TransitiveTagKeys=["Repository"])


def test_the_conditions_of_the_tag_session_statement_are_evaluated() -> None:
    conditions = {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["Repository", "Workflow"]},
        "StringLike": {"aws:RequestTag/Repository": "octo-org/*"},
    }
    make_role(_trust(["sts:AssumeRole"]), _trust(["sts:TagSession"], condition=conditions))
    grant_ci(["sts:AssumeRole", "sts:TagSession"])
    other_org = [{"Key": "Repository", "Value": "evil-org/octo-repo"}]
    refused(lambda: assume(sts(), Tags=other_org), "AccessDenied", "sts:TagSession")
    extra_key = [*TAGS, {"Key": "Team", "Value": "platform"}]
    refused(lambda: assume(sts(), Tags=extra_key), "AccessDenied", "sts:TagSession")
    assume(sts(), Tags=TAGS)
    assume(sts(), Tags=TAGS[:1])  # ForAllValues: a subset of the allowed keys


def test_a_trust_conditioned_on_transitive_tag_keys() -> None:
    condition = {"ForAnyValue:StringEquals": {"sts:TransitiveTagKeys": "Repository"}}
    make_role(_trust(["sts:AssumeRole"]), _trust(["sts:TagSession"], condition=condition))
    grant_ci(["sts:AssumeRole", "sts:TagSession"])
    refused(lambda: assume(sts(), Tags=TAGS), "AccessDenied", "sts:TagSession")
    assume(sts(), Tags=TAGS, TransitiveTagKeys=["Repository"])


# -- 2. source identity: sts:SetSourceIdentity in the trust policy and in the identity policy ------------


def test_source_identity_needs_set_source_identity_on_both_sides() -> None:
    make_role(_trust(["sts:AssumeRole"]))
    grant_ci(["sts:AssumeRole", "sts:SetSourceIdentity"])
    refused(lambda: assume(sts(), SourceIdentity="alice"), "AccessDenied", "sts:SetSourceIdentity")
    iam("b-admin").update_assume_role_policy(
        RoleName=ROLE, PolicyDocument=_document(_trust(["sts:AssumeRole", "sts:SetSourceIdentity"]))
    )
    grant_ci(["sts:AssumeRole"])
    refused(lambda: assume(sts(), SourceIdentity="alice"), "AccessDenied", "sts:SetSourceIdentity")
    grant_ci(["sts:AssumeRole", "sts:SetSourceIdentity"])
    assume(sts(), SourceIdentity="alice")


def test_a_trust_can_require_a_source_identity_value() -> None:
    condition = {"StringEquals": {"sts:SourceIdentity": "alice"}}
    make_role(_trust(["sts:AssumeRole", "sts:SetSourceIdentity"], condition=condition))
    grant_ci(["sts:AssumeRole", "sts:SetSourceIdentity"])
    refused(lambda: assume(sts(), SourceIdentity="mallory"), "AccessDenied")
    refused(lambda: assume(sts()), "AccessDenied")  # no source identity: the condition's key is absent
    assume(sts(), SourceIdentity="alice")


# -- 3. durations: MaxSessionDuration, role chaining, the default -----------------------------------------


def _session(credentials: dict[str, Any]) -> dict[str, str]:
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def test_a_duration_above_the_roles_max_session_duration_is_refused() -> None:
    make_role(_trust(["sts:AssumeRole"]))  # MaxSessionDuration 3600, the default
    grant_ci(["sts:AssumeRole"])
    refused(lambda: assume(sts(), DurationSeconds=7200), "ValidationError", "MaxSessionDuration")
    iam("b-admin").update_role(RoleName=ROLE, MaxSessionDuration=7200)
    assume(sts(), DurationSeconds=7200)


def test_role_chaining_caps_the_session_at_one_hour() -> None:
    # ci-user -> first (a role session) -> second: the second AssumeRole is role chaining.
    first = make_role(_trust(["sts:AssumeRole"]), name="first")
    second = make_role(_trust(["sts:AssumeRole"], principal=first), max_session=43200, name="second")
    grant_ci(["sts:AssumeRole"])
    hop = _document({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": second})
    iam("b-admin").put_role_policy(RoleName="first", PolicyName="hop", PolicyDocument=hop)
    chained = sts(**_session(assume(sts(), first)["Credentials"]))
    message = refused(lambda: assume(chained, second, DurationSeconds=7200), "ValidationError")
    assert (
        message == "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
    )
    refused(lambda: assume(chained, second, DurationSeconds=3601), "ValidationError", "role chaining")
    assume(chained, second, DurationSeconds=3600)
    # the same duration is fine for a user's own (unchained) session of the second role
    iam("b-admin").update_assume_role_policy(
        RoleName="second",
        PolicyDocument=_document(_trust(["sts:AssumeRole"], principal=f"arn:aws:iam::{ACCOUNT_A}:root")),
    )
    assume(sts(), second, DurationSeconds=7200)


def test_the_default_duration_is_one_hour() -> None:
    make_role(_trust(["sts:AssumeRole"]), max_session=43200)
    grant_ci(["sts:AssumeRole"])
    before = datetime.now(UTC).replace(microsecond=0)
    expiration = assume(sts())["Credentials"]["Expiration"]
    after = datetime.now(UTC)
    assert before + timedelta(seconds=3600) <= expiration <= after + timedelta(seconds=3600)


# -- 4. parameter constraints (STS API reference): ValidationError before any authorization ----------------


@pytest.mark.parametrize(
    ("kwargs", "member"),
    [
        ({"RoleSessionName": "a"}, "roleSessionName"),
        ({"RoleSessionName": "x" * 65}, "roleSessionName"),
        ({"RoleSessionName": "has space"}, "roleSessionName"),
        ({"RoleSessionName": "naïve"}, "roleSessionName"),
        ({"Tags": [{"Key": f"k{n}", "Value": "v"} for n in range(51)]}, "tags"),
        ({"Tags": [{"Key": "k" * 129, "Value": "v"}]}, "tags.1.member.key"),
        ({"Tags": [{"Key": "", "Value": "v"}]}, "tags.1.member.key"),
        ({"Tags": [{"Key": "bad!key", "Value": "v"}]}, "tags.1.member.key"),
        ({"Tags": [{"Key": "k", "Value": "v" * 257}]}, "tags.1.member.value"),
        ({"Tags": [{"Key": "k", "Value": "semi;colon"}]}, "tags.1.member.value"),
        ({"Tags": TAGS, "TransitiveTagKeys": [f"k{n}" for n in range(51)]}, "transitiveTagKeys"),
        ({"DurationSeconds": 899}, "durationSeconds"),
        ({"SourceIdentity": "a"}, "sourceIdentity"),
    ],
    ids=["name-short", "name-long", "name-space", "name-non-ascii", "51-tags", "key-long", "key-empty",
         "key-character", "value-long", "value-character", "51-transitive-keys", "duration-short", "source-short"],
)  # fmt: skip
def test_parameter_constraints_answer_validation_error(kwargs: dict[str, Any], member: str) -> None:
    make_role(_trust(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]), max_session=43200)
    grant_ci(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"])
    with pytest.raises(ClientError) as caught:
        assume(sts(), **kwargs)
    error, status = caught.value.response["Error"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert (error["Code"], status) == ("ValidationError", 400), error
    assert re.match(r"\d validation errors? detected: Value ", error["Message"]), error  # an empty key breaks two rules
    assert f"at '{member}' failed to satisfy constraint" in error["Message"], error


def test_values_at_the_limits_are_admitted() -> None:
    make_role(_trust(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]), max_session=43200)
    grant_ci(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"])
    tags = [{"Key": f"k{n}", "Value": "v"} for n in range(50)]
    tags[0] = {"Key": "K" * 128, "Value": "v" * 256}
    tags[1] = {"Key": "Équipe plateforme", "Value": ""}  # letters of any script, spaces, an empty value
    tags[2] = {"Key": "a_.:/=+-@", "Value": "octo-org/octo-repo@refs/heads/main"}
    arn = assume(sts(), RoleSessionName="x" * 64, Tags=tags, DurationSeconds=43200, SourceIdentity="ci+bot=1,a.b@c-d")[
        "AssumedRoleUser"
    ]["Arn"]
    assert arn.endswith("/" + "x" * 64)
    assume(sts(), RoleSessionName="ab", DurationSeconds=900)


def test_several_violations_are_reported_together() -> None:
    make_role(_trust(["sts:AssumeRole"]))
    grant_ci(["sts:AssumeRole"])
    message = refused(lambda: assume(sts(), RoleSessionName="a", DurationSeconds=100), "ValidationError")
    assert message.startswith("2 validation errors detected: "), message
    assert "'roleSessionName'" in message and "'durationSeconds'" in message
