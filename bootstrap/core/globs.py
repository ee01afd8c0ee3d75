"""IAM's wildcard matching, the one matcher every caller uses. Pure.

IAM's wildcards: '*' matches any run of characters (none included, across ':' and '/'), '?' exactly
one character; nothing else is special (no character classes, no escapes). The whole value must
match. Case follows what is matched, as IAM does:

- actions (Action / NotAction) match case-insensitively: ``action_matches``;
- ARNs (Resource / NotResource) and condition values (StringLike) match case-sensitively: ``matches``.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
"""

from __future__ import annotations

import functools
import re

WILDCARDS = ("*", "?")


def has_wildcard(text: str) -> bool:
    """Does the text hold an IAM wildcard ('*' or '?')?"""
    return any(w in text for w in WILDCARDS)


@functools.lru_cache(maxsize=4096)
def compile_glob(pattern: str, *, case_sensitive: bool = True) -> re.Pattern[str]:
    """The pattern as a regular expression to fullmatch: '*' any run, '?' one character."""
    parts = (".*" if p == "*" else "." if p == "?" else re.escape(p) for p in re.findall(r"[*?]|[^*?]+", pattern))
    flags = re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE
    return re.compile("".join(parts), flags)


def matches(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """Does the whole value match the IAM wildcard pattern? Case-sensitive unless told otherwise
    (ARNs and condition values are; actions are not: see ``action_matches``)."""
    return compile_glob(pattern, case_sensitive=case_sensitive).fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """Does the action ('sts:AssumeRole') match an Action pattern ('sts:assume*')? Case-insensitive."""
    return matches(pattern, action, case_sensitive=False)
