"""AWS's own parameter constraints (length, pattern, range), read from botocore's service models.

Checking a value against the model botocore ships, rather than against a copy of its rules, keeps
the check exactly as strict as the API. The models load on first use only (botocore, never boto3),
so ``--help`` and runs that check nothing do not pay for them.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import botocore.loaders


def loader() -> botocore.loaders.Loader:
    """The process's one loader (botomodel.py), shared with every boto3 Session: it caches each
    parsed model (the IAM one is large)."""
    from bootstrap import botomodel  # noqa: PLC0415

    return botomodel.shared_loader()


@functools.cache
def _model(service: str) -> dict[str, Any]:
    # The same call (and so the same cache entry) as botocore's client creation: parsed once.
    model: dict[str, Any] = loader().load_service_model(service, "service-2", api_version=None)
    return model


def _shape(service: str, operation: str, member: str) -> dict[str, Any]:
    model = _model(service)
    shapes = model["shapes"]
    request = shapes[model["operations"][operation]["input"]["shape"]]
    shape: dict[str, Any] = shapes[request["members"][member]["shape"]]
    return shape


@functools.cache
def _pattern(text: str) -> re.Pattern[str] | None:
    # The models' patterns are Java regexes: \w is ASCII there. One Python cannot read is skipped
    # (length and range are still checked).
    try:
        return re.compile(text, re.ASCII)
    except re.error:
        return None


def check(service: str, operation: str, member: str, value: str | int) -> None:
    """Raise ValueError when ``value`` breaks the model's constraints for that request member."""
    shape = _shape(service, operation, member)
    name = f"{service.upper()} {operation} {member}"
    if isinstance(value, int):
        low, high = shape.get("min"), shape.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{value} is outside {low}-{high}, the range of {name}")
        return
    low, high = shape.get("min", 0), shape.get("max")
    if len(value) < low or (high is not None and len(value) > high):
        raise ValueError(f"{name} takes {low}-{high} characters; this value has {len(value)}")
    pattern = _pattern(shape["pattern"]) if "pattern" in shape else None
    if pattern is not None and not pattern.fullmatch(value):
        shown = ""
        if re.fullmatch(r"\[[^\]]*\][*+]", shape["pattern"]):  # one character class: name what falls outside
            one = _pattern(shape["pattern"][:-1])
            outside = sorted({c for c in value if one is not None and not one.fullmatch(c)})
            shown = f" ({', '.join(repr(c) for c in outside[:10])} not allowed)" if outside else ""
        raise ValueError(f"{value!r} does not match the pattern of {name}, {shape['pattern']}{shown}")
