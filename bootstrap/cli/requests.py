"""The options of a command -> what its workflow takes: one trust's Config, or the fleet it names.
Flags are passed to the config loader as keys (config_keys), so the file and the flags merge in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bootstrap.cli.edge import config_keys

if TYPE_CHECKING:
    from bootstrap.config.fleet_request import FleetRequest
    from bootstrap.config.model import Config

_NOT_CONFIG = (
    "config_file", "output", "debug", "targets_from_org", "management_profile", "access_role", "parallel",
    "web_identity_token_file", "engine", "call_as", "stackset_region", "verify_sample",
)  # fmt: skip


_FLEET_KEYS = (
    "targets_from_org", "management_profile", "access_role", "engine", "call_as", "stackset_region", "verify_sample",
)  # fmt: skip


def config_of(opts: dict[str, Any]) -> Config:
    from bootstrap.config import model as config

    return config.load(opts["config_file"], config_keys(**{k: v for k, v in opts.items() if k not in _NOT_CONFIG}))


def fleet_of(opts: dict[str, Any]) -> FleetRequest | None:
    """The fleet the options name (targets in the config file, --targets-from-org, the StackSets
    engine), or None for one trust."""
    from bootstrap.config import fleet_request

    request = fleet_request.FleetRequest(
        opts["config_file"],
        config_keys(**{k: v for k, v in opts.items() if k not in _NOT_CONFIG}),
        **{k: opts.get(k) for k in _FLEET_KEYS},
        parallel=opts["parallel"],
    )
    return request if fleet_request.is_fleet(request) else None
