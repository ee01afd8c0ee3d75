"""IAM writes: roles (create, trust, settings, tags, attachments, delete), inline and managed policies.

Each write is idempotent where AWS lets it be: deletes and detaches of what is gone succeed.
Calls that differ by kind of principal take the kind's row of iamkinds once.
"""

from __future__ import annotations

from typing import Any

from bootstrap.aws.accounts import Account
from bootstrap.aws.errors import gone_is_fine, is_invalid_principal, propagation, translate_errors
from bootstrap.aws.iam import call, managed_policy
from bootstrap.core import arns, iamkinds
from bootstrap.core.quotas import IAM


def create_role(
    account: Account,
    *,
    name: str,
    path: str,
    trust_policy: str,
    description: str,
    max_session_duration: int,
    permissions_boundary: str | None,
    tags: tuple[tuple[str, str], ...],
    deadline_s: float,
) -> None:
    kwargs: dict[str, Any] = {
        "RoleName": name,
        "Path": path,
        "AssumeRolePolicyDocument": trust_policy,
        "Description": description,
        "MaxSessionDuration": max_session_duration,
        "Tags": [{"Key": k, "Value": v} for k, v in tags],
    }
    if permissions_boundary:
        kwargs["PermissionsBoundary"] = permissions_boundary
    with translate_errors(f"{account.label}: creating role {name} (iam:CreateRole)"):
        for attempt in propagation(deadline_s, is_invalid_principal):
            with attempt:
                account.iam.create_role(**kwargs)


def update_trust_policy(account: Account, role: str, trust_policy: str, deadline_s: float) -> None:
    with translate_errors(f"{account.label}: updating the trust policy of role {role} (iam:UpdateAssumeRolePolicy)"):
        for attempt in propagation(deadline_s, is_invalid_principal):
            with attempt:
                account.iam.update_assume_role_policy(RoleName=role, PolicyDocument=trust_policy)


def update_role(account: Account, role: str, description: str, max_session_duration: int) -> None:
    with translate_errors(f"{account.label}: updating role {role} (iam:UpdateRole)"):
        account.iam.update_role(RoleName=role, Description=description, MaxSessionDuration=max_session_duration)


def put_permissions_boundary(account: Account, role: str, boundary: str | None) -> None:
    with translate_errors(f"{account.label}: setting the permissions boundary of role {role}"):
        if boundary:
            account.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)
        else:
            account.iam.delete_role_permissions_boundary(RoleName=role)


def tag_role(account: Account, role: str, tags: tuple[tuple[str, str], ...]) -> None:
    with translate_errors(f"{account.label}: tagging role {role} (iam:TagRole)"):
        account.iam.tag_role(RoleName=role, Tags=[{"Key": k, "Value": v} for k, v in tags])


def untag_role(account: Account, role: str, keys: tuple[str, ...]) -> None:
    with translate_errors(f"{account.label}: untagging role {role} (iam:UntagRole)"):
        account.iam.untag_role(RoleName=role, TagKeys=list(keys))


def attach_role_policy(account: Account, role: str, policy_arn: str) -> None:
    with translate_errors(f"{account.label}: attaching {policy_arn} to role {role} (iam:AttachRolePolicy)"):
        account.iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)


def detach_role_policy(account: Account, role: str, policy_arn: str) -> None:
    with (
        translate_errors(f"{account.label}: detaching {policy_arn} from role {role} (iam:DetachRolePolicy)"),
        gone_is_fine(),
    ):
        account.iam.detach_role_policy(RoleName=role, PolicyArn=policy_arn)


def put_inline_policy(account: Account, kind: str, owner: str, policy: str, document: str) -> None:
    k = iamkinds.of(kind)
    with translate_errors(f"{account.label}: writing inline policy {policy} on {kind} {owner}"):
        call(account, k.put_inline, PolicyName=policy, PolicyDocument=document, **k.name(owner))


def delete_inline_policy(account: Account, kind: str, owner: str, policy: str) -> None:
    k = iamkinds.of(kind)
    with translate_errors(f"{account.label}: deleting inline policy {policy} of {kind} {owner}"), gone_is_fine():
        call(account, k.delete_inline, PolicyName=policy, **k.name(owner))


def delete_role(account: Account, role: str) -> None:
    with translate_errors(f"{account.label}: deleting role {role} (iam:DeleteRole)"), gone_is_fine():
        account.iam.delete_role(RoleName=role)


# -- a fleet's grant as a customer managed policy in the source account ---------------------------


def put_managed_policy(account: Account, arn: str, document: str, kind: str, owner: str) -> None:
    """Create the policy or add a new default version (dropping the oldest when IAM's limit of five
    versions is reached), then attach it to the principal. Each step is idempotent."""
    named = arns.iam_name(arn)  # arn:aws:iam::ACCOUNT:policy/PATH/NAME -> "/PATH/", "NAME"
    path, name = named.path, named.name
    k = iamkinds.of(kind)
    with translate_errors(f"{account.label}: writing managed policy {arn}"):
        if managed_policy(account, arn) is None:
            account.iam.create_policy(PolicyName=name, Path=path, PolicyDocument=document)
        else:
            versions = account.iam.list_policy_versions(PolicyArn=arn)["Versions"]
            if len(versions) >= IAM.versions_per_managed_policy:
                oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
                account.iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
            account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
        call(account, k.attach, PolicyArn=arn, **k.name(owner))


def delete_managed_policy(account: Account, arn: str, kind: str, owner: str) -> None:
    k = iamkinds.of(kind)
    with translate_errors(f"{account.label}: deleting managed policy {arn}"):
        with gone_is_fine():
            call(account, k.detach, PolicyArn=arn, **k.name(owner))
        with gone_is_fine():
            for version in account.iam.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not version["IsDefaultVersion"]:
                    account.iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
            account.iam.delete_policy(PolicyArn=arn)
