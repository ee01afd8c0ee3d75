"""core/arns.py: the one ARN parser. Whole ARNs are parsed and checked; ARN patterns (which may hold
wildcards) are split into their six fields unchecked; names, sessions and neighbours are read from
ARNs here and nowhere else."""

from __future__ import annotations

import pytest

from bootstrap.core import arns


def test_parse_arn_keeps_the_resource_whole() -> None:
    arn = arns.parse_arn("arn:aws:iam::111111111111:role/ci/deploy")
    assert (arn.partition, arn.service, arn.region, arn.account, arn.resource) == (
        "aws",
        "iam",
        "",
        "111111111111",
        "role/ci/deploy",
    )
    assert str(arn) == "arn:aws:iam::111111111111:role/ci/deploy"
    assert arns.parse_arn("arn:aws:logs:us-east-1:111111111111:log-group:a:b").resource == "log-group:a:b"


@pytest.mark.parametrize(
    "text", ["", "deploy", "arn:aws:iam::111111111111", "arn:aws-xx:iam::1:role/a", "urn:a:b:c:d:e"]
)
def test_parse_arn_refuses_what_is_not_an_arn(text: str) -> None:
    with pytest.raises(ValueError, match=r"ARN|partition"):
        arns.parse_arn(text)


def test_fields_split_patterns_unchecked() -> None:
    assert arns.fields("arn:*:iam::*:role/*") == ("arn", "*", "iam", "", "*", "role/*")
    assert arns.fields("arn:aws:logs:r:1:log-group:a:b") == ("arn", "aws", "logs", "r", "1", "log-group:a:b")
    assert arns.fields("*") is None
    assert arns.fields("a:b:c") is None


def test_parse_role_arn() -> None:
    assert arns.parse_role_arn("arn:aws:iam::222222222222:role/deploy").account == "222222222222"
    for text in ("arn:aws:iam::222222222222:user/deploy", "arn:aws:sts::222222222222:assumed-role/deploy/s"):
        with pytest.raises(ValueError, match="is not an IAM role ARN"):
            arns.parse_role_arn(text)


def test_iam_name_reads_kind_path_name_and_session() -> None:
    assert arns.iam_name("arn:aws:iam::1:policy/a/b/ops") == arns.IamName("policy", "/a/b/", "ops")
    assert arns.iam_name("arn:aws:iam::1:policy/ops") == arns.IamName("policy", "/", "ops")
    assert arns.iam_name("arn:aws:sts::1:assumed-role/deploy/s1") == arns.IamName("assumed-role", "/", "deploy", "s1")


def test_names_accounts_and_neighbours() -> None:
    assert arns.name_of("arn:aws:iam::1:role/ci/deploy") == "deploy"
    assert arns.name_of("deploy") == "deploy"
    assert arns.account_of("arn:aws:iam::111111111111:root") == "111111111111"
    assert arns.account_of("not an arn") is None
    assert arns.beside("arn:aws:iam::1:role/ci/deploy", "deploy-plan") == "arn:aws:iam::1:role/ci/deploy-plan"


def test_is_session_of() -> None:
    assert arns.is_session_of("arn:aws:sts::2:assumed-role/deploy/trust-bootstrap", "deploy")
    assert not arns.is_session_of("arn:aws:sts::2:assumed-role/deployer/s", "deploy")
    assert not arns.is_session_of("arn:aws:iam::2:role/deploy", "deploy")


def test_role_arn_and_principal() -> None:
    assert arns.role_arn("aws", "2", "/ci/", "deploy") == "arn:aws:iam::2:role/ci/deploy"
    principal = arns.parse_principal("arn:aws:iam::111111111111:user/ops/ci-user")
    assert (principal.kind, principal.path, principal.name) == ("user", "/ops/", "ci-user")
    assert principal.arn == "arn:aws:iam::111111111111:user/ops/ci-user"
