"""A fleet's config: targets listed in a config file (defaults at the top) and/or the accounts of an
organization unit, each a full trust Config. Pure: validated before any AWS call, like config.py,
whose reading and checking helpers it shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bootstrap.config import fieldcheck
from bootstrap.config import oidc as oidcconfig
from bootstrap.config.door import refuse_unsafe_text
from bootstrap.config.model import (
    CONFIG_KEYS,
    FLEET_KEYS,
    FLEET_ONLY_AT_TOP,
    STACKSETS_ONLY,
    TARGET_KEYS,
    Config,
    _build,
    _check_keys,
    _read_file,
    _Source,
    checked_value,
    flag_of,
    flags_win,
)
from bootstrap.core import arns
from bootstrap.core.errors import InvalidInput


@dataclass(frozen=True)
class Target:
    """One account of a fleet: its own trust settings, and how to reach it."""

    label: str
    config: Config
    account_id: str | None = None  # reached by assuming access_role from the management profile
    access_role: str | None = None


@dataclass(frozen=True)
class Fleet:
    base: Config  # the shared settings: source profile, principal, verification
    targets: tuple[Target, ...]
    management_profile: str | None
    access_role: str
    name: str

    @property
    def grant_name(self) -> str:
        return f"trust-bootstrap-fleet-{self.name}"


DEFAULT_ACCESS_ROLE = "OrganizationAccountAccessRole"


def is_fleet(file: Path | None) -> bool:
    """The config file lists targets, or names an organization unit (targets_from_org)."""
    if file is None:
        return False
    raw = _read_file(file)
    return "targets" in raw or bool(raw.get("targets_from_org"))


def org_scope(file: Path | None, targets_from_org: str | None, management: str | None) -> tuple[str | None, str | None]:
    """--targets-from-org and --management-profile, each else its config file key."""
    raw = _read_file(file) if file is not None and not (targets_from_org and management) else {}
    ou = targets_from_org or raw.get("targets_from_org")
    profile = management or raw.get("management_profile")
    return (str(ou) if ou else None), (str(profile) if profile else None)


def _refuse_stacksets_keys(raw: Mapping[str, Any], file: Path | None) -> None:
    for key in STACKSETS_ONLY:
        if key in raw:
            raise InvalidInput(f"config key '{key}' in {file} is for the StackSets engine: add 'engine: stacksets'.")


def load_fleet(file: Path | None, flags: Mapping[str, Any], org_accounts: tuple[str, ...] = ()) -> Fleet:
    """A fleet from a config file's ``targets`` (defaults at the top) and/or the accounts of an
    organization unit. Flags override every target."""
    refuse_unsafe_text(flags, flag_of)
    raw = _read_file(file) if file else {}
    _refuse_stacksets_keys(raw, file)
    base_dir = file.parent if file else Path.cwd()
    trust_flags = {k: v for k, v in flags.items() if k in CONFIG_KEYS}
    top = {k: v for k, v in flags_win(raw, trust_flags).items() if k not in FLEET_KEYS}
    entries = raw.get("targets") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InvalidInput(f"config key 'targets' in {file}: expected a list of mappings, one per target account.")
    access_role = str(flags.get("access_role") or raw.get("access_role") or DEFAULT_ACCESS_ROLE)
    management = flags.get("management_profile") or raw.get("management_profile")
    ci_keys = [
        k
        for k in (*flags, *top, *(k for e in entries for k in e))
        if k in (*oidcconfig.FILE_KEYS, *oidcconfig.FLAG_KEYS)
    ]
    if ci_keys:  # a fleet run would provision IAM-principal trusts: refuse rather than ignore the CI keys
        raise InvalidInput(
            f"CI (OIDC) trusts are not supported for fleets yet ('{ci_keys[0]}'): run apply once per target account."
        )
    if management is not None:
        checked_value(str(management), "management_profile", fieldcheck.check_profile_name)
    base = _build({**top, **trust_flags, "role_name": top.get("role_name") or "fleet"}, _Source(file, flags), base_dir)
    targets = []
    for index, entry in enumerate(entries):
        where = f"targets[{index}] of {file}"
        _check_keys(entry, (*CONFIG_KEYS, *TARGET_KEYS), where)
        for key in FLEET_ONLY_AT_TOP:
            if key in entry:
                raise InvalidInput(f"{where}: '{key}' belongs at the top: a fleet trusts one principal in all targets.")
        own = flags_win({k: v for k, v in entry.items() if k not in TARGET_KEYS}, trust_flags)
        merged = {**top, **own, **trust_flags}
        config = _build(merged, _Source(file, flags, prefix=f"targets[{index}]."), base_dir)
        account = entry.get("account_id")
        if account is not None:
            checked_value(str(account), f"{where}: account_id", arns.check_account_id)
        if account is None and config.target_profile is None:
            raise InvalidInput(f"{where}: give target_profile, or account_id to reach it through {access_role}.")
        label = str(entry.get("label") or config.target_profile or account)
        targets.append(
            Target(label, config, str(account) if account else None, entry.get("access_role") or access_role)
        )
    for account in org_accounts:
        config = _build({**top, **trust_flags}, _Source(file, flags), base_dir)
        targets.append(Target(account, config, account, access_role))
    if not targets:
        raise InvalidInput("The fleet has no targets: list them under 'targets' or pass --targets-from-org OU_ID.")
    if any(t.account_id for t in targets) and not management:
        raise InvalidInput(
            "Targets reached by account_id need --management-profile (the organization's management account)."
        )
    name = str(raw.get("fleet_name") or base.role_name)
    checked_value(f"trust-bootstrap-fleet-{name}", "fleet_name", arns.check_policy_name)
    return Fleet(base, tuple(targets), management, access_role, name)
