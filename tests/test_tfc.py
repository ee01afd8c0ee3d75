"""HCP Terraform and Terraform Enterprise as a CI source (issue 28), through the CLI against the sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bootstrap.core import tfc
from bootstrap.sandbox import ci_claims, demo_terraform
from tests.conftest import ACCOUNT_A, ACCOUNT_B, iam

HOST = "app.terraform.io"
PROVIDER = f"arn:aws:iam::{ACCOUNT_B}:oidc-provider/{HOST}"
TFC = ["--target-profile", "b-admin", "--role-name", "tfc-deploy", "--tfc-organization", "acme",
       "--tfc-workspace", "prod"]  # fmt: skip


@pytest.fixture
def hcp(sandbox: Any) -> Any:
    """The sandbox's issuer standing in for HCP Terraform: the proof's token is minted for app.terraform.io."""
    sandbox.issuer.stand_in_for(ci_claims.HCP_TERRAFORM_ISSUER)
    return sandbox


def _condition(role: str = "tfc-deploy") -> dict[str, Any]:
    statement = iam("b-admin").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Federated": PROVIDER}
    return dict(statement["Condition"])


def _sub(phase: str, project: str = "Default Project", workspace: str = "prod") -> str:
    return f"organization:acme:project:{project}:workspace:{workspace}:run_phase:{phase}"


# -- 1. flags, the provider and the exact subjects ---------------------------------------------------------


def test_apply_creates_the_provider_and_admits_exactly_the_workspaces_runs(cli: Any, hcp: Any) -> None:
    run = cli("apply", *TFC, "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    provider = iam("b-admin").get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER)
    assert provider["ClientIDList"] == ["aws.workload.identity"]
    assert _condition() == {
        "StringEquals": {f"{HOST}:aud": "aws.workload.identity", f"{HOST}:sub": [_sub("plan"), _sub("apply")]}
    }
    result = run.json()
    assert result["verification"]["ok"] is True  # an HCP-shaped token assumed the role for real
    assert result["verification"]["assumed_arn"].startswith(f"arn:aws:sts::{ACCOUNT_B}:assumed-role/tfc-deploy/")
    assert any(c.operation == "AssumeRoleWithWebIdentity" and c.status == 200 for c in hcp.calls())
    hcp.clear_calls()
    again = cli("plan", *TFC, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert not [c for c in hcp.calls() if c.is_write]


def test_one_run_phase_a_project_with_spaces_and_case_kept(cli: Any, hcp: Any) -> None:
    args = [*TFC[:-1], "Prod-EU", "--tfc-project", "Platform Team", "--tfc-run-phase", "apply"]
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 0, run.stderr
    assert _condition()["StringEquals"][f"{HOST}:sub"] == _sub("apply", "Platform Team", "Prod-EU")
    assert "StringLike" not in _condition()


def test_terraform_enterprise_uses_its_own_host_and_audience(cli: Any, hcp: Any) -> None:
    args = [*TFC, "--tfc-hostname", "tfe.example.com", "--tfc-audience", "tfe.workload", "--no-verify"]
    assert cli("apply", *args, "--yes").exit_code == 0
    arn = f"arn:aws:iam::{ACCOUNT_B}:oidc-provider/tfe.example.com"
    assert iam("b-admin").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["tfe.workload"]
    statement = iam("b-admin").get_role(RoleName="tfc-deploy")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Condition"]["StringEquals"]["tfe.example.com:aud"] == "tfe.workload"


def test_config_file_section_mirrors_the_flags(cli: Any, hcp: Any, tmp_path: Any) -> None:
    file = tmp_path / "trust.yaml"
    file.write_text("role_name: tfc-deploy\ntarget_profile: b-admin\n"
                    "tfc:\n  organization: acme\n  workspace: prod\n  run_phase: plan\n")  # fmt: skip
    run = cli("apply", "--config", str(file), "--yes")
    assert run.exit_code == 0, run.stderr
    assert _condition()["StringEquals"][f"{HOST}:sub"] == _sub("plan")
    assert cli("plan", *TFC, "--tfc-run-phase", "plan", "--detailed-exitcode").exit_code == 0


def test_teardown_removes_the_role_and_the_provider_it_created(cli: Any, hcp: Any) -> None:
    assert cli("apply", *TFC, "--yes").exit_code == 0
    down = cli("teardown", *TFC, "--yes")
    assert down.exit_code == 0, down.stderr
    assert "tfc-deploy" not in [r["RoleName"] for r in iam("b-admin").list_roles()["Roles"]]
    assert iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_teardown_keeps_a_provider_it_did_not_create(cli: Any, hcp: Any) -> None:
    iam("b-admin").create_open_id_connect_provider(Url=f"https://{HOST}", ClientIDList=["aws.workload.identity"])
    assert cli("apply", *TFC, "--yes").exit_code == 0
    assert cli("teardown", *TFC, "--yes").exit_code == 0
    assert len(iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1


# -- 7. bad input: exit 2 before any write -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--tfc-hostname", "https://app.terraform.io"], "not a host name"),
        (["--tfc-hostname", "tfe.example.com/path"], "not a host name"),
        (["--tfc-workspace", ""], "empty"),
        (["--tfc-organization", " "], "empty"),
        (["--tfc-workspace", "prod:eu"], "cannot hold ':'"),
        (["--tfc-project", "Team\nB"], "--tfc-project"),
        (["--tfc-plan-role", "tfc-deploy"], "own name"),
        (["--tfc-run-phase", "destroy"], "not a run phase"),
        (["--tfc-plan-role", "tfc-plan", "--tfc-run-phase", "plan"], "does not go with"),
        (["--tfc-plan-policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"], "--tfc-plan-role"),
        (["--github-repo", "o/r"], "different CI platforms"),
        (["--external-id", "abcdef"], "does not apply"),
    ],
)
def test_bad_input_exits_2_before_any_write(cli: Any, hcp: Any, extra: list[str], needle: str) -> None:
    run = cli("apply", *TFC, *extra, "--yes")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert needle in run.stderr
    assert not [c for c in hcp.calls() if c.is_write]


def test_a_missing_workspace_is_named(cli: Any, hcp: Any) -> None:
    run = cli("apply", *TFC[:-2], "--yes")
    assert run.exit_code == 2
    assert "--tfc-workspace" in run.stderr


# -- 3. the workspace's variables ------------------------------------------------------------------------------


def test_export_tfc_variables_as_lines_and_as_json_for_the_api(cli: Any, hcp: Any) -> None:
    assert cli("apply", *TFC, "--yes").exit_code == 0
    run = cli("export", *TFC, "--format", "tfc-variables")
    assert run.exit_code == 0, run.stderr
    role = f"arn:aws:iam::{ACCOUNT_B}:role/tfc-deploy"
    assert run.stdout == f"TFC_AWS_PROVIDER_AUTH=true\nTFC_AWS_RUN_ROLE_ARN={role}\n"
    listed = cli("export", *TFC, "--format", "tfc-variables", "-o", "json")
    assert listed.json() == [
        {"key": "TFC_AWS_PROVIDER_AUTH", "value": "true", "category": "env"},
        {"key": "TFC_AWS_RUN_ROLE_ARN", "value": role, "category": "env"},
    ]
    other = cli("export", *TFC, "--tfc-audience", "custom.aud", "--format", "tfc-variables", "--offline",
                "--target-account", ACCOUNT_B)  # fmt: skip
    assert other.stdout.endswith("TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE=custom.aud\n")


def test_export_formats_are_matched_to_the_trust(cli: Any, hcp: Any) -> None:
    wrong = cli("export", *TFC, "--format", "github-actions", "--offline", "--target-account", ACCOUNT_B)
    assert wrong.exit_code == 2 and "tfc-variables or tfe" in wrong.stderr
    gha = ["--target-profile", "b-admin", "--role-name", "r", "--github-repo", "o/r", "--github-ref", "refs/heads/main"]
    wrong = cli("export", *gha, "--format", "tfe", "--offline", "--target-account", ACCOUNT_B)
    assert wrong.exit_code == 2 and "HCP Terraform trusts" in wrong.stderr


def _terraform(workdir: Any, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    return subprocess.run(["terraform", *command, "-no-color"], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip


def test_export_tfe_writes_tfe_variable_resources_terraform_accepts(cli: Any, hcp: Any, tmp_path: Path) -> None:
    args = [*TFC[:-1], "Prod EU ${x}", "--tfc-plan-role", "tfc-plan", "--offline", "--target-account", ACCOUNT_B]
    run = cli("export", *args, "--format", "tfe")
    assert run.exit_code == 0, run.stderr
    text = run.stdout
    assert text.count('resource "tfe_variable"') == 3
    assert 'category     = "env"' in text
    assert '"TFC_AWS_PLAN_ROLE_ARN"' in text and f'"arn:aws:iam::{ACCOUNT_B}:role/tfc-plan"' in text
    assert 'name         = "Prod EU $${x}"' in text  # a name is data, never an interpolation
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed: the tfe export was checked as text only")
    (tmp_path / "main.tf").write_text(text)
    fmt = _terraform(tmp_path, "fmt", "-check", "-diff")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    mirror = demo_terraform.provider_mirror()
    if mirror is None or not list(Path(mirror).glob("registry.terraform.io/hashicorp/tfe/*")):
        pytest.skip("terraform fmt -check passed; validate skipped: the offline provider mirror has no hashicorp/tfe")
    assert _terraform(tmp_path, "init", f"-plugin-dir={mirror}").returncode == 0
    done = _terraform(tmp_path, "validate")
    assert done.returncode == 0, done.stdout + done.stderr


# -- 4. the plan/apply role pair ---------------------------------------------------------------------------------

PAIR = [*TFC, "--tfc-plan-role", "tfc-plan"]


def test_a_plan_role_admits_plan_runs_and_the_role_apply_runs_one_trust_throughout(cli: Any, hcp: Any) -> None:
    run = cli("apply", *PAIR, "--policy-arn", "arn:aws:iam::aws:policy/PowerUserAccess", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert _condition()["StringEquals"][f"{HOST}:sub"] == _sub("apply")
    assert _condition("tfc-plan")["StringEquals"][f"{HOST}:sub"] == _sub("plan")
    attached = iam("b-admin").list_attached_role_policies(RoleName="tfc-plan")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    result = run.json()
    assert result["verification"]["ok"] is True
    assert result["plan_role"]["verification"]["ok"] is True  # a plan run's token assumed the plan role
    assert "assumed-role/tfc-plan/" in result["plan_role"]["verification"]["assumed_arn"]
    creates = [c for c in hcp.calls() if c.operation == "CreateOpenIDConnectProvider"]
    assert len(creates) == 1  # one shared provider
    hcp.clear_calls()
    again = cli("plan", *PAIR, "--policy-arn", "arn:aws:iam::aws:policy/PowerUserAccess", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert not [c for c in hcp.calls() if c.is_write]
    verified = cli("verify", *PAIR)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    assert "Plan role:" in verified.stdout
    variables = cli("export", *PAIR, "--format", "tfc-variables")
    assert variables.stdout == (
        f"TFC_AWS_PROVIDER_AUTH=true\nTFC_AWS_PLAN_ROLE_ARN=arn:aws:iam::{ACCOUNT_B}:role/tfc-plan\n"
        f"TFC_AWS_APPLY_ROLE_ARN=arn:aws:iam::{ACCOUNT_B}:role/tfc-deploy\n"
    )
    down = cli("teardown", *PAIR, "--yes")
    assert down.exit_code == 0, down.stdout + down.stderr
    assert {"tfc-deploy", "tfc-plan"}.isdisjoint(r["RoleName"] for r in iam("b-admin").list_roles()["Roles"])
    assert iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_the_pair_drift_in_the_plan_role_is_planned(cli: Any, hcp: Any) -> None:
    assert cli("apply", *PAIR, "--yes").exit_code == 0
    iam("b-admin").detach_role_policy(RoleName="tfc-plan", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    drift = cli("plan", *PAIR, "--detailed-exitcode")
    assert drift.exit_code == 2
    assert "tfc-plan" in drift.stdout


def test_teardown_of_the_pair_keeps_a_provider_another_role_names(cli: Any, hcp: Any) -> None:
    assert cli("apply", *TFC[:3], "other", *TFC[4:], "--yes").exit_code == 0
    assert cli("apply", *PAIR, "--yes").exit_code == 0
    down = cli("teardown", *PAIR, "--yes")
    assert down.exit_code == 0, down.stderr
    assert "other" in down.stdout  # says which role keeps the provider
    assert len(iam("b-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1


# -- 5. wildcards judged by what they cover ------------------------------------------------------------------

GENERIC = ["--target-profile", "b-admin", "--role-name", "tfc-deploy", "--oidc-issuer", "https://app.terraform.io",
           "--oidc-audience", "aws.workload.identity"]  # fmt: skip


def test_a_pattern_confined_to_one_workspace_needs_no_org_wildcard_flag(cli: Any, hcp: Any) -> None:
    run = cli("apply", *GENERIC, "--oidc-subject", _sub("*"), "--yes")
    assert run.exit_code == 0, run.stderr
    assert "Warning" not in run.stderr
    assert _condition()["StringLike"] == {f"{HOST}:sub": _sub("*")}
    phases = cli("apply", *TFC, "--tfc-run-phase", "*", "--yes", "-o", "json")
    assert phases.exit_code == 0, phases.stderr
    assert phases.json()["verification"]["ok"] is True  # an apply run's token matches run_phase:*


@pytest.mark.parametrize(
    "args",
    [
        ["--oidc-subject", "organization:acme:*"],
        ["--oidc-subject", "organization:acme:project:*:workspace:prod:run_phase:apply"],
        ["--oidc-subject", "organization:acme:project:Default Project:workspace:prod*"],
    ],
)
def test_an_org_or_project_wide_pattern_still_needs_the_flag(cli: Any, hcp: Any, args: list[str]) -> None:
    refused = cli("apply", *GENERIC, *args, "--yes")
    assert refused.exit_code == 2, refused.stderr
    assert "--allow-org-wildcard" in refused.stderr
    assert not [c for c in hcp.calls() if c.is_write]
    allowed = cli("apply", *GENERIC, *args, "--allow-org-wildcard", "--yes")
    assert allowed.exit_code == 0, allowed.stderr
    assert "Warning" in allowed.stderr


def test_a_workspace_name_pattern_spans_workspaces_and_needs_the_flag(cli: Any, hcp: Any) -> None:
    args = [*TFC[:-1], "prod-*"]
    refused = cli("apply", *args, "--yes")
    assert refused.exit_code == 2
    assert "more than one workspace" in refused.stderr and "--allow-org-wildcard" in refused.stderr
    allowed = cli("apply", *args, "--allow-org-wildcard", "--yes")
    assert allowed.exit_code == 0, allowed.stderr
    assert "every HCP Terraform workspace it matches" in allowed.stderr
    assert _condition()["StringLike"][f"{HOST}:sub"] == [
        _sub("plan", workspace="prod-*"),
        _sub("apply", workspace="prod-*"),
    ]


# -- 6. diagnose -------------------------------------------------------------------------------------------------

DIAGNOSE = ["diagnose", "--role-arn", f"arn:aws:iam::{ACCOUNT_B}:role/tfc-deploy", "--target-profile", "b-admin",
            "--tfc-organization", "acme", "--tfc-workspace", "prod"]  # fmt: skip


def test_diagnose_names_the_run_phase_when_a_plan_run_meets_an_apply_only_role(cli: Any, hcp: Any) -> None:
    assert cli("apply", *TFC, "--tfc-run-phase", "apply", "--yes").exit_code == 0
    ok = cli(*DIAGNOSE, "--tfc-run-phase", "apply")
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    run = cli(*DIAGNOSE, "--tfc-run-phase", "plan", "-o", "json")
    assert run.exit_code == 9, run.stdout + run.stderr
    failed = {c["id"]: c for c in run.json()["checks"] if c["status"] == "fail"}
    assert set(failed) == {"sub"}
    assert "run phase" in failed["sub"]["summary"] and "plan" in failed["sub"]["summary"]
    assert "--tfc-plan-role" in failed["sub"]["fix"]
    other = cli(*DIAGNOSE[:-1], "staging", "--tfc-run-phase", "apply", "-o", "json")
    assert other.exit_code == 9  # another workspace: not a run-phase cause
    assert "run phase" not in next(c for c in other.json()["checks"] if c["id"] == "sub")["summary"]


def test_diagnose_refuses_a_bad_run_description(cli: Any, hcp: Any) -> None:
    run = cli(*DIAGNOSE, "--tfc-run-phase", "all")
    assert run.exit_code == 2
    assert "--tfc-run-phase" in run.stderr


# -- 7. the hub topology ---------------------------------------------------------------------------------------


def test_hub_topology_the_run_assumes_a_hub_role_in_a_that_chains_into_b(cli: Any, hcp: Any, tmp_path: Path) -> None:
    args = ["--source-profile", "a-admin", *TFC, "--hub-role", "tfc-hub"]
    run = cli("apply", *args, "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    result = run.json()
    assert result["hub_role_arn"] == f"arn:aws:iam::{ACCOUNT_A}:role/tfc-hub"
    assert result["verification"]["ok"] is True  # HCP token into the hub, then AssumeRole into B
    assert result["verification"]["assumed_arn"].startswith(f"arn:aws:sts::{ACCOUNT_B}:assumed-role/tfc-deploy/")
    hub = iam("a-admin").get_role(RoleName="tfc-hub")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert hub["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT_A}:oidc-provider/{HOST}"}
    assert hub["Condition"]["StringEquals"][f"{HOST}:sub"] == [_sub("plan"), _sub("apply")]
    variables = cli("export", *args, "--format", "tfc-variables")
    assert f"TFC_AWS_RUN_ROLE_ARN=arn:aws:iam::{ACCOUNT_A}:role/tfc-hub\n" in variables.stdout
    provider = cli("export", *args, "--format", "terraform")
    assert provider.exit_code == 0, provider.stderr
    assert f'role_arn     = "arn:aws:iam::{ACCOUNT_B}:role/tfc-deploy"' in provider.stdout
    if shutil.which("terraform") is not None:
        (tmp_path / "main.tf").write_text(provider.stdout)
        assert _terraform(tmp_path, "fmt", "-check").returncode == 0
    direct = cli("export", *TFC, "--format", "terraform")
    assert direct.exit_code == 2 and "hub topology" in direct.stderr
    assert cli("plan", *args, "--detailed-exitcode").exit_code == 0
    assert cli("teardown", *args, "--yes").exit_code == 0
    assert "tfc-hub" not in [r["RoleName"] for r in iam("a-admin").list_roles()["Roles"]]
    assert iam("a-admin").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


# -- make demo-tfc ---------------------------------------------------------------------------------------------


def test_make_demo_tfc_shows_minted_hcp_tokens_assuming_their_phases_role(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-m", "bootstrap.sandbox.demo_tfc", "--dir", str(tmp_path / "box"), "--propagation-delay", "0"],
        cwd=Path(__file__).parent.parent, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "TFC_AWS_PLAN_ROLE_ARN=" in out and "TFC_AWS_APPLY_ROLE_ARN=" in out
    assert f"role/tfc-plan: arn:aws:sts::{ACCOUNT_B}:assumed-role/tfc-plan/terraform-run-plan" in out
    assert f"role/tfc-apply: arn:aws:sts::{ACCOUNT_B}:assumed-role/tfc-apply/terraform-run-apply" in out
    assert "role/tfc-apply: refused: AccessDenied" in out
    assert "eyJ" not in out + done.stderr  # claims are shown, tokens never
    assert out.rstrip().endswith("Demo finished; sandbox stopped.")


# -- pure: what a pattern covers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "confined"),
    [
        (_sub("apply"), True),
        (_sub("*"), True),
        (_sub("?lan"), True),
        ("organization:acme:project:Default Project:workspace:prod:*", True),
        ("organization:acme:project:Default Project:workspace:prod*", False),  # prod-eu, prod2, ...
        ("organization:acme:project:Default Project:workspace:*:run_phase:apply", False),
        ("organization:acme:project:*:workspace:prod:run_phase:apply", False),
        ("organization:acme:*", False),
        ("organization:*:project:Default Project:workspace:prod:run_phase:apply", False),
        ("organization:acme:module:m:operation:test_run*", False),
    ],
)
def test_a_pattern_is_confined_when_only_the_run_phase_can_vary(pattern: str, confined: bool) -> None:
    assert tfc.confined_to_one_workspace(pattern) is confined


# -- a real run's token file -------------------------------------------------------------------------------------


def test_a_token_file_proves_the_role_of_its_run_phase(cli: Any, hcp: Any, tmp_path: Path) -> None:
    assert cli("apply", *PAIR, "--no-verify", "--yes").exit_code == 0
    token = tmp_path / "token"
    token.write_text(hcp.issuer.mint(ci_claims.hcp_terraform_claims("acme", "Default Project", "prod", "plan")))
    run = cli("verify", *PAIR, "--web-identity-token-file", str(token), "-o", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "assumed-role/tfc-plan/" in run.json()["verification"]["assumed_arn"]
    assert token.read_text() not in run.stdout + run.stderr
    single = cli("verify", *TFC, "--tfc-run-phase", "apply", "--web-identity-token-file", str(token))
    assert single.exit_code == 7  # a plan run's token on the apply role: refused, as AWS refuses it
    assert "not retried" in single.stdout + single.stderr


def test_plan_json_lists_every_subject_of_the_trust(cli: Any, hcp: Any) -> None:
    run = cli("plan", *TFC, "-o", "json")
    assert run.exit_code == 0, run.stderr
    ci = run.json()["ci"]
    assert ci["platform"] == "tfc" and ci["subjects"] == [_sub("plan"), _sub("apply")]
    assert ci["subject_operator"] == "StringEquals"


def test_diagnose_names_a_letter_case_difference_in_a_workspace_name(cli: Any, hcp: Any) -> None:
    assert cli("apply", *TFC[:-1], "Prod", "--yes").exit_code == 0
    run = cli(*DIAGNOSE, "-o", "json")  # the run's workspace is "prod"
    assert run.exit_code == 9
    sub = next(c for c in run.json()["checks"] if c["id"] == "sub")
    assert "letter case" in sub["summary"] and "as HCP Terraform spells them" in sub["summary"]


def test_tfc_flags_win_over_another_platform_in_the_file(cli: Any, hcp: Any, tmp_path: Path) -> None:
    file = tmp_path / "trust.yaml"
    file.write_text("github: {repo: octo-org/octo-repo, ref: refs/heads/main}\n")
    run = cli("plan", "--config", str(file), *TFC, "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["ci"]["platform"] == "tfc"
    file.write_text("oidc: {issuer: 'https://token.example.com'}\n")
    mixed = cli("plan", "--config", str(file), *TFC)
    assert mixed.exit_code == 2 and "--oidc-issuer" in mixed.stderr
