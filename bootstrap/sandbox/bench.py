"""``make bench``: what trust-bootstrap costs, measured against the sandbox, beside a bare boto3
"floor" that makes only the unavoidable calls.

Every figure is the median of several runs of a fresh process, so start-up (imports, clients)
counts, as it does for a user. The sandbox adds a fixed latency to every call (default 100 ms,
about what an IAM call costs from a CI runner) so that concurrency shows as it would against AWS.
Targets are ratios, so they hold on any machine: first onboarding <= 0.8x the floor, a no-op
re-run <= 0.6x, --help < 0.1 s. Beside the seconds, every run's calls and sequential rounds
(calls overlapping in time count as one round; see wsgi.sequential_rounds) are counted from the
sandbox's log: they do not depend on the machine's load, so a regression shows as a number. A
no-op re-run needs 3 rounds, a first onboarding 4, or 5 when the principal has other inline
policies to measure, as here, where the floor's grants stay on ci-user (README, Performance); a
50-account fleet's no-op plan (--parallel 8 and 16) spends the same few rounds per target. The
floor, first onboarding and no-op runs are taken in turn within each repeat, so the machine's load
weighs on all three alike.

The engines (README, "Choosing an engine"): onboarding and no-op plan of an organization unit of 50
and 200 accounts (--engine-sizes) with the threads-per-target fleet engine and with the StackSets
engine, each size on a sandbox of its own. ``--only-engines`` measures just those.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bootstrap.sandbox.server import ACCOUNT_A, Sandbox
from bootstrap.sandbox.wsgi import Call, sequential_rounds

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
        return self.measure_together({"run": make_command})["run"]

    def measure_together(self, makers: dict[str, Callable[[int], list[str]]]) -> dict[str, dict[str, Any]]:
        """Like measure, for several runs taken in turn within each repeat (floor, first onboarding,
        no-op, floor, ...), so that a change in the machine's load between repeats weighs on the
        floor and on the tool alike, and the ratios between them stay fair."""
        runs: dict[str, list[tuple[float, list[Call]]]] = {name: [] for name in makers}
        for i in range(self.repeats):
            for name, make_command in makers.items():
                command = make_command(i)  # may prepare the run (untimed, uncounted)
                self.box.clear_calls()
                elapsed = _timed(command, self.env)
                runs[name].append((elapsed, self.box.calls()))
        return {name: _summary(measured) for name, measured in runs.items()}


def _summary(measured: list[tuple[float, list[Call]]]) -> dict[str, Any]:
    times = [t for t, _ in measured]
    rounds = [sequential_rounds(log) for _, log in measured]
    totals = [len(log) for _, log in measured]
    calls = Counter(c.operation for c in measured[-1][1])
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
        results |= bench.measure_together({
            "floor": lambda i: [sys.executable, "-c", FLOOR, f"floor-{i}", f"floor-grant-{i}"],
            "first_onboarding": lambda i: _tool("apply", *_trust(f"bench-{i}")),
            "noop_rerun": lambda i: _tool("apply", *_trust("bench-0")),
        })  # fmt: skip
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
    return results


FLEET_ROWS = ("parallel_8", "parallel_16")


def _waves(r: dict[str, Any], key: str) -> int:
    """How many targets one worker plans in a row: the fleet's rounds are that many per-target ones."""
    accounts, parallel = int(r["fleet"]["accounts"]), int(key.rpartition("_")[2])
    return -(-accounts // parallel)


# The threads engine's grant lists every role ARN: IAM's 6,144 characters for a managed policy hold
# about 145 of this bench's role ARNs, so a larger unit is onboarded as fleets of this many accounts
# (config files with targets and a fleet_name each), one after the other, as the README tells users.
FLEET_CHUNK = 100


def _chunks(box: Sandbox, directory: Path) -> list[Path]:
    """Config files of at most FLEET_CHUNK member accounts each (the threads engine's fleets)."""
    files = []
    for index in range(0, len(box.org_members), FLEET_CHUNK):
        document = {"source_profile": "a-admin", "principal": CI_USER, "role_name": "fleet-t",
                    "external_id": "ext-1", "policy_arns": [READ_ONLY], "management_profile": "org-admin",
                    "fleet_name": f"bench-{index // FLEET_CHUNK}",
                    "targets": [{"account_id": a} for a in box.org_members[index : index + FLEET_CHUNK]]}  # fmt: skip
        path = directory / f"fleet-{index // FLEET_CHUNK}.yaml"
        path.write_text(json.dumps(document))  # JSON is YAML
        files.append(path)
    return files


def _untimed(command: list[str], env: dict[str, str]) -> None:
    """A run that prepares the next measured one (its outcome is the measured run's business)."""
    subprocess.run(command, env=env, capture_output=True, check=False)  # noqa: S603


def _one_after_another(commands: list[list[str]]) -> list[str]:
    """One measured command for several runs, each after the previous one succeeded."""
    return ["sh", "-c", " && ".join(shlex.join(c) for c in commands)]


def engines(size: int, latency: float, repeats: int, parallel: int) -> dict[str, Any]:
    """Onboarding (apply with verification of every account) and no-op plan of an organization unit
    of ``size`` accounts with both engines, on a sandbox of its own (seeded before the latency is
    switched on). The sandbox's StackSet operations finish at once; AWS's take minutes, so the
    StackSets figures are the tool's own costs, not CloudFormation's."""
    with tempfile.TemporaryDirectory() as directory, Sandbox(Path(directory), org_accounts=size) as box:
        box.latency = latency
        bench = Bench(box, repeats)
        _timed([sys.executable, "-c", WARM_UP], bench.env)
        trust = ["--source-profile", "a-admin", "--principal", CI_USER, "--external-id", "ext-1",
                 "--policy-arn", READ_ONLY]  # fmt: skip
        org = ["--targets-from-org", box.org_unit, "--management-profile", "org-admin"]
        if size <= FLEET_CHUNK:
            fleets = [[*org, *trust, "--role-name", "fleet-t"]]
        else:
            fleets = [["--config", str(f)] for f in _chunks(box, Path(directory))]
        run = ["--parallel", str(parallel)]
        verify_args = ["--verify-profile", "ci", "--yes"]

        def threads_onboarding(i: int) -> list[str]:
            for f in fleets if i else ():  # untimed: start from nothing (a fresh sandbox has nothing)
                _untimed(_tool("teardown", *_teardown(f), "--yes"), bench.env)
            return _one_after_another([_tool("apply", *f, *run, *verify_args) for f in fleets])

        threads = {"fleets": len(fleets), "onboarding": bench.measure(threads_onboarding),
                   "noop_plan": bench.measure(lambda _: _one_after_another([_tool("plan", *f, *run) for f in fleets]))}  # fmt: skip
        ss = ["--engine", "stacksets", *org, *trust, "--role-name", "fleet-ss"]

        def stacksets_onboarding(i: int) -> list[str]:
            if i:
                _untimed(_tool("teardown", *_teardown(ss), "--yes"), bench.env)
            return _tool("apply", *ss, *run, *verify_args)

        stacksets = {"onboarding": bench.measure(stacksets_onboarding),
                     "noop_plan": bench.measure(lambda _: _tool("plan", *ss))}  # fmt: skip
    return {"accounts": size, "parallel": parallel, "repeats": repeats, "threads": threads, "stacksets": stacksets}


def ratios(r: dict[str, Any]) -> dict[str, tuple[float, str, bool]]:
    floor = r["floor"]["median_s"]
    first, noop = r["first_onboarding"], r["noop_rerun"]
    checks = {
        "first onboarding / floor": (first["median_s"] / floor, "<= 0.8", first["median_s"] <= 0.8 * floor),
        "no-op re-run / floor": (noop["median_s"] / floor, "<= 0.6", noop["median_s"] <= 0.6 * floor),
        "first onboarding rounds (other inline policies)": (float(first["rounds"]), "<= 5", first["rounds"] <= 5),
        "no-op re-run rounds": (float(noop["rounds"]), "<= 3", noop["rounds"] <= 3),
        "no-op re-run writes": (float(noop["writes"]), "== 0", noop["writes"] == 0),
        "--help seconds": (r["help"]["median_s"], "< 0.1", r["help"]["median_s"] < 0.1),
    }  # fmt: skip
    # A fleet plan's rounds are a fixed start (identities, the organization's listing, the grant)
    # plus some per target a worker plans in a row; the two --parallel settings give both.
    low, high = FLEET_ROWS
    extra_rounds = r["fleet"][low]["rounds"] - r["fleet"][high]["rounds"]
    per_target = extra_rounds / max(1, _waves(r, low) - _waves(r, high))
    fixed = r["fleet"][high]["rounds"] - per_target * _waves(r, high)
    checks["fleet no-op plan: rounds per target a worker plans in a row"] = (per_target, "<= 4", per_target <= 4)
    checks["fleet no-op plan: rounds of its fixed start"] = (fixed, "<= 12", fixed <= 12)
    return {**checks, **engine_checks(r)}


def engine_checks(r: dict[str, Any]) -> dict[str, tuple[float, str, bool]]:
    checks = {}
    for size, e in r.get("engines", {}).items():
        for engine in ("threads", "stacksets"):
            writes = e[engine]["noop_plan"]["writes"]
            checks[f"{engine} no-op plan, {size} accounts: writes"] = (float(writes), "== 0", writes == 0)
    return checks


def table(r: dict[str, Any]) -> str:
    rows: list[tuple[str, ...]] = [("measure", "median s", "calls", "rounds", "writes")]
    for key in ("floor", "first_onboarding", "noop_rerun", "teardown", "help"):
        m = r[key]
        rows.append((key, f"{m['median_s']:.3f}", str(m["total_calls"]), str(m["rounds"]), str(m["writes"])))
    # The first --help of an installation renders the page (typer) and keeps it; the median is the rest.
    rows.append(("help, first run (renders)", f"{r['help']['runs_s'][0]:.3f}", "0", "0", "0"))
    for key in FLEET_ROWS:
        m = r["fleet"][key]
        name = f"fleet no-op plan, {r['fleet']['accounts']} accounts, {key}"
        rows.append((name, f"{m['median_s']:.3f}", str(m["total_calls"]), str(m["rounds"]), str(m["writes"])))
    rows += engine_rows(r)
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


def _engines_apart(size: int, latency: float, repeats: int, parallel: int) -> dict[str, Any]:
    """engines() in a process of its own: moto's organizations are per process, and a process
    holds one (each size needs an organization of that size)."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "engines.json"
        command = [sys.executable, "-m", "bootstrap.sandbox.bench", "--engine-child", str(size), "--json", str(out),
                   "--latency", str(latency), "--engine-repeats", str(repeats), "--engine-parallel", str(parallel)]  # fmt: skip
        subprocess.run(command, check=True)  # noqa: S603
        print(f"(engines measured for {size} accounts)", file=sys.stderr)
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def engine_rows(r: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per engine, size and run, with the calls and sequential rounds of each run."""
    rows: list[tuple[str, ...]] = []
    for size, e in r.get("engines", {}).items():
        fleets = e["threads"]["fleets"]
        how = {"threads": f"threads (--parallel {e['parallel']}" + (f", {fleets} fleets in a row)" if fleets > 1 else ")"),
               "stacksets": "stacksets"}  # fmt: skip
        for engine in ("threads", "stacksets"):
            for key in ("onboarding", "noop_plan"):
                m = e[engine][key]
                per_run = "/".join(f"{c}c {n}r" for c, n in zip(m["calls_per_run"], m["rounds_per_run"], strict=True))
                rows.append((f"{how[engine]}, {size} accounts, {key} [{per_run}]", f"{m['median_s']:.3f}",
                             str(m["total_calls"]), str(m["rounds"]), str(m["writes"])))  # fmt: skip
    return rows


def engine_table(r: dict[str, Any]) -> str:
    rows = [("measure [calls, rounds per run]", "median s", "calls", "rounds", "writes"), *engine_rows(r)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)) for row in rows]
    lines += [
        "",
        *(f"{'ok  ' if ok else 'MISS'}  {n}: {v:.2f} (target {t})" for n, (v, t, ok) in engine_checks(r).items()),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fleet-size", type=int, default=50)
    parser.add_argument("--fleet-repeats", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the sandbox adds to every call")
    parser.add_argument("--engine-sizes", default="50,200", help="units onboarded with both engines (comma-separated)")
    parser.add_argument("--engine-repeats", type=int, default=1, help="runs of each engine measure")
    parser.add_argument("--engine-parallel", type=int, default=8, help="--parallel of both engines' runs")
    parser.add_argument("--only-engines", action="store_true", help="measure only the engines at --engine-sizes")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--engine-child", type=int, default=0, help=argparse.SUPPRESS)
    options = parser.parse_args()
    engine_run = (options.latency, options.engine_repeats, options.engine_parallel)
    if options.engine_child:  # one size, in a process of its own (see _engines_apart)
        options.json.write_text(json.dumps(engines(options.engine_child, *engine_run)) + "\n")
        return 0
    sizes = [int(n) for n in options.engine_sizes.split(",") if n.strip()]
    results: dict[str, Any] = {"latency_s": options.latency}
    if not options.only_engines:
        results = run(options.repeats, options.fleet_size, options.fleet_repeats, options.latency)
    results["engines"] = {str(n): _engines_apart(n, *engine_run) for n in sizes}
    options.json.write_text(json.dumps(results, indent=2) + "\n")
    if options.only_engines:
        print(engine_table(results))
        print(
            f"\n(JSON: {options.json}; sandbox latency {options.latency}s per call; {options.engine_repeats} run(s) each)"
        )
        return 0 if all(ok for _, _, ok in engine_checks(results).values()) else 1
    print(table(results))
    print(f"\n(JSON: {options.json}; sandbox latency {options.latency}s per call; medians of {options.repeats} runs, "
          f"fleet of {options.fleet_repeats})")  # fmt: skip
    return 0 if all(ok for _, _, ok in ratios(results).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
