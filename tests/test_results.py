"""The values workflows return and the events they report (results.py), how the command line shows
those events (progress.Reporter: the same lines the workflows used to print themselves), and a
workflow's checks coming before its work (sandbox_flow)."""

from __future__ import annotations

import io
from pathlib import Path

from typer.testing import CliRunner

from bootstrap.cli.app import app
from bootstrap.cli.progress import Reporter
from bootstrap.core.errors import ExitCode
from bootstrap.core.findings import Finding, Status
from bootstrap.core.plan import Change, Op, Plan, Side
from bootstrap.core.results import (
    Attempt,
    Diagnosed,
    Done,
    TargetEvent,
    TargetsEnded,
    TargetsStarted,
    Waited,
    Waiting,
)
from bootstrap.fleet.results import FleetPlan, TargetPlan, TargetResult

ROLE = "arn:aws:iam::222222222222:role/deploy"
CREATE = Change(Side.TARGET, "222222222222", Op.CREATE_ROLE, "role", "deploy", action="create", resource="role/deploy")


def _shown(*events: object) -> str:
    stream = io.StringIO()  # not a terminal: a plain line per event, as in a CI log
    reporter = Reporter(stream)
    for event in events:
        reporter(event)  # type: ignore[arg-type]
    return stream.getvalue()


def test_each_write_is_a_done_line() -> None:
    assert _shown(Done(CREATE)) == "  done: create role/deploy\n"


def test_a_wait_is_one_line_in_a_log_and_its_attempts_add_none() -> None:
    shown = _shown(Waiting("Verifying: AssumeRole as the principal"), Attempt(1), Attempt(2), Waited())
    assert shown == "Verifying: AssumeRole as the principal...\n"


def test_a_failed_proof_shows_the_diagnose_findings() -> None:
    finding = Finding("trust-principal", Status.FAIL, "the trust policy does not name the caller", "add it")
    shown = _shown(Diagnosed(ROLE, "arn:aws:iam::111111111111:user/ci", (finding,)))
    assert shown.startswith("Verification failed; walking the diagnose checks:\n")
    assert "[FAIL] trust-principal" in shown and "fix: add it" in shown


def test_fleet_target_events_are_lines_in_a_log() -> None:
    shown = _shown(
        TargetsStarted(2), TargetEvent("b-1", "planned: 1 change(s)"), TargetEvent("b-2", "failed: x"), TargetsEnded()
    )
    assert shown == "  [b-1] planned: 1 change(s)\n  [b-2] failed: x\n"


def test_a_fleet_plan_counts_every_change_and_lists_unreached_targets_as_results() -> None:
    grant = Plan((CREATE,), "")
    reached = TargetPlan("b-1", "222222222222", Plan((CREATE, CREATE), ROLE, not_owned=("role x exists",)))
    unreached = TargetResult("b-2", "333333333333", None, error="cannot reach", exit_code=4)
    fleet = FleetPlan("111111111111", grant, (reached,), (unreached,))
    assert fleet.changes == 3
    assert fleet.not_owned == ("role x exists",)
    planned, missing = fleet.as_results()
    assert (planned.label, planned.role_arn, len(planned.planned), planned.not_owned) == (
        "b-1",
        ROLE,
        2,
        ("role x exists",),
    )
    assert missing is unreached and not missing.ok


def test_the_sandbox_command_refuses_a_bad_fault_before_starting(tmp_path: Path) -> None:
    """sandbox_flow checks --fail first: a typo is a usage error (exit 2), and nothing is started."""
    result = CliRunner().invoke(app, ["sandbox", "--dir", str(tmp_path), "--fail", "CreateRole:Nonsense:1"])
    assert result.exit_code == int(ExitCode.INVALID_INPUT)
    assert "--fail: unknown fault code 'Nonsense'" in result.stderr
    assert not list(tmp_path.iterdir())  # no config or credentials files written: nothing started
