"""Each diagnose check on fact fixtures, a good and a bad case each (as cfn-lint tests its rules),
plus the table of trust decisions the checks must explain as AWS decides them. Pure: no sandbox.

Rules cited: [ops] https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
[multi] .../reference_policies_multi-value-conditions.html ("all conditions of a statement: AND"),
[logic] .../reference_policies_evaluation-logic.html, [cross] .../reference_policies_evaluation-logic-cross-account.html,
[scp] https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html,
[denied] .../troubleshoot_access-denied.html.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bootstrap.core.assumerequest import AssumeRequest
from bootstrap.core.facts import Caller, Facts, OrgLevel, OrgPolicies, RoleFacts
from bootstrap.core.findings import Kind, Status
from bootstrap.diagnose import checks

A, B = "111111111111", "222222222222"
USER = f"arn:aws:iam::{A}:user/ci-user"
ROLE = f"arn:aws:iam::{B}:role/deploy"
DENIED = f"AccessDenied: User: {USER} is not authorized to perform: sts:AssumeRole on resource: {ROLE}"
GRANT = {"Statement": [{"Sid": "Grant", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE}]}
EXT = {"StringEquals": {"sts:ExternalId": "x"}}
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def allow(principal: str = USER, condition: dict[str, Any] | None = None, sid: str = "") -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    if sid:
        statement["Sid"] = sid
    return statement


def deny(condition: dict[str, Any] | None = None, sid: str = "Guard") -> dict[str, Any]:
    return {**allow("*", condition, sid), "Effect": "Deny", "Principal": "*"}


def facts(
    *statements: dict[str, Any],
    external_id: str | None = None,
    mfa: bool = False,
    policies: tuple[tuple[str, dict[str, Any]], ...] | None = (("grant", GRANT),),
    live_error: str | None = None,
    **more: Any,
) -> Facts:
    params = AssumeRequest(
        ROLE,
        external_id=external_id,
        mfa_serial=f"arn:aws:iam::{A}:mfa/d" if mfa else None,
        mfa_token="123456" if mfa else None,
        duration_seconds=3600,
    )
    base = Facts(
        params=params, role_arn_problem=None, caller=Caller(USER, A, USER, None, "ci-user"), caller_error=None,
        target_account=B, target_error=None,
        role=RoleFacts(ROLE, {"Version": "2012-10-17", "Statement": list(statements)}, 3600),
        policies=policies, boundary=None, policies_error=None if policies is not None else "AccessDenied: no",
        simulator=None, simulator_note="not asked", live_error=live_error, live_arn=None if live_error else "arn:x",
        denials=None, denials_note="not available",
    )  # fmt: skip
    return replace(base, **more)


def findings(f: Facts) -> dict[str, Any]:
    return {x.id: x for x in checks.run(f)}


def statuses(f: Facts) -> dict[str, str]:
    return {k: str(v.status) for k, v in findings(f).items()}


TRUST_CHECKS = ("trust-policy", "external-id", "mfa")

# (rule, statements, request, AWS allows, the checks that must fail)
DECISIONS: list[tuple[str, list[dict[str, Any]], dict[str, Any], bool, set[str]]] = [
    ("[ops] class 1: a Deny on an absent ExternalId does not apply",
     [deny(EXT), allow()], {}, True, set()),
    ("[ops] class 1 neighbour: the Deny applies when its ExternalId is sent",
     [deny(EXT), allow()], {"external_id": "x"}, False, {"trust-policy", "external-id"}),
    ("[ops] a negated Deny is true when the key is absent: StringNotEquals denies a missing ExternalId",
     [deny({"StringNotEquals": {"sts:ExternalId": "x"}}), allow()], {}, False, {"trust-policy", "external-id"}),
    ("[ops] ...IfExists is true when the key is absent: BoolIfExists MFA=false denies long-term keys",
     [deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}), allow()], {}, False, {"trust-policy", "mfa"}),
    ("[ops] ...IfExists Deny does not apply once MFA is sent",
     [deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}), allow()], {"mfa": True}, True, set()),
    ("[ops] Null true holds when the key is absent: a Deny on a missing ExternalId",
     [deny({"Null": {"sts:ExternalId": "true"}}), allow()], {}, False, {"trust-policy", "external-id"}),
    ("[ops] Null true does not hold when the key is sent",
     [deny({"Null": {"sts:ExternalId": "true"}}), allow()], {"external_id": "y"}, True, set()),
    ("[multi] class 2: ExternalId and MFA must hold in one statement; MFA-only statement for the account",
     [allow(condition={**EXT, **MFA}), allow(f"arn:aws:iam::{A}:root", MFA)], {}, False, {"mfa"}),
    ("[multi] class 2 neighbour: with MFA, the account statement allows (no ExternalId needed there)",
     [allow(condition={**EXT, **MFA}), allow(f"arn:aws:iam::{A}:root", MFA)], {"mfa": True}, True, set()),
    ("[multi] ExternalId alone does not meet a statement that also wants MFA",
     [allow(condition={**EXT, **MFA})], {"external_id": "x"}, False, {"mfa"}),
    ("[multi] both conditions met in the same statement",
     [allow(condition={**EXT, **MFA})], {"external_id": "x", "mfa": True}, True, set()),
    ("[multi] ExternalId in one statement, MFA in another for another principal: each judged whole",
     [allow(condition=EXT), allow(f"arn:aws:iam::{A}:user/other", MFA)], {"external_id": "x"}, True, set()),
    ("[ops] a wrong ExternalId fails the statement",
     [allow(condition=EXT)], {"external_id": "nope"}, False, {"external-id"}),
    ("[ops] StringLike has only * and ?: a regex-looking pattern is literal",
     [allow(condition={"StringLike": {"sts:ExternalId": "a.c"}})], {"external_id": "abc"}, False, {"external-id"}),
    ("[ops] StringLike ? matches one character",
     [allow(condition={"StringLike": {"sts:ExternalId": "a?c"}})], {"external_id": "abc"}, True, set()),
    ("[logic] an explicit Deny without conditions wins", [deny(), allow()], {}, False, {"trust-policy"}),
    ("[logic] no statement names the principal", [allow(f"arn:aws:iam::{A}:user/other")], {}, False,
     {"trust-policy"}),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "statements", "call", "allowed", "failing"), DECISIONS, ids=[d[0] for d in DECISIONS])
def test_trust_decisions_match_aws(
    rule: str, statements: list[dict[str, Any]], call: dict[str, Any], allowed: bool, failing: set[str]
) -> None:
    got = statuses(facts(*statements, **call))
    assert {c for c in TRUST_CHECKS if got[c] == "fail"} == failing, rule
    assert (not failing) is allowed, rule


def test_class_2_names_the_statement_and_its_failing_condition() -> None:
    f = findings(facts(allow(condition={**EXT, **MFA}, sid="Partner"), allow(f"arn:aws:iam::{A}:root", MFA, "Team")))
    assert "Team" in f["mfa"].summary and "requires MFA" in f["mfa"].summary
    assert "not required by Team" in f["external-id"].summary


def test_a_deny_on_an_absent_key_is_not_reported() -> None:
    f = findings(facts(deny(EXT), allow(sid="Ci")))
    assert f["trust-policy"].status is Status.PASS and "Ci" in f["trust-policy"].summary


def test_unknowable_key_is_unknown_not_guessed() -> None:
    # aws:PrincipalOrgID is in the real request; its value is not known here: no verdict either way.
    f = findings(facts(allow(condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}})))
    assert f["trust-policy"].status is Status.UNKNOWN and "aws:PrincipalOrgID" in f["trust-policy"].summary


# -- one good and one bad case per check ---------------------------------------------------------


def test_credentials() -> None:
    assert statuses(facts(allow()))["credentials"] == "pass"
    bad = findings(facts(allow(), caller=None, caller_error="ExpiredToken: expired"))["credentials"]
    assert bad.status is Status.FAIL and "aws sso login" in bad.fix


def test_role_arn() -> None:
    assert statuses(facts(allow()))["role-arn"] == "pass"
    typo = facts(allow(), role=RoleFacts(None, None, 0, ("deploy-x",)))
    assert "Did you mean deploy-x" in findings(typo)["role-arn"].fix


def test_trust_policy() -> None:
    assert statuses(facts(allow()))["trust-policy"] == "pass"
    orphan = findings(facts(allow("AROAEXAMPLEEXAMPLE12")))["trust-policy"]
    assert orphan.status is Status.FAIL and "deleted" in orphan.summary


def test_trust_policy_other_condition_is_named() -> None:
    f = findings(facts(allow(condition={"StringEquals": {"sts:RoleSessionName": "ci"}}, sid="S")))["trust-policy"]
    assert f.status is Status.FAIL and "sts:RoleSessionName" in f.summary and "S names" in f.summary


def test_external_id() -> None:
    assert statuses(facts(allow(condition=EXT), external_id="x"))["external-id"] == "pass"
    bad = findings(facts(allow(condition=EXT)))["external-id"]
    assert bad.status is Status.FAIL and "none was given" in bad.summary and "--external-id x" in bad.fix


def test_mfa() -> None:
    assert statuses(facts(allow(condition=MFA), mfa=True))["mfa"] == "pass"
    bad = findings(facts(allow(condition=MFA)))["mfa"]
    assert bad.status is Status.FAIL and "--mfa-serial" in bad.fix


def test_source_permission() -> None:
    assert statuses(facts(allow()))["source-permission"] == "pass"
    bad = findings(facts(allow(), policies=()))["source-permission"]
    assert bad.status is Status.FAIL and "put-user-policy" in bad.fix


def test_source_permission_inferred_when_unread_and_trust_allows() -> None:
    # [cross] both sides must allow; the trust allows this very call and AWS denied: the source side.
    f = findings(facts(allow(), policies=None, live_error=DENIED))["source-permission"]
    assert f.status is Status.INFERRED and f.summary.startswith("inferred")
    assert "--source-admin-profile" in f.fix
    # No inference when the trust itself refuses: that is the cause, named by trust-policy.
    refused = facts(allow(condition=EXT), policies=None, live_error=DENIED)
    assert statuses(refused)["source-permission"] == "unknown"
    # No inference when AWS allowed.
    assert statuses(facts(allow(), policies=None))["source-permission"] == "unknown"


def test_aws_words_are_evidence() -> None:
    # [denied] AWS names the policy type in its message: a reading, not an inference.
    words = DENIED + " because no identity-based policy allows the sts:AssumeRole action"
    f = findings(facts(allow(), policies=None, live_error=words))["source-permission"]
    assert f.status is Status.FAIL and "no identity-based policy allows" in f.summary
    scp_words = DENIED + " with an explicit deny in a service control policy"
    g = findings(facts(allow(), policies=None, live_error=scp_words))
    assert g["scp"].status is Status.FAIL and "service control policy" in g["scp"].summary
    assert g["source-permission"].status is Status.UNKNOWN  # the cause is named by scp, not guessed here


def test_aws_words_name_the_trust_side() -> None:
    # [denied] "because no resource-based policy allows": the role's trust policy refused.
    words = DENIED + " because no resource-based policy allows the sts:AssumeRole action"
    f = findings(facts(allow(), live_error=words))["trust-policy"]
    assert f.status is Status.FAIL and "no resource-based policy allows" in f.summary


def test_no_inference_when_an_scp_is_named() -> None:
    denied = _org((f"account {A}", [FULL, NO_ASSUME]))
    f = findings(facts(allow(), policies=None, live_error=DENIED, scp=denied))
    assert f["scp"].status is Status.FAIL and f["source-permission"].status is Status.UNKNOWN


def _org(*levels: tuple[str, list[dict[str, Any]]], kind: str = "SCP", account: str = A) -> OrgPolicies:
    return OrgPolicies(
        kind, account, True, False, True,
        tuple(OrgLevel(t, tuple((f"{kind} p{i}", {"Statement": s}) for i, s in enumerate(docs))) for t, docs in levels),
    )  # fmt: skip


FULL = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
NO_ASSUME = [{"Sid": "NoAssume", "Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]
ONLY_S3 = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]


def test_scp() -> None:
    assert statuses(facts(allow()))["scp"] == "unknown"  # [scp] not read without a management profile
    good = _org((f"account {A}", [FULL]), ("OU ou-1", [FULL]), ("root r-1", [FULL]))
    assert statuses(facts(allow(), scp=good))["scp"] == "pass"
    denied = _org((f"account {A}", [FULL]), ("OU ou-1", [FULL, NO_ASSUME]), ("root r-1", [FULL]))
    f = findings(facts(allow(), scp=denied))["scp"]
    assert f.status is Status.FAIL and "NoAssume" in f.summary and "OU ou-1" in f.summary


def test_scp_allow_list_leaving_the_action_out() -> None:
    # [scp] every level must allow: an allow-list SCP on the OU without sts:AssumeRole blocks it.
    f = findings(facts(allow(), scp=_org((f"account {A}", [FULL]), ("OU ou-1", [ONLY_S3]), ("root r-1", [FULL]))))
    assert f["scp"].status is Status.FAIL and "allow-list" in f["scp"].summary


def test_scp_management_account_is_exempt() -> None:
    management = OrgPolicies("SCP", A, True, True, True)
    assert statuses(facts(allow(), scp=management))["scp"] == "pass"


def test_rcp() -> None:
    star = [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]
    guard = [{"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*",
              "Condition": {"StringNotEquals": {"aws:PrincipalAccount": B}}}]  # fmt: skip
    assert statuses(facts(allow(), rcp=_org((f"account {B}", [star]), kind="RCP", account=B)))["rcp"] == "pass"
    f = findings(facts(allow(), rcp=_org((f"account {B}", [star, guard]), kind="RCP", account=B)))["rcp"]
    assert f.status is Status.FAIL and "OrgOnly" in f.summary


def test_session() -> None:
    assert statuses(facts(allow()))["session"] == "pass"
    long = facts(allow(), params=AssumeRequest(ROLE, duration_seconds=7200))
    assert "MaxSessionDuration" in findings(long)["session"].summary


def test_live_assume_and_cloudtrail_are_evidence() -> None:
    f = findings(facts(allow(), live_error=DENIED, denials=("t: x: AccessDenied: no",)))
    assert f["live-assume"].status is Status.FAIL and f["live-assume"].kind is Kind.EVIDENCE
    assert f["cloudtrail"].status is Status.FAIL and f["cloudtrail"].kind is Kind.EVIDENCE
    ok = findings(facts(allow(), denials=()))
    assert ok["live-assume"].status is Status.PASS and ok["cloudtrail"].status is Status.PASS


def test_every_check_is_data() -> None:
    ids = [c.id for c in checks.CHECKS]
    assert len(ids) == len(set(ids))
    assert all(c.title and c.doc.startswith("https://docs.aws.amazon.com/") for c in checks.CHECKS)


# -- property: the checks say "denied" exactly when the one trust decision denies ----------------

from hypothesis import given, settings  # noqa: E402 (the property test's own imports)
from hypothesis import strategies as st  # noqa: E402

from bootstrap.diagnose import evaluator  # noqa: E402
from bootstrap.diagnose.trustchecks import request  # noqa: E402

OPERATORS = ["StringEquals", "StringNotEquals", "StringEqualsIfExists", "Null", "Bool", "BoolIfExists", "StringLike"]
KEYS = ["sts:ExternalId", "aws:MultiFactorAuthPresent", "sts:RoleSessionName"]
condition_blocks = st.dictionaries(
    st.sampled_from(OPERATORS),
    st.dictionaries(st.sampled_from(KEYS), st.sampled_from(["x", "true", "false", "trust-bootstrap-diagnose"]),
                    min_size=1, max_size=2),
    max_size=2,
)  # fmt: skip
trust_statements = st.builds(
    lambda effect, who, condition: (
        {**allow(who, condition or None), "Effect": effect} | ({"Principal": "*"} if effect == "Deny" else {})
    ),
    st.sampled_from(["Allow", "Allow", "Deny"]),
    st.sampled_from([USER, f"arn:aws:iam::{A}:root", f"arn:aws:iam::{A}:user/other"]),
    condition_blocks,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(trust_statements, max_size=4), st.sampled_from([None, "x", "y"]), st.booleans())
def test_trust_checks_fail_exactly_when_the_trust_denies(
    statements: list[dict[str, Any]], external_id: str | None, mfa: bool
) -> None:
    f = facts(*statements, external_id=external_id, mfa=mfa)
    assert f.role is not None and f.role.trust_policy is not None
    allowed = evaluator.evaluate(f.role.trust_policy, request(f), is_resource_policy=True).allowed
    got = statuses(f)
    assert ("fail" not in {got[c] for c in TRUST_CHECKS}) is allowed, got


@pytest.mark.parametrize(
    ("message", "policy", "explicit"),
    [
        ("... with an explicit deny in a service control policy", "scp", True),
        ("... due to an explicit deny in a Service Control Policy", "scp", True),
        ("... with an explicit deny in a resource control policy", "rcp", True),
        ("... because no identity-based policy allows the sts:AssumeRole action", "identity", False),
        ("... because no resource-based policy allows the sts:AssumeRole action", "resource", False),
        ("... with an explicit deny in an identity-based policy", "identity", True),
        ("... because no permissions boundary allows the sts:AssumeRole action", "boundary", False),
    ],
)
def test_aws_words_are_read_as_aws_writes_them(message: str, policy: str, explicit: bool) -> None:
    # [denied] "with an explicit deny in a TYPE policy" / "because no TYPE policy allows the ACTION action"
    from bootstrap.core import awswords

    words = awswords.read(f"User: {USER} is not authorized to perform: sts:AssumeRole on resource: {ROLE} {message}")
    assert words is not None and (words.policy, words.explicit) == (policy, explicit)
    assert awswords.read(f"User: {USER} is not authorized to perform: sts:AssumeRole on resource: {ROLE}") is None


def test_the_organization_read_fills_the_org_keys() -> None:
    # With the SCPs read, the caller's aws:PrincipalOrgID/OrgPaths are known: a trust conditioned on
    # them is decided, not left unknown. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
    org = replace(
        _org((f"account {A}", [FULL]), ("OU ou-ab12-11111111", [FULL]), ("root r-ab12", [FULL])), org_id="o-1"
    )
    assert org.org_context("Principal") == {
        "aws:PrincipalOrgID": ["o-1"], "aws:PrincipalOrgPaths": ["o-1/r-ab12/ou-ab12-11111111/"],
    }  # fmt: skip
    same_org = allow(condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}})
    assert statuses(facts(same_org, scp=org))["trust-policy"] == "pass"
    other_org = allow(condition={"StringEquals": {"aws:PrincipalOrgID": "o-2"}})
    assert statuses(facts(other_org, scp=org))["trust-policy"] == "fail"
    assert statuses(facts(same_org))["trust-policy"] == "unknown"  # not read: not guessed


def test_session_tags_needs_tag_session_in_the_callers_policies() -> None:
    tags = (("GitHub", "Actions"), ("Repository", "o/r"))
    tagged = AssumeRequest(ROLE, duration_seconds=3600, tags=tags)
    assert statuses(facts(allow()))["session-tags"] == "pass"  # no tags: nothing to allow
    refused = findings(facts(allow(), params=tagged))["session-tags"]
    assert refused.status is Status.FAIL and "--for github-actions" in refused.fix
    keyed = {"Sid": "TrustBootstrapTagSession", "Effect": "Allow", "Action": "sts:TagSession", "Resource": ROLE,
             "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["GitHub", "Repository"]}}}  # fmt: skip
    granted = {"Statement": [*GRANT["Statement"], keyed]}
    assert statuses(facts(allow(), params=tagged, policies=(("grant", granted),)))["session-tags"] == "pass"
    other_keys = AssumeRequest(ROLE, duration_seconds=3600, tags=(("Team", "x"),))
    assert statuses(facts(allow(), params=other_keys, policies=(("grant", granted),)))["session-tags"] == "fail"
