"""``make bench``'s engine comparison: what its table says for given measurements (no sandbox run)."""

from __future__ import annotations

from typing import Any

from bootstrap.sandbox import bench


def _measure(seconds: float, calls: list[int], rounds: list[int], writes: int = 0) -> dict[str, Any]:
    return {"median_s": seconds, "total_calls": calls[-1], "rounds": rounds[-1], "writes": writes,
            "calls_per_run": calls, "rounds_per_run": rounds}  # fmt: skip


def _results(noop_writes: int = 0) -> dict[str, Any]:
    return {"engines": {"200": {
        "accounts": 200, "parallel": 8, "repeats": 2,
        "threads": {"fleets": 2, "onboarding": _measure(60.0, [3000, 3001], [200, 201], 800),
                    "noop_plan": _measure(30.0, [1500, 1500], [90, 91], noop_writes)},
        "stacksets": {"onboarding": _measure(20.0, [450, 450], [40, 41], 3),
                      "noop_plan": _measure(3.0, [14, 14], [12, 12])},
    }}}  # fmt: skip


def test_each_engine_and_run_shows_its_calls_and_rounds() -> None:
    text = bench.engine_table(_results())
    assert "threads (--parallel 8, 2 fleets in a row), 200 accounts, onboarding [3000c 200r/3001c 201r]" in text
    assert "stacksets, 200 accounts, noop_plan [14c 12r/14c 12r]" in text
    assert "ok    threads no-op plan, 200 accounts: writes" in text


def test_a_no_op_plan_that_writes_is_a_miss() -> None:
    checks = bench.engine_checks(_results(noop_writes=1))
    assert checks["threads no-op plan, 200 accounts: writes"][2] is False
    assert "MISS  threads no-op plan, 200 accounts: writes" in bench.engine_table(_results(noop_writes=1))
