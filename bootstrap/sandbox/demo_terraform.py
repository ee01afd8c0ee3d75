"""``make demo``'s last step: Terraform, through the provider block ``trust-bootstrap export --format
terraform`` prints, creates an S3 bucket in account B as the role, then destroys it.

It runs only where it can run offline and finish: ``terraform`` on PATH, the hashicorp/aws provider
already on this machine (Terraform would otherwise download it), and a sandbox that answers the S3
calls the provider makes as AWS does. Anything missing is one line saying why the step was skipped.
Every Terraform command has a time limit. Like the rest of the sandbox, this imports nothing from the
tool: the export is the command line's own output, run as a subprocess by the demo.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.session
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

# Where Terraform looks for providers without a network: the "implied local mirror directories"
# (https://developer.hashicorp.com/terraform/cli/config/config-file#implied-local-mirror-directories),
# the plugin cache if one is set (same layout), and /opt/tf-plugins, where this project's machines
# keep a provider. TRUST_BOOTSTRAP_TF_PLUGINS names another.
MIRRORS = (
    "$TRUST_BOOTSTRAP_TF_PLUGINS",
    "$TF_PLUGIN_CACHE_DIR",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/opt/tf-plugins",
)
INIT_TIMEOUT_S = 120.0  # init only unpacks the provider from the mirror; validate is quicker still
APPLY_TIMEOUT_S = 120.0  # the bound is a minute for apply through the role: twice that, then stop

# What the role may do beyond ReadOnlyAccess's reads (s3:Get*, s3:List*): create and delete the demo's
# bucket, nothing else.
BUCKET_PREFIX = "trust-bootstrap-demo-"
BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DemoBucket",
            "Effect": "Allow",
            "Action": ["s3:CreateBucket", "s3:DeleteBucket"],
            "Resource": f"arn:aws:s3:::{BUCKET_PREFIX}*",
        }
    ],
}


@dataclass(frozen=True)
class Step:
    """What the Terraform step needs from the demo."""

    workdir: Path
    endpoint: str  # the sandbox
    env: dict[str, str]  # the demo's environment (the sandbox's profile files)
    role_arn: str
    external_id: str
    caller_profile: str  # the principal's credentials
    export: Callable[[], tuple[int, str]]  # runs `trust-bootstrap export --format terraform`


def _platform() -> str:
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower(), "")
    return f"{sys.platform}_{machine}"


def provider_mirror() -> Path | None:
    """A directory holding hashicorp/aws for this platform in Terraform's unpacked mirror layout
    (registry.terraform.io/hashicorp/aws/VERSION/OS_ARCH/), or None."""
    for entry in MIRRORS:
        raw = os.path.expandvars(entry)
        if not raw or raw.startswith("$"):
            continue
        base = Path(raw).expanduser()
        if any((base / "registry.terraform.io" / "hashicorp" / "aws").glob(f"*/{_platform()}/terraform-provider-aws*")):
            return base
    return None


def why_not() -> str | None:
    """Why the step cannot run here (one line), or None."""
    if shutil.which("terraform") is None:
        return "terraform is not on PATH"
    if provider_mirror() is None:
        places = ", ".join(e for e in MIRRORS if not e.startswith("$"))
        return f"the hashicorp/aws provider is not on this machine (looked in {places}), and the demo downloads nothing"
    return None


def _s3_answers_as_aws(step: Step, bucket: str) -> str | None:
    """HeadBucket, as the role, on the bucket not yet created: AWS authorizes it as s3:ListBucket,
    which ReadOnlyAccess allows, and answers 404. Any other answer (the sandbox's moto authorizes
    s3:HeadBucket, no IAM action, and answers 403) would keep the provider retrying for minutes:
    the reason to skip, or None."""
    config = BotoConfig(
        connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}, s3={"addressing_style": "path"}
    )
    try:
        files = botocore.session.Session()  # the sandbox's profile files, as the demo's commands read them
        files.set_config_variable("config_file", step.env["AWS_CONFIG_FILE"])
        files.set_config_variable("credentials_file", step.env["AWS_SHARED_CREDENTIALS_FILE"])
        source = boto3.Session(botocore_session=files, profile_name=step.caller_profile)
        creds = source.client("sts", config=config).assume_role(
            RoleArn=step.role_arn, RoleSessionName="trust-bootstrap-demo", ExternalId=step.external_id
        )["Credentials"]
        s3 = source.client(
            "s3",
            endpoint_url=step.endpoint,
            config=config,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        s3.head_bucket(Bucket=bucket)
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            return None
        return (
            f"the sandbox answers HeadBucket from a role allowed s3:ListBucket with {code} where AWS answers 404, "
            "so Terraform would retry for minutes"
        )
    except BotoCoreError as err:
        return f"the sandbox did not answer HeadBucket as the role ({type(err).__name__})"
    return f"the bucket {bucket} exists already"


def _files(step: Step, exported: str, bucket: str) -> None:
    step.workdir.mkdir(parents=True, exist_ok=True)
    (step.workdir / "provider.tf").write_text(exported)  # exactly what export printed
    # An override file merges into the exported block without editing it: the principal's profile,
    # and the sandbox's endpoints instead of AWS's
    # (https://developer.hashicorp.com/terraform/language/files/override).
    endpoints = "\n".join(f'    {service} = "{step.endpoint}"' for service in ("s3", "sts", "iam"))
    (step.workdir / "sandbox_override.tf").write_text(
        'provider "aws" {\n'
        f'  profile                     = "{step.caller_profile}"\n'
        '  region                      = "us-east-1"\n'
        "  s3_use_path_style           = true\n"
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        f"  endpoints {{\n{endpoints}\n  }}\n"
        "}\n"
    )
    (step.workdir / "bucket.tf").write_text(f'resource "aws_s3_bucket" "demo" {{\n  bucket = "{bucket}"\n}}\n')


def _terraform(step: Step, args: list[str], timeout_s: float) -> tuple[int, str]:
    """One terraform command in the work directory, its output (exit 124 when it ran out of time:
    it and the provider it started are stopped)."""
    # No version check against HashiCorp (CHECKPOINT_DISABLE), no prompt, plain text.
    env = {**step.env, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
    process = subprocess.Popen(  # noqa: S603 (terraform, with fixed arguments)
        ["terraform", *args, "-no-color"],  # noqa: S607 (found on PATH by why_not)
        cwd=step.workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: a time-out stops the provider plugin too
    )
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return 124, f"{output}\n(stopped after {timeout_s:g}s)"
    return process.returncode, output


def _show(args: list[str], code: int, output: str, keep: Callable[[str], bool]) -> None:
    print(f"\n$ terraform {' '.join(args)}", flush=True)
    lines = [line for line in output.splitlines() if line.strip()]
    shown = [line for line in lines if keep(line)] if code == 0 else lines[-15:]
    print("\n".join(shown), flush=True)


def run(step: Step) -> int:
    """The Terraform step: 0 when it ran (bucket created, then destroyed) or was skipped with a reason."""
    print("\nTerraform, through the exported provider block, creates a bucket in B as the role:", flush=True)
    reason = why_not()
    bucket = f"{BUCKET_PREFIX}{step.role_arn.split(':')[4]}"
    if reason is None:
        reason = _s3_answers_as_aws(step, bucket)
    if reason is not None:
        print(f"Terraform step skipped: {reason}.", flush=True)
        return 0
    code, exported = step.export()
    if code != 0:
        return code
    _files(step, exported, bucket)
    mirror = str(provider_mirror())
    steps: list[tuple[list[str], float, Callable[[str], bool]]] = [
        (["init", f"-plugin-dir={mirror}"], INIT_TIMEOUT_S, lambda line: "initialized" in line),
        (["validate"], INIT_TIMEOUT_S, lambda line: line.startswith("Success")),
        (["apply", "-auto-approve"], APPLY_TIMEOUT_S, lambda line: line.startswith(("aws_s3_bucket", "Apply"))),
    ]
    for args, timeout_s, keep in steps:
        code, output = _terraform(step, args, timeout_s)
        _show(args, code, output, keep)
        if code != 0:
            break
    if (step.workdir / "terraform.tfstate").exists():  # whatever apply created goes again
        destroy = ["destroy", "-auto-approve"]
        destroyed, output = _terraform(step, destroy, APPLY_TIMEOUT_S)
        _show(destroy, destroyed, output, lambda line: line.startswith(("aws_s3_bucket", "Destroy")))
        code = code or destroyed
    return code


def bucket_policy_file(directory: Path) -> Path:
    """The inline policy the demo's role gets for its bucket, written into the sandbox directory."""
    path = directory / "demo-bucket.json"
    path.write_text(json.dumps(BUCKET_POLICY, indent=2) + "\n")
    return path
