"""Read-only: the live State of both sides, read in parallel, in the same dataclasses as desired."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from bootstrap.aws import accounts as aws
from bootstrap.aws import iam as aws_iam
from bootstrap.core.arns import Principal
from bootstrap.core.state import Grant, Role, State


def _json(document: dict[str, object]) -> str:
    return json.dumps(document, separators=(",", ":"))


def read_role(target: aws.Account, name: str, expected_inline: tuple[str, ...] = ()) -> Role | None:
    """The role as it stands, in as few round trips as its names allow: GetRole, the two listings
    and the inline policies the run expects (``expected_inline``, names from the input) all go out
    together, so a re-run where the role exists waits one round; only inline policies the run does
    not know (found by the listing) cost a second. A first run pays quick NoSuchEntity answers."""
    with ThreadPoolExecutor(max_workers=4 + min(len(expected_inline), 8)) as pool:
        role = pool.submit(aws_iam.get_role, target, name)
        managed = pool.submit(aws_iam.list_attached_role_policies, target, name)
        inline_names = pool.submit(aws_iam.list_inline_policies, target, "role", name)
        early = {
            policy: pool.submit(aws_iam.get_inline_policy, target, "role", name, policy) for policy in expected_inline
        }
        raw = role.result()
        if raw is None:
            return None
        # GetRole returns tags too, but only the first page of them; ask for all only when cut.
        tags_future = pool.submit(aws_iam.list_role_tags, target, name) if len(raw.get("Tags", [])) >= 50 else None
        documents = {
            policy: early.get(policy) or pool.submit(aws_iam.get_inline_policy, target, "role", name, policy)
            for policy in inline_names.result()
        }
        tags = tags_future.result() if tags_future else [(t["Key"], t["Value"]) for t in raw.get("Tags", [])]
        inline = tuple(sorted((p, _json(d.result() or {})) for p, d in documents.items()))
        managed_arns = tuple(sorted(managed.result()))
    boundary = raw.get("PermissionsBoundary") or {}
    return Role(
        name=raw["RoleName"],
        path=raw["Path"],
        arn=raw["Arn"],
        trust_policy=_json(raw["AssumeRolePolicyDocument"]),
        max_session_duration=int(raw.get("MaxSessionDuration", 3600)),
        permissions_boundary=boundary.get("PermissionsBoundaryArn"),
        description=raw.get("Description", ""),
        tags=tuple(sorted(tags)),
        managed_policies=managed_arns,
        inline_policies=inline,
        role_id=raw["RoleId"],
        created=raw.get("CreateDate"),
    )


def read_grant(source: aws.Account, principal: Principal, policy_name: str) -> Grant | None:
    document = aws_iam.get_inline_policy(source, principal.kind, principal.name, policy_name)
    if document is None:
        return None
    return Grant(principal=principal, policy_name=policy_name, document=_json(document))


def read(
    target: aws.Account,
    source: aws.Account,
    *,
    target_account: str,
    source_account: str,
    role_name: str,
    principal: Principal,
    grant_name: str,
) -> State:
    with ThreadPoolExecutor(max_workers=2) as pool:
        role = pool.submit(read_role, target, role_name)
        grant = pool.submit(read_grant, source, principal, grant_name)
        return State(target_account, source_account, role.result(), grant.result())
