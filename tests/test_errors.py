"""One exit-code contract: network, credential and unexpected-response failures end in their
documented exit code with what was done and not done; never "Internal error"; JSON errors are JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bootstrap.sandbox.faults import Fault
from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_B, CI_USER_ARN, base_args, role_names, user_policies

ROLE = "terraform-deploy"
GRANT = f"trust-bootstrap-{ACCOUNT_B}-{ROLE}"
TRUST = [*base_args(ROLE), "--principal", CI_USER_ARN]


def error_doc(run: Any) -> dict[str, Any]:
    document = json.loads(run.stdout)  # exactly one JSON document on stdout
    error = document["error"]
    assert set(error) >= {"exit_code", "kind", "message", "done"}
    assert error["exit_code"] == run.exit_code
    return dict(error)


def test_endpoint_lost_during_verification_says_what_is_in_place(
    cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    sandbox.inject(Fault.parse("AssumeRole:reset:100"))
    run = cli("apply", *TRUST, "--verify-profile", "ci", "--yes", "--output", "json")
    assert run.exit_code == 10, run.stderr
    assert "Internal error" not in run.stderr
    message = " ".join(run.stderr.split())
    assert "Both sides are in place" in message and "Not verified" in message
    error = error_doc(run)
    assert error["kind"] == "network"
    assert len(error["done"]) == 2 and any(GRANT in d for d in error["done"])
    assert role_names() == [ROLE] and user_policies() == [GRANT]


@pytest.mark.parametrize("fault", ["html", "garbage"])  # an HTML 500 page; a 200 that is no AWS answer
def test_an_odd_answer_is_an_unexpected_response_not_a_crash(cli: Any, sandbox: Sandbox, fault: str) -> None:
    sandbox.inject(Fault.parse(f"GetRole:{fault}:100"))
    run = cli("plan", *TRUST, "--output", "json")
    assert run.exit_code == 10, run.stderr
    assert "Internal error" not in run.stderr
    error = error_doc(run)
    assert error["kind"] == "unexpected-response"
    assert error["done"] == []


def test_an_html_answer_during_diagnose_is_not_a_crash(cli: Any, sandbox: Sandbox) -> None:
    sandbox.inject(Fault.parse("*:html:1000"))
    run = cli("diagnose", "--role-arn", f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}", "--source-profile", "ci")
    assert run.exit_code not in (0, 1), run.stderr
    assert "Internal error" not in run.stderr


def test_a_failing_credential_process_is_a_credentials_error(
    cli: Any, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    original = Path(sandbox.env()["AWS_CONFIG_FILE"]).read_text()
    config.write_text(original + "\n[profile broken]\ncredential_process = false\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    run = cli("plan", "--source-profile", "broken", "--target-profile", "b-admin", "--role-name", ROLE)
    assert run.exit_code == 3, run.stderr
    assert "Internal error" not in run.stderr


def test_json_errors_are_one_json_document(cli: Any) -> None:
    run = cli("apply", *base_args(ROLE), "--principal", "not-an-arn", "--yes", "--output", "json")
    assert run.exit_code == 2
    error = error_doc(run)
    assert error["kind"] == "invalid-input"
    assert "not an ARN" in error["message"]


def test_usage_errors_in_json_mode_are_json_too(cli: Any) -> None:
    run = cli("plan", *TRUST, "--no-such-flag", "--output", "json")
    assert run.exit_code == 2
    assert error_doc(run)["kind"] == "usage"


def test_detailed_exitcode_usage_errors_exit_1(cli: Any) -> None:
    run = cli("plan", *TRUST, "--detailed-exitcode", "--no-such-flag")
    assert run.exit_code == 1
    run = cli("plan", *TRUST, "--detailed-exitcode", "--max-session-duration", "abc")
    assert run.exit_code == 1
