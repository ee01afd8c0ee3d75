"""The sandbox's judgement of identity statements scoped by the resource's organization keys,
against AWS's documented rules for absent keys and set operators."""

from __future__ import annotations

from bootstrap.sandbox.orgscope import _applies, _condition_holds

PATH = "o-abcdefghij/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"
CONTEXT = {
    "aws:resourceorgid": ["o-abcdefghij"],
    "aws:resourceorgpaths": [PATH],
    "aws:resourceaccount": ["222222222222"],
}


def test_the_documented_ou_pattern_matches_accounts_below_the_unit() -> None:
    pattern = "o-abcdefghij/r-ab12/ou-ab12-11111111/*"
    assert _condition_holds("ForAnyValue:StringLike", "aws:ResourceOrgPaths", [pattern], CONTEXT)
    assert not _condition_holds(
        "ForAnyValue:StringLike", "aws:ResourceOrgPaths", ["o-abcdefghij/r-ab12/ou-ab12-3*"], CONTEXT
    )


def test_an_absent_key_fails_its_condition_unless_if_exists_or_for_all_values() -> None:
    assert not _condition_holds("StringEquals", "aws:ResourceOrgID", "o-abcdefghij", {})
    assert not _condition_holds("ForAnyValue:StringLike", "aws:ResourceOrgPaths", ["o-*"], {})
    assert _condition_holds("StringEqualsIfExists", "aws:ResourceOrgID", "o-abcdefghij", {})
    assert _condition_holds("ForAllValues:StringLike", "aws:ResourceOrgPaths", ["o-*"], {})


def test_an_unknown_operator_fails_closed() -> None:
    assert not _condition_holds("ArnLike", "aws:ResourceOrgID", "o-*", CONTEXT)


def test_a_statement_applies_only_to_its_action_resource_and_conditions() -> None:
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/deploy",
                 "Condition": {"StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"}}}  # fmt: skip
    assert _applies(statement, "arn:aws:iam::222222222222:role/deploy", CONTEXT)
    assert not _applies(statement, "arn:aws:iam::222222222222:role/other", CONTEXT)
    assert not _applies(statement, "arn:aws:iam::222222222222:role/deploy", {})
