"""Pure: the one check every identifier passes at the door (names, refs, environments, subjects,
paths, tags, session and profile names): one line of printable text.

A line break in a value that ends up in a file someone executes starts a line of its own there (a new
key in a CI workflow, a new section in an INI file), and a control character written to a terminal
can rewrite what it shows. YAML 1.1, which GitLab's and PyYAML's parsers follow, also breaks lines at
U+0085 (NEL), U+2028 and U+2029 (https://yaml.org/spec/1.1/#id788424), so those count as line breaks
too. Lone surrogates (U+D800-U+DFFF, from a JSON or YAML escape such as ``\\ud800``) cannot be written
as UTF-8 at all.
"""

from __future__ import annotations

import unicodedata

# Unicode categories refused: Cc (C0 and C1 controls, DEL, NEL), Cf (format characters: bidi
# overrides that make text read other than it runs, zero-width characters), Zl / Zp (U+2028 / U+2029),
# Cs (lone surrogates), Co / Cn (private use, unassigned).
_REFUSED = {"Cc": "a control character", "Cf": "an invisible format character", "Zl": "a line break",
            "Zp": "a line break", "Cs": "a lone surrogate", "Co": "a private-use character",
            "Cn": "an unassigned character"}  # fmt: skip
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def first_unsafe(value: str) -> tuple[int, str, str] | None:
    """(position, character, what it is) of the first character an identifier may not hold, or None."""
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if char in _BREAKS:
            return index, char, "a line break"
        if category in _REFUSED:
            return index, char, _REFUSED[category]
    return None


def check_one_line(value: str) -> str:
    """``value`` if it is one line of printable text; ValueError naming the first bad character."""
    found = first_unsafe(value)
    if found is not None:
        index, char, what = found
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise ValueError(
            f"{shown!a} holds {what} (U+{ord(char):04X} at position {index + 1}); an identifier is one line "
            "of printable characters, because a line break or control character in it could start a line of its "
            "own in an exported file or rewrite what a terminal shows"
        )
    return value


def shown(value: str) -> str:
    """``value`` as it may be printed in a message: non-printable characters escaped, quoted."""
    return ascii(value) if first_unsafe(value) is not None else f"'{value}'"
