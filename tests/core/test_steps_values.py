"""Pure values of the steps layer: the one AssumeRole request, the per-kind IAM table, ARN names."""

from __future__ import annotations

import pytest

from bootstrap.core import arns, assumerequest, iamkinds
from bootstrap.core.assumerequest import AssumeRequest

ROLE = "arn:aws:iam::222222222222:role/team/deploy"


def test_the_request_sends_only_what_is_given_in_aws_spelling() -> None:
    assert AssumeRequest(ROLE, "s").api_params() == {"RoleArn": ROLE, "RoleSessionName": "s"}
    full = AssumeRequest(
        ROLE, "s", external_id="ext-1", mfa_serial="arn:aws:iam::111111111111:mfa/d", mfa_token="123456",
        duration_seconds=900, tags=(("team", "a"),), source_identity="me",
    ).api_params()  # fmt: skip
    assert full == {
        "RoleArn": ROLE, "RoleSessionName": "s", "ExternalId": "ext-1", "DurationSeconds": 900,
        "SerialNumber": "arn:aws:iam::111111111111:mfa/d", "TokenCode": "123456",
        "Tags": [{"Key": "team", "Value": "a"}], "SourceIdentity": "me",
    }  # fmt: skip


def test_mfa_goes_only_with_both_serial_and_code_and_the_code_never_shows() -> None:
    half = AssumeRequest(ROLE, "s", mfa_serial="arn:aws:iam::111111111111:mfa/d")
    assert "SerialNumber" not in half.api_params() and not half.mfa_given
    assert "654321" not in repr(AssumeRequest(ROLE, "s", mfa_serial="x", mfa_token="654321"))


def test_duration_is_aws_default_when_not_asked() -> None:
    assert AssumeRequest(ROLE).duration == 3600
    assert AssumeRequest(ROLE, duration_seconds=7200).duration == 7200


def test_a_trust_is_proven_with_the_configured_session_and_mfa() -> None:
    class Settings:
        session_name, mfa_serial, mfa_token = "proof", "arn:aws:iam::111111111111:mfa/d", "123456"

    request = assumerequest.for_trust(Settings(), ROLE, "generated-id")
    assert (request.session_name, request.external_id, request.mfa_given) == ("proof", "generated-id", True)


def test_each_kind_names_its_own_iam_calls() -> None:
    user, role, group = iamkinds.of("user"), iamkinds.of("role"), iamkinds.of("group")
    assert (user.get_inline, role.get_inline, group.get_inline) == ("GetUserPolicy", "GetRolePolicy", "GetGroupPolicy")
    assert role.name("deploy") == {"RoleName": "deploy"}
    assert iamkinds.method(user.list_attached) == "list_attached_user_policies"
    assert role.assumable and not user.assumable and user.has_groups and not group.has_boundary
    with pytest.raises(ValueError, match="no IAM principal kind"):
        iamkinds.of("assumed-role")


def test_iam_names_of_arns() -> None:
    assert arns.iam_name(ROLE) == arns.IamName("role", "/team/", "deploy")
    assert arns.iam_name("arn:aws:iam::111111111111:user/alice") == arns.IamName("user", "/", "alice")
    session = arns.iam_name("arn:aws:sts::111111111111:assumed-role/deploy/build-42")
    assert (session.kind, session.name, session.session) == ("assumed-role", "deploy", "build-42")
    assert arns.name_of(ROLE) == "deploy"
