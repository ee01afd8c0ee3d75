"""Start-up is paid on every run (README, Performance): a run for one trust loads neither the fleet
engines, the StackSets model nor the diagnosis checks, and never typer's pydantic coercion or
boto3 (clients come from botocore, as boto3 would make them)."""

from __future__ import annotations

import os
import subprocess
import sys

from bootstrap.sandbox.server import Sandbox
from tests.conftest import CI_USER_ARN, base_args

NOT_FOR_ONE_TRUST = (
    "bootstrap.fleet.threads", "bootstrap.fleet.flow", "bootstrap.fleet.stackset_flow", "bootstrap.fleet.stacksets",
    "bootstrap.aws.cloudformation", "bootstrap.diagnose.gather", "bootstrap.diagnose.trustchecks", "bootstrap.diagnose.evaluator",
    "bootstrap.diagnose.oidc", "bootstrap.core.oidc", "bootstrap.fleet.results", "pydantic", "boto3", "s3transfer",
)  # fmt: skip


def test_apply_for_one_trust_loads_only_what_it_uses(sandbox: Sandbox) -> None:
    env = {**os.environ, **sandbox.env()}
    args = [*base_args("startup"), "--principal", CI_USER_ARN, "--verify-profile", "ci", "--yes"]
    command = [sys.executable, "-X", "importtime", "-m", "bootstrap", "apply", *args]
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Verified" in run.stdout or "verified" in run.stdout.lower()
    # -X importtime names every module imported, one per line: "import time: self | cumulative | name".
    loaded = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert "bootstrap.trust.workflows" in loaded  # the list is complete: the workflow's own modules are in it
    assert sorted(m for m in NOT_FOR_ONE_TRUST if m in loaded) == []
