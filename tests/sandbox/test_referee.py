"""The sandbox referee decides trust conditions as AWS documents them. Pure unit tests, one row per
documented rule, written independently of the tool's evaluator (tests/diagnose/test_evaluator.py).

Source of every row unless noted:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
Set operators and absent multivalued keys:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bootstrap.sandbox.referee import Caller, Request, condition_holds, judge

EXT = {"sts:externalid": ("ext-1",)}
NONE: dict[str, tuple[str, ...]] = {}
TAGS = {"aws:tagkeys": ("team", "env")}
ARN = {"aws:principalarn": ("arn:aws:iam::111111111111:user/ci-user",)}
TIME = {"aws:currenttime": ("2026-11-22T12:00:00Z",)}

# (operator, key, policy value(s), context, expected)
ROWS: list[tuple[str, str, Any, dict[str, tuple[str, ...]], bool]] = [
    # String: exact and case-sensitive; several policy values OR.
    ("StringEquals", "sts:ExternalId", "ext-1", EXT, True),
    ("StringEquals", "sts:ExternalId", "EXT-1", EXT, False),
    ("StringEquals", "sts:ExternalId", ["a", "ext-1"], EXT, True),
    ("StringEquals", "STS:EXTERNALID", "ext-1", EXT, True),  # key names are case-insensitive
    ("StringEqualsIgnoreCase", "sts:ExternalId", "EXT-1", EXT, True),
    # A missing key: the condition is false ...
    ("StringEquals", "sts:ExternalId", "ext-1", NONE, False),
    ("StringLike", "sts:ExternalId", "*", NONE, False),
    # ... unless the operator is negated: "the condition is true" (StringNotEquals, ArnNotLike, ...).
    ("StringNotEquals", "sts:ExternalId", "ext-1", NONE, True),
    ("StringNotLike", "sts:ExternalId", "ext-*", NONE, True),
    ("StringNotEqualsIgnoreCase", "sts:ExternalId", "x", NONE, True),
    ("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::*:user/x", NONE, True),
    ("NumericNotEquals", "aws:MultiFactorAuthAge", "5", NONE, True),
    ("DateNotEquals", "aws:CurrentTime", "2020-01-01T00:00:00Z", NONE, True),
    ("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", NONE, True),
    # Negated with the key present: true when no policy value matches.
    ("StringNotEquals", "sts:ExternalId", "ext-1", EXT, False),
    ("StringNotEquals", "sts:ExternalId", "other", EXT, True),
    ("StringNotEquals", "sts:ExternalId", ["other", "ext-1"], EXT, False),
    ("StringNotEqualsIgnoreCase", "sts:ExternalId", "EXT-1", EXT, False),
    # StringLike: only * and ? are wildcards; [gw] is literal text, not a character class.
    ("StringLike", "sts:ExternalId", "ext-*", EXT, True),
    ("StringLike", "sts:ExternalId", "ext-?", EXT, True),
    ("StringLike", "sts:ExternalId", "ext-??", EXT, False),
    ("StringLike", "sts:ExternalId", "[e]xt-1", EXT, False),
    ("StringLike", "sts:ExternalId", "[gw]", {"sts:externalid": ("g",)}, False),
    ("StringLike", "sts:ExternalId", "[gw]", {"sts:externalid": ("[gw]",)}, True),
    ("StringLike", "sts:ExternalId", "EXT-*", EXT, False),  # case-sensitive
    ("StringNotLike", "sts:ExternalId", "ext-*", EXT, False),
    ("StringEquals", "sts:ExternalId", "ext-*", EXT, False),  # StringEquals has no wildcards
    # ...IfExists: a missing key makes it true; a present key is tested as usual.
    ("StringEqualsIfExists", "sts:ExternalId", "ext-1", NONE, True),
    ("StringEqualsIfExists", "sts:ExternalId", "other", EXT, False),
    ("StringNotEqualsIfExists", "sts:ExternalId", "ext-1", EXT, False),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", "true", NONE, True),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", "true", {"aws:multifactorauthpresent": ("false",)}, False),
    ("NumericLessThanIfExists", "aws:MultiFactorAuthAge", "3600", NONE, True),
    # Null: "true" means the key is absent, "false" that it is present.
    ("Null", "sts:ExternalId", "true", NONE, True),
    ("Null", "sts:ExternalId", "true", EXT, False),
    ("Null", "sts:ExternalId", "false", EXT, True),
    ("Null", "sts:ExternalId", "false", NONE, False),
    # Bool: true/false, case-insensitive values; a JSON boolean works too.
    ("Bool", "aws:MultiFactorAuthPresent", "true", {"aws:multifactorauthpresent": ("true",)}, True),
    ("Bool", "aws:MultiFactorAuthPresent", True, {"aws:multifactorauthpresent": ("true",)}, True),
    ("Bool", "aws:MultiFactorAuthPresent", "true", {"aws:multifactorauthpresent": ("false",)}, False),
    ("Bool", "aws:MultiFactorAuthPresent", "true", NONE, False),
    # Numeric.
    ("NumericLessThan", "aws:MultiFactorAuthAge", "3600", {"aws:multifactorauthage": ("0",)}, True),
    ("NumericLessThan", "aws:MultiFactorAuthAge", "3600", {"aws:multifactorauthage": ("3600",)}, False),
    ("NumericLessThanEquals", "aws:MultiFactorAuthAge", "3600", {"aws:multifactorauthage": ("3600",)}, True),
    ("NumericGreaterThan", "aws:MultiFactorAuthAge", "10", {"aws:multifactorauthage": ("11",)}, True),
    ("NumericGreaterThanEquals", "aws:MultiFactorAuthAge", "10", {"aws:multifactorauthage": ("9",)}, False),
    ("NumericEquals", "aws:MultiFactorAuthAge", "10", {"aws:multifactorauthage": ("10.0",)}, True),
    ("NumericLessThan", "aws:MultiFactorAuthAge", "3600", NONE, False),
    ("NumericLessThan", "aws:MultiFactorAuthAge", "not-a-number", {"aws:multifactorauthage": ("0",)}, False),
    # Date: ISO 8601 or epoch seconds.
    ("DateLessThan", "aws:CurrentTime", "2027-01-01T00:00:00Z", TIME, True),
    ("DateGreaterThan", "aws:CurrentTime", "2027-01-01T00:00:00Z", TIME, False),
    ("DateGreaterThanEquals", "aws:CurrentTime", "1700000000", TIME, True),
    ("DateEquals", "aws:CurrentTime", "2026-11-22T12:00:00+00:00", TIME, True),
    ("DateLessThanEquals", "aws:CurrentTime", "2026-11-22T12:00:00Z", TIME, True),
    # Arn: part by part, with wildcards; ArnEquals and ArnLike behave alike.
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::111111111111:user/*", ARN, True),
    ("ArnEquals", "aws:PrincipalArn", "arn:aws:iam::*:user/ci-user", ARN, True),
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::222222222222:user/*", ARN, False),
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::111111111111:role/*", ARN, False),
    ("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::111111111111:user/*", ARN, False),
    ("ArnNotEquals", "aws:PrincipalArn", "arn:aws:iam::111111111111:user/other", ARN, True),
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::111111111111", ARN, False),  # not six parts
    # IP address.
    ("IpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:sourceip": ("203.0.113.9",)}, True),
    ("NotIpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:sourceip": ("203.0.113.9",)}, False),
    # Set operators on a multivalued key.
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["env"], TAGS, True),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["cost"], TAGS, False),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["team", "env", "x"], TAGS, True),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["team"], TAGS, False),
    ("ForAllValues:StringLike", "aws:TagKeys", ["*e*"], TAGS, True),
    ("ForAnyValue:StringNotEquals", "aws:TagKeys", ["team"], TAGS, True),  # "env" is not "team"
    ("ForAllValues:StringNotEquals", "aws:TagKeys", ["team"], TAGS, False),
    # ... and with the key absent: ForAllValues is true, ForAnyValue false.
    ("ForAllValues:StringEquals", "aws:TagKeys", ["team"], NONE, True),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["team"], NONE, False),
    ("ForAnyValue:StringNotEquals", "aws:TagKeys", ["team"], NONE, False),
    ("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", ["team"], NONE, True),
]


@pytest.mark.parametrize(("operator", "key", "value", "context", "expected"), ROWS,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(ROWS)])  # fmt: skip
def test_condition_operator_as_aws_documents(operator: str, key: str, value: Any,
                                             context: dict[str, tuple[str, ...]], expected: bool) -> None:  # fmt: skip
    assert condition_holds(operator, key, value, context) is expected


USER = Caller("111111111111", "arn:aws:iam::111111111111:user/ci-user", temporary=False)
ROLE_ARN = "arn:aws:iam::222222222222:role/r"


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(condition: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": {"AWS": USER.principal_arn}, "Action": "sts:AssumeRole", **extra}
    return {**statement, "Condition": condition} if condition else statement


def request(external_id: str | None = None, **kw: Any) -> Request:
    return Request(ROLE_ARN, external_id, None, None, **kw)


def test_a_deny_with_a_negated_operator_applies_when_no_external_id_is_sent() -> None:
    policy = trust(allow(), {**allow({"StringNotEquals": {"sts:ExternalId": "ext-1"}}), "Effect": "Deny"})
    assert not judge(policy, USER, request()).allowed
    assert judge(policy, USER, request("ext-1")).allowed
    assert not judge(policy, USER, request("other")).allowed


def test_an_allow_with_a_negated_operator_allows_another_external_id() -> None:
    policy = trust(allow({"StringNotEquals": {"sts:ExternalId": "blocked"}}))
    assert judge(policy, USER, request("ext-1")).allowed
    assert not judge(policy, USER, request("blocked")).allowed


def test_several_operators_and_keys_must_all_hold() -> None:
    policy = trust(allow({"StringEquals": {"sts:ExternalId": "ext-1"}, "Null": {"sts:SourceIdentity": "false"}}))
    assert not judge(policy, USER, request("ext-1")).allowed
    assert judge(policy, USER, request("ext-1", source_identity="me")).allowed


def test_unknown_operators_fail_closed_in_both_effects() -> None:
    assert not judge(trust(allow({"StringSounds": {"sts:ExternalId": "x"}})), USER, request("x")).allowed
    deny = {**allow({"StringSounds": {"sts:ExternalId": "x"}}), "Effect": "Deny"}
    assert not judge(trust(allow(), deny), USER, request("x")).allowed


def test_actions_use_aws_wildcards_and_not_action() -> None:
    assert judge(trust({**allow(), "Action": "sts:Assume*"}), USER, request()).allowed
    assert not judge(trust({**allow(), "Action": "sts:[A]ssumeRole"}), USER, request()).allowed
    not_action = {k: v for k, v in allow().items() if k != "Action"}
    assert not judge(trust({**not_action, "NotAction": "sts:AssumeRole"}), USER, request()).allowed
    assert judge(trust({**not_action, "NotAction": "s3:*"}), USER, request()).allowed


def test_principal_and_time_context_keys() -> None:
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    policy = trust(allow({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:user/ci-*"},
                          "DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}))  # fmt: skip
    assert judge(policy, USER, request(now=now)).allowed
    assert not judge(policy, USER, request(now=datetime(2027, 6, 1, tzinfo=UTC))).allowed


def test_session_tags_reach_request_tag_and_tag_keys() -> None:
    policy = trust(allow({"StringEquals": {"aws:RequestTag/team": "platform"},
                          "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}))  # fmt: skip
    assert judge(policy, USER, request(tags=(("team", "platform"),))).allowed
    assert not judge(policy, USER, request(tags=(("team", "platform"), ("x", "y")))).allowed
    assert not judge(policy, USER, request()).allowed


def test_not_principal_and_a_named_role_session() -> None:
    session = Caller("111111111111", "arn:aws:iam::111111111111:role/ci", True,
                     session_arn="arn:aws:sts::111111111111:assumed-role/ci/build-7")  # fmt: skip
    by_session = trust({**allow(), "Principal": {"AWS": session.session_arn}})
    assert judge(by_session, session, request()).allowed
    assert not judge(by_session, USER, request()).allowed
    everyone_but_ci = {"Effect": "Deny", "NotPrincipal": {"AWS": USER.principal_arn}, "Action": "sts:AssumeRole"}
    role_trust = trust({**allow(), "Principal": {"AWS": "111111111111"}}, everyone_but_ci)
    assert judge(role_trust, USER, request()).allowed
    assert not judge(role_trust, session, request()).allowed


def test_global_keys_present_in_every_request() -> None:
    policy = trust(allow({"Bool": {"aws:ViaAWSService": "false"}, "StringEquals": {"aws:PrincipalType": "User"}}))
    assert judge(policy, USER, request()).allowed
