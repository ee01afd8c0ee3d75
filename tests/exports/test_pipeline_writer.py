"""The registry platforms' pipeline snippets (exports/pipelines.py), property-tested: for any one-line
value in the role ARN (an IAM path may hold $, backticks, quotes, <<) and the audience, the snippet
parses back, as the platform reads it, to exactly that value, or is refused (ValueError, exit 2 at the
CLI); nothing in it is interpolated by the platform or expanded by the shell."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bootstrap.core import identifiers, platforms
from bootstrap.exports import pipelines
from bootstrap.exports.ci import CiExport

HOSTILE = ["$", "$$", "${X}", "$(id)", "`id`", "'", '"', "\\", "<<", ">>", "<< pipeline.id >>", ": ", "#", "%", "{"]
VALUE = (
    st.lists(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E)) | st.sampled_from(HOSTILE), max_size=6)
    .map("".join)
    .filter(lambda s: identifiers.first_unsafe(s) is None)
)
# what the shell reads literally: a single-quoted run, shlex.quote's "'", or a "$NAME" the writer means
QUOTED = re.compile("'[^']*'|\"'\"|\"\\$[A-Za-z_][A-Za-z0-9_]*\"")
ORG = "11111111-2222-3333-4444-555555555555"
TRUSTS = {
    # their jobs' token variables carry the platform's own aud (another one is refused: test_pipeline_combos)
    "circleci": lambda aud: platforms.circleci({"org_id": (ORG,), "project_id": (ORG,)}, None, False),
    "bitbucket": lambda aud: platforms.bitbucket(
        {"workspace": ("acme",), "workspace_uuid": (ORG,), "repository_uuid": (ORG,)}, None, False
    ),
    "buildkite": lambda aud: platforms.buildkite({"organization": ("acme",), "pipeline": ("deploy",)}, aud, False),
}


def buildkite_reads(value: str) -> str:
    """Buildkite's upload interpolation: $$ is a literal $; any other $ would be interpolated."""
    assert re.fullmatch(r"([^$]|\$\$)*", value), f"Buildkite would interpolate {value!r}"
    return value.replace("$$", "$")


def _read(platform: str, text: str) -> tuple[dict[str, str], list[list[str]]]:
    """(the environment, each script line's shell words) as the platform and a POSIX shell read them."""
    document: Any = yaml.safe_load(text)
    if platform == "circleci":
        job = document["jobs"]["deploy"]
        env, lines = dict(job["environment"]), [step["run"] for step in job["steps"]]
        assert "<<" not in text.split("\nversion:", 1)[1], "CircleCI would read << as a parameter"
    elif platform == "bitbucket":
        script = document["pipelines"]["default"][0]["step"]["script"]
        words = [shlex.split(line) for line in script]
        env = dict(w[1].split("=", 1) for w in words if w[0] == "export")
        lines = [line for line, w in zip(script, words, strict=True) if w[0] != "export"]
    else:
        step = document["steps"][0]
        env = {key: buildkite_reads(value) for key, value in step["env"].items()}
        lines = [buildkite_reads(line) for line in step["command"]]
    for line in lines:  # outside single quotes, no $ but a "$NAME" the writer reads, no backtick or quote
        bare = re.sub(QUOTED, "", line)
        assert not re.search(r"[$`'\"\\]", bare), line
    return env, [shlex.split(line) for line in lines]


@pytest.mark.parametrize("platform", sorted(TRUSTS))
@pytest.mark.parametrize("hub", [False, True])
@given(path=VALUE, audience=VALUE.filter(bool))
def test_any_value_reads_back_exactly_or_is_refused(platform: str, hub: bool, path: str, audience: str) -> None:
    role_arn = f"arn:aws:iam::222222222222:role/{path}/deploy"
    hub_arn = f"arn:aws:iam::111111111111:role/{path}/hub" if hub else None
    export = CiExport(TRUSTS[platform](audience), role_arn, hub_arn, "us-east-1", "deploy")
    try:
        text = pipelines.pipeline(export)
    except ValueError:
        assert platform == "circleci" and "<<" in role_arn  # the only refusal
        return
    env, words = _read(platform, text)
    assert env["AWS_ROLE_ARN"] == (hub_arn or role_arn)
    if hub:
        assert ["aws", "configure", "set", "role_arn", role_arn, "--profile", "target"] in words
        assert env["AWS_PROFILE"] == "target"
    if platform == "buildkite":
        assert words[0][:5] == ["buildkite-agent", "oidc", "request-token", "--audience", audience]
    assert words[-1] == ["aws", "sts", "get-caller-identity"]
