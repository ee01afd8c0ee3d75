"""CI trusts as teams write them in 2026 (issue 29), through the CLI against the sandbox standing in for
GitHub Actions' issuer (so IAM's controls and STS's GitHub condition keys apply): many subjects, claim
conditions, a pinned reusable workflow, immutable repository IDs (typed or looked up from a local fake
GitHub API), each with tokens that must be admitted and tokens that must be refused."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bootstrap.sandbox import ci_claims
from tests.conftest import iam

HOST = "token.actions.githubusercontent.com"
REPO = "octo-org/octo-repo"
BASE = ["--target-profile", "b-admin", "--role-name", "gha-deploy", "--github-repo", REPO]
WORKFLOW = "octo-org/shared/.github/workflows/deploy.yml@refs/heads/main"


@pytest.fixture
def github(sandbox: Any) -> Any:
    """The sandbox's issuer standing in for token.actions.githubusercontent.com (and its minter for apply)."""
    sandbox.issuer.stand_in_for(ci_claims.GITHUB_ISSUER)
    return sandbox


def _statements() -> list[dict[str, Any]]:
    document = iam("b-admin").get_role(RoleName="gha-deploy")["Role"]["AssumeRolePolicyDocument"]
    return list(document["Statement"])


def _verify(cli: Any, github: Any, tmp_path: Path, args: list[str], **claims: Any) -> int:
    """verify with a token of GitHub's shape (``claims`` override it): the exit code (0 admitted)."""
    path = tmp_path / "token"
    repository = claims.pop("repository", REPO)
    path.write_text(github.issuer.mint(ci_claims.github_claims(repository, **claims)))
    run = cli("verify", *args, "--web-identity-token-file", str(path), "--verify-timeout", "1")
    assert path.read_text() not in run.stdout + run.stderr  # never printed
    return int(run.exit_code)


def _refused(code: int) -> bool:
    return code in (3, 7)


# -- 1. many subjects --------------------------------------------------------------------------------------


def test_repeated_refs_and_environments_each_admit_their_runs_exact_ones_never_as_patterns(
    cli: Any, github: Any, tmp_path: Path
) -> None:
    args = [*BASE, "--github-ref", "refs/heads/main", "--github-ref", "refs/tags/v*", "--github-ref",
            "refs/heads/release", "--github-environment", "prod", "--github-owner-id", "123456", "--github-repo-id",
            "456789", "--github-subject-format", "name"]  # fmt: skip
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    exact, patterns = _statements()
    assert sorted(exact["Condition"]["StringEquals"][f"{HOST}:sub"]) == [
        f"repo:{REPO}:environment:prod",
        f"repo:{REPO}:ref:refs/heads/main",
        f"repo:{REPO}:ref:refs/heads/release",
    ]
    assert "StringLike" not in exact["Condition"]  # an exact subject never becomes a pattern
    assert patterns["Condition"]["StringLike"] == {f"{HOST}:sub": f"repo:{REPO}:ref:refs/tags/v*"}
    assert f"{HOST}:sub" not in patterns["Condition"]["StringEquals"]
    assert cli("plan", *args, "--detailed-exitcode").exit_code == 0  # no changes after apply
    assert _verify(cli, github, tmp_path, args, ref="refs/heads/main") == 0
    assert _verify(cli, github, tmp_path, args, ref="refs/heads/release") == 0
    assert _verify(cli, github, tmp_path, args, ref="refs/tags/v1.2") == 0
    assert _verify(cli, github, tmp_path, args, environment="prod") == 0
    assert _refused(_verify(cli, github, tmp_path, args, ref="refs/heads/dev"))  # another ref
    assert _refused(_verify(cli, github, tmp_path, args, environment="staging"))
    assert _refused(_verify(cli, github, tmp_path, args, repository="octo-org/other-repo"))  # another repository


def test_a_config_file_takes_lists_and_the_static_proof_shows_each_run(cli: Any, github: Any, tmp_path: Path) -> None:
    config = tmp_path / "trust.yaml"
    config.write_text(
        "target_profile: b-admin\nrole_name: gha-deploy\ngithub:\n  repo: octo-org/octo-repo\n"
        "  ref: [refs/heads/main, refs/heads/next]\n  environment: prod\n  claims: {workflow: deploy}\n"
    )
    run = cli("apply", "-c", str(config), "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    (statement,) = _statements()
    equals = statement["Condition"]["StringEquals"]
    assert len(equals[f"{HOST}:sub"]) == 3
    assert equals[f"{HOST}:workflow"] == "deploy"
    for sub in equals[f"{HOST}:sub"]:
        assert sub in run.stdout
    assert cli("plan", "-c", str(config), "--detailed-exitcode").exit_code == 0


def test_gitlab_refs_and_generic_subjects_repeat_too(cli: Any, sandbox: Any) -> None:
    args = ["--target-profile", "b-admin", "--role-name", "gl", "--gitlab-project", "grp/proj",
            "--gitlab-ref", "main", "--gitlab-ref", "release", "--no-verify"]  # fmt: skip
    assert cli("apply", *args, "--yes").exit_code == 0
    document = iam("b-admin").get_role(RoleName="gl")["Role"]["AssumeRolePolicyDocument"]
    subs = document["Statement"][0]["Condition"]["StringEquals"]["gitlab.com:sub"]
    assert sorted(subs) == ["project_path:grp/proj:ref_type:branch:ref:main",
                            "project_path:grp/proj:ref_type:branch:ref:release"]  # fmt: skip
    generic = ["--target-profile", "b-admin", "--role-name", "gen", "--oidc-issuer", sandbox.issuer.url,
               "--oidc-subject", "job:a", "--oidc-subject", "job:b"]  # fmt: skip
    assert cli("apply", *generic, "--yes").exit_code == 0
    assert cli("plan", *generic, "--detailed-exitcode").exit_code == 0


# -- 2. claim conditions -----------------------------------------------------------------------------------


def test_claim_conditions_are_string_equals_on_the_keys_sts_passes(cli: Any, github: Any, tmp_path: Path) -> None:
    args = [*BASE, "--github-ref", "refs/heads/main", "--github-claim", "workflow=deploy", "--github-claim",
            "actor=octocat", "--github-claim", "actor=hubot"]  # fmt: skip
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr  # proved with a minted token that carries the claims
    (statement,) = _statements()
    equals = statement["Condition"]["StringEquals"]
    assert equals[f"{HOST}:workflow"] == "deploy"
    assert sorted(equals[f"{HOST}:actor"]) == ["hubot", "octocat"]
    assert cli("plan", *args, "--detailed-exitcode").exit_code == 0
    assert "Claim:       StringEquals token.actions.githubusercontent.com:workflow = deploy" in run.stdout
    planned = cli("plan", *args, "-o", "json").json()["ci"]
    assert planned["conditions"] == {"workflow": ["deploy"], "actor": ["octocat", "hubot"]}
    assert _verify(cli, github, tmp_path, args, workflow="deploy", actor="hubot") == 0
    assert _refused(_verify(cli, github, tmp_path, args, workflow="release", actor="octocat"))
    assert _refused(_verify(cli, github, tmp_path, args, workflow="deploy", actor="mallory"))


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (["--github-claim", "event_name=push"], ["event_name", "job_workflow_ref", "repository_owner_id"]),
        (["--github-claim", "run_id=1"], ["run_id", "supported"]),
        (["--github-claim", "workflow"], ["KEY=VALUE"]),
        (["--github-claim", "repository_id=12"], ["--github-repo-id"]),
        (["--github-claim", "environment=prod"], ["repo:OWNER/REPO:environment:NAME", "--github-environment"]),
        (["--github-workflow", "octo-org/shared/.github/workflows/deploy.yml"], ["@REF"]),
        (["--github-workflow", "octo-org/shared/.github/workflows/${{ github.token }}.yml@main"], ["FILE.yml@REF"]),
        (["--github-subject-format", "immutable"], ["--github-owner-id", "GITHUB_TOKEN"]),
        (["--github-subject-format", "ids"], ["name, immutable or both"]),
        (
            ["--oidc-issuer", "https://ghes.example.com/_services/token", "--github-claim", "workflow=deploy"],
            ["Enterprise Server", "admit nothing"],
        ),
    ],
)
def test_bad_claim_input_exits_2_before_any_write(cli: Any, github: Any, extra: list[str], needles: list[str]) -> None:
    run = cli("apply", *BASE, "--github-ref", "refs/heads/main", *extra, "--yes")
    assert run.exit_code == 2, run.stdout + run.stderr
    for needle in needles:
        assert needle in run.stderr
    assert not [c for c in github.calls() if c.is_write]
    as_json = cli("plan", *BASE, "--github-ref", "refs/heads/main", *extra, "-o", "json")
    assert as_json.exit_code == 2
    assert json.loads(as_json.stdout or as_json.stderr)["error"]


# -- 3. reusable workflows -----------------------------------------------------------------------------------


def test_a_pinned_reusable_workflow_admits_only_its_jobs(cli: Any, github: Any, tmp_path: Path) -> None:
    args = [*BASE, "--github-environment", "prod", "--github-workflow", WORKFLOW]
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    (statement,) = _statements()
    assert statement["Condition"]["StringEquals"][f"{HOST}:job_workflow_ref"] == WORKFLOW
    assert _verify(cli, github, tmp_path, args, environment="prod", job_workflow_ref=WORKFLOW) == 0
    other = WORKFLOW.replace("deploy.yml", "other.yml")
    assert _refused(_verify(cli, github, tmp_path, args, environment="prod", job_workflow_ref=other))
    moved = WORKFLOW.replace("refs/heads/main", "refs/heads/feature")
    assert _refused(_verify(cli, github, tmp_path, args, environment="prod", job_workflow_ref=moved))


# -- 4. immutable identity -----------------------------------------------------------------------------------

IDS = ["--github-owner-id", "123456", "--github-repo-id", "456789"]


def test_known_ids_admit_both_formats_and_pin_the_repository_id(cli: Any, github: Any, tmp_path: Path) -> None:
    args = [*BASE, "--github-ref", "refs/heads/main", *IDS]
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "Warning" not in run.stderr
    (statement,) = _statements()
    equals = statement["Condition"]["StringEquals"]
    assert sorted(equals[f"{HOST}:sub"]) == [
        "repo:octo-org/octo-repo:ref:refs/heads/main",
        "repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main",
    ]
    assert equals[f"{HOST}:repository_id"] == "456789"
    assert equals[f"{HOST}:repository_owner_id"] == "123456"
    assert cli("plan", *args, "--detailed-exitcode").exit_code == 0
    assert _verify(cli, github, tmp_path, args) == 0  # an older repository: names
    assert _verify(cli, github, tmp_path, args, immutable_subject=True) == 0  # a new one: IDs
    # The same name, deleted and re-created: a new ID, in either format.
    assert _refused(_verify(cli, github, tmp_path, args, repository_id="999999"))
    assert _refused(_verify(cli, github, tmp_path, args, repository_id="999999", immutable_subject=True))


def test_immutable_only_and_the_repository_id_alone(cli: Any, github: Any, tmp_path: Path) -> None:
    args = [*BASE, "--github-ref", "refs/heads/main", *IDS, "--github-subject-format", "immutable"]
    assert cli("apply", *args, "--yes").exit_code == 0
    (statement,) = _statements()
    sub = statement["Condition"]["StringEquals"][f"{HOST}:sub"]
    assert sub == "repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main"
    assert _refused(_verify(cli, github, tmp_path, args))  # the name format
    alone = ["--target-profile", "b-admin", "--role-name", "gha-deploy", "--github-repo-id", "456789",
             "--github-ref", "refs/heads/main"]  # fmt: skip
    run = cli("apply", *alone, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    (statement,) = _statements()
    # IAM's control for GitHub's provider: the sub is still evaluated, narrowed by the repository ID.
    assert statement["Condition"]["StringLike"][f"{HOST}:sub"] == "repo:*:ref:refs/heads/main"
    assert statement["Condition"]["StringEquals"][f"{HOST}:repository_id"] == "456789"
    assert _verify(cli, github, tmp_path, alone) == 0
    assert _verify(cli, github, tmp_path, alone, immutable_subject=True) == 0
    assert _refused(_verify(cli, github, tmp_path, alone, repository_id="999999"))
    assert _refused(_verify(cli, github, tmp_path, alone, ref="refs/heads/dev"))


def test_plan_and_apply_warn_when_the_ids_are_unknown(cli: Any, github: Any) -> None:
    run = cli("plan", *BASE, "--github-ref", "refs/heads/main")
    assert run.exit_code == 0, run.stderr
    assert "Warning" in run.stderr
    assert "--github-repo-id" in run.stderr
    assert "2026-07-15" in run.stderr


class _FakeGithub(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        _FakeGithub.seen.append((self.path, self.headers.get("Authorization")))
        if self.path != "/api/v3/repos/octo-org/octo-repo":
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps({"id": 456789, "full_name": REPO, "owner": {"login": "octo-org", "id": 123456}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def fake_github() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeGithub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeGithub.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    server.shutdown()
    server.server_close()


def test_the_ids_are_looked_up_with_a_token(
    cli: Any, github: Any, fake_github: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "gh-token"
    token.write_text("ghp_fake_local_token\n")
    args = [*BASE, "--github-ref", "refs/heads/main", "--github-api-url", fake_github]
    run = cli("apply", *args, "--github-token-file", str(token), "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "Warning" not in run.stderr
    assert ("/api/v3/repos/octo-org/octo-repo", "Bearer ghp_fake_local_token") in _FakeGithub.seen
    assert "ghp_fake_local_token" not in run.stdout + run.stderr
    (statement,) = _statements()
    assert statement["Condition"]["StringEquals"][f"{HOST}:repository_id"] == "456789"
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_fake_local_token")
    assert cli("plan", *args, "--detailed-exitcode").exit_code == 0
    gone = [*BASE[:-1], "octo-org/gone", "--github-ref", "refs/heads/main", "--github-api-url", fake_github]
    ambient = cli("plan", *gone)  # a GITHUB_TOKEN that happens to be set: warned, the trust stays on names
    assert ambient.exit_code == 0, ambient.stderr
    assert "no such repository" in ambient.stderr
    asked = cli("plan", *gone, "--github-token-file", str(token))  # the IDs were asked for: refused
    assert asked.exit_code == 2
    assert "--github-repo-id" in asked.stderr
    needed = cli("plan", *gone, "--github-subject-format", "immutable")
    assert needed.exit_code == 2


# -- 8. the exports carry what the trust requires ----------------------------------------------------------


def test_the_github_actions_export_triggers_each_ref_and_calls_the_pinned_workflow(cli: Any, github: Any) -> None:
    import yaml

    args = [*BASE, "--github-ref", "refs/heads/main", "--github-ref", "refs/tags/v*", "--github-claim",
            "actor=octocat"]  # fmt: skip
    assert cli("apply", *args, "--yes").exit_code == 0
    run = cli("export", "-f", "github-actions", *args)
    assert run.exit_code == 0, run.stderr
    workflow = yaml.safe_load(run.stdout)
    assert workflow["on"] == {"push": {"branches": ["main"], "tags": ["v*"]}}
    assert "# The token must carry actor = octocat" in run.stdout
    pinned = [*BASE, "--github-environment", "prod", "--github-workflow", WORKFLOW]
    assert cli("apply", *pinned, "--yes").exit_code == 0
    run = cli("export", "-f", "github-actions", *pinned)
    assert run.exit_code == 0, run.stderr
    job = yaml.safe_load(run.stdout)["jobs"]["deploy"]
    assert job["uses"] == "octo-org/shared/.github/workflows/deploy.yml@main"


# -- 6. diagnose explains each condition ---------------------------------------------------------------------

ROLE_ARN = "arn:aws:iam::222222222222:role/gha-deploy"


def _diagnose(cli: Any, github: Any, tmp_path: Path, **claims: Any) -> dict[str, dict[str, Any]]:
    path = tmp_path / "diag-token"
    repository = claims.pop("repository", REPO)
    path.write_text(github.issuer.mint(ci_claims.github_claims(repository, **claims)))
    run = cli("diagnose", "--role-arn", ROLE_ARN, "--target-profile", "b-admin", "--web-identity-token-file",
              str(path), "-o", "json")  # fmt: skip
    assert path.read_text() not in run.stdout + run.stderr
    return {c["id"]: c for c in run.json()["checks"]}


def test_diagnose_reports_each_claim_condition_and_names_the_one_that_refuses(
    cli: Any, github: Any, tmp_path: Path
) -> None:
    args = [*BASE, "--github-ref", "refs/heads/main", *IDS, "--github-claim", "workflow=deploy",
            "--github-workflow", WORKFLOW]  # fmt: skip
    assert cli("apply", *args, "--yes").exit_code == 0
    good = _diagnose(cli, github, tmp_path, job_workflow_ref=WORKFLOW)
    assert {k: v["status"] for k, v in good.items() if k.startswith("claim-")} == {
        "claim-workflow": "pass", "claim-job_workflow_ref": "pass", "claim-repository_id": "pass",
        "claim-repository_owner_id": "pass",
    }  # fmt: skip
    assert good["live-assume"]["status"] == "pass"
    assert good["aud-condition"]["status"] == "pass"
    other = WORKFLOW.replace("deploy.yml", "other.yml")
    bad = _diagnose(cli, github, tmp_path, job_workflow_ref=other, workflow="release")
    assert bad["claim-job_workflow_ref"]["status"] == "fail"
    assert other in bad["claim-job_workflow_ref"]["summary"]
    assert bad["claim-workflow"]["status"] == "fail"
    assert "'release'" in bad["claim-workflow"]["summary"]
    assert bad["claim-repository_id"]["status"] == "pass"
    assert bad["live-assume"]["status"] == "fail"
    assert bad["sub"]["status"] == "pass"
    assert bad["aud-condition"]["status"] == "pass"  # every condition reported: only the claims refuse
    recreated = _diagnose(cli, github, tmp_path, job_workflow_ref=WORKFLOW, repository_id="999999")
    assert recreated["claim-repository_id"]["status"] == "fail"
    assert recreated["sub"]["status"] == "pass"  # the same name: only the ID tells them apart


def test_diagnose_names_a_sub_in_the_other_format(cli: Any, github: Any, tmp_path: Path) -> None:
    assert cli("apply", *BASE, "--github-ref", "refs/heads/main", "--yes").exit_code == 0
    checks = _diagnose(cli, github, tmp_path, immutable_subject=True)
    assert checks["sub"]["status"] == "fail"
    assert "immutable" in checks["sub"]["summary"]
    assert "--github-repo-id" in checks["sub"]["fix"]
    args = [*BASE, "--github-ref", "refs/heads/main", *IDS, "--github-subject-format", "immutable"]
    assert cli("apply", *args, "--yes").exit_code == 0
    checks = _diagnose(cli, github, tmp_path)
    assert checks["sub"]["status"] == "fail"
    assert "--github-subject-format both" in checks["sub"]["fix"]


def test_diagnose_of_a_described_run_says_which_claims_it_cannot_judge(cli: Any, github: Any) -> None:
    assert (
        cli("apply", *BASE, "--github-ref", "refs/heads/main", "--github-claim", "actor=octocat", "--yes").exit_code
        == 0
    )
    base = ["diagnose", "--role-arn", ROLE_ARN, "--target-profile", "b-admin", "--github-repo", REPO,
            "--github-ref", "refs/heads/main", "-o", "json"]  # fmt: skip
    unknown = {c["id"]: c for c in cli(*base).json()["checks"]}
    assert unknown["claim-actor"]["status"] == "unknown"
    refused = cli(*base, "--github-claim", "actor=mallory")
    assert refused.exit_code == 9
    checks = {c["id"]: c for c in refused.json()["checks"]}
    assert checks["claim-actor"]["status"] == "fail"
    assert cli(*base, "--github-claim", "actor=octocat").exit_code == 0
    assert cli(*base, "--github-claim", "event_name=push").exit_code == 2


# -- 5. more platforms, each a registry entry ------------------------------------------------------------------

ORG = "11111111-2222-3333-4444-555555555555"
PROJECT = "66666666-7777-8888-9999-000000000000"
OTHER = "99999999-7777-8888-9999-000000000000"


def _platform_verify(cli: Any, sandbox: Any, tmp_path: Path, args: list[str], **claims: Any) -> int:
    path = tmp_path / "platform-token"
    path.write_text(sandbox.issuer.mint(claims))
    run = cli("verify", *args, "--web-identity-token-file", str(path), "--verify-timeout", "1")
    return int(run.exit_code)


def test_circleci_admits_one_projects_users_and_refuses_another_project(cli: Any, sandbox: Any, tmp_path: Path) -> None:
    issuer = f"https://oidc.circleci.com/org/{ORG}"
    sandbox.issuer.stand_in_for(issuer)
    args = ["--target-profile", "b-admin", "--role-name", "circle", "--circleci-org-id", ORG,
            "--circleci-project-id", PROJECT]  # fmt: skip
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "Warning" not in run.stderr  # one project's users are not organization-wide
    document = iam("b-admin").get_role(RoleName="circle")["Role"]["AssumeRolePolicyDocument"]
    condition = document["Statement"][0]["Condition"]
    host = issuer.removeprefix("https://")
    assert condition["StringEquals"] == {f"{host}:aud": ORG}
    assert condition["StringLike"] == {f"{host}:sub": f"org/{ORG}/project/{PROJECT}/user/*"}
    assert cli("plan", *args, "--detailed-exitcode").exit_code == 0
    good = {"iss": issuer, "aud": ORG, "sub": f"org/{ORG}/project/{PROJECT}/user/abc"}
    assert _platform_verify(cli, sandbox, tmp_path, args, **good) == 0
    assert _refused(
        _platform_verify(cli, sandbox, tmp_path, args, **{**good, "sub": f"org/{ORG}/project/{OTHER}/user/abc"})
    )
    wide = cli("plan", "--target-profile", "b-admin", "--role-name", "circle-all", "--circleci-org-id", ORG)
    assert wide.exit_code == 2
    assert "--allow-org-wildcard" in wide.stderr
    bad = cli("plan", "--target-profile", "b-admin", "--role-name", "c", "--circleci-org-id", "not-a-uuid")
    assert bad.exit_code == 2
    assert "CircleCI" in bad.stderr


def test_buildkite_and_bitbucket_trusts_follow_their_documented_subjects(
    cli: Any, sandbox: Any, tmp_path: Path
) -> None:
    sandbox.issuer.stand_in_for("https://agent.buildkite.com")
    args = ["--target-profile", "b-admin", "--role-name", "bk", "--buildkite-organization", "acme",
            "--buildkite-pipeline", "deploy", "--buildkite-ref", "refs/heads/main"]  # fmt: skip
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    sub = "organization:acme:pipeline:deploy:ref:refs/heads/main:commit:0123abc:step:build"
    good = {"iss": "https://agent.buildkite.com", "aud": "sts.amazonaws.com", "sub": sub}
    assert _platform_verify(cli, sandbox, tmp_path, args, **good) == 0
    other = sub.replace("refs/heads/main", "refs/heads/dev")
    assert _refused(_platform_verify(cli, sandbox, tmp_path, args, **{**good, "sub": other}))
    other_org = sub.replace("acme", "evil")
    assert _refused(_platform_verify(cli, sandbox, tmp_path, args, **{**good, "sub": other_org}))
    issuer = "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc"
    sandbox.issuer.stand_in_for(issuer)
    bb = ["--target-profile", "b-admin", "--role-name", "bb", "--bitbucket-workspace", "acme",
          "--bitbucket-workspace-uuid", ORG, "--bitbucket-repository-uuid", PROJECT]  # fmt: skip
    run = cli("apply", *bb, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    good = {"iss": issuer, "aud": f"ari:cloud:bitbucket::workspace/{ORG}", "sub": f"{{{PROJECT}}}:{{{OTHER}}}"}
    assert _platform_verify(cli, sandbox, tmp_path, bb, **good) == 0
    assert _refused(_platform_verify(cli, sandbox, tmp_path, bb, **{**good, "sub": f"{{{OTHER}}}:{{{PROJECT}}}"}))
    assert cli("plan", *bb, "--detailed-exitcode").exit_code == 0


def test_each_platform_exports_its_pipeline_snippet(cli: Any, sandbox: Any) -> None:
    import yaml

    circle = ["--target-profile", "b-admin", "--role-name", "circle", "--circleci-org-id", ORG,
              "--circleci-project-id", PROJECT, "--no-verify"]  # fmt: skip
    assert cli("apply", *circle, "--yes").exit_code == 0
    run = cli("export", "-f", "pipeline", *circle[:-1])
    assert run.exit_code == 0, run.stderr
    job = yaml.safe_load(run.stdout)["jobs"]["deploy"]
    assert job["environment"]["AWS_ROLE_ARN"] == "arn:aws:iam::222222222222:role/circle"
    assert '"$CIRCLE_OIDC_TOKEN"' in job["steps"][0]["run"]
    assert f"org/{ORG}/project/{PROJECT}/user/*" in run.stdout  # the comments name the sub
    wrong = cli("export", "-f", "github-actions", *circle[:-1])
    assert wrong.exit_code == 2
    assert "--format pipeline" in wrong.stderr
    bk = ["--target-profile", "b-admin", "--role-name", "bk", "--buildkite-organization", "acme",
          "--buildkite-pipeline", "deploy"]  # fmt: skip
    assert cli("apply", *bk, "--no-verify", "--yes").exit_code == 0
    step = yaml.safe_load(cli("export", "-f", "pipeline", *bk).stdout)["steps"][0]
    assert step["command"][0] == (
        'buildkite-agent oidc request-token --audience sts.amazonaws.com > "$$AWS_WEB_IDENTITY_TOKEN_FILE"'
    )
    bb = ["--target-profile", "b-admin", "--role-name", "bb", "--bitbucket-workspace", "acme",
          "--bitbucket-workspace-uuid", ORG, "--bitbucket-repository-uuid", PROJECT]  # fmt: skip
    assert cli("apply", *bb, "--no-verify", "--yes").exit_code == 0
    step = yaml.safe_load(cli("export", "-f", "pipeline", *bb).stdout)["pipelines"]["default"][0]["step"]
    assert step["oidc"] is True
    assert 'printf %s "$BITBUCKET_STEP_OIDC_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"' in step["script"]


def test_diagnose_describes_a_platforms_run(cli: Any, sandbox: Any) -> None:
    args = ["--target-profile", "b-admin", "--role-name", "bk", "--buildkite-organization", "acme",
            "--buildkite-pipeline", "deploy", "--buildkite-ref", "refs/heads/main"]  # fmt: skip
    assert cli("apply", *args, "--no-verify", "--yes").exit_code == 0
    base = ["diagnose", "--role-arn", "arn:aws:iam::222222222222:role/bk", "--target-profile", "b-admin",
            "--buildkite-organization", "acme", "--buildkite-pipeline", "deploy", "-o", "json"]  # fmt: skip
    ok = cli(*base, "--buildkite-ref", "refs/heads/main")
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    run = cli(*base, "--buildkite-ref", "refs/heads/dev")
    assert run.exit_code == 9
    failed = {c["id"]: c for c in run.json()["checks"] if c["status"] == "fail"}
    assert "refs/heads/dev" in failed["sub"]["summary"]


def test_a_platforms_config_section_is_read_like_its_flags(cli: Any, sandbox: Any, tmp_path: Path) -> None:
    config = tmp_path / "circle.yaml"
    config.write_text(
        f"target_profile: b-admin\nrole_name: circle\ncircleci:\n  org_id: {ORG}\n  project_id: [{PROJECT}, {OTHER}]\n"
    )
    run = cli("apply", "-c", str(config), "--no-verify", "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    document = iam("b-admin").get_role(RoleName="circle")["Role"]["AssumeRolePolicyDocument"]
    subs = document["Statement"][0]["Condition"]["StringLike"][f"oidc.circleci.com/org/{ORG}:sub"]
    assert sorted(subs) == sorted(f"org/{ORG}/project/{p}/user/*" for p in (PROJECT, OTHER))
    assert cli("plan", "-c", str(config), "--detailed-exitcode").exit_code == 0


def test_claim_values_reach_the_exports_inert(cli: Any, github: Any) -> None:
    import yaml

    args = [*BASE, "--github-ref", "refs/heads/main", "--github-claim", "actor=${{ github.token }}", "--no-verify"]
    assert cli("apply", *args, "--yes").exit_code == 0
    run = cli("export", "-f", "github-actions", *args[:-1])
    assert run.exit_code == 0, run.stderr
    carrying = [line for line in run.stdout.splitlines() if "${{ github.token }}" in line]
    assert carrying
    assert all(line.startswith("#") for line in carrying)  # a comment: GitHub evaluates no expression there
    assert "github.token" not in json.dumps(yaml.safe_load(run.stdout))
    broken = cli("plan", *BASE, "--github-ref", "refs/heads/main", "--github-claim", "actor=a\nb")
    assert broken.exit_code == 2


def test_the_gitlab_export_runs_on_every_admitted_ref(cli: Any, sandbox: Any) -> None:
    import yaml

    args = ["--target-profile", "b-admin", "--role-name", "gl", "--gitlab-project", "grp/proj", "--gitlab-ref", "main",
            "--gitlab-ref", "release"]  # fmt: skip
    assert cli("apply", *args, "--no-verify", "--yes").exit_code == 0
    run = cli("export", "-f", "gitlab-ci", *args)
    assert run.exit_code == 0, run.stderr
    rules = yaml.safe_load(run.stdout)["deploy"]["rules"]
    assert rules == [{"if": '$CI_COMMIT_BRANCH == "main"'}, {"if": '$CI_COMMIT_BRANCH == "release"'}]


def test_a_github_token_in_the_environment_changes_nothing_for_other_trusts(
    cli: Any, github: Any, fake_github: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_fake_local_token")
    config = tmp_path / "iam.yaml"
    config.write_text(
        "source_profile: a-admin\ntarget_profile: b-admin\nrole_name: plain\n"
        "principal: arn:aws:iam::111111111111:user/ci-user\n"
    )
    assert cli("plan", "-c", str(config)).exit_code == 0
    gitlab = [
        "--target-profile",
        "b-admin",
        "--role-name",
        "gl",
        "--gitlab-project",
        "grp/proj",
        "--gitlab-ref",
        "main",
    ]
    assert cli("plan", *gitlab, "--github-api-url", fake_github).exit_code == 0
    assert _FakeGithub.seen == []  # asked only for a GitHub trust
    immutable = tmp_path / "gh.yaml"
    immutable.write_text(
        "target_profile: b-admin\nrole_name: gha-deploy\n"
        "github: {repo: octo-org/octo-repo, ref: refs/heads/main, subject_format: immutable}\n"
    )
    run = cli("apply", "-c", str(immutable), "--github-api-url", fake_github, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    (statement,) = _statements()
    sub = statement["Condition"]["StringEquals"][f"{HOST}:sub"]
    assert sub == "repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main"
    monkeypatch.delenv("GITHUB_TOKEN")
    refused = cli("plan", "-c", str(immutable))
    assert refused.exit_code == 2
    assert "GITHUB_TOKEN" in refused.stderr


def test_the_hub_topology_takes_the_same_subjects_and_claims(cli: Any, github: Any, tmp_path: Path) -> None:
    args = ["--source-profile", "a-admin", *BASE, "--hub-role", "ci-hub", "--github-ref", "refs/heads/main",
            "--github-environment", "prod", "--github-claim", "workflow=deploy", *IDS]  # fmt: skip
    run = cli("apply", *args, "--yes")
    assert run.exit_code == 0, run.stdout + run.stderr
    hub = iam("a-admin").get_role(RoleName="ci-hub")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    equals = hub["Condition"]["StringEquals"]
    assert len(equals[f"{HOST}:sub"]) == 4  # two runs, each in both formats
    assert equals[f"{HOST}:workflow"] == "deploy"
    assert cli("plan", *args, "--detailed-exitcode").exit_code == 0


def test_a_trust_over_iams_size_quota_exits_2_before_any_write(cli: Any, github: Any) -> None:
    refs = [arg for n in range(40) for arg in ("--github-ref", f"refs/heads/release-{n:02d}")]
    run = cli("apply", *BASE, *refs, "--yes")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "quota" in run.stderr
    assert not [c for c in github.calls() if c.is_write]


def test_a_ref_claim_narrows_the_exported_workflows_pushes(cli: Any, github: Any) -> None:
    import yaml

    env_run = cli("export", *BASE, "--github-environment", "prod", "--github-claim", "ref=refs/heads/release",
                  "-f", "github-actions", "--offline", "--target-account", "222222222222")  # fmt: skip
    assert env_run.exit_code == 0, env_run.stderr
    workflow = yaml.safe_load(env_run.stdout)
    assert workflow["on"]["push"] == {"branches": ["release"]}  # an environment job: the claim narrows it
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "prod"
    both = cli("export", *BASE, "--github-ref", "refs/heads/main", "--github-ref", "refs/heads/release",
               "--github-claim", "ref=refs/heads/release", "-f", "github-actions", "--offline",
               "--target-account", "222222222222")  # fmt: skip
    assert both.exit_code == 0, both.stderr
    assert yaml.safe_load(both.stdout)["on"]["push"] == {"branches": ["release"]}  # sub and claim both hold
