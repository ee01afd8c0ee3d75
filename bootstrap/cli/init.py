"""The init command: write a commented config file, from flags or by asking (with defaults from
the AWS profiles found). The questions, the checks of each answer and the writing are initflow.py's;
this module asks and shows. Command-line side: typer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from bootstrap.cli.consumeropts import ForOpt
from bootstrap.cli.edge import echo_err, edge
from bootstrap.cli.options import (
    DebugOpt,
    ExternalIdOpt,
    PolicyArnOpt,
    PrincipalOpt,
    RoleNameOpt,
    SourceProfileOpt,
    TargetProfileOpt,
    VerifyProfileOpt,
)


def init(
    file: Annotated[Path, typer.Argument(help="The config file to write.")] = Path("trust-bootstrap.yaml"),
    source_profile: SourceProfileOpt = None,
    target_profile: TargetProfileOpt = None,
    role_name: RoleNameOpt = None,
    principal: PrincipalOpt = None,
    external_id: ExternalIdOpt = None,
    policy_arn: PolicyArnOpt = None,
    verify_profile: VerifyProfileOpt = None,
    consumers: ForOpt = None,
    interactive: Annotated[
        bool | None,
        typer.Option("--interactive/--no-interactive", help="Ask for what is missing [default: on a terminal]."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Write a commented config file: from flags, or by asking (defaults from your AWS profiles).

    Example:

      trust-bootstrap init trust.yaml --source-profile a-admin --target-profile b-admin --role-name deploy
    """
    with edge(debug):
        from bootstrap.cli import initflow

        initflow.refuse_existing(file, force)
        values: dict[str, Any] = {
            "source_profile": source_profile, "target_profile": target_profile, "role_name": role_name,
            "principal": principal, "external_id": external_id, "policy_arns": policy_arn,
            "verify_profile": verify_profile, "consumers": consumers,
        }  # fmt: skip
        if interactive if interactive is not None else sys.stdin.isatty():
            values = _ask(values)
        target = initflow.write(file, values, force=force)
        via = f" (the file {file} links to)" if target != file else ""
        echo_err(f"Wrote {target}{via}. Next: trust-bootstrap plan --config {file}")


def _ask(values: dict[str, Any]) -> dict[str, Any]:
    """Ask for each value not given, offering the AWS profiles found; an answer the config file
    would reject is asked again."""
    from bootstrap.cli import initflow

    profiles = initflow.known_profiles()
    if profiles:
        echo_err("Profiles found: " + ", ".join(profiles))
    answered = dict(values)
    for key, question, default in [*initflow.questions(profiles), *initflow.TFC_QUESTIONS]:
        if key.startswith("tfc_") and not initflow.asks_workspace(answered):  # only for hcp-terraform
            continue
        while answered.get(key) is None:
            answer = typer.prompt(question, default=default, show_default=bool(default), err=True).strip()
            try:
                initflow.check_answer(key, answer)
            except ValueError as err:
                echo_err(f"Not valid: {err}. Try again.")
                continue
            answered[key] = answer or None
            if not answer:
                break
    return answered
