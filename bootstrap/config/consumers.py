"""The `consumers:` key (flag --for, repeatable) -> the validated consumer names, in the order given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bootstrap.core import consumers
from bootstrap.core.errors import InvalidInput

if TYPE_CHECKING:
    from bootstrap.core import oidc

FLAG = {"consumers": "--for"}  # the config key's flag (repeatable, so not --consumers)


def parse(merged: Mapping[str, Any], where: Callable[[str], str]) -> tuple[str, ...]:
    """A list of known consumer names (a single string is one name); duplicates dropped."""
    value = merged.get("consumers")
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
        raise InvalidInput(f"{where('consumers')}: expected a list of consumer names, got {value!r}.")
    try:
        return tuple(dict.fromkeys(consumers.parse(v.strip()).value for v in items))
    except ValueError as err:
        raise InvalidInput(f"{where('consumers')}: {err}.") from err


def check_trust(named: tuple[str, ...], trust: oidc.OidcTrust | None, where: Callable[[str], str]) -> None:
    """--for hcp-terraform names an HCP Terraform run, which reaches AWS through dynamic provider
    credentials only (its workload identity token, AssumeRoleWithWebIdentity: core/consumers.py), so
    only an HCP Terraform trust (--tfc-*) serves it; on any other trust no run would send its call.
    InvalidInput (exit 2), before any AWS call."""
    if consumers.Consumer.HCP_TERRAFORM.value not in named:
        return
    # "tfc" is oidc.Platform.TFC, not imported here: a key-based apply never loads the OIDC model
    if trust is not None and trust.platform == "tfc":
        return
    this = "a key-based trust (an IAM principal)" if trust is None else f"a trust of {trust.description}"
    raise InvalidInput(
        f"{where('consumers')}: hcp-terraform is an HCP Terraform run, and HCP Terraform reaches AWS only through "
        "dynamic provider credentials: the run sends its workload identity token with AssumeRoleWithWebIdentity "
        f"to a role that trusts the organization's workspace. That is an HCP Terraform trust: pass "
        f"{consumers.HCP_TERRAFORM_TRUST_FLAGS} (config: tfc.organization, tfc.workspace; docs/hcp-terraform.md) "
        f"instead. This is {this}, which no HCP Terraform run calls."
    )
