"""Help reads like the tools users know: panels, placeholders that say what an option takes, every
default shown, each command offering only the options it uses, --version and -h."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from bootstrap.cli.app import app

runner = CliRunner()


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_apply_help_groups_options_in_panels_with_placeholders_and_defaults() -> None:
    text = _help("apply")
    panels = [line.strip() for line in text.splitlines() if line.endswith("options:")]
    assert panels == [
        "Identity options:",
        "Role options:",
        "Conditions options:",
        "Verification options:",
        "Fleet options:",
        "CI without keys (OIDC) options:",
        "Output options:",
    ]
    assert "--source-profile PROFILE" in text and "--policy-arn ARN" in text and "--tag KEY=VALUE" in text
    assert "<str>" not in text and "list[str]" not in text and "range>" not in text
    # Defaults come from the one Config declaration and are shown once each.
    flat = "".join(text.split())  # the help wraps lines, at spaces and at hyphens
    for default in ("[default:3600]", "[default:trust-bootstrap-verify]", "[default:120]", "[default:/]"):
        assert flat.count(default) == 1, default
    assert "[default:8]" in flat  # --parallel


@pytest.mark.parametrize(
    ("command", "absent"),
    [
        ("verify", ["--generate-external-id", "--replaces", "--policy-arn", "--tag"]),
        ("export", ["--targets-from-org", "--parallel"]),
    ],
)
def test_each_command_offers_only_the_options_it_uses(command: str, absent: list[str]) -> None:
    text = _help(command)
    for flag in absent:
        assert flag not in text, f"{command} offers {flag}"


def test_plan_takes_the_same_options_as_apply() -> None:
    # plan says what apply would do: the same command line must work for both.
    def flags(text: str) -> set[str]:  # the options listed at the start of each help line
        return set(re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", text, re.MULTILINE))

    options = flags(_help("apply")) - {"--yes", "--adopt"}
    assert "--policy-arn" in options and "--verify-profile" in options
    plan = flags(_help("plan"))
    assert options <= plan, options - plan


def test_an_option_a_command_does_not_use_is_refused(cli: Any) -> None:
    run = cli("verify", "--role-name", "x", "--generate-external-id")
    assert run.exit_code == 2
    assert "No such option" in run.stderr


def test_teardown_lists_apply_s_other_options_apart() -> None:
    # teardown takes apply's command line (issue 25): the flags it ignores are named in one section of
    # their own, not mixed in with the options that decide what is removed.
    text = _help("teardown")
    options, _, symmetry = text.partition("Accepted for symmetry with apply (ignored):")
    assert "--policy-arn" in symmetry and "--verify-profile" in symmetry and "--adopt" in symmetry
    assert "--policy-arn" not in options and "--external-id" not in options
    assert "--role-name" in options and "--only" in options


def test_version_and_short_help() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"trust-bootstrap {version('trust-bootstrap')}"
    assert "Identity options:" in runner.invoke(app, ["apply", "-h"]).stdout


def test_one_declaration_drives_help_and_init(cli: Any, tmp_path: Any) -> None:
    # Every config key is described once (in Config): apply's help and init's comments say the same.
    from dataclasses import fields

    from bootstrap.config.model import Config

    help_text = " ".join(_help("apply").split())
    target = tmp_path / "trust.yaml"
    assert cli("init", str(target), "--role-name", "x").exit_code == 0
    written = target.read_text()
    for f in fields(Config):
        if f.name == "oidc":
            continue
        described = str(f.metadata["help"])
        assert " ".join(described.split()) in help_text, f.name
        assert f"# {described}\n" in written, f.name


COMMANDS = ("apply", "verify", "plan", "diagnose", "export", "init", "teardown", "sandbox")


def _entry_point(*args: str, whole_app: bool = False) -> subprocess.CompletedProcess[str]:
    """The entry point, help cache off: a run builds only the command it names (cli.app_for); or,
    with ``whole_app``, the app with every command built, under the same program name."""
    env = {**os.environ, "TRUST_BOOTSTRAP_NO_CACHE": "1", "COLUMNS": "100"}
    whole = "import sys; sys.argv[0] = 'trust-bootstrap'; from bootstrap.cli.app import app; app()"
    command = ["-c", whole] if whole_app else ["-m", "bootstrap"]
    return subprocess.run(
        [sys.executable, *command, *args], env=env, capture_output=True, text=True, check=False, timeout=120
    )


def test_a_run_sees_the_same_command_line_as_the_whole_app() -> None:
    top = _entry_point("--help")
    assert top.returncode == 0 and all(re.search(rf"^\s+{c}\s", top.stdout, re.M) for c in COMMANDS), top.stdout
    typo = _entry_point("aply", "--yes")
    assert typo.returncode == 2 and "No such command 'aply'. Did you mean 'apply'?" in typo.stderr
    for command in COMMANDS:
        page = _entry_point(command, "--help").stdout.replace("python -m bootstrap", "trust-bootstrap")
        assert page == _entry_point(command, "--help", whole_app=True).stdout, command
    bad = _entry_point("apply", "--no-such-flag")
    assert bad.returncode == 2 and "No such option: --no-such-flag" in bad.stderr
