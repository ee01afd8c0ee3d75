"""``make demo``: start the sandbox with a 3 s propagation delay, onboard a CI user end to end with
the real command line, show that a re-run changes nothing, then let Terraform use the trust through
the exported provider block (demo_terraform.py; skipped, with the reason, where it cannot run), then
stop the sandbox."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from bootstrap.sandbox import demo_terraform
from bootstrap.sandbox.server import ACCOUNT_A, ACCOUNT_B, Sandbox

ROLE = "terraform-deploy"
EXTERNAL_ID = "my_external_id"


def trust(bucket_policy: Path) -> list[str]:
    """The trust's options, the same for apply and export."""
    return [
        "--source-profile", "a-admin",
        "--target-profile", "b-admin",
        "--role-name", ROLE,
        "--principal", f"arn:aws:iam::{ACCOUNT_A}:user/ci-user",
        "--external-id", EXTERNAL_ID,
        "--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "--inline-policy", f"demo-bucket={bucket_policy}",
        "--verify-profile", "ci",
        "--for", "terraform",  # the proof replays the provider's own AssumeRole (its session name, an hour)
    ]  # fmt: skip


def _run(args: list[str], env: dict[str, str], capture: bool = False) -> tuple[int, str]:
    print(f"\n$ trust-bootstrap {shlex.join(args)}", flush=True)
    command = [sys.executable, "-m", "bootstrap", *args]
    done = subprocess.run(command, env=env, check=False, stdout=subprocess.PIPE if capture else None, text=True)  # noqa: S603 (our own fixed command)
    if capture:
        print(done.stdout, end="", flush=True)
    return done.returncode, done.stdout or ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=Path(".sandbox"))
    parser.add_argument("--propagation-delay", type=float, default=3.0)
    args = parser.parse_args()

    with Sandbox(args.dir.resolve(), propagation_delay=args.propagation_delay) as box:
        print(
            f"Sandbox at {box.endpoint}: account A={ACCOUNT_A} (profiles a-admin, ci), B={ACCOUNT_B} "
            f"(profile b-admin), IAM authorization on, {args.propagation_delay:g}s IAM propagation delay."
        )
        env = {**os.environ, **box.env()}
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.pop(key, None)
        flags = trust(demo_terraform.bucket_policy_file(args.dir))
        apply = ["apply", *flags, "--yes"]
        code, _ = _run(apply, env)
        if code == 0:
            print("\nA second run finds nothing to change and makes no writes:")
            code, _ = _run(apply, env)
        if code == 0:
            code = demo_terraform.run(
                demo_terraform.Step(
                    workdir=args.dir.resolve() / "terraform",
                    endpoint=box.endpoint,
                    env=env,
                    role_arn=f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}",
                    external_id=EXTERNAL_ID,
                    caller_profile="ci",
                    export=lambda: _run(["export", *flags, "--format", "terraform"], env, capture=True),
                )
            )
        print(f"\nDemo {'finished' if code == 0 else f'failed (exit {code})'}; sandbox stopped.")
        return code


if __name__ == "__main__":
    sys.exit(main())
