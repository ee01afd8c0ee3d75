"""The one INI writer of the exports: a ``[profile NAME]`` section of the AWS config file.

An INI value has no quoting: a line break in it would end the line and start a key or a section of
its own (a planted ``credential_process`` runs a command as the user). So nothing is escaped here;
every name and value is checked for its field and refused (ValueError) when it holds a line break or
control character or could be read back as something else (fieldcheck.py says what each field takes,
and why).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bootstrap.config import fieldcheck

_KEY = re.compile(r"[a-z][a-z0-9_]*")


def profile_section(profile: str, settings: Sequence[tuple[str, str]]) -> str:
    """``[profile NAME]`` and one ``key = value`` line per setting, in order."""
    lines = [f"[profile {fieldcheck.check_profile_name(profile)}]"]
    for key, value in settings:
        if not _KEY.fullmatch(key):
            raise ValueError(f"{key!r} is not a setting name of the AWS config file")
        lines.append(f"{key} = {fieldcheck.check_ini_value(key, value)}")
    return "\n".join(lines) + "\n"
