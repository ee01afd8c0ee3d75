"""Which bootstrap packages one `trust-bootstrap apply` imports (docs/architecture.md, "The path of
one apply"): starts the sandbox, runs a key-based apply in a fresh process under ``-X importtime``
(the run itself, not ``--help``), and prints the bootstrap modules and packages it imported.

Usage: .venv/bin/python scripts/apply_imports.py   (needs the sandbox extra, as make install has it)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bootstrap.sandbox.server import ACCOUNT_A, Sandbox

ARGS = (
    "apply", "--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", "deploy",
    "--principal", f"arn:aws:iam::{ACCOUNT_A}:user/ci-user", "--verify-profile", "ci", "--yes",
)  # fmt: skip


def main() -> int:
    box = Sandbox(Path(tempfile.mkdtemp(prefix="apply-imports-")))
    box.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env |= {
            "AWS_ACCESS_KEY_ID": "testing-not-a-real-key",
            "AWS_SECRET_ACCESS_KEY": "testing-not-a-real-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": box.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            **box.env(),
        }
        command = [sys.executable, "-X", "importtime", "-m", "bootstrap", *ARGS]
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    finally:
        box.stop()
    names = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    modules = sorted(n for n in names if n.startswith("bootstrap."))
    packages = sorted({m.split(".")[1] for m in modules if m != "bootstrap.launch"})  # launch: a flat module
    print(f"apply exited {run.returncode}")
    print("\n".join(f"  {m}" for m in modules))
    root = Path(__file__).resolve().parent.parent
    inits = [m for m in modules if root.joinpath(*m.split("."), "__init__.py").exists()]
    print(f"{len(modules) - len(inits)} modules (besides package __init__s) in {len(packages)} packages: {packages}")
    return run.returncode


if __name__ == "__main__":
    raise SystemExit(main())
