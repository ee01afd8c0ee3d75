"""Pure: diff(desired, live) -> Plan, the exact list of writes that brings live to desired.

The same function serves onboarding, drift repair and teardown (desired = nothing). Documents are
compared semantically (policydoc), so IAM's re-serialization never shows up as drift.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bootstrap import policydoc
from bootstrap.state import Grant, Role, State


class Side(StrEnum):
    SOURCE = "source"
    TARGET = "target"


class Op(StrEnum):
    CREATE_ROLE = "create-role"
    UPDATE_TRUST = "update-trust-policy"
    UPDATE_ROLE = "update-role"
    SET_BOUNDARY = "set-permissions-boundary"
    TAG_ROLE = "tag-role"
    UNTAG_ROLE = "untag-role"
    ATTACH_POLICY = "attach-policy"
    PUT_ROLE_POLICY = "put-role-policy"
    DETACH_POLICY = "detach-policy"
    DELETE_ROLE_POLICY = "delete-role-policy"
    DELETE_ROLE = "delete-role"
    PUT_GRANT = "put-grant"
    DELETE_GRANT = "delete-grant"


ACTIONS = {
    Op.CREATE_ROLE: "create",
    Op.ATTACH_POLICY: "create",
    Op.PUT_ROLE_POLICY: "create",
    Op.DETACH_POLICY: "delete",
    Op.DELETE_ROLE_POLICY: "delete",
    Op.DELETE_ROLE: "delete",
    Op.DELETE_GRANT: "delete",
    Op.UNTAG_ROLE: "delete",
}


@dataclass(frozen=True)
class Change:
    """One write. Self-contained: apply needs nothing else to make it."""

    side: Side
    account: str
    op: Op
    owner_kind: str  # "role" or "user": what the write acts on
    owner: str  # its name
    key: str = ""  # a policy ARN or inline policy name, where the op needs one
    after: str | None = None  # the new document / value
    tags: tuple[tuple[str, str], ...] = ()
    role: Role | None = None  # CREATE_ROLE only
    action: str = "update"  # create / update / delete, as the user reads it
    resource: str = ""
    details: tuple[str, ...] = ()  # readable before -> after lines


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    role_arn: str
    # Things the plan will not touch because trust-bootstrap does not own them.
    not_owned: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.changes

    def side(self, side: Side) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.side is side)


def _change(side: Side, account: str, op: Op, owner_kind: str, owner: str, resource: str, **kw: Any) -> Change:
    action = kw.pop("action", None) or ACTIONS.get(op, "update")
    return Change(side, account, op, owner_kind, owner, action=action, resource=resource, **kw)


def describe_statement(statement: dict[str, Any]) -> str:
    """One line per statement: effect, actions, principals, resources, conditions."""
    parts = [statement.get("Effect", "?")]
    for key in ("Action", "NotAction"):
        if key in statement:
            parts.append(("not " if key.startswith("Not") else "") + ", ".join(statement[key]))
    for key in ("Principal", "NotPrincipal"):
        if key in statement:
            value = statement[key]
            who = value if isinstance(value, str) else "; ".join(f"{k}: {', '.join(v)}" for k, v in value.items())
            parts.append(("to everyone except " if key.startswith("Not") else "to ") + who)
    for key in ("Resource", "NotResource"):
        if key in statement:
            parts.append(("not on " if key.startswith("Not") else "on ") + ", ".join(statement[key]))
    for operator, pairs in statement.get("Condition", {}).items():
        for ckey, values in pairs.items():
            parts.append(f"if {operator} {ckey} = {' | '.join(values)}")
    return " ".join(parts)


def document_diff(before: str | None, after: str | None) -> tuple[str, ...]:
    """Statements removed (-) and added (+); unchanged ones are left out."""
    old = {json.dumps(s, sort_keys=True): s for s in (policydoc.statements(before) if before else [])}
    new = {json.dumps(s, sort_keys=True): s for s in (policydoc.statements(after) if after else [])}
    removed = [f"- {describe_statement(s)}" for k, s in old.items() if k not in new]
    added = [f"+ {describe_statement(s)}" for k, s in new.items() if k not in old]
    return tuple(removed + added)


def _role_changes(desired: Role | None, live: Role | None, account: str) -> list[Change]:
    t = Side.TARGET
    if desired is None and live is None:
        return []
    if live is None:
        assert desired is not None
        name = desired.name
        changes = [
            _change(
                t, account, Op.CREATE_ROLE, "role", name, f"role {desired.arn}", role=desired,
                details=document_diff(None, desired.trust_policy),
            )
        ]
        changes += [
            _change(t, account, Op.ATTACH_POLICY, "role", name, f"role/{name} managed policy {arn}", key=arn)
            for arn in desired.managed_policies
        ]
        changes += [
            _change(t, account, Op.PUT_ROLE_POLICY, "role", name, f"role/{name} inline policy {pname}", key=pname,
                    after=doc, details=document_diff(None, doc))
            for pname, doc in desired.inline_policies
        ]
        return changes
    name = live.name
    if desired is None:  # teardown: everything attached first, then the role itself
        changes = [
            _change(t, account, Op.DETACH_POLICY, "role", name, f"role/{name} managed policy {arn}", key=arn)
            for arn in live.managed_policies
        ]
        changes += [
            _change(t, account, Op.DELETE_ROLE_POLICY, "role", name, f"role/{name} inline policy {pname}", key=pname)
            for pname, _ in live.inline_policies
        ]
        changes.append(_change(t, account, Op.DELETE_ROLE, "role", name, f"role {live.arn}"))
        return changes
    return _role_updates(desired, live, account)


def _role_updates(desired: Role, live: Role, account: str) -> list[Change]:
    t, name = Side.TARGET, live.name
    changes: list[Change] = []
    if not policydoc.equivalent(desired.trust_policy, live.trust_policy):
        changes.append(
            _change(t, account, Op.UPDATE_TRUST, "role", name, f"role/{name} trust policy",
                    after=desired.trust_policy, details=document_diff(live.trust_policy, desired.trust_policy))
        )
    settings = []
    if desired.description != live.description:
        settings.append(f"description: {live.description!r} -> {desired.description!r}")
    if desired.max_session_duration != live.max_session_duration:
        settings.append(f"max session duration: {live.max_session_duration}s -> {desired.max_session_duration}s")
    if settings:
        changes.append(_change(t, account, Op.UPDATE_ROLE, "role", name, f"role/{name} settings",
                                   role=desired, details=tuple(settings)))
    if desired.permissions_boundary != live.permissions_boundary:
        changes.append(
            _change(t, account, Op.SET_BOUNDARY, "role", name, f"role/{name} permissions boundary",
                    after=desired.permissions_boundary,
                    details=(f"{live.permissions_boundary or '(none)'} -> {desired.permissions_boundary or '(none)'}",))
        )
    live_tags, want_tags = dict(live.tags), dict(desired.tags)
    to_set = tuple((k, v) for k, v in desired.tags if live_tags.get(k) != v)
    to_remove = tuple((k, v) for k, v in live.tags if k not in want_tags)
    if to_set:
        changes.append(
            _change(t, account, Op.TAG_ROLE, "role", name, f"role/{name} tags", tags=to_set,
                    details=tuple(f"{k}: {live_tags.get(k, '(none)')!r} -> {v!r}" for k, v in to_set))
        )
    if to_remove:
        changes.append(
            _change(t, account, Op.UNTAG_ROLE, "role", name, f"role/{name} tags", tags=to_remove,
                    details=tuple(f"{k}: {v!r} -> (removed)" for k, v in to_remove))
        )
    for arn in desired.managed_policies:
        if arn not in live.managed_policies:
            changes.append(_change(t, account, Op.ATTACH_POLICY, "role", name, f"role/{name} managed policy {arn}", key=arn))
    live_inline = dict(live.inline_policies)
    for pname, doc in desired.inline_policies:
        if pname not in live_inline or not policydoc.equivalent(doc, live_inline[pname]):
            changes.append(
                _change(t, account, Op.PUT_ROLE_POLICY, "role", name, f"role/{name} inline policy {pname}", key=pname,
                        after=doc, action="create" if pname not in live_inline else "update",
                        details=document_diff(live_inline.get(pname), doc))
            )
    for arn in live.managed_policies:
        if arn not in desired.managed_policies:
            changes.append(_change(t, account, Op.DETACH_POLICY, "role", name, f"role/{name} managed policy {arn}", key=arn))
    want_inline = dict(desired.inline_policies)
    for pname, doc in live.inline_policies:
        if pname not in want_inline:
            changes.append(
                _change(t, account, Op.DELETE_ROLE_POLICY, "role", name, f"role/{name} inline policy {pname}",
                        key=pname, details=document_diff(doc, None))
            )
    return changes


def _grant_changes(desired: Grant | None, live: Grant | None, account: str) -> list[Change]:
    s = Side.SOURCE
    if desired is not None:
        p = desired.principal
        resource = f"{p.kind}/{p.name} inline policy {desired.policy_name}"
        if live is None:
            return [_change(s, account, Op.PUT_GRANT, p.kind, p.name, resource, key=desired.policy_name,
                            after=desired.document, action="create", details=document_diff(None, desired.document))]
        if not policydoc.equivalent(desired.document, live.document):
            return [_change(s, account, Op.PUT_GRANT, p.kind, p.name, resource, key=desired.policy_name,
                            after=desired.document, details=document_diff(live.document, desired.document))]
        return []
    if live is not None:
        p = live.principal
        return [_change(s, account, Op.DELETE_GRANT, p.kind, p.name, f"{p.kind}/{p.name} inline policy {live.policy_name}",
                        key=live.policy_name, details=document_diff(live.document, None))]
    return []


def diff(desired: State, live: State, adopt: bool = False) -> Plan:
    """The writes that make ``live`` equal ``desired``. A live role that trust-bootstrap does not
    own is never touched unless ``adopt``: it is reported in ``not_owned`` instead."""
    not_owned: list[str] = []
    live_role = live.role
    if live_role is not None and not live_role.owned and not adopt:
        not_owned.append(f"role {live_role.arn} exists, not managed by trust-bootstrap")
        role_changes: list[Change] = []
    else:
        # Adopting needs no special case: the ownership tag is among the desired tags.
        role_changes = _role_changes(desired.role, live_role, desired.target_account)
    grant_changes = _grant_changes(desired.grant, live.grant, desired.source_account)
    role_arn = (desired.role or live_role).arn if (desired.role or live_role) else ""
    return Plan(changes=tuple(grant_changes + role_changes), role_arn=role_arn, not_owned=tuple(not_owned))
