"""MkDocs hook: the config reference in configuration.md, generated from the one schema.

Every key of a trust is declared once, in the ``Config`` dataclass of the schema module, with its
help, example, panel and placeholder (``--help`` and ``init`` read the same declaration). This hook
replaces the marker ``<!-- config-reference -->`` in ``configuration.md`` with a table of those
keys, so the documentation cannot drift from the code. Whatever stands between it and an optional
``<!-- /config-reference -->`` (a note for readers of the Markdown source on GitHub, where no hook
runs) is replaced too.

The schema moves from ``bootstrap/schema.py`` to ``bootstrap/config/schema.py``; both are tried,
the new place first. A schema that cannot be imported, or a page that lost its marker, fails the
build instead of publishing a page without its reference.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import MISSING, fields
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from mkdocs.exceptions import PluginError

MARKER = "<!-- config-reference -->"
END_MARKER = "<!-- /config-reference -->"
PAGE = "configuration.md"
SCHEMA_MODULES = ("bootstrap.config.schema", "bootstrap.schema")  # after the move, then before it

# The config keys whose flag is not simply the key with dashes: a list or mapping key is given one
# item per flag (cli_help.CONFIG_FIELD holds the same mapping, the other way round).
FLAG_OF = {"policy_arns": "policy-arn", "inline_policies": "inline-policy", "tags": "tag"}

TYPES = {
    "str": "string",
    "str | None": "string",
    "int": "integer",
    "int | None": "integer",
    "float": "number",
    "bool": "boolean",
    "tuple[str, ...]": "list of strings",
    "tuple[InlinePolicy, ...]": "mapping NAME: FILE",
    "tuple[tuple[str, str], ...]": "mapping KEY: VALUE",
}

ROOT = Path(__file__).resolve().parents[2]


def load_schema() -> ModuleType:
    """The schema module, wherever it lives now."""
    if str(ROOT) not in sys.path:  # a checkout without the editable install
        sys.path.insert(0, str(ROOT))
    for name in SCHEMA_MODULES:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as err:
            # Only "this module does not exist (here)" moves on to the next place; a module the
            # schema itself imports and that is missing is a real error and is raised.
            parts = name.split(".")
            if err.name not in {".".join(parts[:i]) for i in range(2, len(parts) + 1)}:
                raise
    raise PluginError(f"config reference: none of {', '.join(SCHEMA_MODULES)} can be imported")


def _cell(text: str) -> str:
    """Plain text for a table cell: a pipe would end the cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    # Python-Markdown's tables leave a pipe inside a code span alone (an escaped one would show its
    # backslash), so code is not escaped; a line break would still end the row.
    return f"`{text.replace(chr(10), ' ')}`" if text else ""


def _default(field: Any) -> str:
    if field.default is not MISSING:
        value = field.default
    elif field.default_factory is not MISSING:
        value = field.default_factory()
    else:
        return "**required**"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return _code("true" if value else "false")
    if value in ((), ""):
        return "empty"
    return _code(str(value))


def _flag(field: Any) -> str:
    flag = "--" + FLAG_OF.get(field.name, field.name.replace("_", "-"))
    if str(field.type) == "bool":
        return f"`{flag}` / `--no-{flag[2:]}`" if field.default is True else f"`{flag}`"
    metavar = field.metadata.get("metavar")
    repeat = " (repeatable)" if field.name in FLAG_OF else ""
    return f"`{flag} {metavar}`{repeat}" if metavar else f"`{flag}`{repeat}"


def _example(field: Any) -> str:
    text = yaml.safe_dump({field.name: field.metadata["example"]}, default_flow_style=True, width=10_000)
    return _code(text.strip().removeprefix("{").removesuffix("}"))


def reference_table(schema: ModuleType) -> str:
    rows = [
        "| key | flag | type | default | panel | meaning | example |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for field in fields(schema.Config):
        meta = field.metadata
        if "help" not in meta:  # not a key of its own (the CI trust: see below)
            continue
        kind = TYPES.get(str(field.type), str(field.type))
        rows.append(
            "| "
            + " | ".join(
                (
                    _code(field.name),
                    _flag(field),
                    _cell(kind),
                    _default(field),
                    _cell(str(meta["panel"])),
                    _cell(str(meta["help"])),
                    _example(field),
                )
            )
            + " |"
        )
    source = schema.__name__
    return f"*Generated from `{source}.Config` when the site is built.*\n\n" + "\n".join(rows) + "\n"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"config reference: {PAGE} lost its marker {MARKER}")
    before, _, after = markdown.partition(MARKER)
    if END_MARKER in after:
        after = after.partition(END_MARKER)[2]
    return before + reference_table(load_schema()) + after
