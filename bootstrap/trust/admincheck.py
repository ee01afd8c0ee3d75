"""Before any write: customer managed policies about to be attached are read from the target
account and refused when admin-equivalent, unless --allow-admin (AWS managed ones and inline
policies are judged by config.py when the config loads)."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from bootstrap.aws import accounts as aws
from bootstrap.aws import iam as aws_iam
from bootstrap.config.model import Config
from bootstrap.core import adminpolicy, arns
from bootstrap.core.errors import InvalidInput


def refuse_admin_managed(target: aws.Account, config: Config, attached: Iterable[str]) -> None:
    """``attached``: the policies the live role has already (accepted before, not read again)."""
    already = set(attached)
    customer = customer_managed(a for a in config.policy_arns if a not in already)
    if not customer or config.allow_admin:
        return
    refuse(admin_equivalent(target, customer))


def customer_managed(policy_arns: Iterable[str]) -> list[str]:
    """The customer managed ones (AWS managed policies are judged by name, when the config loads)."""
    return [arn for arn in policy_arns if arns.parse_arn(arn).account != "aws"]


def admin_equivalent(target: aws.Account, customer: list[str]) -> list[str]:
    """The customer managed policies among ``customer`` whose default version is admin-equivalent."""
    if not customer:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(customer))) as pool:
        documents = list(pool.map(lambda arn: aws_iam.managed_policy_document(target, arn), customer))
    return [arn for arn, doc in zip(customer, documents, strict=True) if adminpolicy.is_admin_equivalent(doc)]


def refuse(admin: list[str]) -> None:
    if admin:
        raise InvalidInput(
            f"{admin[0]} is admin-equivalent (it allows every IAM action on every resource, so anything at all); "
            "on a cross-account role it hands the whole target account to the source principal. If that is "
            "intended, pass --allow-admin. Nothing was written."
        )
