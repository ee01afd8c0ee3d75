"""Pure: Config + the facts resolved from AWS -> the desired State of both sides."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bootstrap.config.model import Config
from bootstrap.core import arns
from bootstrap.core.errors import InvalidInput
from bootstrap.core.quotas import IAM
from bootstrap.core.state import GRANT_SID, OWNER_TAG, TRUST_SID, Grant, Role, State
from bootstrap.trust import consumerpolicy

POLICY_VERSION = "2012-10-17"


@dataclass(frozen=True)
class Context:
    """What only AWS can tell: the accounts, the principal as it really is, the ExternalId in use."""

    source_account: str
    target_account: str
    partition: str
    principal: arns.Principal
    external_id: str | None


def grant_policy_name(target_account: str, role_name: str) -> str:
    """Deterministic, so a re-run finds its own grant: one per target role."""
    return f"trust-bootstrap-{target_account}-{role_name}"


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def trust_policy(
    principal_arn: str,
    external_id: str | None,
    require_mfa: bool,
    mfa_max_age: int | None,
    tag_keys: tuple[str, ...] = (),
) -> str:
    """``tag_keys``: the session tags a consumer sends (consumerpolicy.py); none, no sts:TagSession."""
    condition: dict[str, dict[str, str]] = {}
    if external_id:
        condition["StringEquals"] = {"sts:ExternalId": external_id}
    if require_mfa:
        condition["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
        if mfa_max_age:
            condition["NumericLessThan"] = {"aws:MultiFactorAuthAge": str(mfa_max_age)}
    statement: dict[str, Any] = {
        "Sid": TRUST_SID,
        "Effect": "Allow",
        "Principal": {"AWS": principal_arn},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    tagging = [consumerpolicy.trust_statement(principal_arn, tag_keys)] if tag_keys else []
    return _json({"Version": POLICY_VERSION, "Statement": [statement, *tagging]})


def grant_policy(role_arn: str | list[str], tag_keys: tuple[str, ...] = ()) -> str:
    """sts:AssumeRole on exactly these roles (one, or a fleet's list): never a wildcard; with
    ``tag_keys`` also sts:TagSession on them, for those keys only."""
    statement = {
        "Sid": GRANT_SID,
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": role_arn,
    }
    tagging = [consumerpolicy.grant_statement(role_arn, tag_keys)] if tag_keys else []
    return _json({"Version": POLICY_VERSION, "Statement": [statement, *tagging]})


# IAM: all inline policies of one identity together, white space not counted (not raisable).
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html


def build(config: Config, ctx: Context) -> State:
    """Raises InvalidInput when the result would break an IAM quota, before any write."""
    role_arn = arns.role_arn(ctx.partition, ctx.target_account, config.path, config.role_name)
    trusted = f"arn:{ctx.partition}:iam::{ctx.source_account}:root" if config.trust_account else ctx.principal.arn
    keys = consumerpolicy.tag_keys(config.consumers)
    trust = trust_policy(trusted, ctx.external_id, config.require_mfa, config.mfa_max_age, keys)
    if len(trust) > IAM.trust_policy_chars:
        raise InvalidInput(
            f"The trust policy would be {len(trust)} characters; IAM's default quota is {IAM.trust_policy_chars} "
            "(raisable to 4096 through Service Quotas). Shorten the ExternalId or the role path."
        )
    role = Role(
        name=config.role_name,
        path=config.path,
        arn=role_arn,
        trust_policy=trust,
        max_session_duration=config.max_session_duration,
        permissions_boundary=config.permissions_boundary,
        description=config.description,
        tags=tuple(sorted({**dict(config.tags), OWNER_TAG[0]: OWNER_TAG[1]}.items())),
        managed_policies=tuple(sorted(config.policy_arns)),
        inline_policies=tuple((p.name, p.document) for p in config.inline_policies),
    )
    grant = Grant(
        principal=ctx.principal,
        policy_name=grant_policy_name(ctx.target_account, config.role_name),
        document=grant_policy(role_arn, keys),
    )
    return State(target_account=ctx.target_account, source_account=ctx.source_account, role=role, grant=grant)
