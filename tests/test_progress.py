"""Progress on a terminal: a live spinner with elapsed time and attempts while IAM propagates; plain
lines in a log. Progress goes to stderr, never into the data on stdout."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

from bootstrap.sandbox.server import Sandbox
from tests.conftest import CI_USER_ARN, base_args


def _run_on_a_terminal(sandbox: Sandbox, *args: str) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; returns (exit code, stdout, terminal output)."""
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_PROFILE")}
    env.update(sandbox.env(), COLUMNS="120")
    process = subprocess.Popen(
        [sys.executable, "-m", "bootstrap", *args], env=env, stdout=subprocess.PIPE, stderr=secondary, text=True
    )
    os.close(secondary)
    terminal = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        terminal += chunk
    stdout, _ = process.communicate()
    os.close(primary)
    return process.returncode, stdout, terminal.decode("utf-8", "replace")


def test_verification_shows_a_live_spinner_with_attempts_on_a_terminal(sandbox: Sandbox) -> None:
    sandbox.propagation_delay = 2
    code, stdout, terminal = _run_on_a_terminal(
        sandbox, "apply", *base_args("progress-role"), "--principal", CI_USER_ARN, "--verify-profile", "ci", "--yes"
    )
    assert code == 0, terminal
    assert "Verifying" in terminal
    attempts = [int(n) for n in re.findall(r"attempt (\d+)", terminal)]
    assert max(attempts) > 1, attempts  # updated live while IAM propagates
    assert "0:00:0" in terminal  # the elapsed time
    assert "Verifying" not in stdout  # progress never mixes into the data
    assert "Verified:" in stdout
