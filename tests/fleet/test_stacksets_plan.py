"""Pure parts of the StackSets engine: the organization-scoped grant, the plan, ownership."""

from __future__ import annotations

import json

from bootstrap.config import model as config
from bootstrap.core import arns, policydoc
from bootstrap.fleet import stacksets
from bootstrap.fleet.stacksets import Instance, LiveStackSet, OrgScope, Step

PRINCIPAL = arns.parse_principal("arn:aws:iam::111111111111:user/ci-user")
SCOPE = OrgScope("o-abcdefghij", "ou-ab12-11111111", "o-abcdefghij/r-ab12/ou-ab12-11111111/")
SETTINGS = stacksets.Settings(
    config.Config(role_name="deploy", external_id="ext-1"), SCOPE.ou_id, "org", "trust-bootstrap-deploy"
)
WANT = stacksets.build(SETTINGS, PRINCIPAL, SCOPE)


def live(**kw: object) -> LiveStackSet:
    values: dict[str, object] = dict(name=WANT.name, status="ACTIVE", template=WANT.template,
                                     parameters=(("ExternalId", "****"), ("SourcePrincipalArn", PRINCIPAL.arn)),
                                     tags=WANT.tags, permission_model="SERVICE_MANAGED", auto_deployment=(True, False))  # fmt: skip
    values.update(kw)
    return LiveStackSet(**values)  # type: ignore[arg-type]


def test_the_grant_is_never_a_bare_wildcard() -> None:
    [statement] = policydoc.statements(WANT.grant_document)
    assert statement["Resource"] == ["arn:aws:iam::*:role/deploy"]
    assert json.loads(WANT.grant_document)["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"},
        "ForAnyValue:StringLike": {"aws:ResourceOrgPaths": ["o-abcdefghij/r-ab12/ou-ab12-11111111/*"]},
    }


def test_nothing_to_do_when_everything_matches() -> None:
    instances = [Instance("222222222222", "us-east-1", "CURRENT")]
    grant = json.loads(WANT.grant_document)
    plan = stacksets.plan_apply(WANT, live(), instances, ["222222222222"], "us-east-1", grant)
    assert plan.actions == () and plan.missing == () and plan.outdated == ()


def test_auto_deployment_not_reported_is_no_change_but_reported_off_is() -> None:
    grant = json.loads(WANT.grant_document)
    assert stacksets.plan_apply(WANT, live(auto_deployment=None), [], [], "us-east-1", grant).actions == ()
    plan = stacksets.plan_apply(WANT, live(auto_deployment=(False, True)), [], [], "us-east-1", grant)
    assert [a.step for a in plan.actions] == [Step.UPDATE_STACK_SET]


def test_missing_and_outdated_accounts() -> None:
    instances = [Instance("222222222222", "us-east-1", "OUTDATED", "User initiated stop")]
    plan = stacksets.plan_apply(WANT, live(), instances, ["222222222222", "333333333333"], "us-east-1", None)
    assert plan.missing == ("333333333333",) and plan.outdated == ("222222222222",)
    assert [a.step for a in plan.actions] == [Step.CREATE_INSTANCES, Step.UPDATE_INSTANCES, Step.PUT_GRANT]


def test_a_stack_set_without_our_tag_is_not_owned_and_teardown_leaves_it() -> None:
    foreign = live(tags=())
    assert stacksets.plan_apply(WANT, foreign, [], [], "us-east-1", None).not_owned
    plan = stacksets.plan_teardown(WANT, foreign, [Instance("222222222222", "us-east-1", "CURRENT")], None)
    assert plan.actions == () and plan.not_owned


def test_teardown_order_is_grant_instances_stack_set() -> None:
    grant = json.loads(WANT.grant_document)
    plan = stacksets.plan_teardown(
        WANT, live(), [Instance("222222222222", "us-east-1", "CURRENT", ou=SCOPE.ou_id)], grant,
        unit_accounts=["222222222222"],
    )  # fmt: skip
    assert [a.step for a in plan.actions] == [Step.DELETE_GRANT, Step.DELETE_INSTANCES, Step.DELETE_STACK_SET]
