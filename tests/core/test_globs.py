"""core/globs.py: IAM's wildcards, the one matcher. '*' any run, '?' one character, nothing else
special; actions case-insensitive, ARNs and condition values case-sensitive."""

from __future__ import annotations

import pytest

from bootstrap.core import globs


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "", True),
        ("*", "anything:at/all", True),
        ("arn:aws:iam::111111111111:role/*", "arn:aws:iam::111111111111:role/deploy", True),
        ("arn:aws:iam::111111111111:role/*", "arn:aws:iam::111111111111:role/a/b", True),  # across '/'
        ("arn:aws:iam::*:role/deploy", "arn:aws:iam::222222222222:role/deploy", True),  # across ':' too
        ("arn:aws:iam::111111111111:role/dep?oy", "arn:aws:iam::111111111111:role/deploy", True),
        ("arn:aws:iam::111111111111:role/dep?oy", "arn:aws:iam::111111111111:role/depoy", False),
        ("role/deploy", "role/deployer", False),  # the whole value
        ("x/deploy", "role/x/deploy", False),
        ("a.b", "axb", False),  # '.' is not special
        ("a[b]c", "a[b]c", True),  # nor are brackets
        ("a[b]c", "abc", False),
        ("a+", "aa", False),
        ("repo:o/r:*", "repo:o/r:ref:refs/heads/main", True),
        ("repo:o/r:*", "repo:o/r:\nref", True),  # '*' runs across a newline
    ],
)
def test_wildcards(pattern: str, value: str, expected: bool) -> None:
    assert globs.matches(pattern, value) is expected


def test_arns_and_condition_values_are_case_sensitive() -> None:
    assert not globs.matches("arn:aws:iam::111111111111:role/Deploy", "arn:aws:iam::111111111111:role/deploy")
    assert not globs.matches("repo:Owner/*", "repo:owner/r:ref:refs/heads/main")
    assert globs.matches("REPO:*", "repo:x", case_sensitive=False)


def test_actions_are_case_insensitive() -> None:
    assert globs.action_matches("sts:assumerole", "sts:AssumeRole")
    assert globs.action_matches("STS:Assume*", "sts:AssumeRole")
    assert globs.action_matches("sts:*", "sts:AssumeRoleWithWebIdentity")
    assert globs.action_matches("*", "iam:PassRole")
    assert not globs.action_matches("sts:Assume?", "sts:AssumeRole")
    assert not globs.action_matches("iam:*", "sts:AssumeRole")


def test_has_wildcard() -> None:
    assert globs.has_wildcard("repo:o/*") and globs.has_wildcard("a?b")
    assert not globs.has_wildcard("repo:o/r:ref:refs/heads/main")


def test_the_compiled_pattern_is_cached() -> None:
    assert globs.compile_glob("a*b") is globs.compile_glob("a*b")
    assert globs.compile_glob("a*b") is not globs.compile_glob("a*b", case_sensitive=False)
