"""IAM's size and count quotas that the tool checks before any write: one table. Pure.

From AWS's documented limits, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
(characters exclude whitespace there; counting them keeps the checks on the safe side). The
sandbox enforces the same numbers with its own copy, on purpose: it plays AWS, not the tool.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class IamQuotas:
    # All inline policies of one identity together, by its kind.
    inline_total_chars: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType({"user": 2_048, "role": 10_240, "group": 5_120})
    )
    managed_policy_chars: int = 6_144  # one customer managed policy
    trust_policy_chars: int = 2_048  # a role's trust policy, default (raisable to 4,096)
    managed_policies_per_role: int = 10  # default, raisable ...
    managed_policies_per_role_max: int = 20  # ... to this hard maximum
    tags_per_resource: int = 50
    versions_per_managed_policy: int = 5  # IAM keeps at most five versions of a managed policy


IAM = IamQuotas()
