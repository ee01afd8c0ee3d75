"""The one HCL writer of the exports (Terraform): quoted strings, JSON documents as HCL expressions,
and block labels, each escaped for HCL's template language.

HCL's quoted-template escapes are \\n \\r \\t \\" \\\\ \\uNNNN and \\UNNNNNNNN only; JSON's \\b, \\f and \\/
are not among them, and a JSON surrogate pair (\\ud83d\\ude00) is two invalid characters to HCL. A
``${`` or ``%{`` in a quoted string starts an interpolation or a directive; ``$${`` and ``%%{``
are their literal forms.
https://github.com/hashicorp/hcl/blob/main/hclsyntax/spec.md#template-expressions
"""

from __future__ import annotations

import json
import re
from typing import Any

_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
_HCL_FOR_JSON = {"b": "\\u0008", "f": "\\u000c", "/": "/"}
# Characters json.dumps(ensure_ascii=False) leaves raw that should not stand raw in a file people
# read: DEL and the C1 controls (U+0085 among them), the Unicode line and paragraph separators, and
# the invisible format characters (bidi overrides).
_RAW_CONTROL = re.compile("[\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _from_json(text: str) -> str:
    """JSON text (ensure_ascii=False: UTF-8 characters as they are) made valid HCL: escapes HCL lacks
    rewritten, remaining control characters escaped, and ${ / %{ made literal."""
    text = _JSON_ESCAPE.sub(lambda m: _HCL_FOR_JSON.get(m.group(1), m.group(0)), text)
    text = _RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    return text.replace("${", "$${").replace("%{", "%%{")


def _refuse_surrogates(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"{value!a} holds a lone surrogate: it cannot be written as UTF-8") from err


def string(value: str) -> str:
    """A quoted HCL string whose value is exactly ``value``."""
    _refuse_surrogates(value)
    return _from_json(json.dumps(value, ensure_ascii=False))


def json_expression(document: Any, indent: str) -> str:
    """A JSON value as an HCL expression (HCL2 object syntax accepts JSON's ':' separators),
    its lines after the first indented by ``indent``."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    _refuse_surrogates(text)
    return _from_json(text).replace("\n", "\n" + indent)


def identifier(name: str) -> str:
    """A block label or attribute name the writer chose: an HCL identifier, or ValueError."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name!a} is not an HCL identifier (a letter or _, then letters, digits, _ or -)")
    return name
