"""Test harness: one in-process sandbox (moto server over HTTP, two accounts, IAM authorization on)
per test worker, reset before every test; the CLI run in-process through typer's runner.

Nothing here can reach real AWS: fake credentials in the environment, and every profile and the
AWS_ENDPOINT_URL fallback point at the sandbox on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from bootstrap.cli.app import app
from bootstrap.sandbox.server import ACCOUNT_A, ACCOUNT_B, Sandbox

# Property tests judge behaviour, not speed: on a loaded 2-core CI machine wall-clock limits
# (per-example deadlines, the too-slow health check) fail tests for reasons no user would notice.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

CI_USER_ARN = f"arn:aws:iam::{ACCOUNT_A}:user/ci-user"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.fixture(scope="session")
def _sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("sandbox"), org_accounts=3)
    box.start()
    yield box
    box.stop()


@pytest.fixture
def sandbox(_sandbox_server: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    _sandbox_server.reset()
    _sandbox_server.propagation_delay = 0.0
    _sandbox_server.latency = 0.0
    # GITHUB_TOKEN too: with it the CLI would look repository IDs up on api.github.com (tests never reach it).
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing-not-a-real-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-not-a-real-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", _sandbox_server.endpoint)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for key, value in _sandbox_server.env().items():
        monkeypatch.setenv(key, value)
    return _sandbox_server


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def cli(sandbox: Sandbox) -> Any:
    """Run trust-bootstrap in-process; fails the test if any output holds a sandbox secret."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Run:
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        run = Run(result.exit_code, result.stdout, result.stderr)
        for secret in sandbox.secrets():
            assert secret not in run.stdout + run.stderr, "a secret was printed"
        return run

    return run


def session(profile: str) -> boto3.Session:
    return boto3.Session(profile_name=profile)


def iam(profile: str) -> Any:
    return session(profile).client("iam")


def base_args(role: str = "terraform-deploy", *extra: str) -> list[str]:
    return [
        "--source-profile",
        "a-admin",
        "--target-profile",
        "b-admin",
        "--role-name",
        role,
        *extra,
    ]


def role_names(profile: str = "b-admin") -> list[str]:
    return [r["RoleName"] for r in iam(profile).list_roles()["Roles"]]


def user_policies(user: str = "ci-user") -> list[str]:
    return list(iam("a-admin").list_user_policies(UserName=user)["PolicyNames"])


def assume(profile: str, role_arn: str, **kwargs: Any) -> str:
    """AssumeRole as ``profile``; returns the assumed identity ARN (raises ClientError if denied)."""
    source = session(profile)
    creds = source.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="test", **kwargs)["Credentials"]
    sts = source.client(
        "sts",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    return str(sts.get_caller_identity()["Arn"])


__all__ = ["ACCOUNT_A", "ACCOUNT_B"]
