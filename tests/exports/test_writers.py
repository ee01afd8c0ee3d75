"""The exports' writers (bootstrap/exports/*write.py), property-tested: for any string, each writer's
output parses back, with the reader the platform uses (or a faithful model of it), to the same
structure as with a clean value, and the value comes back exactly; no shell word is expanded."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bootstrap.core import identifiers, oidc
from bootstrap.exports import ci, hclwrite, iniwrite, jsonwrite, shellwrite, yamlwrite
from bootstrap.exports.shellwrite import Var

# Every character, lone surrogates included (a JSON or YAML escape can make one), and the ones that
# break lines in YAML 1.1 or start expressions, weighted up so that every run meets them.
HOSTILE = ["\n", "\r", "\x85", "\u2028", "\u2029", "\x00", "\x1b", "${{", "}}", "${", "%{", "$(", "`", "'", '"',
           "\\", ": ", "#", "&a", "*a", "!!python/object", "\ud800", "\u202e", "$$", "%%"]  # fmt: skip
ANY = st.lists(st.text() | st.sampled_from(HOSTILE), max_size=6).map("".join)
TEXT = ANY.map(lambda s: s.replace("\ud800", ""))  # what a file or argv can carry: no lone surrogate


# -- models of the platforms' readers --------------------------------------------------------------------


def github_evaluates(value: str) -> str:
    """What GitHub Actions makes of a workflow value, following actions/runner's TemplateReader
    (ParseScalar, IsExpressionString): no ${{ -> the text itself; one expression that is a single
    string literal -> that string; anything else would be evaluated: fail."""
    start = value.find("${{")
    if start < 0:
        return value
    in_string, end = False, -1
    for i in range(start + 3, len(value)):
        if value[i] == "'":
            in_string = not in_string
        elif not in_string and value[i] == "}" and value[i - 1] == "}":
            end = i
            break
    assert start == 0 and end == len(value) - 1, f"GitHub would evaluate an expression in {value!r}"
    inner = value[3:-2].strip()
    assert inner.startswith("'") and inner.endswith("'") and len(inner) >= 2
    body = inner[1:-1]
    assert re.fullmatch(r"([^']|'')*", body), f"not one string literal: {inner!r}"
    return body.replace("''", "'")


_HCL_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def hcl_string_value(literal: str) -> str:
    """The value of one HCL quoted template that holds no interpolation (hclsyntax spec, Template
    Expressions): escapes decoded, $${ and %%{ read as literal ${ and %{; a live ${ or %{ fails."""
    assert literal.startswith('"') and literal.endswith('"')
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            kind = body[i + 1]
            if kind == "u":
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
            elif kind == "U":
                out.append(chr(int(body[i + 2 : i + 10], 16)))
                i += 10
            else:
                out.append(_HCL_ESCAPES[kind])
                i += 2
        elif body.startswith(("$${", "%%{"), i):
            out.append(body[i] + "{")
            i += 3
        elif body.startswith(("${", "%{"), i):
            raise AssertionError(f"a live template sequence in {literal!r}")
        else:
            assert c not in '"\n\r', f"an unescaped {c!r} in {literal!r}"
            out.append(c)
            i += 1
    return "".join(out)


# -- YAML ----------------------------------------------------------------------------------------------


@given(ANY, ANY)
def test_yaml_values_and_comments_never_leave_their_place(value: str, note: str) -> None:
    document = {"a": {"b": value, "list": [value, "x"]}, "n": 1, "flag": True}
    text = yamlwrite.dump(document, [note, "fixed"])
    assert all(line.isascii() for line in text.splitlines() if not line.startswith("#"))
    assert yaml.safe_load(text) == document
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert len(comments) == 2 and comments[1] == "# fixed"


@given(ANY)
def test_github_literal_reads_back_as_the_value(value: str) -> None:
    assert github_evaluates(yamlwrite.github_literal(value)) == value


@given(ANY)
def test_gitlab_variables_with_a_dollar_are_not_expanded(value: str) -> None:
    entry = yamlwrite.gitlab_variable(value)
    if isinstance(entry, str):
        assert entry == value and "$" not in value
    else:
        assert entry == {"value": value, "expand": False}


_GITLAB_STRING = re.compile(r"(\"(?P<d>.*?)\")|('(?P<s>.*?)')")  # Lexeme::String::PATTERN


@given(ANY)
def test_gitlab_rules_strings_read_back_whole(value: str) -> None:
    try:
        literal = yamlwrite.gitlab_string_literal(value)
    except ValueError:  # what the door refuses anyway, or what GitLab's lexer cannot hold
        assert ('"' in value and "'" in value) or identifiers.first_unsafe(value) is not None
        return
    found = _GITLAB_STRING.match(literal)
    assert found is not None and found.end() == len(literal)
    assert (found.group("d") if found.group("d") is not None else found.group("s")) == value


def _trust(environment: str) -> oidc.OidcTrust:
    return oidc.github_trust(
        "octo-org/octo-repo", ref=None, environment=environment, pull_request=False, owner_id=None, repo_id=None
    )


def _shape(document: Any) -> Any:
    """The structure without the values: keys and nesting only."""
    if isinstance(document, dict):
        return {key: _shape(value) for key, value in document.items()}
    if isinstance(document, list):
        return [_shape(item) for item in document]
    return type(document).__name__


@given(TEXT, TEXT)
def test_a_github_workflow_keeps_its_shape_whatever_the_values(environment: str, path_part: str) -> None:
    """Even past the door (the writers do not rely on it): a hostile environment or role ARN."""
    assume(environment)
    role = f"arn:aws:iam::222222222222:role/{path_part}/r"
    clean = yaml.safe_load(ci.github_actions(ci.CiExport(_trust("prod"), "arn:x", "arn:y", "us-east-1", "s")))
    text = ci.github_actions(ci.CiExport(_trust(environment), role, "arn:y", "us-east-1", "s"))
    workflow = yaml.safe_load(text)
    assert _shape(workflow) == _shape(clean)
    job = workflow["jobs"]["deploy"]
    assert github_evaluates(job["environment"]) == environment
    assert github_evaluates(job["steps"][1]["with"]["role-to-assume"]) == role


def _gitlab_trust(ref: str) -> oidc.OidcTrust:
    return oidc.gitlab_trust("grp/proj", ref=ref, ref_type="branch", host="gitlab.com", audience=None, hub_role="hub")


# A ref past the door: printable, and (for GitLab's rules:if) not both kinds of quote.
ONE_LINE = st.characters(exclude_categories=("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))
REF = st.lists(st.text(ONE_LINE, min_size=1) | st.sampled_from(["${{", "$(", "`", "'", ": ", "#", "&a"]), min_size=1,
               max_size=5).map("".join).map(lambda s: s.replace("'", "") if '"' in s else s).map(
    lambda s: s.replace("*", "").replace("?", "") or "main")  # a wildcard ref has no rules: another shape  # fmt: skip


@given(REF, TEXT)
def test_a_gitlab_job_keeps_its_shape_and_its_script_words(ref: str, path_part: str) -> None:
    assume(ref and "\0" not in path_part)
    role = f"arn:aws:iam::222222222222:role/{path_part}/r"
    clean = yaml.safe_load(ci.gitlab_ci(ci.CiExport(_gitlab_trust("main"), "arn:x", "arn:y", "us-east-1", "s")))
    job = yaml.safe_load(ci.gitlab_ci(ci.CiExport(_gitlab_trust(ref), role, "arn:y", "us-east-1", "s")))
    assert _shape(job) == _shape(clean)
    words = shlex.split(job["deploy"]["script"][3])
    assert words == ["aws", "configure", "set", "role_arn", role, "--profile", "target"]


# -- shell ---------------------------------------------------------------------------------------------


@given(ANY)
def test_a_shell_word_splits_back_to_the_value(value: str) -> None:
    if "\0" in value:
        with pytest.raises(ValueError):
            shellwrite.word(value)
        return
    assert shlex.split(shellwrite.line("aws", value, Var("AWS_ROLE_ARN"))) == ["aws", value, "$AWS_ROLE_ARN"]


@settings(max_examples=60)
@given(TEXT)
def test_no_shell_word_is_expanded(value: str) -> None:
    assume("\0" not in value)
    marker = "expanded-if-you-see-this"
    script = shellwrite.line("printf", "%s", value)
    env = {"PATH": os.environ["PATH"], "HOME": marker, "X": marker}
    run = subprocess.run(["sh", "-c", script], capture_output=True, env=env, check=True)
    assert run.stdout == value.encode("utf-8", "surrogateescape")


# -- HCL -----------------------------------------------------------------------------------------------


@given(ANY)
def test_an_hcl_string_reads_back_as_the_value(value: str) -> None:
    try:
        literal = hclwrite.string(value)
    except ValueError:
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in value)  # only what UTF-8 cannot carry is refused
        return
    assert "\n" not in literal and hcl_string_value(literal) == value


@given(st.dictionaries(TEXT, TEXT, max_size=3))
def test_an_hcl_json_expression_keeps_keys_and_values(document: dict[str, str]) -> None:
    text = hclwrite.json_expression({"Statement": [document]}, "  ")
    strings = re.findall(r'"(?:[^"\\]|\\.)*"', text)
    decoded = [hcl_string_value(s) for s in strings]
    assert decoded == ["Statement", *(x for pair in document.items() for x in pair)]


HOSTILE_HCL = ["${path.cwd}", "%{ if true }x%{ endif }", "$${x}", "$$${x}", 'a"b\\c', "tab\there", "x\u2028y",
               "\x85\x1b[2J", "\u202eevil", "\U0001f600", "$", "%", "${", "end$"]  # fmt: skip


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_reads_every_hostile_string_back(tmp_path: Path) -> None:
    expression = "jsonencode([" + ", ".join(hclwrite.string(v) for v in HOSTILE_HCL) + "])\n"
    run = subprocess.run(["terraform", "console"], input=expression, capture_output=True, text=True,
                         cwd=tmp_path, check=False, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(json.loads(run.stdout)) == HOSTILE_HCL


# -- INI and JSON --------------------------------------------------------------------------------------


@given(ANY)
def test_an_ini_value_is_one_line_or_refused(value: str) -> None:
    settings_ = [("role_arn", "arn:aws:iam::222222222222:role/r"), ("role_session_name", value), ("region", "x")]
    try:
        text = iniwrite.profile_section("p", settings_)
    except ValueError:
        return
    parser = configparser.RawConfigParser()  # what botocore's configloader reads the file with
    parser.read_string(text)
    assert parser.sections() == ["profile p"]
    assert dict(parser["profile p"]) == dict(settings_)


@given(ANY)
def test_json_documents_are_ascii_and_read_back(value: str) -> None:
    text = jsonwrite.document({"Description": value, "Tags": [{"Key": value, "Value": value}]})
    assert text.isascii() and "\n" not in json.dumps(value, ensure_ascii=True)
    assert json.loads(text) == {"Description": value, "Tags": [{"Key": value, "Value": value}]}
