"""The proof per consumer (--for) as text and JSON: one line per consumer with its verdict."""

from __future__ import annotations

from typing import Any

from bootstrap.core.consumers import ConsumerVerdict


def lines(verdicts: tuple[ConsumerVerdict, ...]) -> list[str]:
    return [
        f"  for {v.consumer:<15} {'ok' if v.ok else 'REFUSED'}: session {v.session_name}: {v.detail}" for v in verdicts
    ]


def as_json(verdicts: tuple[ConsumerVerdict, ...]) -> list[dict[str, Any]]:
    return [{"consumer": v.consumer, "session_name": v.session_name, "ok": v.ok, "detail": v.detail} for v in verdicts]
