"""The options of a command -> what its workflow takes: one trust's Config, or the fleet it names.
Flags are passed to the config loader as keys (config_keys), so the file and the flags merge in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bootstrap.cli.edge import config_keys, echo_err
from bootstrap.core.errors import InvalidInput

if TYPE_CHECKING:
    from bootstrap.config.fleet_request import FleetRequest
    from bootstrap.config.model import Config

_NOT_CONFIG = (
    "config_file", "output", "debug", "targets_from_org", "management_profile", "access_role", "parallel",
    "web_identity_token_file", "engine", "call_as", "stackset_region", "verify_sample", "github_token_file",
    "github_api_url",
)  # fmt: skip


_FLEET_KEYS = (
    "targets_from_org", "management_profile", "access_role", "engine", "call_as", "stackset_region", "verify_sample",
)  # fmt: skip


def config_of(opts: dict[str, Any]) -> Config:
    from bootstrap.config import model as config

    keys = config_keys(**{k: v for k, v in opts.items() if k not in _NOT_CONFIG})
    if opts.get("github_repo") or opts.get("github_ref") or opts.get("config_file"):
        keys, loaded = _with_github_ids(opts, keys)
        if loaded is not None:  # read already, from these very keys
            return loaded
    return config.load(opts["config_file"], keys)


def _with_github_ids(opts: dict[str, Any], keys: dict[str, Any]) -> tuple[dict[str, Any], Config | None]:
    """With a GitHub token at hand and the IDs not given, the repository's IDs looked up from the API
    (the immutable subject needs them; without a token they stay flags, and plan/apply warn). Also
    the Config its first reading made from ``keys`` when they stay as they are (None otherwise)."""
    from bootstrap.ci import ghapi
    from bootstrap.config import model as config
    from bootstrap.core import globs, oidc

    bearer = ghapi.token(opts.get("github_token_file"))
    if bearer is None or "github_owner_id" in keys or "github_repo_id" in keys:
        return keys, None
    from bootstrap.config.ghconfig import NeedsIds

    # A first reading, to learn whether this is a GitHub trust and its repository (the file may name
    # it); when the format asked for needs the very IDs looked up here, a reading with names only.
    first: Config | None = None
    try:
        first = config.load(opts["config_file"], keys)
        trust = first.oidc
    except NeedsIds:
        trust = config.load(opts["config_file"], {**keys, "github_subject_format": "name"}).oidc
    needed = first is None
    if (
        trust is None
        or trust.platform != oidc.Platform.GITHUB
        or any(k == "repository_id" for k, _ in trust.conditions)
    ):
        return keys, first
    api = opts.get("github_api_url")
    if api is None and trust.issuer != oidc.GITHUB_ISSUER:
        return keys, first  # GitHub Enterprise Server: its API is not api.github.com; the IDs stay flags
    repo = str(dict(trust.contexts[0].claims).get("repository", "")) if trust.contexts else ""
    if not repo or globs.has_wildcard(repo):
        return keys, first
    try:
        ids = ghapi.lookup(repo, bearer, api or ghapi.DEFAULT_API)
    except InvalidInput as err:
        if needed or opts.get("github_token_file") is not None:
            raise  # the IDs were asked for: exit 2 before any write
        # A GITHUB_TOKEN that happens to be set (every GitHub Actions job has one) must not break a
        # run that needs no IDs: said, and the trust stays on names (plan and apply warn about that).
        echo_err(f"Warning: {err}")
        return keys, first
    return {**keys, "github_owner_id": ids.owner_id, "github_repo_id": ids.repo_id}, None


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
