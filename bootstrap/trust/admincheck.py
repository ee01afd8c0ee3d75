"""Before any write: the permission policies the role will have, read from the target account
(AWS managed and customer managed alike, by their default version) and judged together with its
inline policies (adminpolicy.py); admin-equivalent ones are refused unless --allow-admin. A policy
the role already has was accepted before: it counts only beside a new one (a new iam:PassRole
policy next to an attached ec2:RunInstances one is refused), and when nothing is new no document
is read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bootstrap.aws import accounts as aws
from bootstrap.aws import iam as aws_iam
from bootstrap.config.model import Config
from bootstrap.core import adminpolicy, arns, policydoc
from bootstrap.core.errors import InvalidInput
from bootstrap.core.state import Role


def read_policy(target: aws.Account, arn: str) -> dict[str, Any] | None:
    """Its default version's document (None when the policy does not exist): iam:GetPolicy, then
    iam:GetPolicyVersion. IAM has no call that returns a managed policy's document by ARN alone."""
    version = aws_iam.policy_default_version(target, arn)
    return None if version is None else aws_iam.policy_version_document(target, arn, version)


def read_versions(target: aws.Account, versions: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The documents of these policy versions (ARN -> version id), read concurrently."""
    if not versions:
        return {}
    wanted = list(versions.items())
    with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
        read = list(pool.map(lambda av: aws_iam.policy_version_document(target, av[0], av[1]), wanted))
    return {arn: doc for (arn, _), doc in zip(wanted, read, strict=True)}


def inline_label(name: str, source: str) -> str:
    return f"inline policy '{name}' ({source})"


def fresh(config: Config, role: Role | None) -> list[str]:
    """What the role does not have yet: the managed policies to attach, and the inline policies
    (by label) to create or change. What it has was accepted before and is not judged again alone."""
    attached = set(role.managed_policies) if role else set()
    live_inline = dict(role.inline_policies) if role else {}
    new = [arn for arn in config.policy_arns if arn not in attached]
    for p in config.inline_policies:
        if p.name not in live_inline or not policydoc.equivalent(p.document, live_inline[p.name]):
            new.append(inline_label(p.name, p.source))
    return new


def refuse_admin(config: Config, documents: Mapping[str, Any], new: Iterable[str], account: str | None = None) -> None:
    """Refuse (exit 2) when the role's policies together (its inline ones and the managed ones in
    ``documents``) are admin-equivalent through a method one of ``new`` (see fresh) takes part in."""
    if config.allow_admin:
        return
    inline = {inline_label(p.name, p.source): json.loads(p.document) for p in config.inline_policies}
    managed = {arn: documents[arn] for arn in config.policy_arns if arn in documents}
    own = [adminpolicy.role_template(config.path, config.role_name), *customer_managed(managed)]
    wanted = set(new)
    for escalation in adminpolicy.escalations({**inline, **managed}, account=account, own=own):
        if wanted.intersection(escalation.policies):
            raise InvalidInput(f"{adminpolicy.refusal(escalation)} Nothing was written.")


def refuse_admin_managed(target: aws.Account, config: Config, role: Role | None, account: str | None = None) -> None:
    """For a fleet target (``role``: as it stands): read the managed policies to attach and judge
    them with the inline ones, when something is new."""
    new = fresh(config, role)
    if config.allow_admin or not config.policy_arns or not new:
        return
    arns_ = list(config.policy_arns)
    with ThreadPoolExecutor(max_workers=min(8, len(arns_))) as pool:
        read = list(pool.map(lambda arn: read_policy(target, arn), arns_))
    refuse_admin(config, {a: d for a, d in zip(arns_, read, strict=True) if d is not None}, new, account)


def customer_managed(policy_arns: Iterable[str]) -> list[str]:
    """The customer managed ones (their account is not "aws")."""
    return [arn for arn in policy_arns if arns.parse_arn(arn).account != "aws"]
