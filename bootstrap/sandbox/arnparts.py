"""The two parts of an ARN the sandbox reads: its account and the last segment of its resource.

ARN format: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html). Values come from requests
and policy documents, so nothing here raises. The sandbox's own (it imports nothing of the tool it judges).
"""

from __future__ import annotations


def account_of(text: str) -> str | None:
    """The account of an ARN, or None when ``text`` is not one or names no account."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[4] or None


def name_of(text: str) -> str:
    """The last segment of an ARN's resource: the name of a role, user or policy (role/PATH/NAME -> NAME)."""
    return text.rsplit("/", 1)[-1]
