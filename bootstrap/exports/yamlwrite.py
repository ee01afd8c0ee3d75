"""The one YAML writer of the exports (GitHub Actions workflows, GitLab CI jobs): a structure handed
to PyYAML's emitter, never text pasted into a template, so a value can only ever be a value.

- Strings that are not plainly safe (anything beyond letters, digits and a few punctuation marks)
  are written double-quoted, where YAML escapes every control character and every line break
  (``\\n``, ``\\N`` for U+0085, ``\\L`` / ``\\P`` for U+2028 / U+2029) the same way in YAML 1.1 (GitLab,
  PyYAML) and 1.2 (GitHub): https://yaml.org/spec/1.2.2/#escaped-characters. The output is ASCII.
- Comments are for people: written on lines of their own, with anything that could end the line
  escaped.
- The CI platforms read some values a second time: GitHub evaluates ``${{ ... }}`` in almost every
  value, GitLab expands ``$NAME`` in ``variables:`` and compares ``rules: if:`` strings. The helpers
  below make a value inert for each (see their docstrings for the platforms' rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from bootstrap.core import identifiers

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./@-]*")
_PRINTABLE = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")


class _Dumper(yaml.SafeDumper):
    """SafeDumper that quotes every string it cannot show plainly, and never aliases a repeated value."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Plain when safe (the emitter still quotes a plain string that would read back as another
    type: true, 1.5, null); single-quoted for other printable ASCII without a quote (nothing is
    special inside but the quote itself); double-quoted, with escapes, for everything else."""
    if _PLAIN.fullmatch(value):
        style = None
    elif _PRINTABLE.fullmatch(value) and "'" not in value:
        style = "'"
    else:
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def comment(text: str) -> str:
    """One ``# ...`` line: every character that is not printable (line breaks among them) escaped."""
    if identifiers.first_unsafe(text) is not None:
        text = ascii(text)[1:-1]
    return f"# {text}"


def dump(document: Mapping[str, Any], comments: Iterable[str] = ()) -> str:
    """``document`` as YAML (keys in the order given), after ``comments``, one line each."""
    body = yaml.dump(
        dict(document), Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=False, width=1 << 20
    )
    return "".join(comment(c) + "\n" for c in comments) + body


def github_literal(value: str) -> str:
    """``value`` as GitHub Actions will read it, whatever it holds.

    GitHub evaluates ``${{ ... }}`` in a workflow's values. A value holding that sequence is
    written as one expression that is a single string literal, ``${{ 'value' }}``, with each ``'``
    doubled: the runner's template reader skips ``}}`` inside a quoted literal and turns such an
    expression back into the plain string (the escaped-expression case in actions/runner
    TemplateReader.ParseScalar and IsExpressionString; string literals:
    https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#literals)."""
    if "${{" not in value:
        return value
    return "${{ '" + value.replace("'", "''") + "' }}"


def github_inert(document: Any) -> Any:
    """Every string in ``document`` through github_literal (keys are the writer's own, not touched)."""
    if isinstance(document, str):
        return github_literal(document)
    if isinstance(document, Mapping):
        return {key: github_inert(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [github_inert(item) for item in document]
    return document


def gitlab_variable(value: str) -> str | dict[str, Any]:
    """A ``variables:`` entry that reaches the job as ``value``. GitLab expands ``$NAME`` in a
    variable's value; ``expand: false`` keeps it raw
    (https://docs.gitlab.com/ci/yaml/#variablesexpand)."""
    if "$" not in value:
        return value
    return {"value": value, "expand": False}


def gitlab_string_literal(value: str) -> str:
    """A string literal for a ``rules: if:`` expression. GitLab's lexer takes a string as the
    shortest run between two double quotes, or two single quotes, with no escape at all
    (Gitlab::Ci::Pipeline::Expression::Lexeme::String, PATTERN), so the quote chosen must not occur
    in the value; a value holding both cannot be compared, and a line break ends the expression."""
    identifiers.check_one_line(value)
    for quote in ('"', "'"):
        if quote not in value:
            return f"{quote}{value}{quote}"
    raise ValueError(f"{value!a} holds both kinds of quote: GitLab's rules:if cannot compare it")
