"""The door every flag and config value passes first: one line of printable text, checked before
any other check quotes the value and before any AWS call (see core/identifiers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from bootstrap.core import identifiers
from bootstrap.core.errors import InvalidInput

# Free text, not an identifier: IAM's own pattern for it allows tab and line breaks (fieldcheck
# checks it), and every writer escapes it.
_FREE_TEXT = ("description",)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a config value (keys of mappings too), with its dotted place in the value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if str(key) in _FREE_TEXT:
                continue
            yield from _strings(key, path)
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def refuse_unsafe_text(values: Mapping[str, Any], where: Callable[[str], str]) -> None:
    """The door: no flag or config value may hold a line break or control character (see
    core/identifiers.py), checked before any other check quotes the value and before any AWS call."""
    for key, value in values.items():
        if str(key) in _FREE_TEXT:
            continue
        for place, text in _strings(value, ""):
            try:
                identifiers.check_one_line(text)
            except ValueError as err:
                nested = place and not place.startswith("[")  # a section's key (oidc.subject), not a list item
                raise InvalidInput(
                    f"{where(f'{key}.{place}' if nested else str(key))}: {err}. Nothing was written."
                ) from err
