"""Before any write: the permission policies the role will have, read from the target account
(AWS managed and customer managed alike, by their default version) and judged together with its
inline policies (adminpolicy.py); admin-equivalent ones are refused unless --allow-admin. A policy
the role already has was accepted before: it counts only beside a new one (a new iam:PassRole
policy next to an attached ec2:RunInstances one is refused)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bootstrap.aws import accounts as aws
from bootstrap.aws import iam as aws_iam
from bootstrap.config.model import Config
from bootstrap.core import adminpolicy, arns
from bootstrap.core.errors import InvalidInput


def read_policy(target: aws.Account, arn: str, judged: bool) -> tuple[bool, dict[str, Any] | None]:
    """(exists, its default version's document when ``judged``): iam:GetPolicy, then iam:GetPolicyVersion."""
    version = aws_iam.policy_default_version(target, arn)
    if version is None:
        return False, None
    return True, aws_iam.policy_version_document(target, arn, version) if judged else None


def read_documents(target: aws.Account, policy_arns: list[str]) -> dict[str, dict[str, Any]]:
    """The documents of those of ``policy_arns`` that exist, read concurrently."""
    if not policy_arns:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(policy_arns))) as pool:
        read = list(pool.map(lambda arn: read_policy(target, arn, True), policy_arns))
    return {arn: doc for arn, (found, doc) in zip(policy_arns, read, strict=True) if found and doc is not None}


def inline_label(name: str, source: str) -> str:
    return f"inline policy '{name}' ({source})"


def refuse_admin(config: Config, documents: Mapping[str, Any], new: Iterable[str], account: str | None = None) -> None:
    """Refuse (exit 2) when the role's policies together are admin-equivalent through a method one
    of ``new`` (the managed policies not attached yet; inline policies always count) takes part in."""
    if config.allow_admin:
        return
    inline = {inline_label(p.name, p.source): json.loads(p.document) for p in config.inline_policies}
    managed = {arn: documents[arn] for arn in config.policy_arns if arn in documents}
    fresh = set(new) | set(inline)
    own = [adminpolicy.role_template(config.path, config.role_name), *customer_managed(managed)]
    for finding in adminpolicy.findings({**inline, **managed}, account=account, own=own):
        if fresh.intersection(finding.policies):
            raise InvalidInput(f"{adminpolicy.refusal(finding)} Nothing was written.")


def refuse_admin_managed(
    target: aws.Account, config: Config, attached: Iterable[str], account: str | None = None
) -> None:
    """For a fleet target: read the policies to attach and judge them (``attached``: the policies
    the live role has already)."""
    if config.allow_admin or not config.policy_arns:
        return
    already = set(attached)
    new = [a for a in config.policy_arns if a not in already]
    if new:
        refuse_admin(config, read_documents(target, list(config.policy_arns)), new, account)


def customer_managed(policy_arns: Iterable[str]) -> list[str]:
    """The customer managed ones (their account is not "aws")."""
    return [arn for arn in policy_arns if arns.parse_arn(arn).account != "aws"]
