"""export and init: the trust in Terraform, ~/.aws/config, CloudFormation and JSON; a config file."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import hcl2
import yaml

from bootstrap.config import model as config
from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_A, ACCOUNT_B, CI_USER_ARN, READ_ONLY, base_args, iam

ROLE = "terraform-deploy"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}"
TRUST = [*base_args(ROLE), "--principal", CI_USER_ARN, "--external-id", "ext-1", "--policy-arn", READ_ONLY,
         "--verify-profile", "ci", "--tag", "team=platform"]  # fmt: skip


def parse_hcl(text: str) -> Any:
    """HCL as plain values (python-hcl2 keeps the quotes of strings and marks blocks)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {plain(k): plain(v) for k, v in value.items() if k != "__is_block__"}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
            return json.loads(value)
        return value

    return plain(hcl2.load(io.StringIO(text)))


def onboard(cli: Any) -> None:
    run = cli("apply", *TRUST, "--yes")
    assert run.exit_code == 0, run.stderr


def test_terraform_block_is_valid_hcl_with_the_assume_role(cli: Any) -> None:
    onboard(cli)
    run = cli("export", *TRUST, "--format", "terraform", "--alias", "target", "--external-id-variable")
    assert run.exit_code == 0, run.stderr
    parsed = parse_hcl(run.stdout)
    provider = parsed["provider"][0]["aws"]
    assert provider["alias"] == "target"
    assume = provider["assume_role"][0]
    assert assume["role_arn"] == ROLE_ARN
    assert assume["session_name"] == "terraform-terraform-deploy"  # the consumer's own, never the proof's
    assert assume["duration"] == "1h"
    assert "var.external_id" in str(assume["external_id"])
    variable = parsed["variable"][0]["external_id"]
    assert variable["sensitive"] is True
    assert "ext-1" not in run.stdout  # the value stays out of the code when it is a variable


def test_terraform_inline_external_id_and_no_credentials(cli: Any) -> None:
    onboard(cli)
    run = cli("export", *TRUST, "--format", "terraform")
    parsed = parse_hcl(run.stdout)
    assume = parsed["provider"][0]["aws"]["assume_role"][0]
    assert assume["external_id"] == "ext-1"
    assert "access_key" not in run.stdout and "secret" not in run.stdout  # credentials stay with the environment


def test_export_needs_the_live_role_unless_offline(cli: Any) -> None:
    run = cli("export", *TRUST, "--format", "terraform")
    assert run.exit_code == 4
    assert "run 'trust-bootstrap apply' first" in run.stderr and "--offline" in run.stderr
    offline = cli("export", "--role-name", ROLE, "--principal", CI_USER_ARN, "--offline", "--target-account", ACCOUNT_B,
                  "--format", "terraform")  # fmt: skip
    assert offline.exit_code == 0, offline.stderr
    assert f'role_arn     = "{ROLE_ARN}"' in offline.stdout


def test_aws_config_profile_written_safely_reaches_account_b(cli: Any, sandbox: Sandbox) -> None:
    onboard(cli)
    before = sandbox.config_file.read_text()
    run = cli("export", *TRUST, "--format", "aws-config", "--profile-name", "deploy-b", "--write")
    assert run.exit_code == 0, run.stderr
    assert "Wrote profile deploy-b" in run.stderr
    text = sandbox.config_file.read_text()
    assert text.startswith(before)  # appended, nothing else touched
    assert (sandbox.config_file.parent / "config.bak").read_text() == before
    assert "[profile deploy-b]" in text and "source_profile = ci" in text and "external_id = ext-1" in text
    # boto3's own assume-role provider, with nothing but the profile name:
    identity = boto3.Session(profile_name="deploy-b").client("sts").get_caller_identity()
    assert identity["Account"] == ACCOUNT_B
    # the consumer's own session name, never the proof's (trust-bootstrap-verify)
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/{ROLE}/aws-profile-{ROLE}"

    again = cli("export", *TRUST, "--format", "aws-config", "--profile-name", "deploy-b", "--write")
    assert again.exit_code == 4
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert sandbox.config_file.read_text() == text
    forced = cli("export", *TRUST, "--format", "aws-config", "--profile-name", "deploy-b", "--write", "--force",
                 "--verify-profile", "a-admin")  # fmt: skip
    assert forced.exit_code == 0, forced.stderr
    final = sandbox.config_file.read_text()
    assert final.count("[profile deploy-b]") == 1
    assert "source_profile = a-admin" in final and "source_profile = ci" not in final


def test_cloudformation_template_lints_and_creates_the_role(cli: Any, tmp_path: Path) -> None:
    onboard(cli)
    run = cli("export", *TRUST, "--format", "cloudformation")
    assert run.exit_code == 0, run.stderr
    template = tmp_path / "role.json"
    template.write_text(run.stdout)
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    lint = subprocess.run([str(cfn_lint), str(template)], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    body = json.loads(run.stdout)
    assert body["Parameters"]["ExternalId"]["NoEcho"] is True
    assert body["Parameters"]["SourcePrincipalArn"]["Default"] == CI_USER_ARN

    # The onboarding holds the role name in B: the stack makes the same role under another name.
    body["Resources"]["Role"]["Properties"]["RoleName"] = "from-stackset"
    cfn = boto3.Session(profile_name="b-admin").client("cloudformation")
    cfn.create_stack(
        StackName="trust",
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": "ExternalId", "ParameterValue": "ext-9"}],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    role = iam("b-admin").get_role(RoleName="from-stackset")["Role"]
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"AWS": CI_USER_ARN}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-9"}}
    tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
    assert tags.get("team") == "platform"
    assert "trust-bootstrap:managed" not in tags  # CloudFormation owns it, not trust-bootstrap


def test_json_documents(cli: Any) -> None:
    onboard(cli)
    run = cli("export", *TRUST, "--format", "json")
    out = json.loads(run.stdout)
    assert out["role_arn"] == ROLE_ARN
    assert out["trust_policy"]["Statement"][0]["Principal"] == {"AWS": CI_USER_ARN}
    assert out["trust_policy"]["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-1"}}
    assert out["grant_policy"]["Statement"][0]["Resource"] == ROLE_ARN


def test_init_from_flags_writes_a_loadable_commented_config(cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "trust.yaml"
    run = cli("init", str(target), "--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", ROLE,
              "--principal", CI_USER_ARN, "--policy-arn", READ_ONLY, "--no-interactive")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    text = target.read_text()
    for key in config.CONFIG_KEYS:
        assert f"{key}:" in text, key
    loaded = config.load(target, {})
    assert (loaded.role_name, loaded.principal, loaded.policy_arns) == (ROLE, CI_USER_ARN, (READ_ONLY,))
    assert yaml.safe_load(text)["source_profile"] == "a-admin"
    again = cli("init", str(target), "--role-name", "other", "--no-interactive")
    assert again.exit_code == 2 and "--force" in again.stderr
    assert target.read_text() == text


def test_init_interactive_prompts_with_profile_defaults(cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "asked.yaml"
    answers = "\n".join(["a-admin", "b-admin", "asked-role", CI_USER_ARN, "", "ci", "terraform, aws-profile"]) + "\n"
    run = cli("init", str(target), "--interactive", input=answers)
    assert run.exit_code == 0, run.stderr
    assert "Profiles found:" in run.stderr and "a-admin" in run.stderr
    loaded = config.load(target, {})
    assert (loaded.source_profile, loaded.target_profile, loaded.role_name) == ("a-admin", "b-admin", "asked-role")
    assert loaded.verify_profile == "ci" and loaded.external_id is None
    assert loaded.consumers == ("terraform", "aws-profile")  # asked as a comma-separated list
    plan = cli("plan", "--config", str(target), "--detailed-exitcode")
    assert plan.exit_code == 2  # a usable config: plans the full creation
    assert ACCOUNT_A in plan.stdout
