"""Round trips: how many calls a run waits for one after another, counted from the sandbox's log.

Against AWS each call is a round trip of 50-300 ms, so the sequential rounds, not CPU, decide how
long a run takes. The sandbox adds a latency to every call here so that calls a run sends together
overlap in time and count as one round; the count comes from the call log (start and end of each
call), so it does not depend on how fast the machine is, only on what the tool waits for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bootstrap.sandbox.server import Sandbox
from bootstrap.sandbox.wsgi import Call, sequential_rounds
from tests.conftest import CI_USER_ARN, READ_ONLY, base_args

# Long enough that calls sent together overlap even on a loaded machine (their spans then share
# the sandbox's sleep), short enough to keep the tests quick.
LATENCY = 1.0


def _call(started: float, ended: float) -> Call:
    return Call("111111111111", "iam", "GetRole", 200, "", started=started, ended=ended)


def test_sequential_rounds_counts_overlapping_calls_as_one() -> None:
    assert sequential_rounds([]) == 0
    assert sequential_rounds([_call(0, 1), _call(0.5, 1.5), _call(0.9, 1.2)]) == 1
    assert sequential_rounds([_call(0, 1), _call(1.1, 2), _call(2.1, 3)]) == 3
    # a long call beside a chain of two short ones: the chain is what the run waited for
    assert sequential_rounds([_call(0, 3), _call(0, 1), _call(1.5, 2.5)]) == 2


@pytest.fixture
def args(tmp_path: Path) -> list[str]:
    policy = tmp_path / "list-buckets.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}))  # fmt: skip
    return [
        *base_args("rounds"),
        "--principal", CI_USER_ARN,
        "--external-id", "ext-1",
        "--policy-arn", READ_ONLY,
        "--inline-policy", f"list-buckets={policy}",
        "--verify-profile", "ci",
        "--yes",
    ]  # fmt: skip


def _rounds_of(cli: Any, sandbox: Sandbox, args: list[str]) -> tuple[int, list[Call]]:
    # Warm up first, writing nothing: the process's first run pays for loading botocore's models
    # (a second profile's client then starts late), which is start-up, not a round the run waits for.
    assert cli("plan", *[a for a in args if a != "--yes"]).exit_code == 0
    sandbox.latency = LATENCY
    sandbox.clear_calls()
    try:
        run = cli("apply", *args)
    finally:
        sandbox.latency = 0.0
    assert run.exit_code == 0, run.stderr
    calls = sandbox.calls()
    return sequential_rounds(calls), calls


def test_first_onboarding_waits_five_rounds(cli: Any, sandbox: Sandbox, args: list[str]) -> None:
    """Reads with the input alone (both identities, the principal, the role, the principal's inline
    policy names, and the checks before writing: the policy to attach exists, the verify profile is
    the principal); the policy's document (GetPolicyVersion of the default version GetPolicy found:
    IAM has no call that returns it in one), judged for admin-equivalence; CreateRole beside the grant (the listing showed there is none to read, and no
    other inline policy to measure); the attachment and the inline policy together, and beside them
    AssumeRole (the role and the grant, all that decides it, are written); who am I as the role."""
    rounds, calls = _rounds_of(cli, sandbox, args)
    writes = [c for c in calls if c.is_write]
    assert {c.operation for c in writes} == {"CreateRole", "AttachRolePolicy", "PutRolePolicy", "PutUserPolicy"}
    assert rounds <= 5, sorted((round(c.started, 2), round(c.ended, 2), c.operation) for c in calls)
    # AssumeRole only once what decides its answer is written: the role (with its trust) and the grant
    decisive = [c for c in writes if c.operation in ("CreateRole", "PutUserPolicy")]
    assumed = [c for c in calls if c.operation == "AssumeRole"]
    assert len(assumed) == 1 and assumed[0].status == 200
    assert assumed[0].started >= max(c.ended for c in decisive)
    # and its credentials are asked who they are only once every write is done
    who = [c for c in calls if c.operation == "GetCallerIdentity" and c.started >= assumed[0].ended]
    assert len(who) == 1 and who[0].started >= max(c.ended for c in writes)


def test_an_early_assume_role_denied_by_propagation_is_not_the_proof(
    cli: Any, sandbox: Sandbox, args: list[str]
) -> None:
    """The new role is not assumable yet (IAM propagation): AssumeRole beside the attachments is
    denied, and the proof runs as usual after every write, waiting until it succeeds."""
    sandbox.propagation_delay = 2
    run = cli("apply", *args, "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["verification"]["ok"] is True
    assert "waiting for IAM propagation" in run.stderr
    calls = sandbox.calls()
    last_write = max(c.ended for c in calls if c.is_write)
    assumed = [c for c in calls if c.operation == "AssumeRole"]
    assert assumed[0].status != 200  # the early one, denied
    proved = [c for c in assumed if c.status == 200]
    assert len(proved) == 1 and proved[0].started >= last_write


def test_no_early_assume_role_spends_an_mfa_code(cli: Any, sandbox: Sandbox, args: list[str]) -> None:
    """With MFA the one-time code is sent once, by the proof, after every write."""
    mfa = ["--require-mfa", "--mfa-serial", "arn:aws:iam::111111111111:mfa/ci-user", "--mfa-token", "123456"]
    run = cli("apply", *args, *mfa, "--output", "json")
    calls = sandbox.calls()
    last_write = max(c.ended for c in calls if c.is_write)
    assumed = [c for c in calls if c.operation == "AssumeRole"]
    assert run.exit_code == 0, run.stderr
    assert len(assumed) == 1 and assumed[0].status == 200 and assumed[0].started >= last_write


def test_no_op_rerun_waits_three_rounds(cli: Any, sandbox: Sandbox, args: list[str]) -> None:
    """One round of reads, then AssumeRole, then who am I with its credentials."""
    assert cli("apply", *args).exit_code == 0
    rounds, calls = _rounds_of(cli, sandbox, args)
    assert [c for c in calls if c.is_write] == []
    assert "GetPolicyVersion" not in {c.operation for c in calls}  # nothing new: no document to judge
    assert rounds <= 3, sorted((round(c.started, 2), round(c.ended, 2), c.operation) for c in calls)


def test_a_roles_independent_writes_are_batched_in_plan_order() -> None:
    from bootstrap.core.plan import Change, Op, Side
    from bootstrap.trust.apply import _batches

    def change(op: Op, key: str = "") -> Change:
        return Change(Side.TARGET, "222222222222", op, "role", "r", key=key)

    create, attach, put = change(Op.CREATE_ROLE), change(Op.ATTACH_POLICY, "p"), change(Op.PUT_ROLE_POLICY, "i")
    trust, detach, delete = change(Op.UPDATE_TRUST), change(Op.DETACH_POLICY, "p"), change(Op.DELETE_ROLE)
    assert _batches((create, attach, put)) == [(create,), (attach, put)]
    # the trust, deletions and the role's own deletion keep their order, alone
    assert _batches((attach, trust, put, detach, delete)) == [(attach,), (trust,), (put,), (detach,), (delete,)]


def test_a_repair_is_proven_after_its_write_not_by_the_early_assume_role(
    cli: Any, sandbox: Sandbox, args: list[str]
) -> None:
    """The role stands as wanted, so AssumeRole goes out beside the grant read; the grant is gone,
    so that answer is not the proof: the grant is written, then AssumeRole proves it."""
    from tests.conftest import iam

    assert cli("apply", *args).exit_code == 0
    grant = next(n for n in iam("a-admin").list_user_policies(UserName="ci-user")["PolicyNames"])
    iam("a-admin").delete_user_policy(UserName="ci-user", PolicyName=grant)
    sandbox.clear_calls()
    run = cli("apply", *args, "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["verification"]["ok"] is True
    calls = sandbox.calls()
    put = next(c for c in calls if c.operation == "PutUserPolicy" and c.status == 200)
    proved = [c for c in calls if c.operation == "AssumeRole" and c.status == 200]
    assert proved and all(c.started >= put.ended for c in proved)


def test_the_principals_other_inline_policies_are_measured_in_one_round(
    cli: Any, sandbox: Sandbox, args: list[str]
) -> None:
    """A user with a dozen inline policies (more than botocore's default pool of 10 connections):
    they are read together, one round more than for a user with none, before anything is written."""
    from tests.conftest import iam

    small = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                                 "Resource": "arn:aws:s3:::b"}]})  # fmt: skip
    for n in range(12):
        iam("a-admin").put_user_policy(UserName="ci-user", PolicyName=f"other-{n}", PolicyDocument=small)
    rounds, calls = _rounds_of(cli, sandbox, args)
    measured = [c for c in calls if c.operation == "GetUserPolicy"]
    assert len(measured) == 12 and all(c.ended <= min(w.started for w in calls if w.is_write) for c in measured)
    assert rounds <= 5, sorted((round(c.started, 2), round(c.ended, 2), c.operation) for c in calls)
