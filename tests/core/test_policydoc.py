"""Semantic comparison of policy documents, property-based: IAM's re-serializations never look like
drift, and any single real change always does."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bootstrap.aws import botomodel
from bootstrap.core import plan, policydoc

ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
ACTIONS = ["sts:AssumeRole", "s3:GetObject", "s3:PutObject", "iam:GetRole", "ec2:Describe*"]
RESOURCES = ["*", "arn:aws:s3:::bucket/*", "arn:aws:iam::222222222222:role/deploy"]
CONDITION_KEYS = ["sts:ExternalId", "aws:MultiFactorAuthPresent", "aws:SourceIp"]
OPERATORS = ["StringEquals", "StringLike", "Bool", "IpAddress"]


def _principal_values() -> st.SearchStrategy[str]:
    return st.sampled_from(
        ACCOUNTS + [f"arn:aws:iam::{a}:user/ci" for a in ACCOUNTS] + [f"arn:aws:iam::{a}:role/x" for a in ACCOUNTS]
    )


statement_strategy = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Action": st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3, unique=True),
        "Resource": st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2, unique=True),
    },
    optional={
        "Principal": st.fixed_dictionaries({"AWS": st.lists(_principal_values(), min_size=1, max_size=3, unique=True)}),
        "Condition": st.dictionaries(
            st.sampled_from(OPERATORS),
            st.dictionaries(
                st.sampled_from(CONDITION_KEYS),
                st.lists(st.text("abcdef0123", min_size=1, max_size=5), min_size=1, max_size=2, unique=True),
                min_size=1,
                max_size=2,
            ),
            min_size=1,
            max_size=2,
        ),
        "Sid": st.text("ABCxyz", min_size=1, max_size=4),
    },
)
policy_strategy = st.fixed_dictionaries(
    {"Version": st.just("2012-10-17"), "Statement": st.lists(statement_strategy, min_size=1, max_size=3)}
)


def _rewrite_value(value: Any, data: st.DataObject) -> Any:
    """A list may come back shuffled, or as a bare string when it holds one item."""
    if isinstance(value, list):
        shuffled = data.draw(st.permutations(value))
        if len(shuffled) == 1 and data.draw(st.booleans()):
            return shuffled[0]
        return list(shuffled)
    return value


def _equivalent_rewrite(policy: dict[str, Any], data: st.DataObject) -> str:
    statements = []
    for statement in data.draw(st.permutations(policy["Statement"])):
        out: dict[str, Any] = {}
        keys = data.draw(st.permutations(list(statement)))
        for key in keys:
            value = statement[key]
            if key == "Sid":
                continue  # IAM may drop or keep Sids; they carry no meaning
            if key == "Action":
                value = [a.upper() if data.draw(st.booleans()) else a for a in value]
            if key == "Principal":
                aws = [
                    f"arn:aws:iam::{v}:root" if v.isdigit() and data.draw(st.booleans()) else v for v in value["AWS"]
                ]
                value = {"AWS": _rewrite_value(aws, data)}
            elif key == "Condition":
                value = {
                    op: {
                        (k.upper() if data.draw(st.booleans()) else k): _rewrite_value(v, data)
                        for k, v in pairs.items()
                    }
                    for op, pairs in value.items()
                }
            else:
                value = _rewrite_value(value, data)
            out[key] = value
        if data.draw(st.booleans()):
            out["Sid"] = "Added"
        statements.append(out)
    statement_value: Any = statements[0] if len(statements) == 1 and data.draw(st.booleans()) else statements
    indent = data.draw(st.sampled_from([None, 2, 4]))
    return json.dumps({"Statement": statement_value, "Version": policy["Version"]}, indent=indent)


@given(policy_strategy, st.data())
def test_equivalent_rewritings_compare_equal(policy: dict[str, Any], data: st.DataObject) -> None:
    rewritten = _equivalent_rewrite(policy, data)
    assert policydoc.equivalent(policy, rewritten)


def _mutations(statement: dict[str, Any]) -> list[str]:
    kinds = ["effect", "action", "resource"]
    if "Principal" in statement:
        kinds.append("principal")
    if "Condition" in statement:
        kinds.append("condition")
    return kinds


@given(policy_strategy, st.data())
def test_any_single_change_compares_unequal(policy: dict[str, Any], data: st.DataObject) -> None:
    changed = copy.deepcopy(policy)
    index = data.draw(st.integers(0, len(changed["Statement"]) - 1))
    statement = changed["Statement"][index]
    kind = data.draw(st.sampled_from(_mutations(statement)))
    if kind == "effect":
        statement["Effect"] = "Deny" if statement["Effect"] == "Allow" else "Allow"
    elif kind == "action":
        statement["Action"][data.draw(st.integers(0, len(statement["Action"]) - 1))] = "kms:Decrypt"
    elif kind == "resource":
        statement["Resource"][0] = "arn:aws:s3:::another-bucket"
    elif kind == "principal":
        statement["Principal"]["AWS"][0] = "arn:aws:iam::999999999999:user/intruder"
    else:
        operator = data.draw(st.sampled_from(sorted(statement["Condition"])))
        key = data.draw(st.sampled_from(sorted(statement["Condition"][operator])))
        statement["Condition"][operator][key][0] = "changed-value"
    assert not policydoc.equivalent(policy, changed), kind


def test_account_id_and_root_arn_are_the_same_principal() -> None:
    a = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"}]}
    b = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111111111111:root"]}, "Action": ["sts:assumerole"]}
        ]
    }
    assert policydoc.equivalent(a, b)


def test_a_wildcard_resource_is_not_the_role_arn() -> None:
    exact = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::2:role/x"}]}
    wide = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    assert not policydoc.equivalent(exact, wide)


# -- grammar ---------------------------------------------------------------------------------------


ALLOW = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


@pytest.mark.parametrize(
    ("statement", "trust", "words"),
    [
        ({**ALLOW, "Effect": "Maybe"}, False, ["statement 1", "Effect"]),
        ({"Effect": "Allow", "Resource": "*"}, False, ["Action and NotAction"]),
        ({**ALLOW, "Condition": {"StringLike": "x"}}, False, ["Condition StringLike"]),
        ({**ALLOW, "Condition": {"ForAnyValue:StringLikeIfExists": {"k": ["a", 1, True]}}}, False, []),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "x"}}, True, []),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "x"}, "Resource": "*"}, True,
         ["no Resource"]),
        ({"Effect": "Allow", "Action": "sts:AssumeRole"}, True, ["Principal and NotPrincipal"]),
    ],
)  # fmt: skip
def test_grammar(statement: dict[str, Any], trust: bool, words: list[str]) -> None:
    document = {"Version": "2012-10-17", "Statement": [statement]}
    if not words:
        policydoc.check_grammar(document, trust=trust)
        return
    with pytest.raises(ValueError, match="statement 1") as caught:
        policydoc.check_grammar(document, trust=trust)
    for word in words:
        assert word in str(caught.value)


def test_duplicate_sids_are_refused() -> None:
    document = {"Statement": [{**ALLOW, "Sid": "A"}, {**ALLOW, "Sid": "A"}]}
    with pytest.raises(ValueError, match="statement 2 \\(A\\): Sid 'A' is used twice"):
        policydoc.check_grammar(document)


def test_wider_grants_are_named() -> None:
    ours = json.dumps({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:r"}})
    for live, wider in [
        ({"Effect": "Allow", "Action": "sts:*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:r", "Condition": {"Bool": {"k": "true"}}},
         False),
        ({"Effect": "Deny", "Action": "*", "Resource": "*"}, False),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:r"}, True),
    ]:  # fmt: skip
        assert bool(plan.wider_allows(json.dumps({"Statement": [live]}), ours)) is wider, live


def test_model_checks_come_from_botocore() -> None:
    botomodel.check("iam", "CreateRole", "Description", "Déploiement")
    with pytest.raises(ValueError, match="not allowed"):
        botomodel.check("iam", "CreateRole", "Description", "デプロイ")
    with pytest.raises(ValueError, match="3600-43200"):
        botomodel.check("iam", "CreateRole", "MaxSessionDuration", 60)
