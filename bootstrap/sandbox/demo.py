"""``make demo``: start the sandbox with a 3 s propagation delay, onboard a CI user end to end with
the real command line, show that a re-run changes nothing, then stop the sandbox."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from bootstrap.sandbox.server import ACCOUNT_A, ACCOUNT_B, Sandbox

ROLE = "terraform-deploy"
APPLY = [
    "apply",
    "--source-profile", "a-admin",
    "--target-profile", "b-admin",
    "--role-name", ROLE,
    "--principal", f"arn:aws:iam::{ACCOUNT_A}:user/ci-user",
    "--external-id", "my_external_id",
    "--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "--verify-profile", "ci",
    "--yes",
]  # fmt: skip


def _run(args: list[str], env: dict[str, str]) -> int:
    print(f"\n$ trust-bootstrap {shlex.join(args)}", flush=True)
    command = [sys.executable, "-m", "bootstrap", *args]
    return subprocess.run(command, env=env, check=False).returncode  # noqa: S603 (our own fixed command)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=Path(".sandbox"))
    parser.add_argument("--propagation-delay", type=float, default=3.0)
    options = parser.parse_args()

    with Sandbox(options.dir.resolve(), propagation_delay=options.propagation_delay) as box:
        print(
            f"Sandbox at {box.endpoint}: account A={ACCOUNT_A} (profiles a-admin, ci), B={ACCOUNT_B} "
            f"(profile b-admin), IAM authorization on, {options.propagation_delay:g}s IAM propagation delay."
        )
        env = {**os.environ, **box.env()}
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.pop(key, None)
        code = _run(APPLY, env)
        if code == 0:
            print("\nA second run finds nothing to change and makes no writes:")
            code = _run(APPLY, env)
        print(f"\nDemo {'finished' if code == 0 else f'failed (exit {code})'}; sandbox stopped.")
        return code


if __name__ == "__main__":
    sys.exit(main())
