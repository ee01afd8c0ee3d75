"""The trust commands (apply, plan, verify, teardown) for a CI trust and for a fleet: each calls its
workflow (oidcflow, fleet_flow), shows the plan and the result, and returns the exit code. Like
cli.py, it imports typer and nothing that imports boto3 at module level."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bootstrap.cli.edge import check_account, confirmer, echo_err, say
from bootstrap.cli.options import Output
from bootstrap.cli.progress import Reporter
from bootstrap.core.errors import ExitCode

if TYPE_CHECKING:
    from bootstrap.config.fleet_request import FleetRequest
    from bootstrap.config.model import Config


def oidc(mode: str, cfg: Config, opts: dict[str, Any], yes: bool = False, adopt: bool = False) -> int:
    """apply / plan / verify / teardown of a CI (web identity) trust. Returns the exit code."""
    from bootstrap.ci import flow as oidcflow
    from bootstrap.ci import job as oidcci
    from bootstrap.exports.render import ci as oidcrender
    from bootstrap.exports.render import text as render

    as_json = opts["output"] is Output.json
    token_file: Path | None = opts.get("web_identity_token_file")
    if token_file is not None and mode in ("apply", "verify"):
        from bootstrap.ci import token as ci_token

        ci_token.read_file(token_file)  # a token that cannot be used is refused before any AWS call
    target_account = opts.get("target_account") if mode == "verify" else None
    if target_account is not None:  # verify inside the CI job
        check_account(target_account)
        if opts.get("source_account") is not None:
            check_account(opts["source_account"], "--source-account")
    prepared = oidcci.prepare_for(
        mode, cfg, adopt=adopt, target_account=target_account, source_account=opts.get("source_account")
    )
    progress = Reporter()
    if mode in ("plan", "apply"):
        for note in oidcflow.warnings(cfg):
            echo_err(f"Warning: {note}")
    if mode == "plan":
        say(oidcrender.plan_json_ci(prepared.plan, prepared.accounts, prepared.data.trust) if as_json
            else oidcrender.plan_text_ci(prepared.plan, prepared.accounts, prepared.data.proof, prepared.data.trust, cfg.consumers))  # fmt: skip
        return 2 if opts.get("detailed_exitcode") and not (prepared.plan.empty and not prepared.plan.not_owned) else 0
    if mode == "teardown":
        say(render.teardown_text(prepared.plan, prepared.accounts, prepared.left), err=as_json)
        done = oidcflow.run_teardown(prepared, confirmer(yes), progress)
        say(render.teardown_json(prepared.plan, done, prepared.accounts, prepared.left) if as_json
            else "\n" + render.removed_text(done, prepared.left))  # fmt: skip
        return 0
    if mode == "verify":
        outcome, how = oidcflow.run_verify(prepared, token_file, progress)
        result = outcome.verification
        assert result is not None  # verify always proves, or raises
        say(oidcrender.outcome_json(outcome) if as_json else f"Proved with {how}.\n" + render.verification_line(result))
        return 0 if result.ok else int(ExitCode.VERIFY_FAILED)
    if not prepared.plan.empty or prepared.plan.not_owned:  # "no changes" is the outcome's to say, once
        say(
            oidcrender.plan_text_ci(
                prepared.plan, prepared.accounts, prepared.data.proof, prepared.data.trust, cfg.consumers
            ),
            err=as_json,
        )
    try:
        applied = oidcflow.run_apply(prepared, confirmer(yes), token_file, progress)
    except oidcflow.CiVerificationFailed as failed:
        if as_json:
            typer.echo(oidcrender.outcome_json(failed.outcome))
        raise
    say(oidcrender.outcome_json(applied) if as_json else "\n" + oidcrender.outcome_text(applied))
    return 0


def fleet(
    request: FleetRequest,
    output: Output,
    *,
    mode: str,
    yes: bool = False,
    adopt: bool = False,
    detailed_exitcode: bool = False,
) -> int:
    """apply / plan / teardown / verify (``mode``) over a fleet, threads engine. Returns the exit code."""
    from bootstrap.exports.render import text as render
    from bootstrap.fleet import flow as fleet_flow

    as_json = output is Output.json
    progress = Reporter()
    prepared = fleet_flow.prepare(request, teardown=mode == "teardown", adopt=adopt, on_progress=progress)
    planned = prepared.plan
    # Like a single run: the plan on stdout (stderr when stdout carries the JSON document).
    say(render.fleet_plan_text(planned), err=as_json or mode == "verify")
    if mode == "plan":
        if as_json:
            typer.echo(render.fleet_json(planned.source_account, planned.grant_plan.changes, planned.as_results()))
        if planned.unreached:  # a target not read is an error, never "no drift" (and never a bug's 1)
            return 1 if detailed_exitcode else max(r.exit_code or int(ExitCode.PRECONDITION) for r in planned.unreached)
        drift = planned.changes > 0 or bool(planned.not_owned)
        return 2 if detailed_exitcode and drift else 0
    run = fleet_flow.run(prepared, mode=mode, parallel=request.parallel, confirm=confirmer(yes), on_progress=progress)
    left = planned.left if mode == "teardown" else None
    if as_json:
        typer.echo(render.fleet_json(planned.source_account, run.grant_done, run.results, left))
    else:
        say(render.fleet_result_text(run.grant_done, run.results))
        typer.echo("".join(f"Left alone: {note}.\n" for note in left or ()), nl=False)
    failed_code = ExitCode.VERIFY_FAILED if mode == "verify" else ExitCode.APPLY_FAILED
    return 0 if run.ok else int(failed_code)


def stacksets(
    request: FleetRequest, output: Output, *, mode: str, yes: bool, detailed_exitcode: bool, detect_drift: bool
) -> int:
    """apply / plan / verify / teardown with the StackSets engine. Returns the exit code."""
    from bootstrap.exports.render import stacksets as show
    from bootstrap.fleet import flow as fleet_flow
    from bootstrap.fleet.stackset_flow import view

    as_json = output is Output.json
    teardown = mode == "teardown"
    prepared = fleet_flow.prepare_stacksets(request, teardown=teardown, detect_drift=detect_drift)
    say(show.plan_text(view(prepared), teardown), err=as_json or mode != "plan")
    if mode == "plan":
        if as_json:
            typer.echo(show.to_json(view(prepared), None))
        drift = bool(prepared.plan.actions or prepared.plan.not_owned)
        return 2 if detailed_exitcode and drift else 0

    def event(who: str, what: str) -> None:
        if not as_json:
            echo_err(f"  {who}: {what}")

    outcome = fleet_flow.run_stacksets(
        prepared, mode=mode, parallel=request.parallel, confirm=confirmer(yes), on_event=event
    )
    typer.echo(show.to_json(view(prepared), outcome, teardown) if as_json else show.result_text(outcome))
    if prepared.plan.not_owned and teardown:
        return int(ExitCode.NOT_OWNED)
    if outcome.failed_operations:
        return int(ExitCode.APPLY_FAILED)
    return 0 if outcome.ok else int(ExitCode.VERIFY_FAILED)
