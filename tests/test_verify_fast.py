"""Verification retries AccessDenied only while it can still be IAM propagation."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bootstrap.sandbox.server import Sandbox
from tests.conftest import CI_USER_ARN, base_args

TRUST = [*base_args(), "--principal", CI_USER_ARN, "--verify-profile", "ci"]


def test_a_wrong_external_id_stops_at_once_with_the_finding(cli: Any, sandbox: Sandbox) -> None:
    assert cli("apply", *TRUST, "--external-id", "right-1", "--yes").exit_code == 0
    sandbox.clear_calls()
    run = cli("verify", *TRUST, "--external-id", "WRONG-1", "--verify-timeout", "20", "--output", "json")
    assert run.exit_code == 7, run.stderr
    assert run.json()["verification"]["attempts"] == 1
    assert "[FAIL] external-id" in run.stderr or "ExternalId" in run.stderr
    # one AssumeRole of the verification, one of the diagnose checks: no retry loop
    assert Counter(c.operation for c in sandbox.calls())["AssumeRole"] <= 2


def test_propagation_after_this_runs_writes_is_still_waited_for(cli: Any, sandbox: Sandbox) -> None:
    sandbox.propagation_delay = 2.0
    run = cli("apply", *TRUST, "--external-id", "right-1", "--yes", "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["verification"]["attempts"] > 1
