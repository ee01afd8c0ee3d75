"""CI trust teardown without --hub-role: the hub role a role in B trusts, found rather than left.

In the hub topology the role in B trusts a role in A (the hub, which the CI job assumes first with
its token). A teardown run without --hub-role reads the role in B: when it is trust-bootstrap's
(its owner tag) and its trust names a role in another account, that role is the hub, removed with
its grant and the OIDC provider when it is provably trust-bootstrap's too (its owner tag, a web
identity trust) and the source profile reaches its account; otherwise it is listed as left alone,
with the flags that remove it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.aws import sessions
from bootstrap.config.model import Config
from bootstrap.core import arns, policydoc
from bootstrap.core.state import OWNER_TAG, Role
from bootstrap.trust import live


@dataclass(frozen=True)
class HubFound:
    name: str | None  # the hub role to tear down with the role, or None
    left: tuple[str, ...] = ()  # the hub, when it stays: why, and how to remove it


def _trusted_roles(role: Role) -> list[arns.Principal]:
    return [p for p in policydoc.aws_principals(role.trust_policy) if p.kind == "role"]


def _web_identity(role: Role) -> bool:
    statements = policydoc.statements(role.trust_policy)
    return bool(statements) and all(
        isinstance(s.get("Principal"), dict) and "Federated" in s["Principal"] for s in statements
    )


def find(config: Config, role: Role | None, target_account: str) -> HubFound:
    """The hub role of ``role`` (the role in B, as read), when teardown should remove it too."""
    ours = role is not None and OWNER_TAG in role.tags
    hubs = [p for p in _trusted_roles(role) if p.account != target_account] if role is not None and ours else []
    if len(hubs) != 1:
        return HubFound(None)
    hub = hubs[0]
    how = f"'trust-bootstrap teardown --hub-role {hub.name} --source-profile PROFILE' and the same options"
    if config.source_profile is None:
        return HubFound(None, (
            f"source account {hub.account}: the hub role {hub.arn} (which the role trusts), its grant and OIDC "
            f"provider were not checked (no --source-profile); remove them with {how}",
        ))  # fmt: skip
    source, identity = sessions.open_profile(config.source_profile, "source")
    if identity.account != hub.account:
        return HubFound(None, (
            f"source account {hub.account}: the hub role {hub.arn} was not checked: the source profile is in "
            f"account {identity.account}; remove it with {how}",
        ))  # fmt: skip
    hub_role = live.read_role(source, hub.name)
    if hub_role is None:
        return HubFound(None)
    if OWNER_TAG not in hub_role.tags or not _web_identity(hub_role) or hub.path != "/":  # as flow.py makes it
        return HubFound(None, (
            f"source account {hub.account}: the hub role {hub.arn} is kept: it is not a CI hub role "
            "trust-bootstrap created",
        ))  # fmt: skip
    return HubFound(hub.name)
