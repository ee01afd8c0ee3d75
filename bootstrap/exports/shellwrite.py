"""The one shell writer of the exports: command lines for a POSIX shell (the GitLab job's script).

Every word the tool does not spell itself goes through ``shlex.quote`` (single quotes: nothing
inside is expanded, neither ``$(...)``, backticks, ``${NAME}`` nor globs;
https://pubs.opengroup.org/onlinepubs/9699919799/utilities/V3_chap02.html#tag_02_02_02). A
variable the line means to read is a ``Var``, written ``"$NAME"``: expanded once, never split or
globbed. A NUL cannot be carried by any shell word, so it is refused.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Var:
    """A shell variable the line reads, as one word."""

    name: str

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"{self.name!r} is not a shell variable name")


@dataclass(frozen=True)
class Redirect:
    """``> "$NAME"``: standard output into the file a variable names."""

    target: Var


def word(value: str) -> str:
    """One literal shell word that reads back as exactly ``value``."""
    if "\0" in value:
        raise ValueError("a shell word cannot hold a NUL character")
    return shlex.quote(value)


def assignment(name: str, value: str) -> str:
    """``NAME=VALUE``: a variable set to exactly ``value`` (an env file line, as a shell reads it)."""
    return f"{Var(name).name}={word(value)}"


def line(*words: str | Var | Redirect) -> str:
    """One command line: literal words quoted, variables double-quoted."""
    parts = []
    for item in words:
        if isinstance(item, Var):
            parts.append(f'"${item.name}"')
        elif isinstance(item, Redirect):
            parts.append(f'> "${item.target.name}"')
        else:
            parts.append(word(item))
    return " ".join(parts)
