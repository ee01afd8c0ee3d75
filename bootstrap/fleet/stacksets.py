"""Pure: the StackSets engine's settings, desired state, plan and words: one service-managed
StackSet (the role's template), its stack instances over an organization unit, and the
organization-scoped grant in the source account. Never imports boto3."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from bootstrap.config import model as config
from bootstrap.core import arns, policydoc
from bootstrap.core import plan as plan_module
from bootstrap.core.errors import InvalidInput
from bootstrap.core.stackset import Instance, LiveStackSet, OrgScope
from bootstrap.core.state import OWNER_TAG
from bootstrap.exports import formats as exports
from bootstrap.fleet import orggrant
from bootstrap.trust import consumerpolicy, desired

__all__ = ["OWNER_TAG", "Instance", "LiveStackSet", "OrgScope"]  # re-exported for the renderers and the engine

NAME_PREFIX = "trust-bootstrap-"
EXTERNAL_ID_TAG = "trust-bootstrap:external-id-sha256"  # NoEcho hides the value: compare its digest
CALL_AS = ("SELF", "DELEGATED_ADMIN")
# Keys a config file may hold for this engine, besides the trust's own (config.CONFIG_KEYS).
STACKSET_KEYS = ("engine", "targets_from_org", "management_profile", "call_as", "stackset_region",
                 "verify_sample", "fleet_name")  # fmt: skip
OU_PREFIX = "ou-"
ROOT_PREFIX = "r-"


@dataclass(frozen=True)
class Settings:
    """What a stacksets run needs: the trust (base) and where to roll it out."""

    base: config.Config
    ou_id: str
    management_profile: str
    name: str  # the StackSet's name, always with NAME_PREFIX
    call_as: str = "SELF"
    region: str | None = None  # where the instances go; None: the management profile's region
    verify_sample: int | None = None

    @property
    def grant_name(self) -> str:
        return orggrant.grant_name(self.name, NAME_PREFIX)

    @property
    def legacy_grant_name(self) -> str:
        return orggrant.legacy_grant_name(self.name)


def load(file: Path | None, flags: Mapping[str, Any]) -> Settings:
    """Settings from a config file and flags (flags win), checked before any AWS call."""
    raw = config._read_file(file) if file else {}
    if "targets" in raw:
        raise InvalidInput(
            f"{file}: 'targets' lists accounts one by one, which the stacksets engine does not take: it rolls "
            "out to every account of an organization unit (targets_from_org)."
        )
    merged = {**config.flags_win(raw, flags), **{k: v for k, v in flags.items() if v is not None}}
    trust = {k: v for k, v in merged.items() if k not in STACKSET_KEYS}
    base_dir = file.parent if file else Path.cwd()
    base = config._build(trust, config._Source(file, flags), base_dir)
    ou = merged.get("targets_from_org")
    if not ou:
        raise InvalidInput("The stacksets engine needs the organization unit: pass --targets-from-org OU_ID.")
    ou = str(ou)
    if not (ou.startswith(OU_PREFIX) or ou.startswith(ROOT_PREFIX)):
        raise InvalidInput(f"--targets-from-org: '{ou}' is not an organization unit ID (ou-...) or a root (r-...).")
    management = merged.get("management_profile")
    if not management:
        raise InvalidInput(
            "The stacksets engine needs --management-profile: the organization's management account, or a "
            "delegated administrator for CloudFormation StackSets (with --call-as DELEGATED_ADMIN)."
        )
    call_as = str(merged.get("call_as") or "SELF").upper()
    if call_as not in CALL_AS:
        raise InvalidInput(f"--call-as: '{call_as}' is not one of {', '.join(CALL_AS)}.")
    sample = merged.get("verify_sample")
    if sample is not None and (not isinstance(sample, int) or sample < 1):
        raise InvalidInput(f"--verify-sample: '{sample}' is not a positive number of accounts.")
    if base.generate_external_id:
        raise InvalidInput(
            "The stacksets engine needs the ExternalId given (--external-id): every account of the OU shares it, "
            "and a generated one could not be read back from the StackSet (CloudFormation masks NoEcho values)."
        )
    name = NAME_PREFIX + str(merged.get("fleet_name") or base.role_name)
    if len(name) > 128 or not all(c.isalnum() or c == "-" for c in name) or not name[0].isalpha():
        raise InvalidInput(f"The StackSet name '{name}' must be letters, digits and hyphens, at most 128 characters.")
    if len(orggrant.grant_name(name, NAME_PREFIX)) > 128:  # IAM's limit for a policy name
        raise InvalidInput(f"The grant's name {orggrant.grant_name(name, NAME_PREFIX)} would be over 128 characters: "
                           "shorten fleet_name (or the role's name).")  # fmt: skip
    region = merged.get("stackset_region")
    return Settings(base, ou, str(management), name, call_as, str(region) if region else None, sample)


# -- what we want ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Desired:
    name: str
    template: str
    parameters: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str], ...]
    role_path: str
    role_name: str
    scope: OrgScope
    grant_name: str
    grant_document: str  # this unit's alone; the plan's grant also lists the other units still deployed
    principal: arns.Principal
    legacy_grant_name: str = ""
    tag_keys: tuple[str, ...] = ()  # --for github-actions: the grant allows sts:TagSession for these keys too

    @property
    def grant_resource(self) -> str:
        return orggrant.resource(self.principal.partition, self.role_path, self.role_name)

    def grant_for(self, patterns: Sequence[str]) -> str:
        partition, org_id = self.principal.partition, self.scope.org_id
        return orggrant.document(partition, self.role_path, self.role_name, org_id, patterns, self.tag_keys)

    def patterns_of(self, live_grant: Mapping[str, Any] | None) -> tuple[str, ...] | None:
        """The organization paths a live grant lists, when its content is this StackSet's; else None."""
        return orggrant.patterns_of(live_grant, self.grant_resource, self.scope.org_id)


def external_id_digest(external_id: str | None) -> str:
    return hashlib.sha256(external_id.encode()).hexdigest() if external_id else "none"


def template_trust(base: config.Config, principal: arns.Principal) -> exports.Trust:
    """The same Trust ``export --format cloudformation --offline`` renders (the template names no
    account, so the placeholder target account never shows)."""
    context = desired.Context(principal.account, "000000000000", principal.partition, principal, base.external_id)
    state = desired.build(base, context)
    assert state.role is not None and state.grant is not None
    role = replace(state.role, tags=tuple(t for t in state.role.tags if t != OWNER_TAG))
    return exports.Trust(
        role=role, principal_arn=principal.arn, grant_document=state.grant.document, external_id=base.external_id,
        require_mfa=base.require_mfa, mfa_max_age=base.mfa_max_age, session_name=base.session_name,
        caller_profile=None, mfa_serial=base.mfa_serial, endpoint_url=None,
    )  # fmt: skip


def grant_document(
    partition: str, role_path: str, role_name: str, scope: OrgScope, tag_keys: tuple[str, ...] = ()
) -> str:
    """sts:AssumeRole on the role of that path and name in any account of the OU (and the OUs
    below it), and nowhere else. Listing every role ARN does not fit IAM's policy size limits at
    organization scale; AWS's documented way is the resource's organization path:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgpaths
    (aws:ResourceOrgPaths is multivalued: ForAnyValue with StringLike for the trailing wildcard;
    aws:ResourceOrgID, single-valued, pins the organization as well). orggrant.py: several units."""
    return orggrant.document(partition, role_path, role_name, scope.org_id, [scope.pattern], tag_keys)


def build(settings: Settings, principal: arns.Principal, scope: OrgScope) -> Desired:
    base = settings.base
    template = exports.cloudformation(template_trust(base, principal))
    parameters = [("SourcePrincipalArn", principal.arn)]
    if base.external_id:
        parameters.append(("ExternalId", base.external_id))
    tags = (OWNER_TAG, (EXTERNAL_ID_TAG, external_id_digest(base.external_id)))
    keys = consumerpolicy.tag_keys(base.consumers)  # --for github-actions
    return Desired(
        name=settings.name, template=template, parameters=tuple(parameters), tags=tuple(sorted(tags)),
        role_path=base.path, role_name=base.role_name, scope=scope, grant_name=settings.grant_name,
        grant_document=grant_document(principal.partition, base.path, base.role_name, scope, keys), principal=principal,
        legacy_grant_name=settings.legacy_grant_name, tag_keys=keys,
    )  # fmt: skip


# -- what is there --------------------------------------------------------------------------------


# -- the plan -------------------------------------------------------------------------------------


class Step(StrEnum):
    CREATE_STACK_SET = "create-stack-set"
    UPDATE_STACK_SET = "update-stack-set"
    CREATE_INSTANCES = "create-stack-instances"
    UPDATE_INSTANCES = "update-stack-instances"
    PUT_GRANT = "put-org-grant"
    DELETE_GRANT = "delete-org-grant"
    DELETE_INSTANCES = "delete-stack-instances"
    DELETE_STACK_SET = "delete-stack-set"


@dataclass(frozen=True)
class Action:
    step: Step
    what: str  # in words
    details: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    ous: tuple[str, ...] = ()
    policy: str = ""  # a grant's name (PUT_GRANT, DELETE_GRANT)
    document: str = ""  # the grant to write (PUT_GRANT)


@dataclass(frozen=True)
class StackSetPlan:
    actions: tuple[Action, ...]
    not_owned: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # accounts of the OU without an instance in the region
    outdated: tuple[str, ...] = ()  # accounts whose instance is not CURRENT
    extra: tuple[str, ...] = field(default=())  # instances in accounts no longer in the OU
    left: tuple[str, ...] = ()  # teardown: what stays, and why


def _template_diff(before: str, after: str) -> tuple[str, ...]:
    def pretty(text: str) -> list[str]:
        try:
            return json.dumps(json.loads(text), indent=2, sort_keys=True).splitlines()
        except ValueError:
            return text.splitlines()

    lines = difflib.unified_diff(pretty(before), pretty(after), "live template", "wanted template", lineterm="", n=1)
    return tuple(lines)


def _same_template(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return a.strip() == b.strip()


def _parameter_diff(want: Desired, live: LiveStackSet) -> tuple[str, ...]:
    wanted, have = dict(want.parameters), dict(live.parameters)
    lines = []
    for key in sorted(set(wanted) | set(have)):
        if key == "ExternalId":  # NoEcho: masked when read; its digest tag tells
            continue
        if wanted.get(key) != have.get(key):
            lines.append(f"parameter {key}: {have.get(key, '(none)')} -> {wanted.get(key, '(none)')}")
    if dict(want.tags).get(EXTERNAL_ID_TAG) != dict(live.tags).get(EXTERNAL_ID_TAG):
        lines.append("parameter ExternalId: changed (value not shown)")
    return tuple(lines)


def _grant_actions(want: Desired, live_grant: Mapping[str, Any] | None, legacy_grant: Mapping[str, Any] | None,
                   patterns: Sequence[str], teardown: bool) -> tuple[list[Action], list[str]]:  # fmt: skip
    """The grant under its name, listing ``patterns`` (none: deleted), and the grant under the old
    name moved or removed when its content is this StackSet's. Content that is not ours is never
    deleted (and, under the old name, never read: it may be a single trust's grant)."""
    actions: list[Action] = []
    left: list[str] = []
    on = f"{want.principal.kind}/{want.principal.name}"
    text = json.dumps(live_grant, separators=(",", ":")) if live_grant is not None else None
    ours = want.patterns_of(live_grant) is not None
    legacy_ours = want.patterns_of(legacy_grant) is not None
    legacy_text = json.dumps(legacy_grant, separators=(",", ":")) if legacy_ours else None
    if patterns and (text is None or ours or not teardown):
        # On apply, other content under the name (namespaced: ours) is drift, put back.
        document = want.grant_for(patterns)
        if text is None or not policydoc.equivalent(text, document):
            verb = "create" if text is None else ("narrow" if teardown else "update")
            units = ", ".join(orggrant.unit_of(p) for p in sorted(patterns))
            actions.append(Action(Step.PUT_GRANT, f"{verb} the grant {want.grant_name} on {on} (units {units})",
                                  plan_module.document_diff(text or legacy_text, document),
                                  policy=want.grant_name, document=document))  # fmt: skip
    elif text is not None and ours:
        actions.append(Action(Step.DELETE_GRANT, f"delete the grant {want.grant_name} on {on}",
                              plan_module.document_diff(text, None), policy=want.grant_name))  # fmt: skip
    if text is not None and not ours and teardown:
        left.append(f"the inline policy {want.grant_name} on {on}: its content is not this StackSet's grant "
                    f"(sts:AssumeRole on {want.grant_resource} in organization {want.scope.org_id})")  # fmt: skip
    if legacy_ours:
        actions.append(Action(Step.DELETE_GRANT, f"delete the grant under its old name {want.legacy_grant_name} on "
                              f"{on}" + (f" (moved to {want.grant_name})" if patterns else ""),
                              plan_module.document_diff(legacy_text, None) if not patterns else (),
                              policy=want.legacy_grant_name))  # fmt: skip
    return actions, left


def other_patterns(
    want: Desired, live_grant: Mapping[str, Any] | None, legacy_grant: Mapping[str, Any] | None
) -> tuple[str, ...]:
    """The organization paths our live grant(s) list besides this unit's: other units' deployments
    of the same role, to keep (the caller keeps those that still have stack instances)."""
    found = {*(want.patterns_of(live_grant) or ()), *(want.patterns_of(legacy_grant) or ())}
    return tuple(sorted(found - {want.scope.pattern}))


def plan_apply(
    want: Desired,
    live: LiveStackSet | None,
    instances: Sequence[Instance],
    ou_accounts: Sequence[str],
    region: str,
    live_grant: Mapping[str, Any] | None,
    legacy_grant: Mapping[str, Any] | None = None,
    kept: Sequence[str] = (),
) -> StackSetPlan:
    """``kept``: the organization paths of other units still deployed, which the grant goes on listing."""
    actions: list[Action] = []
    not_owned: list[str] = []
    here = {i.account: i for i in instances if i.region == region}
    missing = tuple(a for a in ou_accounts if a not in here)
    outdated = tuple(a for a in ou_accounts if a in here and here[a].status != "CURRENT")
    extra = tuple(sorted(a for a in here if a not in set(ou_accounts)))
    if live is None:
        actions.append(Action(Step.CREATE_STACK_SET, f"create the service-managed StackSet {want.name} (tag "
                              f"{OWNER_TAG[0]}={OWNER_TAG[1]}; automatic deployment on, stacks not retained "
                              "when an account leaves the unit)", _template_diff("{}", want.template)))  # fmt: skip
    elif not live.owned:
        not_owned.append(f"StackSet {live.name} exists without the tag {OWNER_TAG[0]}={OWNER_TAG[1]}")
    else:
        details: tuple[str, ...] = ()
        if not _same_template(live.template, want.template):
            details += _template_diff(live.template, want.template)
        details += _parameter_diff(want, live)
        if live.auto_deployment is not None and live.auto_deployment != (True, False):
            details += (f"automatic deployment {live.auto_deployment} -> (enabled, not retained)",)
        if details:
            actions.append(Action(Step.UPDATE_STACK_SET, f"update the StackSet {want.name} and its "
                                  f"{len(here)} stack instance(s)", details))  # fmt: skip
    updating = any(a.step is Step.UPDATE_STACK_SET for a in actions)
    if not not_owned and missing:
        actions.append(Action(Step.CREATE_INSTANCES, f"create stack instances in {len(missing)} account(s) of "
                              f"{want.scope.ou_id} in {region}", accounts=missing, ous=(want.scope.ou_id,)))  # fmt: skip
    if not not_owned and outdated and not updating:
        actions.append(Action(Step.UPDATE_INSTANCES, f"bring {len(outdated)} outdated stack instance(s) up to date",
                              tuple(f"{a}: {here[a].status} {here[a].reason}".rstrip() for a in outdated),
                              accounts=outdated, ous=(want.scope.ou_id,)))  # fmt: skip
    grant_actions, _ = _grant_actions(want, live_grant, legacy_grant, [want.scope.pattern, *kept], teardown=False)
    return StackSetPlan(tuple(actions + grant_actions), tuple(not_owned), missing, outdated, extra)


def plan_teardown(
    want: Desired,
    live: LiveStackSet | None,
    instances: Sequence[Instance],
    live_grant: Mapping[str, Any] | None,
    *,
    unit_accounts: Sequence[str] = (),
    legacy_grant: Mapping[str, Any] | None = None,
    kept: Sequence[str] = (),
) -> StackSetPlan:
    """This unit's teardown, and nothing of another's: the grant first (narrowed to the ``kept``
    units' paths, deleted when none is left), then the stack instances in this unit's accounts
    (``unit_accounts``), then the StackSet, only when no instance of another unit remains. Only
    what carries our tag or our grant's content."""
    actions, left = _grant_actions(want, live_grant, legacy_grant, kept, teardown=True)
    not_owned: list[str] = []
    if live is not None and not live.owned:
        not_owned.append(f"StackSet {live.name} exists without the tag {OWNER_TAG[0]}={OWNER_TAG[1]}: left alone")
    elif live is not None:
        unit = set(unit_accounts)
        mine = [i for i in instances if i.account in unit]
        others = sorted({i.account for i in instances if i.account not in unit})
        if mine:
            accounts = tuple(sorted({i.account for i in mine}))
            actions.append(Action(Step.DELETE_INSTANCES, f"delete {len(mine)} stack instance(s) of {want.scope.ou_id} "
                                  f"(the role in {len(accounts)} account(s)), stacks not retained", accounts=accounts,
                                  ous=(want.scope.ou_id,)))  # fmt: skip
        if others:
            left.append(f"the StackSet {live.name}: it still has stack instances in {len(others)} account(s) outside "
                        f"{want.scope.ou_id} ({', '.join(others[:10])}{' ...' if len(others) > 10 else ''})")  # fmt: skip
        else:
            actions.append(Action(Step.DELETE_STACK_SET, f"delete the StackSet {live.name}"))
    return StackSetPlan(tuple(actions), tuple(not_owned), left=tuple(left))
