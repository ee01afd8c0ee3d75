"""Pure: what a StackSet deployment is, as read from AWS: the organization scope it targets, the
StackSet and its stack instances. Shared by the CloudFormation calls (aws) and the StackSets engine
(fleet), so the aws layer needs nothing from above it."""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.core.state import OWNER_TAG


@dataclass(frozen=True)
class OrgScope:
    org_id: str
    ou_id: str
    path: str  # o-.../r-.../ou-.../ : the OU's path, as aws:ResourceOrgPaths holds it

    @property
    def pattern(self) -> str:
        return self.path + "*"


@dataclass(frozen=True)
class LiveStackSet:
    name: str
    status: str
    template: str
    parameters: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str], ...]
    permission_model: str
    auto_deployment: tuple[bool, bool] | None  # (enabled, retain stacks on account removal); None: not reported

    @property
    def owned(self) -> bool:
        return OWNER_TAG in self.tags


@dataclass(frozen=True)
class Instance:
    account: str
    region: str
    status: str  # CURRENT, OUTDATED or INOPERABLE
    reason: str = ""
    ou: str = ""
    drift: str = "NOT_CHECKED"
