"""``make demo-tfc``: HCP Terraform's dynamic provider credentials, end to end in the sandbox.

The sandbox's issuer stands in for https://app.terraform.io. The real command line sets up a plan
role and an apply role for one workspace (``apply --tfc-* --tfc-plan-role``, proved with minted
tokens), prints the workspace's variables (``export --format tfc-variables``); then the demo does
what an HCP Terraform run does: a token for each run phase (the claims HCP Terraform puts in it,
https://developer.hashicorp.com/terraform/cloud-docs/workspaces/dynamic-provider-credentials/workload-identity-tokens)
calls AssumeRoleWithWebIdentity on the role its variable names; a plan token is refused by the apply
role. Then ``teardown`` removes both roles and the provider. Tokens are never printed, only claims.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from bootstrap.sandbox import ci_claims
from bootstrap.sandbox.server import ACCOUNT_B, Sandbox

ORGANIZATION, PROJECT, WORKSPACE = "example-org", "Default Project", "prod"
TRUST = ["--target-profile", "b-admin", "--role-name", "tfc-apply", "--tfc-organization", ORGANIZATION,
         "--tfc-project", PROJECT, "--tfc-workspace", WORKSPACE, "--tfc-plan-role", "tfc-plan"]  # fmt: skip


def _run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    print(f"\n$ trust-bootstrap {shlex.join(args)}", flush=True)
    command = [sys.executable, "-m", "bootstrap", *args]
    done = subprocess.run(command, env=env, check=False, stdout=subprocess.PIPE, text=True)  # noqa: S603 (our own fixed command)
    print(done.stdout, end="", flush=True)
    return done.returncode, done.stdout


def _claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def _run_phase(box: Sandbox, phase: str, role_arn: str) -> str:
    """What an HCP Terraform run phase does with its token: AssumeRoleWithWebIdentity. The assumed ARN."""
    token = box.issuer.mint(ci_claims.hcp_terraform_claims(ORGANIZATION, PROJECT, WORKSPACE, phase))
    claims = _claims(token)
    print(f"\nThe token of a {phase} run (iss {claims['iss']}, aud {claims['aud']}):\n  sub {claims['sub']}")
    sts = boto3.client("sts", endpoint_url=box.endpoint, region_name="us-east-1")
    try:
        reply = sts.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName=f"terraform-run-{phase}", WebIdentityToken=token
        )
    except ClientError as err:
        answer = f"refused: {err.response['Error']['Code']}"
        print(f"  AssumeRoleWithWebIdentity {role_arn}: {answer}")
        return answer
    arn = str(reply["AssumedRoleUser"]["Arn"])
    print(f"  AssumeRoleWithWebIdentity {role_arn}: {arn}")
    return arn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=Path(".sandbox-tfc"))
    parser.add_argument("--propagation-delay", type=float, default=3.0)
    args = parser.parse_args()

    with Sandbox(args.dir.resolve(), propagation_delay=args.propagation_delay) as box:
        box.issuer.stand_in_for(ci_claims.HCP_TERRAFORM_ISSUER)
        print(f"Sandbox at {box.endpoint}: account B={ACCOUNT_B} (profile b-admin); its OIDC issuer signs "
              f"HCP Terraform's tokens ({ci_claims.HCP_TERRAFORM_ISSUER}).")  # fmt: skip
        env = {**os.environ, **box.env()}
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.pop(key, None)
        code, _ = _run(["apply", *TRUST, "--yes"], env)
        if code == 0:
            code, text = _run(["export", *TRUST, "--format", "tfc-variables"], env)
            variables = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
            plan_arn, apply_arn = variables["TFC_AWS_PLAN_ROLE_ARN"], variables["TFC_AWS_APPLY_ROLE_ARN"]
            results = [_run_phase(box, "plan", plan_arn), _run_phase(box, "apply", apply_arn)]
            print("\nThe apply role admits apply runs only:")
            refused = _run_phase(box, "plan", apply_arn)
            if not all(":assumed-role/" in r for r in results) or not refused.startswith("refused"):
                code = 1
        down, _ = _run(["teardown", *TRUST, "--yes"], env)
        code = code or down
        print(f"\nDemo {'finished' if code == 0 else f'failed (exit {code})'}; sandbox stopped.")
        return code


if __name__ == "__main__":
    sys.exit(main())
