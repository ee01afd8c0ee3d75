"""The key-based kind (a principal in A, the role in B, AssumeRole with keys): trust/workflows.py
and trust/teardown.py, the plan and the outcome shown by exports/render/text.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from bootstrap.cli.edge import check_account, code_asker, confirmer, echo_err, say
from bootstrap.cli.kinds.base import Run, export_one
from bootstrap.cli.options import Output
from bootstrap.cli.progress import Reporter
from bootstrap.core.errors import ExitCode, InvalidInput, VerifyFailed

if TYPE_CHECKING:
    from bootstrap.cli.options import Only


@dataclass(frozen=True)
class KeyBased:
    name: str = "key-based"
    export = staticmethod(export_one)

    def takes(self, run: Run) -> bool:
        return run.config is not None and run.config.oidc is None

    def plan(self, run: Run, *, adopt: bool, detailed_exitcode: bool, detect_drift: bool) -> int:
        from bootstrap.exports.render import text as render
        from bootstrap.trust import workflows as commands

        prepared = commands.prepare(run.trust, adopt=adopt)
        if run.output is Output.json:
            typer.echo(render.plan_json(prepared.plan, prepared.accounts))
        else:
            say(render.plan_text(prepared.plan, prepared.accounts, named=run.trust.consumers))
        differs = not prepared.plan.empty or bool(prepared.plan.not_owned)
        return 2 if detailed_exitcode and differs else 0

    def apply(self, run: Run, *, yes: bool, adopt: bool) -> int:
        from bootstrap.exports.render import text as render
        from bootstrap.trust import workflows as commands

        cfg, output = run.trust, run.output
        ask_code = code_asker(cfg.mfa_serial)
        commands.check_code_source(cfg, ask_code)
        prepared = commands.prepare(cfg, adopt=adopt, for_apply=True)
        for note in commands.warnings(cfg):
            echo_err(f"Warning: {note}")
        if not prepared.plan.empty or prepared.plan.not_owned:  # "no changes" is the outcome's to say, once
            say(
                render.plan_text(prepared.plan, prepared.accounts, named=run.trust.consumers), err=output is Output.json
            )
        try:
            outcome = commands.run_apply(prepared, confirmer(yes), Reporter(), ask_code)
        except commands.VerificationFailed as failed:
            failed.extra = json.loads(render.outcome_json(failed.outcome))  # one JSON document: result and error
            raise
        say(render.outcome_json(outcome) if output is Output.json else "\n" + render.outcome_text(outcome))
        return 0

    def verify(self, run: Run, *, target_account: str | None, source_account: str | None) -> int:
        if target_account or source_account:
            raise InvalidInput("--target-account and --source-account go with CI trusts (--github-repo, ...).")
        from bootstrap.exports.render import text as render
        from bootstrap.trust import workflows as commands

        cfg, output = run.trust, run.output
        ask_code = code_asker(cfg.mfa_serial)
        commands.check_code_source(cfg, ask_code)
        outcome = commands.run_verify(commands.prepare(cfg, for_apply=True), Reporter(), ask_code)
        result = outcome.verification
        assert result is not None  # verify always proves
        if not result.ok and output is Output.json:
            failed = VerifyFailed(f"The principal could not assume the role: {result.error}.")
            failed.extra = json.loads(render.outcome_json(outcome))  # one JSON document: result and error
            raise failed
        say(render.outcome_json(outcome) if output is Output.json else render.verification_line(result))
        return 0 if result.ok else int(ExitCode.VERIFY_FAILED)

    def teardown(self, run: Run, *, yes: bool, only: Only | None, target_account: str | None) -> int:
        if target_account is not None:
            check_account(target_account)
        from bootstrap.core.plan import Side
        from bootstrap.exports.render import text as render
        from bootstrap.trust import teardown as workflow

        output = run.output
        side = None if only is None else Side(only.value)
        prepared = workflow.prepare_teardown(run.trust, only=side, target_account=target_account)
        if announce := render.teardown_text(prepared.plan, prepared.accounts, ()):
            say(announce + "\n", err=output is Output.json)
        done = workflow.run_teardown(prepared, confirmer(yes), Reporter())
        if output is Output.json:
            typer.echo(render.teardown_json(prepared.plan, done, prepared.accounts, prepared.left))
        else:
            say(render.removed_text(done, prepared.left, prepared.plan.not_owned))
        return 0
