"""The IAM API of each kind of principal (user, role, group): one table instead of a branch per call.

Pure: names only, no AWS calls. The aws_iam* modules look a kind up once per call and use its
operation and parameter names; a new kind of principal is one more row here. Operation names are
IAM's own (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html); ``method``
gives boto3's spelling of one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PrincipalKind:
    """How IAM's API names the calls and parameters for one kind of identity."""

    kind: str  # "user", "role", "group": as the ARN's resource type spells it
    name_param: str  # UserName / RoleName / GroupName
    get: str  # GetUser: its reply holds the entity under ``reply_key``
    reply_key: str
    list_inline: str  # ListUserPolicies
    get_inline: str  # GetUserPolicy
    put_inline: str  # PutUserPolicy
    delete_inline: str  # DeleteUserPolicy
    list_attached: str  # ListAttachedUserPolicies
    attach: str  # AttachUserPolicy
    detach: str  # DetachUserPolicy
    has_groups: bool = False  # a user's groups' policies are its policies too
    has_boundary: bool = True  # users and roles may have a permissions boundary; groups may not
    assumable: bool = False  # only a role can be assumed (to act as it)

    def name(self, owner: str) -> dict[str, str]:
        """The parameter that names one of these: {"UserName": owner}."""
        return {self.name_param: owner}


def _kind(kind: str, title: str, **flags: bool) -> PrincipalKind:
    return PrincipalKind(
        kind=kind,
        name_param=f"{title}Name",
        get=f"Get{title}",
        reply_key=title,
        list_inline=f"List{title}Policies",
        get_inline=f"Get{title}Policy",
        put_inline=f"Put{title}Policy",
        delete_inline=f"Delete{title}Policy",
        list_attached=f"ListAttached{title}Policies",
        attach=f"Attach{title}Policy",
        detach=f"Detach{title}Policy",
        **flags,
    )


USER = _kind("user", "User", has_groups=True)
ROLE = _kind("role", "Role", assumable=True)
GROUP = _kind("group", "Group", has_boundary=False)
KINDS = {k.kind: k for k in (USER, ROLE, GROUP)}


def of(kind: str) -> PrincipalKind:
    """The row of a kind ("user", "role", "group"); any other is a bug of the caller."""
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"no IAM principal kind '{kind}' (expected one of {', '.join(KINDS)})") from None


def method(operation: str) -> str:
    """boto3's method name of an IAM operation: GetUserPolicy -> get_user_policy."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
