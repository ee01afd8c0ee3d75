"""apply / plan / verify / teardown of HCP Terraform's plan/apply role pair (--tfc-plan-role) as one
trust: one plan, one confirmation, both roles proved, both removed (ci/tfcpair.py). Like runs.py, it
imports typer and nothing that imports boto3 at module level."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bootstrap.cli.edge import confirmer, echo_err, say
from bootstrap.cli.options import Output
from bootstrap.cli.progress import Reporter
from bootstrap.core.errors import ExitCode, InvalidInput

if TYPE_CHECKING:
    from bootstrap.config.model import Config


def pair(mode: str, cfg: Config, opts: dict[str, Any], yes: bool = False, adopt: bool = False) -> int:
    """Returns the exit code."""
    from bootstrap.ci import flow as oidcflow
    from bootstrap.ci import tfcpair
    from bootstrap.exports.render import ci as oidcrender
    from bootstrap.exports.render import text as render
    from bootstrap.exports.render import tfc as tfcrender

    as_json = opts["output"] is Output.json
    token_file: Path | None = opts.get("web_identity_token_file")
    if token_file is not None and mode in ("apply", "verify"):
        from bootstrap.ci import token as ci_token

        ci_token.read_file(token_file)  # a token that cannot be used is refused before any AWS call
    if mode == "verify" and opts.get("target_account") is not None:
        raise InvalidInput(
            "verify --target-account (inside the run) proves one role: verify it without --tfc-plan-role."
        )
    prepared = tfcpair.prepare(cfg, adopt=adopt, teardown=mode == "teardown")
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
        outcome, how, proof = tfcpair.run_verify(prepared, token_file, progress)
        result = outcome.verification
        assert result is not None
        if as_json:
            say(tfcrender.with_plan_role(oidcrender.outcome_json(outcome), proof))
        else:
            say(f"Proved with {how}.\n" + render.verification_line(result))
            if proof is not None:
                say(tfcrender.plan_role_text(proof))
        ok = result.ok and (proof is None or proof.verification is None or proof.verification.ok)
        return 0 if ok else int(ExitCode.VERIFY_FAILED)
    if not prepared.plan.empty or prepared.plan.not_owned:
        say(
            oidcrender.plan_text_ci(
                prepared.plan, prepared.accounts, prepared.data.proof, prepared.data.trust, cfg.consumers
            ),
            err=as_json,
        )
    try:
        applied, proof = tfcpair.run_apply(prepared, confirmer(yes), token_file, progress)
    except oidcflow.CiVerificationFailed as failed:
        if as_json:
            typer.echo(oidcrender.outcome_json(failed.outcome))
        raise
    if as_json:
        say(tfcrender.with_plan_role(oidcrender.outcome_json(applied), proof))
    else:
        say("\n" + oidcrender.outcome_text(applied) + "\n" + tfcrender.plan_role_text(proof))
    return 0 if proof.verification is None or proof.verification.ok else int(ExitCode.VERIFY_FAILED)
