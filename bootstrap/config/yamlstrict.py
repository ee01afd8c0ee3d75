"""Pure: YAML for config files without YAML 1.1's surprises, which PyYAML keeps.

- A key written twice is an error naming both lines (PyYAML silently keeps the last one).
- Booleans are true / false only: YAML 1.1 also reads yes/no/on/off/y/n as booleans, so
  ``tags: {env: on}`` would tag ``True``. Such a value is an error with a quoting hint.
- Numbers that YAML 1.1 reads in another base (``0755`` octal, ``1:30`` base 60) are errors too.
- Anchors and aliases (``&name``, ``*name``) are errors: a few hundred bytes of nested aliases expand
  to billions of nodes (the "billion laughs"), and a config file has no need of them. Nesting deeper
  than MAX_DEPTH is an error too (it would exhaust the parser's stack). Both are found while the
  file is parsed, before anything is expanded.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_TRUE_FALSE = re.compile(r"true|True|TRUE|false|False|FALSE")
_PLAIN_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9_]*)")


class StrictYamlError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


MAX_DEPTH = 32


class _Loader(yaml.SafeLoader):
    """SafeLoader with the checks above."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise StrictYamlError(
                f"an alias (*{event.anchor}) repeats another part of the file: write the value out instead "
                "(anchors and aliases are not read in config files)",
                line,
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise StrictYamlError(
                f"an anchor (&{anchor}) marks a value to repeat: remove it (anchors and aliases are not read in "
                "config files)",
                line,
            )
        if self._depth >= MAX_DEPTH:
            raise StrictYamlError(f"the values nest more than {MAX_DEPTH} levels deep", line)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _bool(loader: _Loader, node: yaml.ScalarNode) -> bool:
    text = str(node.value)
    if not _TRUE_FALSE.fullmatch(text):
        raise StrictYamlError(
            f"'{text}' is read as a boolean by YAML 1.1 ({'true' if loader.construct_yaml_bool(node) else 'false'}): "
            f'write true or false for a boolean, or quote it ("{text}") for a string',
            node.start_mark.line + 1,
        )
    return text.lower() == "true"


def _int(loader: _Loader, node: yaml.ScalarNode) -> int:
    text = str(node.value)
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise StrictYamlError(
            f"'{text}' is read as the number {loader.construct_yaml_int(node)} by YAML 1.1 (another base): write a "
            f'plain decimal number, or quote it ("{text}") for a string',
            node.start_mark.line + 1,
        )
    return int(text.replace("_", ""))


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise StrictYamlError(f"the key '{key}' is written twice (lines {seen[key]} and {line}); keep one", line)
        seen[key] = line
    return dict(loader.construct_mapping(node, deep=True))


_Loader.add_constructor("tag:yaml.org,2002:bool", _bool)
_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)


def load(text: str) -> Any:
    """Parse ``text``. Raises yaml.YAMLError for bad syntax, StrictYamlError for the surprises."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
