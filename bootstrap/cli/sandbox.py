"""The sandbox command: a local two-account AWS (moto in-process, with the trust-policy referee and
fault injection) until Ctrl-C, and the lines that point a shell at it. Starting it is
sandbox_flow.py's; this module shows where it runs and waits. Command-line side: typer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from bootstrap.cli.edge import echo_err, edge
from bootstrap.cli.options import DebugOpt


def sandbox(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to write the AWS config and credentials files.")
    ] = Path(".sandbox"),
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 0,
    propagation_delay: Annotated[
        float,
        typer.Option(help="Deny AssumeRole on a role created or changed less than this many seconds ago."),
    ] = 0.0,
    org_accounts: Annotated[
        int, typer.Option(help="Also seed an organization (management profile org-admin) with N member accounts.")
    ] = 0,
    latency: Annotated[
        float, typer.Option(help="Seconds added to every call, like a real endpoint's round trip.")
    ] = 0.0,
    fail: Annotated[
        list[str] | None,
        typer.Option(
            "--fail",
            metavar="OPERATION:CODE:COUNT[:DELAY]",
            help="Fault injection: fail the next COUNT calls of OPERATION (* for any) with CODE (Throttling, "
            "ServiceFailure, InternalFailure, ServiceUnavailable, reset, html: an HTML 500 page, garbage: a body that "
            "is no AWS response), after DELAY seconds. Repeatable.",
        ),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Run a local two-account AWS (A=111111111111, B=222222222222) until Ctrl-C.

    Profiles: a-admin and b-admin (administrators), ci (the user ci-user in A, no policies).
    Needs the 'sandbox' extra: pip install 'trust-bootstrap[sandbox]'.
    """
    with edge(debug):
        from bootstrap.cli import sandbox_flow

        box, accounts, exports = sandbox_flow.start(
            directory, port=port, propagation_delay=propagation_delay, org_accounts=org_accounts, latency=latency,
            faults=fail or [],
        )  # fmt: skip
        try:
            echo_err(
                f"Sandbox running at {box.endpoint}: account A={accounts.source} (profiles a-admin, ci), "
                f"B={accounts.target} (profile b-admin); IAM authorization on; propagation delay "
                f"{propagation_delay:g}s. Use it in another shell with:"
            )
            for line in exports:
                typer.echo(line)
            echo_err(
                f"OIDC issuer (a stand-in for GitHub Actions / GitLab): {box.issuer.url}, certificate "
                f"{box.issuer.certificate_file}. Trust it with --oidc-issuer {box.issuer.url} (with --github-repo ... or "
                "--oidc-subject ...); apply and verify then prove the trust with a token they mint. Mint one yourself: "
                'curl -s -X POST "$TRUST_BOOTSTRAP_TOKEN_MINTER" -d '
                '\'{"sub": "repo:OWNER/REPO:ref:refs/heads/main", "aud": "sts.amazonaws.com"}\''
            )
            if box.org_members:
                echo_err(
                    f"Organization: management account {accounts.management} (profile org-admin), organization unit "
                    f"{box.org_unit} with {len(box.org_members)} member accounts reachable through {accounts.access_role}."
                )
            sys.stdout.flush()
            echo_err("Press Ctrl-C to stop.")
            import threading

            threading.Event().wait()
        except KeyboardInterrupt:
            echo_err("Sandbox stopped.")
        finally:
            box.stop()
