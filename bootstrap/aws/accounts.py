"""Accounts: a profile's botocore session and its clients, opened one way (open_account).

The aws_* modules are the only place that holds boto3 clients, knows AWS error codes and retries:
aws (sessions, clients), aws_errors (error translation, propagation retries), aws_sts, aws_iam
(reads), aws_iam_write, aws_evidence (diagnose's optional sources), aws_org (Organizations),
aws_oidc and aws_cloudformation. Above them, nothing catches a botocore exception.

Clients are made by botocore, as boto3.Session.client makes them (it hands the same arguments to
botocore's create_client): importing boto3 on top of botocore, and its own session per profile, cost
0.05-0.08 s of every run's start-up for resources and S3 transfers this tool does not use.
"""

from __future__ import annotations

import copy
import difflib
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import botocore.hooks
import botocore.loaders
import botocore.session
from botocore.config import Config as BotoConfig
from botocore.exceptions import ProfileNotFound

from bootstrap.aws import botomodel
from bootstrap.aws.errors import translate_errors
from bootstrap.core.errors import CredentialsError

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_sts import STSClient


# Throttling, 5xx and dropped connections: botocore's standard retry mode, with its default of 3
# attempts unless the user sets AWS_MAX_ATTEMPTS or max_attempts in the profile.
def client_config() -> BotoConfig:
    """A new Config per client: botocore writes the resolved max attempts (AWS_MAX_ATTEMPTS, the
    profile's max_attempts) into the ``retries`` dict it is given, so a shared one would carry one
    client's setting over to every later client of the process."""
    return BotoConfig(retries={"mode": "standard"}, connect_timeout=10, read_timeout=60, max_pool_connections=AT_ONCE)


# The calls one client may have in flight together (its connection pool; botocore's default is 10).
# Enough for every inline policy a user can hold: IAM caps their total at 2,048 characters, some 20
# of the smallest policies, and reading them one batch at a time would add a round trip per batch.
AT_ONCE = 24


DEFAULT_REGION = "us-east-1"  # IAM is global; STS needs some region to sign for


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    user_id: str


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials. The secret parts never appear in repr() or logs."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)


_LOCKS_GUARD = threading.Lock()


def _session_lock(session: botocore.session.Session) -> threading.Lock:
    """botocore sessions are not thread-safe while making clients: one lock per Session, shared by
    every Account made from it (targets reached through one management session, say)."""
    with _LOCKS_GUARD:
        lock: threading.Lock | None = getattr(session, "_trust_bootstrap_lock", None)
        if lock is None:
            lock = threading.Lock()
            session._trust_bootstrap_lock = lock  # type: ignore[attr-defined]
        return lock


class Account:
    """One side of the trust: a botocore session, and its clients, each made on first use.

    Clients are thread-safe once made, so the A and B sides (and fleet targets) run in parallel.
    """

    def __init__(self, session: botocore.session.Session, label: str, credentials: Credentials | None = None) -> None:
        self.session = session
        self.label = label
        self.credentials = credentials
        self._region = str(session.get_config_variable("region") or DEFAULT_REGION)
        self._keys: dict[str, Any] = {}
        if credentials is not None:
            self._keys = {
                "aws_access_key_id": credentials.access_key_id,
                "aws_secret_access_key": credentials.secret_access_key,
                "aws_session_token": credentials.session_token,
            }
        self._lock = _session_lock(session)
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                with translate_errors(f"{self.label}: creating the {service} client"):
                    make: Callable[..., Any] = self.session.create_client
                    self._clients[service] = make(
                        service, config=client_config(), region_name=self._region, **self._keys
                    )
            return self._clients[service]

    @property
    def region(self) -> str:
        """The profile's region (the default region when it names none)."""
        return self._region

    @property
    def iam(self) -> IAMClient:
        client: IAMClient = self.client("iam")
        return client

    @property
    def sts(self) -> STSClient:
        client: STSClient = self.client("sts")
        return client

    def with_credentials(self, credentials: Credentials, label: str) -> Account:
        """The same profile settings (region, endpoint) with other credentials."""
        return Account(self.session, label, credentials)


def make_clients(source: Account, target: Account, verifier: Account | None = None) -> None:
    """Make the clients a run's first round uses (STS and IAM on both sides, STS for the verify
    profile) before any call goes out, so that round's calls leave together: the round ends when
    its last call returns, and a client made between two calls delays the later one."""
    for account in (source, target):
        account.client("sts")
        # The listings page through IAM's paginators: load their model now too (once, shared).
        account.client("iam").can_paginate("list_role_policies")
    if verifier is not None:
        verifier.client("sts")


def _shared_loader() -> botocore.loaders.Loader:
    """One loader of botocore's service models for all sessions (and the input checks)."""
    return botomodel.shared_loader()


def _builtin_handlers() -> botocore.hooks.HierarchicalEmitter:
    """botocore's built-in event handlers for a new session: a copy of a set registered once per process.

    Why: each Session registers some 130 handlers itself, checking every one's signature (~10 ms
    per profile); botocore copies a session's handlers the same way for each client it makes."""
    return copy.copy(_registered_builtins())


@functools.cache
def _registered_builtins() -> botocore.hooks.HierarchicalEmitter:
    handlers = botocore.hooks.HierarchicalEmitter()
    botocore.session.Session(event_hooks=handlers)  # registers its built-in handlers into ``handlers``
    return handlers


def _open_session(profile: str | None, what: str) -> botocore.session.Session:
    """The profile's botocore session (refused when the profile is not in the AWS config). Callers
    want ``open_account``; this is its first half."""
    core = botocore.session.Session(profile=profile, event_hooks=_builtin_handlers(), include_builtin_handlers=False)
    core.register_component("data_loader", _shared_loader())
    try:
        if profile is not None and profile not in core.available_profiles:
            raise ProfileNotFound(profile=profile)
        return core
    except ProfileNotFound as err:
        close = difflib.get_close_matches(str(profile), list(core.available_profiles), n=1, cutoff=0.75)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise CredentialsError(
            f"The {what} profile '{profile}' is not in your AWS config.{hint} Check the name with "
            "'aws configure list-profiles', or set AWS_CONFIG_FILE to the file that has it."
        ) from err


def open_account(profile: str | None, what: str, label: str | None = None) -> Account:
    """The one way to open an account from a profile: its session, no call made yet (who it is:
    aws_sts.get_caller_identity). ``what`` names the side in messages ("source", "target", ...)."""
    return Account(_open_session(profile, what), label=label or f"{what} account ({profile or 'default profile'})")


def available_profiles() -> list[str]:
    """The profile names of the AWS config and credentials files, as botocore (and boto3) find them."""
    return list(_open_session(None, "default").available_profiles)


def profile_setting(profile: str | None, key: str) -> str | None:
    """A setting of a profile as the config file has it (e.g. endpoint_url), or None."""
    core = botocore.session.Session(profile=profile, include_builtin_handlers=False)  # reads config only
    try:
        value = core.get_scoped_config().get(key)
    except ProfileNotFound:
        return None
    return str(value) if value is not None else None
