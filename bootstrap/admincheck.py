"""Before any write: customer managed policies about to be attached are read from the target
account and refused when admin-equivalent, unless --allow-admin (AWS managed ones and inline
policies are judged by config.py when the config loads)."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from bootstrap import adminpolicy, arns, aws
from bootstrap.config import Config
from bootstrap.errors import InvalidInput


def refuse_admin_managed(target: aws.Account, config: Config, attached: Iterable[str]) -> None:
    """``attached``: the policies the live role has already (accepted before, not read again)."""
    already = set(attached)
    customer = [a for a in config.policy_arns if a not in already and arns.parse_arn(a).account != "aws"]
    if not customer or config.allow_admin:
        return
    refuse(admin_equivalent(target, customer))


def admin_equivalent(target: aws.Account, customer: list[str]) -> list[str]:
    """The customer managed policies among ``customer`` whose default version is admin-equivalent."""
    if not customer:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(customer))) as pool:
        documents = list(pool.map(lambda arn: aws.managed_policy_document(target, arn), customer))
    return [arn for arn, doc in zip(customer, documents, strict=True) if adminpolicy.is_admin_equivalent(doc)]


def refuse(admin: list[str]) -> None:
    if admin:
        raise InvalidInput(
            f"{admin[0]} is admin-equivalent (it allows every IAM action on every resource, so anything at all); "
            "on a cross-account role it hands the whole target account to the source principal. If that is "
            "intended, pass --allow-admin. Nothing was written."
        )
