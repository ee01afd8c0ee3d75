"""Bad input is refused with a clear message and a documented exit code, before any write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCOUNT_A, CI_USER_ARN, base_args, role_names, user_policies

INVALID_INPUT, CREDENTIALS, PRECONDITION = 2, 3, 4


def _policy_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.json"
    path.write_text(text)
    return f"inline={path}"


CASES = [
    # (id, extra args, expected exit code, words the message must contain)
    (
        "malformed-principal",
        ["--principal", "arn:aws:iam::1111:user/ci-user"],
        INVALID_INPUT,
        ["12 digits"],
    ),
    ("principal-not-an-arn", ["--principal", "ci-user"], INVALID_INPUT, ["not an ARN"]),
    (
        "principal-is-a-group",
        ["--principal", f"arn:aws:iam::{ACCOUNT_A}:group/devs"],
        INVALID_INPUT,
        ["groups cannot be principals"],
    ),
    (
        "principal-wrong-account",
        ["--principal", "arn:aws:iam::333333333333:user/ci-user"],
        PRECONDITION,
        ["333333333333", "source profile is in account 111111111111"],
    ),
    (
        "principal-missing",
        ["--principal", f"arn:aws:iam::{ACCOUNT_A}:user/nobody"],
        PRECONDITION,
        ["does not exist"],
    ),
    (
        "external-id-illegal-chars",
        ["--external-id", "bad id!"],
        INVALID_INPUT,
        ["--external-id", "' '", "'!'"],
    ),
    ("external-id-too-short", ["--external-id", "x"], INVALID_INPUT, ["2-1224", "has 1"]),
    ("external-id-too-long", ["--external-id", "x" * 1225], INVALID_INPUT, ["2-1224", "has 1225"]),
    ("max-session-too-short", ["--max-session-duration", "100"], INVALID_INPUT, ["3600-43200"]),
    ("max-session-too-long", ["--max-session-duration", "50000"], INVALID_INPUT, ["3600-43200"]),
    ("bad-path", ["--path", "no-slashes"], INVALID_INPUT, ["--path", "begins and ends with '/'"]),
    ("bad-tag", ["--tag", "novalue"], INVALID_INPUT, ["KEY=VALUE"]),
    (
        "bad-policy-arn",
        ["--policy-arn", "ReadOnlyAccess"],
        INVALID_INPUT,
        ["--policy-arn", "not an ARN"],
    ),
    (
        "mfa-token-not-six-digits",
        ["--mfa-serial", f"arn:aws:iam::{ACCOUNT_A}:mfa/x", "--mfa-token", "12ab"],
        INVALID_INPUT,
        ["6 digits"],
    ),
    (
        "both-external-id-kinds",
        ["--external-id", "abc", "--generate-external-id"],
        INVALID_INPUT,
        ["exclude"],
    ),
]


@pytest.mark.parametrize(("case", "extra", "code", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_flag_is_refused_before_any_write(
    cli: Any, case: str, extra: list[str], code: int, words: list[str]
) -> None:
    args = ["apply", *base_args(), "--verify-profile", "ci", "--yes"]
    if "--principal" not in extra:
        args += ["--principal", CI_USER_ARN]
    run = cli(*args, *extra)
    assert run.exit_code == code, run.stderr
    for word in words:
        assert word in run.stderr
    assert "Traceback" not in run.stderr
    assert "terraform-deploy" not in role_names()
    assert user_policies() == []


def test_role_name_over_64_characters(cli: Any) -> None:
    run = cli("apply", *base_args("r" * 65), "--principal", CI_USER_ARN, "--no-verify", "--yes")
    assert run.exit_code == INVALID_INPUT
    assert "--role-name" in run.stderr and "1-64" in run.stderr and "has 65" in run.stderr
    assert role_names() == []


def test_same_account_for_source_and_target(cli: Any) -> None:
    run = cli(
        "apply",
        "--source-profile",
        "a-admin",
        "--target-profile",
        "a-admin",
        "--role-name",
        "x",
        "--no-verify",
        "--yes",
    )
    assert run.exit_code == PRECONDITION
    assert "both in account 111111111111" in run.stderr
    assert role_names("a-admin") == []


def test_unknown_profile(cli: Any) -> None:
    run = cli(
        "apply",
        "--source-profile",
        "a-admin",
        "--target-profile",
        "nope",
        "--role-name",
        "x",
        "--yes",
    )
    assert run.exit_code == CREDENTIALS
    assert "'nope'" in run.stderr and "not in your AWS config" in run.stderr
    assert role_names() == []


def test_unknown_config_key_is_named_with_a_suggestion(cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("role_name: x\nsource_profle: a-admin\n")
    run = cli("apply", "--config", str(config), "--yes")
    assert run.exit_code == INVALID_INPUT
    assert "Unknown key 'source_profle'" in run.stderr
    assert "Did you mean 'source_profile'?" in run.stderr


def test_yaml_syntax_error_names_the_line(cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("role_name: x\ntags: [unclosed\n")
    run = cli("apply", "--config", str(config), "--yes")
    assert run.exit_code == INVALID_INPUT
    assert "not valid YAML at line" in run.stderr


def test_config_value_error_names_the_key_and_file(cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("role_name: x\nmax_session_duration: 60\n")
    run = cli("apply", "--config", str(config), "--yes")
    assert run.exit_code == INVALID_INPUT
    assert f"config key 'max_session_duration' in {config}" in run.stderr


def test_unreadable_policy_file(cli: Any, tmp_path: Path) -> None:
    run = cli(
        "apply",
        *base_args(),
        "--principal",
        CI_USER_ARN,
        "--no-verify",
        "--yes",
        "--inline-policy",
        f"p={tmp_path / 'missing.json'}",
    )
    assert run.exit_code == INVALID_INPUT
    assert "cannot read the policy file" in run.stderr and "missing.json" in run.stderr
    assert role_names() == []


def test_policy_file_with_invalid_json(cli: Any, tmp_path: Path) -> None:
    run = cli(
        "apply",
        *base_args(),
        "--principal",
        CI_USER_ARN,
        "--no-verify",
        "--yes",
        "--inline-policy",
        _policy_file(tmp_path, '{"Statement": [}'),
    )
    assert run.exit_code == INVALID_INPUT
    assert "not valid JSON (line 1" in run.stderr
    assert role_names() == []


def test_policy_file_that_is_not_a_policy(cli: Any, tmp_path: Path) -> None:
    run = cli(
        "apply",
        *base_args(),
        "--principal",
        CI_USER_ARN,
        "--no-verify",
        "--yes",
        "--inline-policy",
        _policy_file(tmp_path, '["just", "a", "list"]'),
    )
    assert run.exit_code == INVALID_INPUT
    assert "not an IAM policy" in run.stderr


@pytest.mark.parametrize(("argv", "shown"), [(["--help"], "apply"), (["apply", "--help"], "Identity options:")])
def test_help_does_not_import_boto3(argv: list[str], shown: str) -> None:
    code = (
        "import sys\n"
        "from bootstrap.cli.app import main\n"
        f"sys.argv = ['trust-bootstrap', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('boto3 imported' if 'boto3' in sys.modules else 'boto3 not imported')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown in out
    assert out.strip().endswith("boto3 not imported")


def test_python_dash_m_runs_the_cli() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bootstrap", "apply", "--help"], check=False, capture_output=True, text=True
    )
    assert run.returncode == 0
    assert "--external-id" in run.stdout


def test_config_example_is_a_valid_config() -> None:
    from bootstrap.config import model as config

    example = Path(__file__).parent.parent / "config.example.yaml"
    loaded = config.load(example, {})
    assert loaded.role_name == "terraform-deploy"
    assert loaded.principal == "arn:aws:iam::111111111111:user/ci-user"
    assert dict(loaded.tags) == {"team": "platform", "cost-center": "1234"}
    # every key the tool knows appears in the example, set or commented
    text = example.read_text()
    for key in config.CONFIG_KEYS:
        assert f"{key}:" in text, key


GRAMMAR = [
    # (id, the policy file's text, words the message must contain)
    ("statement-not-an-object", '{"Version": "2012-10-17", "Statement": [1]}', ["statement 1", "object"]),
    ("condition-not-an-object", '{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", '
     '"Condition": "x"}}', ["statement 1", "Condition"]),
    ("effect-maybe", '{"Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}',
     ["statement 1", "Effect", "Maybe", "Allow or Deny"]),
    ("action-and-notaction", '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", '
     '"Resource": "*"}]}', ["exactly one of Action and NotAction"]),
    ("no-resource", '{"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}', ["Resource"]),
    ("principal-in-identity-policy", '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", '
     '"Principal": "*"}]}', ["Principal", "trust"]),
    ("unknown-operator", '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", '
     '"Condition": {"StringEqualz": {"aws:username": "x"}}}]}', ["StringEqualz", "operator"]),
    ("condition-value-object", '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", '
     '"Condition": {"StringEquals": {"aws:username": {"a": 1}}}}]}', ["aws:username", "string"]),
    ("bad-version", '{"Version": "2020-01-01", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
     ["Version", "2012-10-17"]),
    ("sid-with-dash", '{"Statement": [{"Sid": "a-b", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
     ["Sid"]),
    ("action-without-service", '{"Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}]}',
     ["GetObject", "service:action"]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "words"), GRAMMAR, ids=[c[0] for c in GRAMMAR])
def test_policy_grammar_is_checked_before_any_write(
    cli: Any, sandbox: Any, tmp_path: Path, case: str, text: str, words: list[str]
) -> None:
    sandbox.clear_calls()
    run = cli("apply", *base_args(), "--principal", CI_USER_ARN, "--no-verify", "--yes",
              "--inline-policy", _policy_file(tmp_path, text))  # fmt: skip
    assert run.exit_code == INVALID_INPUT, run.stderr
    message = " ".join(run.stderr.split())
    for word in words:
        assert word in message
    assert "Internal error" not in run.stderr
    assert [c for c in sandbox.calls() if c.is_write] == []


def test_description_outside_iams_pattern_is_refused(cli: Any, sandbox: Any) -> None:
    sandbox.clear_calls()
    run = cli("apply", *base_args(), "--principal", CI_USER_ARN, "--no-verify", "--yes",
              "--description", "デプロイ用ロール 🚀")  # fmt: skip
    assert run.exit_code == INVALID_INPUT, run.stderr
    assert "--description" in run.stderr and "pattern" in run.stderr
    assert [c for c in sandbox.calls() if c.is_write] == []
    ok = cli("apply", *base_args(), "--principal", CI_USER_ARN, "--no-verify", "--yes", "--description", "Déploiement")
    assert ok.exit_code == 0, ok.stderr


STRICT_YAML = [
    # (id, config file text after role_name, words the message must contain)
    ("verify-quoted-false", 'verify: "false"\n', ["verify", "true or false", "without quotes"]),
    ("verify-nope", "verify: nope\n", ["verify", "true or false", "'nope'"]),
    ("verify-yes", "verify: yes\n", ["line 2", "'yes'", "YAML 1.1", 'quote it ("yes")']),
    ("tag-value-on", "tags:\n  env: on\n", ["line 3", "'on'", 'quote it ("on")']),
    ("duplicate-key", "external_id: first-1\nexternal_id: second-2\n", ["external_id", "twice", "lines 2 and 3"]),
    ("octal-number", "max_session_duration: 07200\n", ["line 2", "07200", "another base"]),
]


@pytest.mark.parametrize(("case", "text", "words"), STRICT_YAML, ids=[c[0] for c in STRICT_YAML])
def test_config_values_are_typed_strictly(cli: Any, tmp_path: Path, case: str, text: str, words: list[str]) -> None:
    config_file = tmp_path / "trust.yaml"
    config_file.write_text("role_name: terraform-deploy\n" + text)
    run = cli("plan", "--config", str(config_file), "--source-profile", "a-admin", "--target-profile", "b-admin")
    assert run.exit_code == INVALID_INPUT, run.stderr
    message = " ".join(run.stderr.split())
    for word in words:
        assert word in message


def test_init_asks_again_for_an_invalid_answer(cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "asked.yaml"
    answers = "\n".join(["a-admin", "b-admin", "bad role!", "good-role", "not-an-arn", CI_USER_ARN, "x", "ext-id-1",
                         "", "jenkins", "terraform"]) + "\n"  # fmt: skip
    run = cli("init", str(target), "--interactive", input=answers)
    assert run.exit_code == 0, run.stderr
    assert run.stderr.count("Not valid:") == 4  # the role name, the principal, the ExternalId, the consumer
    text = target.read_text()
    assert "role_name: good-role" in text and "ext-id-1" in text
