"""botocore's service models, loaded once per process and shared: by the sessions (aws.py) and by
the input checks that take AWS's constraints (length, pattern, range) from the model itself
(fieldcheck.py, config.py) rather than from a copy of its rules, so a check is exactly as strict as
the API. Imports botocore's loader only, never boto3, and only when first asked."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import botocore.loaders


@functools.cache
def shared_loader() -> botocore.loaders.Loader:
    """One loader for every session: each new Session would otherwise parse the large IAM model
    again (~150 ms per profile); the loader caches what it has parsed."""
    import botocore.loaders  # noqa: PLC0415 (--help must not pay for botocore)

    class Loader(botocore.loaders.Loader):
        """botocore's loader, but "is there such a service?" looks in that service's folder only.

        Why: before loading any model, botocore lists every service it knows (some 440 folders and
        their version folders) to see whether the one asked for is among them, once per kind of model
        (service-2, endpoint-rule-set-1, paginators-1): 30-40 ms of a run that uses four services."""

        def list_available_services(self, type_name: str) -> _KnownServices:  # type: ignore[override]
            return _KnownServices(self, type_name)

    # Where botocore's own sessions look (botocore.loaders.create_loader): AWS_DATA_PATH first.
    extra = os.environ.get("AWS_DATA_PATH")
    paths = [os.path.expanduser(os.path.expandvars(p)) for p in extra.split(os.pathsep)] if extra else None
    return Loader(extra_search_paths=paths)


class _KnownServices:
    """The services that have a model of one kind, answered one name at a time: ``name in`` looks in
    that service's folders only, as botocore's own listing looks in every service's (a folder per API
    version, holding the kind's file); iterating, which only an error message does, takes botocore's
    full listing."""

    def __init__(self, loader: botocore.loaders.Loader, type_name: str) -> None:
        self._loader, self._type_name = loader, type_name

    def __contains__(self, service: object) -> bool:
        if not isinstance(service, str) or not service or os.sep in service:
            return False
        for root in self._loader.search_paths:
            folder = os.path.join(root, service)
            versions = os.listdir(folder) if os.path.isdir(folder) else []
            if any(self._loader.file_loader.exists(os.path.join(folder, v, self._type_name)) for v in versions):
                return True
        return False

    def _all(self) -> list[str]:
        import botocore.loaders  # noqa: PLC0415

        listed: list[str] = botocore.loaders.Loader.list_available_services(self._loader, self._type_name)
        return listed

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __getitem__(self, index: int) -> str:
        return self._all()[index]


def shape(service: str, name: str) -> dict[str, Any]:
    """One shape of a service's model, e.g. ("iam", "tagKeyType") -> its type, bounds and pattern."""
    # api_version=None as botocore's client creation passes it: the same cache entry, parsed once.
    model = shared_loader().load_service_model(service, "service-2", api_version=None)
    return dict(model["shapes"][name])


def _member_shape(service: str, operation: str, member: str) -> dict[str, Any]:
    """The shape of one request member, e.g. ("iam", "CreateRole", "Description")."""
    model = shared_loader().load_service_model(service, "service-2", api_version=None)
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
    shape = _member_shape(service, operation, member)
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
