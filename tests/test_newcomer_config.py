"""Issue 25, item 5: config keys are honoured like their flags. Flags win over the file, for every
pair of settings that exclude each other; targets_from_org and management_profile work from the
file; every unknown key is named at once."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from bootstrap.sandbox.server import Sandbox
from tests.conftest import CI_USER_ARN

IAM_BASE = {"source_profile": "a-admin", "target_profile": "b-admin", "role_name": "newcomer", "principal": CI_USER_ARN}
CI_BASE = {"target_profile": "b-admin", "role_name": "newcomer"}
REPO = "octo-org/octo-repo"
ISSUER = "https://issuer.example.com"
UUID_A = "11111111-2222-3333-4444-555555555555"
UUID_B = "66666666-7777-8888-9999-000000000000"


# Each member of a group of EXCLUSIVE settings: (the trust it belongs to, its file form, its flags,
# what the plan shows when it is in force (or None), and the same for the file's value).
MEMBERS: dict[str, tuple[dict[str, Any], dict[str, Any], list[str], str | None, str | None]] = {
    "external_id": (IAM_BASE, {"external_id": "id-from-the-file"}, ["--external-id", "id-from-the-flag"],
                    "ExternalId = id-from-the-flag", "id-from-the-file"),
    "generate_external_id": (IAM_BASE, {"generate_external_id": True}, ["--generate-external-id"], None, None),
    "github.ref": (CI_BASE, {"github": {"repo": REPO, "ref": "refs/heads/from-file"}},
                   ["--github-ref", "refs/heads/from-flag"], "ref:refs/heads/from-flag", "ref:refs/heads/from-file"),
    "github.environment": (CI_BASE, {"github": {"repo": REPO, "environment": "from-file"}},
                           ["--github-environment", "from-flag"], "environment:from-flag", "environment:from-file"),
    "github.pull_request": (CI_BASE, {"github": {"repo": REPO, "pull_request": True}}, ["--github-pull-request"],
                            f"{REPO}:pull_request", f"{REPO}:pull_request"),
    "github": (CI_BASE, {"github": {"repo": "octo-org/from-file", "ref": "refs/heads/main"}},
               ["--github-repo", "octo-org/from-flag", "--github-ref", "refs/heads/main"],
               "repo:octo-org/from-flag", "octo-org/from-file"),
    "oidc.subject": (CI_BASE, {"oidc": {"issuer": ISSUER, "subject": "system:from-file"}},
                     ["--oidc-issuer", ISSUER, "--oidc-subject", "system:from-flag"], "system:from-flag",
                     "system:from-file"),
    "gitlab": (CI_BASE, {"gitlab": {"project": "grp/from-file", "ref": "main"}},
               ["--gitlab-project", "grp/from-flag", "--gitlab-ref", "main"], "grp/from-flag", "grp/from-file"),
    "tfc": (CI_BASE, {"tfc": {"organization": "from-file", "workspace": "prod"}},
            ["--tfc-organization", "from-flag", "--tfc-workspace", "prod"], "organization:from-flag",
            "organization:from-file"),
    # the registry's platforms (core/platforms.py): a section each, its flags beat the file's others
    "circleci": (CI_BASE, {"circleci": {"org_id": UUID_A, "project_id": UUID_B}},
                 ["--circleci-org-id", UUID_B, "--circleci-project-id", UUID_A], f"org/{UUID_B}/project/{UUID_A}",
                 f"org/{UUID_A}/project/{UUID_B}"),
    "bitbucket": (CI_BASE, {"bitbucket": {"workspace": "acme", "workspace_uuid": UUID_A, "repository_uuid": UUID_A}},
                  ["--bitbucket-workspace", "acme", "--bitbucket-workspace-uuid", UUID_A,
                   "--bitbucket-repository-uuid", UUID_B], f"{{{UUID_B}}}:*", f"{{{UUID_A}}}:*"),
    "buildkite": (CI_BASE, {"buildkite": {"organization": "from-file", "pipeline": "deploy"}},
                  ["--buildkite-organization", "from-flag", "--buildkite-pipeline", "deploy"],
                  "organization:from-flag", "organization:from-file"),
}  # fmt: skip

GROUPS = (
    ("external_id", "generate_external_id"),
    ("github.ref", "github.environment", "github.pull_request"),
    ("github", "oidc.subject"),
    ("github", "gitlab", "tfc", "circleci", "bitbucket", "buildkite"),
)
PAIRS = sorted({(file_key, flag_key) for group in GROUPS for file_key, flag_key in itertools.permutations(group, 2)})


def test_the_table_covers_every_exclusive_pair() -> None:
    from bootstrap.config.model import EXCLUSIVE

    assert set(EXCLUSIVE) == set(GROUPS)  # a new pair in the code gets its row here
    assert {m for group in GROUPS for m in group} == set(MEMBERS)
    assert len(PAIRS) == 40  # 2 + 6 + 2 + 30 ordered pairs


@pytest.mark.parametrize(("file_key", "flag_key"), PAIRS, ids=[f"file-{a}-vs-flag-{b}" for a, b in PAIRS])
def test_a_flag_wins_over_the_file_key_it_excludes(cli: Any, tmp_path: Path, file_key: str, flag_key: str) -> None:
    base, file_form, _, _, loser = MEMBERS[file_key]
    _, _, flags, winner, _ = MEMBERS[flag_key]
    config = tmp_path / "trust.yaml"
    config.write_text(json.dumps({**base, **file_form}))
    run = cli("plan", "--config", str(config), *flags)
    assert run.exit_code == 0, run.stdout + run.stderr
    if winner is not None:
        assert winner in run.stdout, run.stdout
    if loser is not None and loser != winner:
        assert loser not in run.stdout, run.stdout


def test_two_flags_that_exclude_each_other_are_still_refused(cli: Any) -> None:
    args = ["--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", "x", "--principal"]
    run = cli("plan", *args, CI_USER_ARN, "--external-id", "abc", "--generate-external-id")
    assert run.exit_code == 2
    assert "exclude each other" in run.stderr


def _org_file(tmp_path: Path, sandbox: Sandbox, **keys: Any) -> Path:
    config = tmp_path / "org.yaml"
    config.write_text(json.dumps({"source_profile": "a-admin", "principal": CI_USER_ARN, "role_name": "org-deploy",
                                  "external_id": "ext-2", **keys}))  # fmt: skip
    return config


def test_targets_from_org_in_the_config_file_plans_the_fleet(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    config = _org_file(tmp_path, sandbox, targets_from_org=sandbox.org_unit, management_profile="org-admin")
    run = cli("plan", "--config", str(config), "--output", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert sorted(t["account"] for t in run.json()["targets"]) == sorted(sandbox.org_members)


def test_targets_from_org_flag_reads_the_management_profile_from_the_file(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    config = _org_file(tmp_path, sandbox, management_profile="org-admin")
    run = cli("plan", "--config", str(config), "--targets-from-org", sandbox.org_unit, "--output", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert sorted(t["account"] for t in run.json()["targets"]) == sorted(sandbox.org_members)


def test_every_unknown_key_is_named_at_once_with_did_you_mean(cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "trust.yaml"
    config.write_text(json.dumps({"rol_name": "x", "target_profle": "b-admin", "colour": "blue",
                                  "source_profile": "a-admin"}))  # fmt: skip
    run = cli("plan", "--config", str(config))
    assert run.exit_code == 2
    message = run.stderr
    assert "3 unknown keys" in message, message
    assert "'rol_name' (did you mean 'role_name'?)" in message
    assert "'target_profle' (did you mean 'target_profile'?)" in message
    assert "'colour'" in message and "Known keys:" in message  # nothing close: the known keys are listed
    section = tmp_path / "ci.yaml"
    section.write_text(json.dumps({"role_name": "x", "github": {"rpo": REPO, "reff": "refs/heads/main"}}))
    run = cli("plan", "--config", str(section), "--target-profile", "b-admin")
    assert run.exit_code == 2
    assert "'rpo' (did you mean 'repo'?)" in run.stderr and "'reff' (did you mean 'ref'?)" in run.stderr
