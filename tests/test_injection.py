"""Issue 24, findings 1, 2, 8 and 9, through the command line: hostile values cannot rewrite the CI
files the tool writes, nor reach AWS, nor exhaust the machine. (Findings 5 and 6: test_launch.py;
the writers themselves: tests/exports/test_writers.py.)"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap.sandbox.server import Sandbox
from tests.conftest import ACCOUNT_A, ACCOUNT_B
from tests.exports.test_writers import github_evaluates, hcl_string_value

OFFLINE = ["--offline", "--target-account", ACCOUNT_B, "--role-name", "deploy"]
GITHUB = ["--github-repo", "octo-org/octo-repo"]
GITLAB = ["--gitlab-project", "grp/proj"]
BREAKS = {"LF": "\n", "CR": "\r", "NEL": "\x85", "LS": "\u2028", "PS": "\u2029"}


# -- finding 1: line breaks in identifiers -------------------------------------------------------------

CASES = [
    ("github-actions", "--github-environment", [*GITHUB], "prod{}permissions:write-all"),
    ("github-actions", "--github-ref", [*GITHUB], "refs/heads/main{}permissions:write-all"),
    ("gitlab-ci", "--gitlab-ref", [*GITLAB], "main{}before_script:[env]"),
    ("gitlab-ci", "--oidc-subject", ["--oidc-issuer", "https://gitlab.example.com"], "project_path:g/p{}x:y"),
]


@pytest.mark.parametrize("brk", BREAKS.values(), ids=BREAKS.keys())
@pytest.mark.parametrize(("fmt", "flag", "extra", "value"), CASES, ids=[c[1] for c in CASES])
def test_a_line_break_in_an_identifier_is_refused_by_export(
    cli: Any, fmt: str, flag: str, extra: list[str], value: str, brk: str
) -> None:
    run = cli("export", "-f", fmt, *OFFLINE, *extra, flag, value.format(brk))
    assert run.exit_code == 2, run.stdout
    assert run.stdout == ""
    assert run.stderr.startswith(f"Error: {flag}: ") and "line break" in run.stderr
    assert brk not in run.stderr.rstrip("\n") and len(run.stderr.splitlines()) == 1  # one paragraph, the value escaped


def test_a_line_break_in_the_config_files_subject_is_refused_before_any_aws_call(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    config = tmp_path / "ci.yaml"
    config.write_text(
        'role_name: deploy\ntarget_profile: b-admin\noidc:\n  issuer: "https://gitlab.example.com"\n'
        '  subject: "project_path:g/p:ref_type:branch:ref:main\\u2028before_script: [env]"\n',
        encoding="utf-8",
    )
    for command in (["plan"], ["apply", "--yes"], ["export", "-f", "gitlab-ci"]):
        sandbox.clear_calls()
        run = cli(*command, "--config", str(config))
        assert run.exit_code == 2, run.stdout
        assert f"config key 'oidc.subject' in {config}: " in run.stderr
        assert sandbox.calls() == []


def test_control_characters_in_tags_and_names_are_refused_by_plan(cli: Any, sandbox: Sandbox) -> None:
    for flag, value in (("--tag", "team=a\u2028b"), ("--github-environment", "prod\x1b]0;x\x07")):
        sandbox.clear_calls()
        extra = [*GITHUB] if flag.startswith("--github") else ["--source-profile", "a-admin"]
        run = cli("plan", "--target-profile", "b-admin", "--role-name", "deploy", *extra, flag, value)
        assert run.exit_code == 2 and flag in run.stderr and "\x1b" not in run.stderr
        assert sandbox.calls() == []


# -- finding 2: shell and GitHub-expression injection through --path -----------------------------------

HOSTILE_PATH = "/q$(id)`id`${HOME}q/"


def _run_script(lines: list[str], tmp_path: Path) -> list[list[str]]:
    """Run the job's script lines in sh with a stand-in `aws` that records its arguments."""
    log = tmp_path / "aws.log"
    fake = tmp_path / "bin" / "aws"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done >> {log}\nprintf "\\n" >> {log}\n')
    fake.chmod(0o755)
    env = {"PATH": f"{fake.parent}:{os.environ['PATH']}", "HOME": "/home-was-expanded", "AWS_ID_TOKEN": "t",
           "AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "token"), "AWS_ROLE_ARN": "hub"}  # fmt: skip
    subprocess.run(["sh", "-e", "-c", "\n".join(lines)], env=env, check=True, cwd=tmp_path)
    return [entry.rstrip("\0").split("\0") for entry in log.read_text().split("\n") if entry]


def test_the_gitlab_hub_job_runs_no_word_of_the_path(cli: Any, tmp_path: Path) -> None:
    run = cli("export", "-f", "gitlab-ci", "--source-profile", "a-admin", "--target-profile", "b-admin",
              "--role-name", "deploy", *GITLAB, "--gitlab-ref", "main", "--hub-role", "ci-hub",
              "--path", HOSTILE_PATH)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    job = yaml.safe_load(run.stdout)["deploy"]
    role = f"arn:aws:iam::{ACCOUNT_B}:role{HOSTILE_PATH}deploy"
    calls = _run_script(job["script"], tmp_path)
    assert ["configure", "set", "role_arn", role, "--profile", "target"] in calls
    assert not any("uid=" in word or "home-was-expanded" in word for call in calls for word in call)
    assert job["variables"]["AWS_ROLE_ARN"] == f"arn:aws:iam::{ACCOUNT_A}:role/ci-hub"


def test_gitlab_does_not_expand_a_dollar_in_the_role_variable(cli: Any) -> None:
    run = cli("export", "-f", "gitlab-ci", *OFFLINE, *GITLAB, "--gitlab-ref", "main", "--path", HOSTILE_PATH)
    assert run.exit_code == 0, run.stderr
    variable = yaml.safe_load(run.stdout)["deploy"]["variables"]["AWS_ROLE_ARN"]
    assert variable == {"value": f"arn:aws:iam::{ACCOUNT_B}:role{HOSTILE_PATH}deploy", "expand": False}


@pytest.mark.parametrize("hub", [False, True], ids=["direct", "hub"])
def test_github_evaluates_no_expression_from_the_path(cli: Any, hub: bool) -> None:
    path = "/${{github.actor}}'}}/"
    where = ["--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", "deploy", "--hub-role",
             "ci-hub"] if hub else OFFLINE  # fmt: skip
    run = cli("export", "-f", "github-actions", *where, *GITHUB, "--github-ref", "refs/heads/main", "--path", path)
    assert run.exit_code == 0, run.stderr
    steps = yaml.safe_load(run.stdout)["jobs"]["deploy"]["steps"]
    role = github_evaluates(steps[-2]["with"]["role-to-assume"])
    assert role == f"arn:aws:iam::{ACCOUNT_B}:role{path}deploy"


def test_terraform_and_aws_config_take_hostile_paths_and_tags_as_values(cli: Any) -> None:
    path, description = "/${path.cwd}%{if(true)}x%{endif}$(id)/", 'd${var.x} %{ for x in y }"\\'
    run = cli("export", "-f", "terraform-role", *OFFLINE, "--principal", f"arn:aws:iam::{ACCOUNT_A}:user/ci-user",
              "--path", path, "--description", description)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    pairs = (line.split(" = ", 1) for line in run.stdout.splitlines() if " = " in line)
    attributes = {key.strip(): value.strip() for key, value in pairs}
    assert hcl_string_value(attributes["path"]) == path
    assert hcl_string_value(attributes["description"]) == description
    alias = cli("export", "-f", "terraform", *OFFLINE, "--principal", f"arn:aws:iam::{ACCOUNT_A}:user/ci-user",
                "--alias", 'x"${var.y}')  # fmt: skip
    assert alias.exit_code == 2 and "--alias" in alias.stderr and alias.stdout == ""
    ini = cli("export", "-f", "aws-config", *OFFLINE, "--principal", f"arn:aws:iam::{ACCOUNT_A}:user/ci-user",
              "--path", "/a;b#c[d]$(id)/")  # fmt: skip
    assert ini.exit_code == 0, ini.stderr
    import configparser

    parser = configparser.RawConfigParser()
    parser.read_string(ini.stdout)
    assert parser.sections() == ["profile deploy"]
    assert parser["profile deploy"]["role_arn"] == f"arn:aws:iam::{ACCOUNT_B}:role/a;b#c[d]$(id)/deploy"


# -- finding 8: a YAML alias bomb ---------------------------------------------------------------------


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


PEAK = """import atexit, os, resource, runpy, sys
atexit.register(lambda: open(os.environ["PEAK_FILE"], "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
sys.argv = ["trust-bootstrap", *sys.argv[1:]]
runpy.run_module("bootstrap", run_name="__main__")
"""


def test_an_alias_bomb_is_refused_quickly_in_little_memory(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join([*lines, "role_name: x"]) + "\n")
    assert bomb.stat().st_size < 1024  # 9**9 strings once expanded
    plain = tmp_path / "plain.yaml"
    plain.write_text("role_name: x\nno_such_key: 1\n")

    def run(config: Path) -> tuple[subprocess.CompletedProcess[str], int]:
        peak = tmp_path / f"{config.stem}.peak"
        env = {**os.environ, "TRUST_BOOTSTRAP_NO_CACHE": "1", "PEAK_FILE": str(peak)}
        done = subprocess.run([sys.executable, "-c", PEAK, "plan", "--config", str(config)], env=env,
                              capture_output=True, text=True, check=False, timeout=300, preexec_fn=_limit_memory)  # fmt: skip
        return done, int(peak.read_text()) if peak.exists() else 1 << 40

    baseline, baseline_kib = run(plain)  # refused too (an unknown key): start-up and one small file
    refused, refused_kib = run(bomb)
    assert baseline.returncode == refused.returncode == 2, refused.stderr[-500:]
    assert "alias" in refused.stderr or "anchor" in refused.stderr
    assert len(refused.stderr) < 400 and "Traceback" not in refused.stderr
    assert refused_kib < baseline_kib + 20 * 1024  # KiB: no more than 20 MiB above refusing a plain file


# -- finding 9: files that are not text ----------------------------------------------------------------


SURROGATE = b'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"\\ud800"}]}'
NOT_UTF8 = b'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"\xff"}]}'


@pytest.mark.parametrize(
    ("content", "needle"), [(SURROGATE, "lone surrogate"), (NOT_UTF8, "not UTF-8")], ids=["lone-surrogate", "not-utf8"]
)
def test_a_policy_file_that_is_not_text_is_refused_before_any_call(
    cli: Any, sandbox: Sandbox, tmp_path: Path, content: bytes, needle: str
) -> None:
    policy = tmp_path / "odd.json"
    policy.write_bytes(content)
    sandbox.clear_calls()
    run = cli("apply", "--yes", "--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", "deploy",
              "--inline-policy", f"odd={policy}")  # fmt: skip
    assert run.exit_code == 2, run.stderr
    assert str(policy) in run.stderr and needle in run.stderr and "Traceback" not in run.stderr
    assert sandbox.calls() == []


def test_a_token_file_that_is_not_text_is_refused_before_any_call(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_bytes(b"eyJ\xff\xfe.e30.sig")
    sandbox.clear_calls()
    run = cli("apply", "--yes", "--target-profile", "b-admin", "--role-name", "deploy", *GITHUB,
              "--github-ref", "refs/heads/main", "--web-identity-token-file", str(token))  # fmt: skip
    assert run.exit_code == 2, run.stderr
    assert str(token) in run.stderr and "Traceback" not in run.stderr
    assert sandbox.calls() == []
    assert json.dumps(run.stderr).isascii()
