"""The sandbox command's workflow: start the local two-account AWS (bootstrap/sandbox) with the
faults asked for, or say why it cannot (the 'sandbox' extra missing, a bad --fail). No printing:
cli_sandbox.py shows where it runs and waits for Ctrl-C."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bootstrap.core.errors import InvalidInput, PreconditionFailed

if TYPE_CHECKING:
    from bootstrap.sandbox.server import Sandbox


@dataclass(frozen=True)
class Accounts:
    """The sandbox's fixed account IDs and the role that reaches its organization's members."""

    source: str
    target: str
    management: str
    access_role: str


def start(
    directory: Path, *, port: int, propagation_delay: float, org_accounts: int, latency: float, faults: list[str]
) -> tuple[Sandbox, Accounts, list[str]]:
    """The running sandbox, its accounts, and the shell lines (``export ...``) that point at it."""
    try:
        from bootstrap.sandbox import server
    except ImportError as err:
        raise PreconditionFailed(
            "The sandbox needs the 'sandbox' extra (moto), which is not installed: "
            "pip install 'trust-bootstrap[sandbox]'."
        ) from err
    try:
        parsed = [server.Fault.parse(text) for text in faults]
    except ValueError as err:
        raise InvalidInput(f"--fail: {err}.") from err
    box = server.Sandbox(
        directory.resolve(), port=port, propagation_delay=propagation_delay, org_accounts=org_accounts, latency=latency
    )
    box.start()
    for fault in parsed:
        box.inject(fault)
    accounts = Accounts(server.ACCOUNT_A, server.ACCOUNT_B, server.MANAGEMENT_ACCOUNT, server.ACCESS_ROLE)
    return box, accounts, list(server.iter_exports(box))
