"""What AWS's own AccessDenied message says about the policy type that refused. Pure.

AWS words its denials "... with an explicit deny in a TYPE policy" or "... because no TYPE policy
allows the ACTION action" (IAM User Guide, "Troubleshooting access denied error messages",
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html). Not every service
and not every AssumeRole answer carries that context; when it does, it is AWS's reading, better
than any inference. The page also warns that an SCP denial may be worded "explicit deny" even when
it is implicit (an allow-list that leaves the action out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (policy type as AWS writes it, short name used by the checks)
_TYPES = (
    ("service control policy", "scp"),
    ("resource control policy", "rcp"),
    ("identity-based policy", "identity"),
    ("resource-based policy", "resource"),
    ("permissions boundary", "boundary"),
    ("session policy", "session"),
)


@dataclass(frozen=True)
class AwsWords:
    policy: str  # scp, rcp, identity, resource, boundary, session
    explicit: bool  # "with an explicit deny in ..." (else "because no ... allows")
    phrase: str  # AWS's own words, for quoting

    @property
    def source_side(self) -> bool:
        return self.policy in ("identity", "boundary", "session")


def read(message: str | None) -> AwsWords | None:
    """The policy type AWS names in an AccessDenied message, if it names one."""
    if not message:
        return None
    for words, short in _TYPES:
        explicit = re.search(rf"(with|due to) an explicit deny in (a|an|the) {words}", message, re.IGNORECASE)
        if explicit:
            return AwsWords(short, True, message[explicit.start() :].split(".")[0].strip())
        implicit = re.search(rf"because no {words}( policy)? allows", message, re.IGNORECASE)
        if implicit:
            return AwsWords(short, False, message[implicit.start() :].split(".")[0].strip())
    return None
