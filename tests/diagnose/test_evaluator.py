"""The policy evaluator, case by case. Each case cites the rule of AWS's IAM User Guide it checks:
[logic] "Policy evaluation logic", [ops] "IAM JSON policy elements: Condition operators",
[cond] "IAM JSON policy elements: Condition", [principal] "IAM JSON policy elements: Principal",
[action] "...: Action", [notp] "...: NotPrincipal", [sets] "Single-valued vs. multivalued context keys"."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap.diagnose.evaluator import Request, UnsupportedCondition, condition_holds, evaluate, evaluate_all

USER = "arn:aws:iam::111111111111:user/ci-user"
ROLE = "arn:aws:iam::222222222222:role/deploy"
SESSION = "arn:aws:sts::111111111111:assumed-role/builder/s1"


def req(context: dict[str, list[str]] | None = None, principal: str = USER, session: str | None = None) -> Request:
    return Request("sts:AssumeRole", ROLE, principal, "111111111111", session, context or {})


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal: Any = None, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": principal or USER}, "Action": "sts:AssumeRole", **extra}


TRUST_CASES: list[tuple[str, dict[str, Any], Request, bool]] = [
    # (rule, trust policy, request, allowed)
    ("[principal] an exact user ARN matches that user", trust(allow()), req(), True),
    (
        "[principal] another user of the account does not match",
        trust(allow("arn:aws:iam::111111111111:user/other")),
        req(),
        False,
    ),
    (
        "[principal] the account root stands for every principal of the account",
        trust(allow("arn:aws:iam::111111111111:root")),
        req(),
        True,
    ),
    ("[principal] a bare account ID is the same as its root ARN", trust(allow("111111111111")), req(), True),
    ("[principal] another account does not match", trust(allow("333333333333")), req(), False),
    (
        "[principal] * matches everyone",
        trust({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}),
        req(),
        True,
    ),
    (
        "[principal] a role ARN matches sessions of that role",
        trust(allow("arn:aws:iam::111111111111:role/builder")),
        req(principal="arn:aws:iam::111111111111:role/builder", session=SESSION),
        True,
    ),
    (
        "[principal] a session ARN matches that session",
        trust(allow(SESSION)),
        req(principal="arn:aws:iam::111111111111:role/builder", session=SESSION),
        True,
    ),
    ("[principal] a unique ID (deleted principal) matches nobody", trust(allow("AIDAEXAMPLEEXAMPLE12")), req(), False),
    (
        "[notp] NotPrincipal allows everyone but those listed",
        trust(
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:user/other"},
                "Action": "sts:AssumeRole",
            }
        ),
        req(),
        True,
    ),
    (
        "[notp] NotPrincipal excludes the listed principal",
        trust({"Effect": "Allow", "NotPrincipal": {"AWS": USER}, "Action": "sts:AssumeRole"}),
        req(),
        False,
    ),
    ("[logic] an explicit Deny overrides any Allow", trust(allow(), {**allow(), "Effect": "Deny"}), req(), False),
    ("[logic] nothing applies: implicit deny", trust(), req(), False),
    ("[action] action names are case-insensitive", trust({**allow(), "Action": "STS:assumerole"}), req(), True),
    ("[action] wildcards in actions", trust({**allow(), "Action": "sts:Assume*"}), req(), True),
    ("[action] ? matches one character", trust({**allow(), "Action": "sts:AssumeRol?"}), req(), True),
    ("[action] another action does not match", trust({**allow(), "Action": "sts:TagSession"}), req(), False),
    (
        "[action] NotAction applies to every other action",
        trust({**allow(), "NotAction": "s3:*"} | {"Action": "*"}),
        req(),
        True,
    ),
    (
        "[cond] the ExternalId must match",
        trust(allow(Condition={"StringEquals": {"sts:ExternalId": "x1"}})),
        req({"sts:ExternalId": ["x1"]}),
        True,
    ),
    (
        "[cond] a wrong ExternalId fails",
        trust(allow(Condition={"StringEquals": {"sts:ExternalId": "x1"}})),
        req({"sts:ExternalId": ["x2"]}),
        False,
    ),
    (
        "[ops] a missing key makes a condition false",
        trust(allow(Condition={"StringEquals": {"sts:ExternalId": "x1"}})),
        req(),
        False,
    ),
    (
        "[cond] condition key names are case-insensitive",
        trust(allow(Condition={"StringEquals": {"STS:EXTERNALID": "x1"}})),
        req({"sts:ExternalId": ["x1"]}),
        True,
    ),
    (
        "[ops] string values are case-sensitive",
        trust(allow(Condition={"StringEquals": {"sts:ExternalId": "X1"}})),
        req({"sts:ExternalId": ["x1"]}),
        False,
    ),
    (
        "[cond] several values for one key: any may match (OR)",
        trust(allow(Condition={"StringEquals": {"sts:ExternalId": ["a", "x1"]}})),
        req({"sts:ExternalId": ["x1"]}),
        True,
    ),
    (
        "[cond] several keys: all must hold (AND)",
        trust(allow(Condition={"StringEquals": {"sts:ExternalId": "x1", "aws:PrincipalTag/team": "a"}})),
        req({"sts:ExternalId": ["x1"]}),
        False,
    ),
    (
        "[cond] several operators: all must hold (AND)",
        trust(
            allow(Condition={"StringEquals": {"sts:ExternalId": "x1"}, "Bool": {"aws:MultiFactorAuthPresent": "true"}})
        ),
        req({"sts:ExternalId": ["x1"], "aws:MultiFactorAuthPresent": ["false"]}),
        False,
    ),
    (
        "[ops] Bool values are case-insensitive",
        trust(allow(Condition={"Bool": {"aws:MultiFactorAuthPresent": "TRUE"}})),
        req({"aws:MultiFactorAuthPresent": ["true"]}),
        True,
    ),
    (
        "[ops] BoolIfExists passes when the key is missing",
        trust(allow(Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})),
        req(),
        True,
    ),
    (
        "[ops] BoolIfExists checks the key when present",
        trust(allow(Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})),
        req({"aws:MultiFactorAuthPresent": ["false"]}),
        False,
    ),
    (
        "[ops] NumericLessThan on the MFA age",
        trust(allow(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})),
        req({"aws:MultiFactorAuthAge": ["10"]}),
        True,
    ),
    (
        "[ops] NumericLessThan fails for an old MFA sign-in",
        trust(allow(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})),
        req({"aws:MultiFactorAuthAge": ["7200"]}),
        False,
    ),
    (
        "[ops] StringLike wildcards",
        trust(allow(Condition={"StringLike": {"sts:ExternalId": "team-*"}})),
        req({"sts:ExternalId": ["team-7"]}),
        True,
    ),
]


@pytest.mark.parametrize(("rule", "policy", "request_", "allowed"), TRUST_CASES, ids=[c[0] for c in TRUST_CASES])
def test_trust_policy_cases(rule: str, policy: dict[str, Any], request_: Request, allowed: bool) -> None:
    assert evaluate(policy, request_, is_resource_policy=True).allowed is allowed, rule


CONDITION_CASES: list[tuple[str, str, Any, dict[str, list[str]], bool]] = [
    # (rule, operator, policy values, request context for key "k", holds)
    ("[ops] negated operators are true when the key is missing", "StringNotEquals", "a", {}, True),
    (
        "[ops] negated operators with several values: match none (AND)",
        "StringNotEquals",
        ["a", "b"],
        {"k": ["b"]},
        False,
    ),
    ("[ops] negated operators hold for another value", "StringNotEquals", ["a", "b"], {"k": ["c"]}, True),
    ("[ops] StringEqualsIgnoreCase", "StringEqualsIgnoreCase", "ABC", {"k": ["abc"]}, True),
    ("[ops] StringNotLike", "StringNotLike", "a*", {"k": ["abc"]}, False),
    ("[ops] NumericGreaterThanEquals", "NumericGreaterThanEquals", "5", {"k": ["5"]}, True),
    ("[ops] NumericNotEquals", "NumericNotEquals", "5", {"k": ["6"]}, True),
    ("[ops] DateLessThan with ISO 8601", "DateLessThan", "2030-01-01T00:00:00Z", {"k": ["2026-11-21T00:00:00Z"]}, True),
    (
        "[ops] DateGreaterThan with epoch seconds",
        "DateGreaterThan",
        "1700000000",
        {"k": ["2026-11-21T00:00:00Z"]},
        True,
    ),
    ("[ops] IpAddress in a CIDR block", "IpAddress", "203.0.113.0/24", {"k": ["203.0.113.9"]}, True),
    ("[ops] NotIpAddress", "NotIpAddress", "203.0.113.0/24", {"k": ["198.51.100.1"]}, True),
    (
        "[ops] ArnLike with wildcards per part",
        "ArnLike",
        "arn:aws:iam::*:role/ci-*",
        {"k": [ROLE.replace("deploy", "ci-x")]},
        True,
    ),
    ("[ops] ArnEquals does not cross parts", "ArnEquals", "arn:aws:iam::*:role/x", {"k": [ROLE]}, False),
    ("[ops] ArnNotLike", "ArnNotLike", "arn:aws:iam::*:role/ci-*", {"k": [ROLE]}, True),
    ("[ops] Null true: the key must be absent", "Null", "true", {}, True),
    ("[ops] Null false: the key must be present", "Null", "false", {}, False),
    ("[ops] StringEqualsIfExists passes when missing", "StringEqualsIfExists", "a", {}, True),
    (
        "[sets] ForAnyValue: any request value matching is enough",
        "ForAnyValue:StringEquals",
        ["a"],
        {"k": ["a", "z"]},
        True,
    ),
    ("[sets] ForAnyValue with the key missing is false", "ForAnyValue:StringEquals", ["a"], {}, False),
    (
        "[sets] ForAllValues: every request value must match",
        "ForAllValues:StringEquals",
        ["a", "b"],
        {"k": ["a", "z"]},
        False,
    ),
    ("[sets] ForAllValues with the key missing is true", "ForAllValues:StringEquals", ["a"], {}, True),
    ("[sets] ForAllValues: all values in the set", "ForAllValues:StringLike", ["a*", "b*"], {"k": ["ax", "by"]}, True),
]


@pytest.mark.parametrize(
    ("rule", "operator", "values", "context", "holds"), CONDITION_CASES, ids=[c[0] for c in CONDITION_CASES]
)
def test_condition_operator_cases(
    rule: str, operator: str, values: Any, context: dict[str, list[str]], holds: bool
) -> None:
    assert condition_holds(operator, "k", values, req(context)) is holds, rule


def test_unknown_operator_is_not_guessed() -> None:
    with pytest.raises(UnsupportedCondition):
        condition_holds("StringSortOf", "k", "a", req({"k": ["a"]}))


def test_identity_policies_combined_deny_wins_and_names_the_statement() -> None:
    grant = {"Statement": [{"Sid": "Grant", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE}]}
    guard = {
        "Statement": [
            {"Sid": "NoCross", "Effect": "Deny", "Action": "sts:*", "Resource": "arn:aws:iam::222222222222:role/*"}
        ]
    }
    decision = evaluate_all([("grant", grant), ("guard", guard)], req())
    assert not decision.allowed and decision.explicit_deny
    assert decision.deciding == "guard: NoCross"
    allowed = evaluate_all([("grant", grant)], req())
    assert allowed.allowed and allowed.deciding == "grant: Grant"


def test_identity_policy_resource_must_cover_the_role() -> None:
    wrong = {
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::222222222222:role/other"}
        ]
    }
    decision = evaluate_all([("p", wrong)], req())
    assert not decision.allowed and not decision.explicit_deny
    assert "Resource does not include" in decision.statements[0].why_not


def test_orphaned_unique_id_is_reported() -> None:
    decision = evaluate(trust(allow("AROAEXAMPLEEXAMPLE12")), req(), is_resource_policy=True)
    assert decision.orphaned == ("AROAEXAMPLEEXAMPLE12",)


# -- properties (hypothesis) ------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402 (the property tests' own imports)
from hypothesis import strategies as st  # noqa: E402

KEYS = ["sts:ExternalId", "aws:MultiFactorAuthPresent", "sts:RoleSessionName", "sts:SourceIdentity"]
VALUES = ["x", "y", "true", "false"]
# Operators that are false on an absent key (not negated, not ...IfExists, not Null, not ForAllValues).
POSITIVE = ["StringEquals", "StringLike", "StringEqualsIgnoreCase", "Bool", "ForAnyValue:StringEquals"]
ANY_OPERATOR = [*POSITIVE, "StringNotEquals", "StringEqualsIfExists", "BoolIfExists", "Null", "StringNotLike"]
PRINCIPALS = [USER, "arn:aws:iam::111111111111:user/other", "arn:aws:iam::111111111111:root", "333333333333",
              "arn:aws:iam::111111111111:role/builder"]  # fmt: skip

conditions = st.dictionaries(
    st.sampled_from(ANY_OPERATOR), st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), min_size=1, max_size=2),
    max_size=2,
)  # fmt: skip
contexts = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES).map(lambda v: [v]), max_size=4)


@st.composite
def statements(draw: Any, effect: str | None = None) -> dict[str, Any]:
    principal = draw(st.lists(st.sampled_from(PRINCIPALS), min_size=1, max_size=2))
    statement = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"])), "Principal": {"AWS": principal},
                 "Action": "sts:AssumeRole"}  # fmt: skip
    condition = draw(conditions)
    return statement | ({"Condition": condition} if condition else {})


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    st.lists(statements(), max_size=4),
    contexts,
    st.sampled_from(POSITIVE),
    st.sampled_from(KEYS),
    st.sampled_from(VALUES),
)
def test_a_deny_on_an_absent_key_never_changes_the_verdict(
    policy: list[dict[str, Any]], context: dict[str, list[str]], operator: str, key: str, value: str
) -> None:
    # [ops] a condition on a key absent from the request is false for these operators.
    context = {k: v for k, v in context.items() if k != key}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {operator: {key: value}}}
    before = evaluate(trust(*policy), req(context), is_resource_policy=True).allowed
    assert evaluate(trust(*policy, deny), req(context), is_resource_policy=True).allowed is before


@PROPERTY
@given(statements("Allow"), contexts)
def test_one_statement_never_allows_more_than_its_conditions_split_in_two(
    statement: dict[str, Any], context: dict[str, list[str]]
) -> None:
    # [cond] every condition of one statement must hold (AND); split across two statements they
    # are alternatives (OR): the split may allow more, the whole statement never does.
    pairs = [(op, k, v) for op, keys in statement.get("Condition", {}).items() for k, v in keys.items()]
    half = len(pairs) // 2
    parts = [pairs[:half], pairs[half:]]
    split = []
    for part in parts:
        condition: dict[str, dict[str, str]] = {}
        for op, k, v in part:
            condition.setdefault(op, {})[k] = v
        split.append({k: v for k, v in statement.items() if k != "Condition"} | {"Condition": condition})
    whole = evaluate(trust(statement), req(context), is_resource_policy=True).allowed
    assert not whole or evaluate(trust(*split), req(context), is_resource_policy=True).allowed


@PROPERTY
@given(st.lists(statements("Allow"), min_size=1, max_size=4), contexts, st.sampled_from(PRINCIPALS[:2]))
def test_an_allow_never_allows_a_principal_it_does_not_name(
    policy: list[dict[str, Any]], context: dict[str, list[str]], caller: str
) -> None:
    # [principal] only a named principal (its ARN, or its account) is allowed.
    named = {p for s in policy for p in s["Principal"]["AWS"]}
    allowed = evaluate(trust(*policy), req(context, principal=caller), is_resource_policy=True).allowed
    if caller not in named and not named & {"arn:aws:iam::111111111111:root", "111111111111"}:
        assert not allowed
