"""What a fleet command line asks for (FleetRequest), and whether a command names a fleet at all.

Decided here, without loading the fleet engines (fleet.py, stackset_flow.py and what they import),
so that a run for one trust, the common case, does not pay for them at start-up. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bootstrap.config import fleet as fleetconfig
from bootstrap.config import model as config
from bootstrap.core.errors import InvalidInput

ENGINES = ("local", "stacksets")


@dataclass(frozen=True)
class FleetRequest:
    """What a fleet command line names: its config file, the config keys its flags set, the targets."""

    config_file: Path | None
    flags: Mapping[str, Any] = field(default_factory=dict)  # the trust's config keys
    targets_from_org: str | None = None
    management_profile: str | None = None
    access_role: str | None = None
    parallel: int = 8
    engine: str | None = None
    call_as: str | None = None
    stackset_region: str | None = None
    verify_sample: int | None = None

    def engine_flags(self, *keys: str) -> dict[str, Any]:
        """The trust's config keys, with these fleet options as config keys too, where given."""
        given = {key: getattr(self, key) for key in keys if getattr(self, key)}
        return {**self.flags, **given}


def wants_stacksets(file: Path | None, engine: str | None) -> bool:
    """--engine, else the config file's ``engine`` key; an unknown engine is refused."""
    where = "--engine"
    if engine is None and file is not None and file.exists():
        engine, where = config._read_file(file).get("engine"), f"config key 'engine' in {file}"
    if engine is not None and engine not in ENGINES:
        raise InvalidInput(f"{where}: '{engine}' is not one of {', '.join(ENGINES)}.")
    return engine == "stacksets"


def is_fleet(request: FleetRequest) -> bool:
    """Many targets: an organization unit, a config file listing targets, or the StackSets engine."""
    if wants_stacksets(request.config_file, request.engine):
        return True
    return bool(request.targets_from_org) or fleetconfig.is_fleet(request.config_file)


def uses_stacksets(request: FleetRequest) -> bool:
    return wants_stacksets(request.config_file, request.engine)
