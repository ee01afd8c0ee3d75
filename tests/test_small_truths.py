"""Small truths: what the tool prints and writes says exactly what is so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_B, CI_USER_ARN, base_args
from tests.test_fleet import fleet_file

TRUST = [*base_args(), "--principal", CI_USER_ARN, "--verify-profile", "ci"]


def test_exported_profile_carries_a_region(cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("apply", *TRUST, "--yes").exit_code == 0
    run = cli("export", *TRUST, "--format", "aws-config", "--profile-name", "deploy-b", "--write")
    assert run.exit_code == 0, run.stderr
    assert "region = " in sandbox.config_file.read_text()
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # as in a fresh shell: the profile alone must do
    identity = boto3.Session(profile_name="deploy-b").client("sts").get_caller_identity()
    assert identity["Account"] == ACCOUNT_B


@pytest.mark.parametrize("name", ["deploy b", "deploy]b", "[deploy", "deploy;b", ""])
def test_profile_names_botocore_cannot_read_are_refused(cli: Any, sandbox: Sandbox, name: str) -> None:
    before = sandbox.config_file.read_text()
    run = cli("export", *TRUST, "--offline", "--target-account", ACCOUNT_B, "--format", "aws-config",
              "--profile-name", name, "--write")  # fmt: skip
    assert run.exit_code == 2, run.stderr
    assert "--profile-name" in run.stderr
    assert sandbox.config_file.read_text() == before


def test_export_lists_no_fleet_flags(cli: Any) -> None:
    run = cli("export", "--help")
    assert run.exit_code == 0
    for flag in ("--targets-from-org", "--management-profile", "--access-role", "--parallel"):
        assert flag not in run.stdout


def test_fleet_apply_prints_its_plan_to_stdout_like_a_single_apply(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    config = fleet_file(tmp_path, sandbox)
    run = cli("apply", "--config", str(config), "--yes", "--no-verify")
    assert run.exit_code == 0, run.stderr
    assert "create-role" in run.stdout or "create role" in run.stdout
    single = cli("apply", *TRUST, "--role-name", "single", "--yes", "--no-verify")
    assert "create role" in single.stdout


def test_a_generated_external_id_is_not_said_to_be_shown_once(cli: Any) -> None:
    run = cli("apply", *TRUST, "--generate-external-id", "--yes")
    assert run.exit_code == 0, run.stderr
    assert "only this once" not in run.stdout
    again = cli("apply", *TRUST, "--generate-external-id", "--yes")
    assert again.exit_code == 0, again.stderr
    assert "only this once" not in again.stdout
