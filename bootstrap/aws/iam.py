"""IAM reads: roles, users, their inline and managed policies, tags; absent things are None or [].

Calls that differ by kind of principal (user, role, group) take the kind's row of iamkinds once.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import Any, cast

from botocore.exceptions import ClientError

from bootstrap.aws.accounts import Account
from bootstrap.aws.errors import absent_if_no_such_entity, error_code, translate_errors
from bootstrap.core import iamkinds


def call(account: Account, operation: str, **params: Any) -> Any:
    """One IAM call by its operation name (from iamkinds), e.g. call(a, "GetUserPolicy", ...)."""
    return getattr(account.iam, iamkinds.method(operation))(**params)


def paginate(account: Account, operation: str, **params: Any) -> Any:
    return account.iam.get_paginator(iamkinds.method(operation)).paginate(**params)  # type: ignore[call-overload]


def get_principal(account: Account, kind: str, name: str) -> dict[str, Any] | None:
    """The user or role (GetUser/GetRole's entity), or None when there is none of that name."""
    k = iamkinds.of(kind)
    reply = absent_if_no_such_entity(
        lambda: call(account, k.get, **k.name(name)), f"{account.label}: reading {kind} {name} (iam:{k.get})"
    )
    return dict(reply[k.reply_key]) if reply else None


def get_role(account: Account, name: str) -> dict[str, Any] | None:
    return get_principal(account, "role", name)


def get_user(account: Account, name: str) -> dict[str, Any] | None:
    return get_principal(account, "user", name)


def policy_exists(account: Account, arn: str) -> bool:
    found = absent_if_no_such_entity(
        lambda: account.iam.get_policy(PolicyArn=arn), f"{account.label}: reading policy {arn} (iam:GetPolicy)"
    )
    return found is not None


def policy_default_version(account: Account, arn: str) -> str | None:
    """The default version of a managed policy (AWS or customer managed), or None when it does not
    exist: one iam:GetPolicy tells both."""
    found = absent_if_no_such_entity(
        lambda: account.iam.get_policy(PolicyArn=arn), f"{account.label}: reading policy {arn} (iam:GetPolicy)"
    )
    return None if found is None else str(found["Policy"]["DefaultVersionId"])


def policy_version_document(account: Account, arn: str, version: str) -> dict[str, Any]:
    with translate_errors(f"{account.label}: reading managed policy {arn} {version} (iam:GetPolicyVersion)"):
        found = account.iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return document(found)


def policy_arns(account: Account, scope: str) -> list[str]:
    """ARNs of the managed policies of a scope: "AWS" (AWS managed) or "Local" (the account's own).
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicies.html"""
    with translate_errors(f"{account.label}: listing the {scope} managed policies (iam:ListPolicies)"):
        return [p["Arn"] for page in paginate(account, "ListPolicies", Scope=scope) for p in page["Policies"]]


def list_attached_role_policies(account: Account, role: str) -> list[str]:
    """ARNs of the managed policies attached to a role ([] when the role does not exist)."""
    return attached_policy_arns(account, "role", role, absent_ok=True)


def attached_policy_arns(account: Account, kind: str, owner: str, absent_ok: bool = False) -> list[str]:
    """ARNs of the managed policies attached to a user, role or group (``absent_ok``: [] when it
    does not exist; otherwise that is an error)."""
    k = iamkinds.of(kind)
    with translate_errors(f"{account.label}: listing managed policies of {kind} {owner}"):
        try:
            pages = paginate(account, k.list_attached, **k.name(owner))
            return [p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]]
        except ClientError as err:
            if absent_ok and error_code(err) == "NoSuchEntity":
                return []
            raise


def list_inline_policies(account: Account, kind: str, owner: str) -> list[str]:
    """Names of the inline policies of a user, role or group ([] when it does not exist)."""
    k = iamkinds.of(kind)
    with translate_errors(f"{account.label}: listing inline policies of {kind} {owner}"):
        try:
            pages = paginate(account, k.list_inline, **k.name(owner))
            return [name for page in pages for name in page["PolicyNames"]]
        except ClientError as err:
            if error_code(err) == "NoSuchEntity":
                return []
            raise


def get_inline_policy(account: Account, kind: str, owner: str, policy: str) -> dict[str, Any] | None:
    """An inline policy document of a user, role or group, or None when absent."""
    k = iamkinds.of(kind)
    reply = absent_if_no_such_entity(
        lambda: call(account, k.get_inline, PolicyName=policy, **k.name(owner)),
        f"{account.label}: reading inline policy {policy} of {kind} {owner}",
    )
    return document(reply["PolicyDocument"]) if reply else None


def inline_policy_holders(account: Account, wanted: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(holder ARN, policy name) of every user and role inline policy whose name is ``wanted``: one
    paginated iam:GetAccountAuthorizationDetails read, instead of a listing per identity."""
    found: list[tuple[str, str]] = []
    with translate_errors(f"{account.label}: looking for inline policies (iam:GetAccountAuthorizationDetails)"):
        pages = account.iam.get_paginator("get_account_authorization_details").paginate(Filter=["User", "Role"])
        for page in pages:
            for user in page.get("UserDetailList", []):
                found += [(user["Arn"], p["PolicyName"]) for p in user.get("UserPolicyList", [])]
            for role in page.get("RoleDetailList", []):
                found += [(role["Arn"], p["PolicyName"]) for p in role.get("RolePolicyList", [])]
    return [(arn, name) for arn, name in found if wanted(name)]


def managed_policy_holders(account: Account, arn: str) -> list[str]:
    """ARNs of the users and roles a customer managed policy is attached to ([] when it does not exist)."""
    action = f"{account.label}: listing what policy {arn} is attached to (iam:ListEntitiesForPolicy)"

    def holders() -> list[str]:
        pages = list(account.iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn))
        names = [("user", u["UserName"]) for page in pages for u in page.get("PolicyUsers", [])]
        names += [("role", r["RoleName"]) for page in pages for r in page.get("PolicyRoles", [])]
        found = [get_principal(account, kind, name) for kind, name in names]
        return [str(p["Arn"]) for p in found if p is not None]

    return absent_if_no_such_entity(holders, action) or []


def list_role_tags(account: Account, role: str) -> list[tuple[str, str]]:
    with translate_errors(f"{account.label}: listing tags of role {role}"):
        pages = account.iam.get_paginator("list_role_tags").paginate(RoleName=role)
        return [(t["Key"], t["Value"]) for page in pages for t in page["Tags"]]


def list_role_names(account: Account) -> list[str]:
    with translate_errors(f"{account.label}: listing roles (iam:ListRoles)"):
        pages = account.iam.get_paginator("list_roles").paginate()
        return [r["RoleName"] for page in pages for r in page["Roles"]]


def list_groups_for_user(account: Account, user: str) -> list[str]:
    with translate_errors(f"{account.label}: listing the groups of user {user}"):
        pages = account.iam.get_paginator("list_groups_for_user").paginate(UserName=user)
        return [g["GroupName"] for page in pages for g in page["Groups"]]


def managed_policy_document(account: Account, arn: str) -> dict[str, Any]:
    with translate_errors(f"{account.label}: reading managed policy {arn}"):
        version = account.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        found = account.iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return document(found)


def managed_policy(account: Account, arn: str) -> dict[str, Any] | None:
    """The default version's document of a customer managed policy, or None when absent."""
    return managed_policy_document(account, arn) if policy_exists(account, arn) else None


def document(value: object) -> dict[str, Any]:
    """botocore decodes policy documents to dicts; some endpoints hand back the URL-encoded text."""
    if isinstance(value, str):
        return dict(json.loads(urllib.parse.unquote(value)))
    return cast("dict[str, Any]", dict(value))  # type: ignore[call-overload]
