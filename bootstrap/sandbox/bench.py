"""``make bench``: what trust-bootstrap costs, measured against the sandbox, beside a bare boto3
"floor" that makes only the unavoidable calls.

Every figure is the median of several runs of a fresh process, so start-up (imports, clients)
counts, as it does for a user. The sandbox adds a fixed latency to every call (default 100 ms,
about what an IAM call costs from a CI runner) so that concurrency shows as it would against AWS.
Targets are ratios, so they hold on any machine: first onboarding <= 0.8x the floor, a no-op
re-run <= 0.6x, --help < 0.1 s. Beside the seconds, every run's calls and sequential rounds
(calls overlapping in time count as one round; see server.sequential_rounds) are counted from the
sandbox's log: they do not depend on the machine's load, so a regression shows as a number. A
no-op re-run needs 3 rounds, a first onboarding 6 (README, Performance); a 50-account fleet's no-op plan (--parallel 8
and 16) spends the same few rounds per target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bootstrap.sandbox.server import ACCOUNT_A, Sandbox, sequential_rounds

CI_USER = f"arn:aws:iam::{ACCOUNT_A}:user/ci-user"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"

# The unavoidable calls, one after the other: who am I (both sides), the role, its policy, the
# grant, and the proof (AssumeRole as the principal, then who am I with its credentials).
FLOOR = r"""
import json, sys, boto3
role, grant = sys.argv[1], sys.argv[2]
a, b, ci = (boto3.Session(profile_name=p) for p in ("a-admin", "b-admin", "ci"))
a.client("sts").get_caller_identity()
b_id = b.client("sts").get_caller_identity()["Account"]
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"AWS": "arn:aws:iam::111111111111:user/ci-user"},
         "Condition": {"StringEquals": {"sts:ExternalId": "ext-1"}}}]}
iam_b = b.client("iam")
arn = iam_b.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
iam_b.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
a.client("iam").put_user_policy(UserName="ci-user", PolicyName=grant, PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn}]}))
c = ci.client("sts").assume_role(RoleArn=arn, RoleSessionName="floor", ExternalId="ext-1")["Credentials"]
ci.client("sts", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
          aws_session_token=c["SessionToken"]).get_caller_identity()
"""


# Untimed, before anything is measured: the first requests a fresh sandbox serves pay moto's lazy
# set-up (seconds on a loaded machine), which no measured run should.
WARM_UP = r"""
import boto3, botocore.config
boto3.Session(profile_name="a-admin").client("sts", config=botocore.config.Config(read_timeout=900)).get_caller_identity()
"""


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])}... failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed


def _tool(*args: str) -> list[str]:
    return [sys.executable, "-m", "bootstrap", *args]


def _trust(role: str) -> list[str]:
    return ["--source-profile", "a-admin", "--target-profile", "b-admin", "--role-name", role, "--principal",
            CI_USER, "--external-id", "ext-1", "--policy-arn", READ_ONLY, "--verify-profile", "ci", "--yes"]  # fmt: skip


def _teardown(args: list[str]) -> list[str]:
    """teardown takes neither the conditions, the role's settings nor the verification."""
    dropped = {"--external-id", "--policy-arn", "--verify-profile"}
    return [a for i, a in enumerate(args) if a not in dropped and (i == 0 or args[i - 1] not in dropped)]


class Bench:
    def __init__(self, box: Sandbox, repeats: int) -> None:
        self.box = box
        self.repeats = repeats
        self.env = {**os.environ, **box.env()}
        # PYTHONDONTWRITEBYTECODE would make every run compile the tool's modules again (about 0.1 s),
        # which no installed copy does: pip and the first run leave bytecode behind.
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                    "PYTHONDONTWRITEBYTECODE", "TRUST_BOOTSTRAP_NO_CACHE"):  # fmt: skip
            self.env.pop(key, None)
        self.env["XDG_CACHE_HOME"] = str(box.directory / "cache")  # the first --help renders, as after an install

    def measure(self, make_command: Callable[[int], list[str]]) -> dict[str, Any]:
        """Median wall time over the repeats; calls and sequential rounds per run (from the
        sandbox's log, so they do not depend on the machine's load); the calls of the last run."""
        times, rounds, totals = [], [], []
        calls: Counter[str] = Counter()
        for i in range(self.repeats):
            command = make_command(i)  # may prepare the run (untimed, uncounted)
            self.box.clear_calls()
            times.append(_timed(command, self.env))
            log = self.box.calls()
            calls = Counter(c.operation for c in log)
            rounds.append(sequential_rounds(log))
            totals.append(len(log))
        writes = sum(n for op, n in calls.items() if op.startswith(("Create", "Put", "Attach", "Delete", "Detach")))
        return {"median_s": round(statistics.median(times), 3), "runs_s": [round(t, 3) for t in times],
                "calls": dict(sorted(calls.items())), "total_calls": sum(calls.values()), "writes": writes,
                "rounds": int(statistics.median(rounds)), "rounds_per_run": rounds, "calls_per_run": totals}  # fmt: skip


def run(repeats: int, fleet_size: int, fleet_repeats: int, latency: float) -> dict[str, Any]:
    results: dict[str, Any] = {"latency_s": latency, "repeats": repeats}
    with (
        tempfile.TemporaryDirectory() as directory,
        Sandbox(Path(directory), org_accounts=fleet_size, latency=latency) as box,
    ):
        bench = Bench(box, repeats)
        _timed([sys.executable, "-c", WARM_UP], bench.env)
        results["floor"] = bench.measure(lambda i: [sys.executable, "-c", FLOOR, f"floor-{i}", f"floor-grant-{i}"])
        results["first_onboarding"] = bench.measure(lambda i: _tool("apply", *_trust(f"bench-{i}")))
        results["noop_rerun"] = bench.measure(lambda i: _tool("apply", *_trust("bench-0")))
        results["teardown"] = bench.measure(lambda i: _tool("teardown", *_teardown(_trust(f"bench-{i}"))))
        results["help"] = bench.measure(lambda i: _tool("--help"))
        fleet: dict[str, Any] = {}
        fleet_bench = Bench(box, fleet_repeats)
        args = ["--targets-from-org", box.org_unit, "--management-profile", "org-admin", "--source-profile",
                "a-admin", "--principal", CI_USER, "--verify-profile", "ci", "--role-name", "fleet",
                "--external-id", "ext-1", "--policy-arn", READ_ONLY]  # fmt: skip
        # The fleet is onboarded once (untimed); what is measured is the no-op plan a CI job runs.
        subprocess.run(_tool("apply", *args, "--yes"), env=bench.env, capture_output=True, check=True)  # noqa: S603
        plan_args = [a for a in args if a not in ("--verify-profile", "ci")]
        for parallel in (8, 16):

            def plan(_: int, p: int = parallel) -> list[str]:
                return _tool("plan", *plan_args, "--parallel", str(p))

            fleet[f"parallel_{parallel}"] = fleet_bench.measure(plan)
        results["fleet"] = {"accounts": fleet_size, **fleet}
        results["stacksets"] = _stacksets(box, fleet_bench)
    return results


FLEET_ROWS = ("parallel_8", "parallel_16")


def _waves(r: dict[str, Any], key: str) -> int:
    """How many targets one worker plans in a row: the fleet's rounds are that many per-target ones."""
    accounts, parallel = int(r["fleet"]["accounts"]), int(key.rpartition("_")[2])
    return -(-accounts // parallel)


def _stacksets(box: Sandbox, bench: Bench) -> dict[str, Any]:
    """The StackSets engine on the same unit: onboarding (StackSet, instances, grant, verification
    of every account at --parallel 8) and a no-op plan. The sandbox's StackSet operations finish at
    once; AWS's take minutes, so these are the tool's own costs, not CloudFormation's."""
    args = ["--engine", "stacksets", "--targets-from-org", box.org_unit, "--management-profile", "org-admin",
            "--source-profile", "a-admin", "--principal", CI_USER, "--role-name", "fleet-ss", "--external-id",
            "ext-1", "--policy-arn", READ_ONLY]  # fmt: skip
    apply_args = [*args, "--verify-profile", "ci", "--yes", "--parallel", "8"]

    def once(_: int) -> list[str]:
        subprocess.run(_tool("teardown", *_teardown(args), "--yes"), env=bench.env, capture_output=True, check=False)  # noqa: S603
        return _tool("apply", *apply_args)

    return {"onboarding": bench.measure(once), "noop_plan": bench.measure(lambda _: _tool("plan", *args))}


def ratios(r: dict[str, Any]) -> dict[str, tuple[float, str, bool]]:
    floor = r["floor"]["median_s"]
    first, noop = r["first_onboarding"], r["noop_rerun"]
    checks = {
        "first onboarding / floor": (first["median_s"] / floor, "<= 0.8", first["median_s"] <= 0.8 * floor),
        "no-op re-run / floor": (noop["median_s"] / floor, "<= 0.6", noop["median_s"] <= 0.6 * floor),
        "first onboarding rounds": (float(first["rounds"]), "<= 6", first["rounds"] <= 6),
        "no-op re-run rounds": (float(noop["rounds"]), "<= 3", noop["rounds"] <= 3),
        "no-op re-run writes": (float(noop["writes"]), "== 0", noop["writes"] == 0),
        "--help seconds": (r["help"]["median_s"], "< 0.1", r["help"]["median_s"] < 0.1),
    }  # fmt: skip
    for key in FLEET_ROWS:
        per_wave = r["fleet"][key]["rounds"] / _waves(r, key)
        checks[f"fleet no-op plan, {key}: rounds per target in a row"] = (per_wave, "<= 4", per_wave <= 4)
    return checks


def table(r: dict[str, Any]) -> str:
    rows = [("measure", "median s", "calls", "rounds", "writes")]
    for key in ("floor", "first_onboarding", "noop_rerun", "teardown", "help"):
        m = r[key]
        rows.append((key, f"{m['median_s']:.3f}", str(m["total_calls"]), str(m["rounds"]), str(m["writes"])))
    # The first --help of an installation renders the page (typer) and keeps it; the median is the rest.
    rows.append(("help, first run (renders)", f"{r['help']['runs_s'][0]:.3f}", "0", "0", "0"))
    for key in FLEET_ROWS:
        m = r["fleet"][key]
        name = f"fleet no-op plan, {r['fleet']['accounts']} accounts, {key}"
        rows.append((name, f"{m['median_s']:.3f}", str(m["total_calls"]), str(m["rounds"]), str(m["writes"])))
    for key in ("onboarding", "noop_plan"):
        m = r["stacksets"][key]
        rows.append((f"stacksets, {r['fleet']['accounts']} accounts, {key}", f"{m['median_s']:.3f}",
                     str(m["total_calls"]), str(m["rounds"]), str(m["writes"])))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)) for row in rows]
    lines.append("")
    for name, (value, target, ok) in ratios(r).items():
        lines.append(f"{'ok  ' if ok else 'MISS'}  {name}: {value:.2f} (target {target})")
    lines.append("")
    lines.append("first onboarding calls: " + ", ".join(f"{k} {v}" for k, v in r["first_onboarding"]["calls"].items()))
    lines.append("no-op re-run calls:     " + ", ".join(f"{k} {v}" for k, v in r["noop_rerun"]["calls"].items()))
    lines.append("floor calls:            " + ", ".join(f"{k} {v}" for k, v in r["floor"]["calls"].items()))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fleet-size", type=int, default=50)
    parser.add_argument("--fleet-repeats", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the sandbox adds to every call")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    options = parser.parse_args()
    results = run(options.repeats, options.fleet_size, options.fleet_repeats, options.latency)
    options.json.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\n(JSON: {options.json}; sandbox latency {options.latency}s per call; medians of {options.repeats} runs, "
          f"fleet of {options.fleet_repeats})")  # fmt: skip
    return 0 if all(ok for _, _, ok in ratios(results).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
