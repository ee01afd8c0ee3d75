"""The one JSON writer of the exports (CloudFormation templates, the raw policy documents): the
``json`` module, ASCII only (every character beyond it, line breaks and lone surrogates included, is
a ``\\u`` escape), so a value can only ever be a JSON string."""

from __future__ import annotations

import json
from typing import Any


def document(value: Any) -> str:
    """``value`` as indented JSON text, ending with a newline."""
    return json.dumps(value, indent=2, ensure_ascii=True) + "\n"
