"""--for hcp-terraform (issue 27): on an HCP Terraform trust, direct, the run's own call is the proof's
(no "adds nothing" warning, a plan note); behind a hub role, the provider's chained assume_role is
replayed; on any other trust, refused before any write. Through the CLI against the sandbox."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ACCOUNT_A, ACCOUNT_B, CI_USER_ARN, base_args, iam
from tests.test_tfc import TFC, hcp  # noqa: F401 (the fixture: the sandbox's issuer stands in for HCP Terraform)

HUB = ["--source-profile", "a-admin", *TFC, "--hub-role", "tfc-hub"]


def test_direct_the_runs_own_call_is_the_proofs_and_no_warning(cli: Any, hcp: Any) -> None:  # noqa: F811
    run = cli("apply", *TFC, "--for", "hcp-terraform", "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "adds nothing" not in run.stdout + run.stderr
    assert "For hcp-terraform:" in run.stdout and "is the call the proof makes" in run.stdout
    assert any(c.operation == "AssumeRoleWithWebIdentity" and c.status == 200 for c in hcp.calls())
    plan = cli("plan", *TFC, "--for", "hcp-terraform")
    assert plan.exit_code == 0 and "adds nothing" not in plan.stderr and "For hcp-terraform:" in plan.stdout
    # another consumer named beside it is still said to add nothing, and only that one
    both = cli("plan", *TFC, "--for", "hcp-terraform", "--for", "aws-profile")
    assert "--for aws-profile: a CI job" in both.stderr


def test_hub_replays_the_providers_chained_hop_and_exit_7_when_refused(cli: Any, hcp: Any) -> None:  # noqa: F811
    applied = cli("apply", *HUB, "--for", "hcp-terraform", "--yes", "-o", "json")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    (verdict,) = applied.json()["verification"]["consumers"]
    assert verdict == {
        "consumer": "hcp-terraform",
        "session_name": "terraform-tfc-deploy",  # the exported provider block's (ci/export_flow.py)
        "ok": True,
        "detail": verdict["detail"],
    }
    assert verdict["detail"].startswith(f"arn:aws:sts::{ACCOUNT_B}:assumed-role/tfc-deploy/terraform-tfc-deploy")
    ok = cli("verify", *HUB, "--for", "hcp-terraform")
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    assert "for hcp-terraform   ok: session terraform-tfc-deploy" in ok.stdout
    # the hop refused: the trust in B denies the provider's session (the bare proof's is still admitted)
    document = iam("b-admin").get_role(RoleName="tfc-deploy")["Role"]["AssumeRolePolicyDocument"]
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:role/tfc-hub"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:RoleSessionName": "terraform-tfc-deploy"}},
    }
    document["Statement"] = [*document["Statement"], deny]
    iam("b-admin").update_assume_role_policy(RoleName="tfc-deploy", PolicyDocument=json.dumps(document))
    refused = cli("verify", *HUB, "--for", "hcp-terraform")
    assert refused.exit_code == 7, refused.stdout + refused.stderr
    assert "for hcp-terraform   REFUSED: session terraform-tfc-deploy" in refused.stdout
    assert "AccessDenied" in refused.stdout


def test_refused_on_a_key_based_trust_before_any_write(cli: Any, sandbox: Any) -> None:
    run = cli("apply", *base_args("terraform-deploy"), "--principal", CI_USER_ARN, "--for", "hcp-terraform", "--yes")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "--tfc-organization/--tfc-workspace" in run.stderr and "dynamic provider credentials" in run.stderr
    assert not [c for c in sandbox.calls() if c.is_write]


def test_refused_on_a_github_trust_before_any_write(cli: Any, sandbox: Any) -> None:
    args = ["--target-profile", "b-admin", "--role-name", "deploy", "--github-repo", "octo-org/octo-repo", "--github-ref", "refs/heads/main",
            "--oidc-issuer", sandbox.issuer.url, "--for", "hcp-terraform"]  # fmt: skip
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "--tfc-organization/--tfc-workspace" in run.stderr
    assert not [c for c in sandbox.calls() if c.is_write]


def test_refused_in_a_fleet_before_any_write(cli: Any, sandbox: Any, tmp_path: Any) -> None:
    from tests.test_fleet import fleet_file

    config = fleet_file(tmp_path, sandbox, consumers=["hcp-terraform"])
    run = cli("apply", "--config", str(config), "--yes")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "--tfc-organization/--tfc-workspace" in run.stderr
    assert not [c for c in sandbox.calls() if c.is_write]


def test_init_offers_it_and_asks_for_the_workspace(cli: Any, tmp_path: Any) -> None:
    from bootstrap.config import model as config

    target = tmp_path / "asked.yaml"
    answers = "\n".join(["a-admin", "b-admin", "tfc-deploy", "", "", "", "hcp-terraform", "acme", "prod"]) + "\n"
    run = cli("init", str(target), "--interactive", input=answers)
    assert run.exit_code == 0, run.stderr
    assert "hcp-terraform" in run.stderr and "HCP Terraform organization" in run.stderr
    loaded = config.load(target, {})
    assert loaded.consumers == ("hcp-terraform",)
    assert loaded.oidc is not None and loaded.oidc.description.startswith("HCP Terraform workspace acme/")
    # without the workspace (flags only): refused, and no file is left
    other = tmp_path / "flags.yaml"
    flags = cli("init", str(other), "--role-name", "x", "--for", "hcp-terraform", "--no-interactive")
    assert flags.exit_code == 2 and "tfc.organization, tfc.workspace" in flags.stderr
    assert not other.exists()
