"""The registry of the kinds of trust: one entry per kind (base.TrustKind), and ``pick``, the one
place that decides which kind serves a command. Adding a kind: its module in this package, and one
line in KINDS (docs/architecture.md, "Adding a kind")."""

from __future__ import annotations

from typing import Any

from bootstrap.cli.kinds import fleet, keybased, tfcpair, webidentity
from bootstrap.cli.kinds.base import Run, TrustKind
from bootstrap.cli.requests import config_of, fleet_of

KINDS: tuple[TrustKind, ...] = (
    keybased.KeyBased(),
    webidentity.DIRECT,
    webidentity.HUB,
    tfcpair.TfcPair(),
    fleet.THREADS,
    fleet.STACKSETS,
)


def request(opts: dict[str, Any], *, fleets: bool = True) -> Run:
    """The trust (a Config) or, when ``fleets`` and the options name one, the fleet."""
    if fleets and (targets := fleet_of(opts)) is not None:
        return Run(opts, fleet=targets)
    return Run(opts, config=config_of(opts))


def pick(run: Run) -> TrustKind:
    """The one kind that serves this request."""
    takers = [kind for kind in KINDS if kind.takes(run)]
    if len(takers) != 1:
        raise RuntimeError(f"{len(takers)} kinds of trust take this request: {[k.name for k in takers]}")
    return takers[0]
