"""The `consumers:` key (flag --for, repeatable) -> the validated consumer names, in the order given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bootstrap.core import consumers
from bootstrap.core.errors import InvalidInput

FLAG = {"consumers": "--for"}  # the config key's flag (repeatable, so not --consumers)


def parse(merged: Mapping[str, Any], where: Callable[[str], str]) -> tuple[str, ...]:
    """A list of known consumer names (a single string is one name); duplicates dropped."""
    value = merged.get("consumers")
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
        raise InvalidInput(f"{where('consumers')}: expected a list of consumer names, got {value!r}.")
    try:
        return tuple(dict.fromkeys(consumers.parse(v.strip()).value for v in items))
    except ValueError as err:
        raise InvalidInput(f"{where('consumers')}: {err}.") from err
