"""Pure: diff(desired, live) -> Plan, the exact list of writes that brings live to desired.

The same function serves onboarding, drift repair and teardown (desired = nothing). Documents are
compared semantically (policydoc), so IAM's re-serialization never shows up as drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bootstrap.core import policydoc
from bootstrap.core.state import OWNER_TAG, Grant, Role, State


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
    PUT_MANAGED_GRANT = "put-managed-grant"  # a fleet's grant, too large to be inline
    DELETE_MANAGED_GRANT = "delete-managed-grant"
    # CI trusts (oidcplan.py): the account's IAM OIDC identity provider
    CREATE_OIDC_PROVIDER = "create-oidc-provider"
    ADD_OIDC_CLIENT_ID = "add-oidc-client-id"
    DELETE_OIDC_PROVIDER = "delete-oidc-provider"


ACTIONS = {
    Op.CREATE_ROLE: "create",
    Op.ATTACH_POLICY: "create",
    Op.PUT_ROLE_POLICY: "create",
    Op.DETACH_POLICY: "delete",
    Op.DELETE_ROLE_POLICY: "delete",
    Op.DELETE_ROLE: "delete",
    Op.DELETE_GRANT: "delete",
    Op.DELETE_MANAGED_GRANT: "delete",
    Op.UNTAG_ROLE: "delete",
    Op.CREATE_OIDC_PROVIDER: "create",
    Op.DELETE_OIDC_PROVIDER: "delete",
}


# The verb a person reads for each write, where its action ("create"/"delete") would misname it:
# the plan, the progress, the error's "Done:" lines and JSON's "verb" all say this one word.
VERBS = {Op.ATTACH_POLICY: "attach", Op.DETACH_POLICY: "detach", Op.TAG_ROLE: "tag", Op.UNTAG_ROLE: "untag"}


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

    @property
    def verb(self) -> str:
        """The word the plan and the progress say for this write (attach, not create, a policy)."""
        return VERBS.get(self.op, self.action)

    @property
    def said(self) -> str:
        """The write in words, the same in the plan, the progress and the error's lists."""
        return f"{self.verb} {self.resource}"


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    role_arn: str
    # Things the plan will not touch because trust-bootstrap does not own them.
    not_owned: tuple[str, ...] = field(default=())
    # A rename's removal of the old role and its grant: made only once the new role is verified.
    after_verify: tuple[Change, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.changes and not self.after_verify

    def side(self, side: Side) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.side is side)


def _change(side: Side, account: str, op: Op, owner_kind: str, owner: str, resource: str, **kw: Any) -> Change:
    action = kw.pop("action", None) or ACTIONS.get(op, "update")
    return Change(side, account, op, owner_kind, owner, action=action, resource=resource, **kw)


def _on_role(account: str, op: Op, role_name: str, resource: str, **kw: Any) -> Change:
    """A change in the target account to an existing role; ``resource`` is shown after role/NAME."""
    return _change(Side.TARGET, account, op, "role", role_name, f"role/{role_name} {resource}", **kw)


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
    conditions = [
        f"{operator} {ckey} = {' | '.join(values)}"
        for operator, pairs in statement.get("Condition", {}).items()
        for ckey, values in pairs.items()
    ]
    if conditions:  # every condition of a statement must hold: one "when", joined by "and"
        parts.append("when " + " and ".join(conditions))
    return " ".join(parts)


def document_diff(before: str | None, after: str | None) -> tuple[str, ...]:
    """Statements removed (-) and added (+), matched on meaning and shown as written; unchanged
    ones are left out."""
    old = policydoc.keyed_statements(before) if before else {}
    new = policydoc.keyed_statements(after) if after else {}
    removed = [f"- {describe_statement(s)}" for k, s in old.items() if k not in new]
    added = [f"+ {describe_statement(s)}" for k, s in new.items() if k not in old]
    return tuple(removed + added)


def _role_changes(desired: Role | None, live: Role | None, account: str) -> list[Change]:
    if live is None:
        return [] if desired is None else _role_creation(desired, account)
    if desired is None:
        return _role_removal(live, account)
    return [
        *_trust_and_settings(desired, live, account),
        *_tag_changes(desired, live, account),
        *_policy_changes(desired, live, account),
    ]


def _settings(role: Role) -> tuple[str, ...]:
    """A new role's settings, as the plan shows them before its trust statements."""
    lines = [f"path: {role.path}", f"max session duration: {role.max_session_duration} s"]
    if role.description:
        lines.append(f"description: {role.description}")
    if role.permissions_boundary:
        lines.append(f"permissions boundary: {role.permissions_boundary}")
    if role.tags:
        lines.append("tags: " + ", ".join(f"{k}={v}" for k, v in role.tags))
    return tuple(lines)


def _role_creation(role: Role, account: str) -> list[Change]:
    name = role.name
    create = _change(
        Side.TARGET, account, Op.CREATE_ROLE, "role", name, f"role {role.arn}", role=role,
        details=(*_settings(role), *document_diff(None, role.trust_policy)),
    )  # fmt: skip
    attach = [
        _on_role(account, Op.ATTACH_POLICY, name, f"managed policy {arn}", key=arn) for arn in role.managed_policies
    ]
    inline = [
        _on_role(
            account, Op.PUT_ROLE_POLICY, name, f"inline policy {p}", key=p, after=doc, details=document_diff(None, doc)
        )
        for p, doc in role.inline_policies
    ]
    return [create, *attach, *inline]


def _role_removal(role: Role, account: str) -> list[Change]:
    """Teardown: everything attached first (IAM refuses to delete a role that has any), then the role."""
    name = role.name
    detach = [
        _on_role(account, Op.DETACH_POLICY, name, f"managed policy {arn}", key=arn) for arn in role.managed_policies
    ]
    inline = [
        _on_role(account, Op.DELETE_ROLE_POLICY, name, f"inline policy {p}", key=p) for p, _ in role.inline_policies
    ]
    delete = _change(Side.TARGET, account, Op.DELETE_ROLE, "role", name, f"role {role.arn}")
    return [*detach, *inline, delete]


def _trust_and_settings(desired: Role, live: Role, account: str) -> list[Change]:
    name = live.name
    changes: list[Change] = []
    if not policydoc.equivalent(desired.trust_policy, live.trust_policy):
        diff = document_diff(live.trust_policy, desired.trust_policy)
        changes.append(
            _on_role(account, Op.UPDATE_TRUST, name, "trust policy", after=desired.trust_policy, details=diff)
        )
    settings = []
    if desired.description != live.description:
        settings.append(f"description: {live.description!r} -> {desired.description!r}")
    if desired.max_session_duration != live.max_session_duration:
        settings.append(f"max session duration: {live.max_session_duration}s -> {desired.max_session_duration}s")
    if settings:
        changes.append(_on_role(account, Op.UPDATE_ROLE, name, "settings", role=desired, details=tuple(settings)))
    if desired.permissions_boundary != live.permissions_boundary:
        line = f"{live.permissions_boundary or '(none)'} -> {desired.permissions_boundary or '(none)'}"
        changes.append(
            _on_role(
                account,
                Op.SET_BOUNDARY,
                name,
                "permissions boundary",
                after=desired.permissions_boundary,
                details=(line,),
            )
        )
    return changes


def _tag_changes(desired: Role, live: Role, account: str) -> list[Change]:
    live_tags, want_tags = dict(live.tags), dict(desired.tags)
    to_set = tuple((k, v) for k, v in desired.tags if live_tags.get(k) != v)
    to_remove = tuple((k, v) for k, v in live.tags if k not in want_tags)
    changes = []
    if to_set:
        lines = tuple(f"{k}: {live_tags.get(k, '(none)')!r} -> {v!r}" for k, v in to_set)
        changes.append(_on_role(account, Op.TAG_ROLE, live.name, "tags", tags=to_set, details=lines))
    if to_remove:
        lines = tuple(f"{k}: {v!r} -> (removed)" for k, v in to_remove)
        changes.append(_on_role(account, Op.UNTAG_ROLE, live.name, "tags", tags=to_remove, details=lines))
    return changes


def _policy_changes(desired: Role, live: Role, account: str) -> list[Change]:
    """Additions before removals, so the role never has fewer permissions than either version."""
    name = live.name
    live_inline, want_inline = dict(live.inline_policies), dict(desired.inline_policies)
    changes = [
        _on_role(account, Op.ATTACH_POLICY, name, f"managed policy {arn}", key=arn)
        for arn in desired.managed_policies
        if arn not in live.managed_policies
    ]
    for p, doc in desired.inline_policies:
        if p not in live_inline or not policydoc.equivalent(doc, live_inline[p]):
            changes.append(
                _on_role(account, Op.PUT_ROLE_POLICY, name, f"inline policy {p}", key=p, after=doc,
                         action="create" if p not in live_inline else "update",
                         details=document_diff(live_inline.get(p), doc))
            )  # fmt: skip
    changes += [
        _on_role(account, Op.DETACH_POLICY, name, f"managed policy {arn}", key=arn)
        for arn in live.managed_policies
        if arn not in desired.managed_policies
    ]
    changes += [
        _on_role(account, Op.DELETE_ROLE_POLICY, name, f"inline policy {p}", key=p, details=document_diff(doc, None))
        for p, doc in live.inline_policies
        if p not in want_inline
    ]
    return changes


def _on_principal(grant: Grant, op: Op, **kw: Any) -> Change:
    p = grant.principal
    resource = f"{p.kind}/{p.name} inline policy {grant.policy_name}"
    return _change(Side.SOURCE, p.account, op, p.kind, p.name, resource, key=grant.policy_name, **kw)


def wider_allows(live: str, wanted: str) -> list[str]:
    """The Allow statements of ``live`` that grant something ``wanted`` does not: an action or
    resource it does not list (wildcards included), or NotAction / NotResource. Conditions and
    Deny statements only narrow, so they never make a document wider."""
    covered = [
        (set(s.get("Action", [])), set(s.get("Resource", [])))
        for s in policydoc.statements(wanted)
        if s.get("Effect") == "Allow" and "Condition" not in s
    ]
    wider = []
    for s in policydoc.statements(live):
        if s.get("Effect") != "Allow":
            continue
        actions, resources = set(s.get("Action", [])), set(s.get("Resource", []))
        negated = "NotAction" in s or "NotResource" in s
        if negated or not any(actions <= a and resources <= r for a, r in covered):
            wider.append(describe_statement(s))
    return wider


def grant_details(before: str | None, after: str | None) -> tuple[str, ...]:
    """The statement diff of a grant, saying plainly when the live one allows more than ours."""
    lines = document_diff(before, after)
    if before is not None and after is not None and (wider := wider_allows(before, after)):
        lines += (f"! the live grant is wider than the grant trust-bootstrap writes: it allows {'; '.join(wider)}",)
    return lines


def _grant_changes(desired: Grant | None, live: Grant | None) -> list[Change]:
    """The grant is trust-bootstrap's by its name (trust-bootstrap-<B>-<role>, a namespace of its
    own): whatever else it holds is drift, narrowed back to the one statement."""
    if desired is None:
        return (
            [] if live is None else [_on_principal(live, Op.DELETE_GRANT, details=document_diff(live.document, None))]
        )
    if live is None:
        return [
            _on_principal(
                desired, Op.PUT_GRANT, after=desired.document, action="create",
                details=document_diff(None, desired.document),
            )
        ]  # fmt: skip
    if policydoc.equivalent(desired.document, live.document):
        return []
    return [
        _on_principal(
            desired, Op.PUT_GRANT, after=desired.document, details=grant_details(live.document, desired.document)
        )
    ]


def _owned_parts(live: State, adopt: bool) -> tuple[Role | None, list[str]]:
    """The live role that this run may touch, and notes on what it must leave alone. (The grant
    needs no such check: its name alone makes it trust-bootstrap's.)"""
    role, notes = live.role, []
    if role is not None and not role.owned and not adopt:
        tagged = " (tagged as ours, but without our trust statement)" if OWNER_TAG in role.tags else ""
        notes.append(f"role {role.arn} exists, not managed by trust-bootstrap{tagged}")
        role = None
    return role, notes


def diff(desired: State, live: State, adopt: bool = False, retired: State | None = None) -> Plan:
    """The writes that make ``live`` equal ``desired``.

    A live role or grant that trust-bootstrap does not own is never touched unless ``adopt``: it
    is reported in ``not_owned`` and the plan leaves it out. ``retired`` is the live state of a
    previous role this one replaces (a rename): its removal goes to ``after_verify``, made only once
    the new role is verified.
    """
    role, not_owned = _owned_parts(live, adopt)
    if live.role is not None and role is None:
        role_changes: list[Change] = []  # not ours: leave it alone
    else:
        # Adopting needs no special case: the ownership tag is among the desired tags.
        role_changes = _role_changes(desired.role, role, desired.target_account)
    grant_changes = _grant_changes(desired.grant, live.grant)
    retiring: list[Change] = []
    if retired is not None:
        old_role, notes = _owned_parts(retired, adopt=False)
        not_owned += notes
        # The old grant first (as in teardown), then the old role: only after the new one is proven.
        retiring = _grant_changes(None, retired.grant) + _role_changes(None, old_role, desired.target_account)
    shown = desired.role or live.role
    role_arn = shown.arn if shown is not None else ""
    return Plan(
        changes=tuple(grant_changes + role_changes),
        role_arn=role_arn,
        not_owned=tuple(not_owned),
        after_verify=tuple(retiring),
    )
