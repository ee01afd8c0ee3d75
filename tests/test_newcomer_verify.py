"""Issue 25, items 6 and 7: verification fails fast when waiting cannot help (the cause is read,
or nothing was just written), and a CI job that cannot reach AWS ends with exit 10."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_B, CI_USER_ARN, iam


def _sandbox_github(sandbox: Sandbox) -> list[str]:
    return ["--target-profile", "b-admin", "--role-name", "gha-deploy", "--github-repo", "octo-org/octo-repo",
            "--oidc-issuer", sandbox.issuer.url]  # fmt: skip


def _token_file(tmp_path: Path, sandbox: Sandbox, **claims: Any) -> str:
    path = tmp_path / "token"
    path.write_text(sandbox.issuer.mint({"aud": "sts.amazonaws.com", **claims}))
    return str(path)


def _closed_port() -> int:
    """A local port nobody listens on (bound, then closed: connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_verify_in_a_ci_job_without_a_reachable_endpoint_exits_10(
    cli: Any, sandbox: Sandbox, tmp_path: Path, monkeypatch: Any
) -> None:
    args = [*_sandbox_github(sandbox), "--github-ref", "refs/heads/main"]
    token = _token_file(tmp_path, sandbox, sub="repo:octo-org/octo-repo:ref:refs/heads/main")
    in_ci = [a for a in args if a not in ("--target-profile", "b-admin")]
    # A CI job: no profile, and the only AWS endpoint it knows is a closed local port.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    run = cli("verify", *in_ci, "--target-account", ACCOUNT_B, "--web-identity-token-file", token,
              "--verify-timeout", "100000")  # fmt: skip
    assert run.exit_code == 10, run.stdout + run.stderr
    assert "cannot reach AWS" in run.stderr


def test_ci_verify_with_a_sub_the_trust_does_not_admit_fails_at_once_naming_it(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    args = [*_sandbox_github(sandbox), "--github-environment", "prod"]
    assert cli("apply", *args, "--no-verify", "--yes").exit_code == 0
    token = _token_file(tmp_path, sandbox, sub="repo:octo-org/octo-repo:ref:refs/heads/main")
    in_ci = [a for a in args if a not in ("--target-profile", "b-admin")]
    sandbox.clear_calls()
    # A minute of propagation timeout: waiting would show as more than one attempt.
    run = cli("verify", *in_ci, "--target-account", ACCOUNT_B, "--web-identity-token-file", token,
              "--verify-timeout", "60")  # fmt: skip
    assert run.exit_code == 7, run.stdout + run.stderr
    assert [c.operation for c in sandbox.calls()] == ["AssumeRoleWithWebIdentity"]  # one attempt, no waiting
    out = run.stdout + run.stderr
    assert "repo:octo-org/octo-repo:ref:refs/heads/main" in out  # the token's sub
    assert "repo:octo-org/octo-repo:environment:prod" in out  # what the trust admits
    assert Path(token).read_text() not in out


def test_fleet_verify_with_the_grant_gone_names_it_in_each_row_without_waiting(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    from tests.test_fleet import GRANT, fleet_file

    config = fleet_file(tmp_path, sandbox, verify_timeout=60)
    assert cli("apply", "--config", str(config), "--yes").exit_code == 0
    iam("a-admin").delete_user_policy(UserName="ci-user", PolicyName=GRANT)
    sandbox.clear_calls()
    run = cli("verify", "--config", str(config), "--output", "json")
    assert run.exit_code == 7, run.stdout + run.stderr
    targets = run.json()["targets"]
    assert len(targets) == 3 and not any(t["ok"] for t in targets)
    for target in targets:  # the cause, in the target's own row
        error = target["verification"]["error"]
        assert f"the fleet's grant {GRANT} on {CI_USER_ARN} does not allow sts:AssumeRole on" in error, error
        assert target["role_arn"] in error
    proofs = [c for c in sandbox.calls() if c.operation == "AssumeRole" and "ci-user" in c.caller]
    assert len(proofs) == 3, [(c.caller, c.note) for c in proofs]  # one attempt per target: no waiting
    text = cli("verify", "--config", str(config))
    assert text.exit_code == 7
    assert text.stdout.count("does not allow sts:AssumeRole") == 3, text.stdout
