"""The proof of a trust: AssumeRole as the principal through IAM propagation, waiting only while
waiting can help, and the diagnose checks when it fails. Used by apply and verify (commands.py)."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bootstrap.aws import accounts as aws
from bootstrap.core import assumerequest
from bootstrap.core.errors import BootstrapError
from bootstrap.core.plan import Change, Op, Plan
from bootstrap.core.results import Attempt, Diagnosed, OnProgress, Verification, Waited, Waiting
from bootstrap.trust import verify

if TYPE_CHECKING:
    from bootstrap.trust.prepared import KeyBased


# A role created this recently may still be propagating (IAM is eventually consistent; AWS speaks
# of seconds, sometimes minutes): https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html
RECENT_S = 600.0


class Judge:
    """Decides, on a denied AssumeRole, whether waiting can still help: only while the denial can be
    propagation (this run wrote, or the role is new) and the diagnose checks name no definite cause."""

    def __init__(self, prepared: KeyBased, verifier: aws.Account, wrote: bool, on_progress: OnProgress) -> None:
        self.prepared, self.verifier, self.wrote = prepared, verifier, wrote
        self.on_progress = on_progress
        self.diagnosis: Any = None
        self.request: assumerequest.AssumeRequest | None = None  # a consumer's refused call (consumerproof.py)
        self.stopped = ""  # why waiting stopped before the deadline

    def _diagnose(self) -> Any:
        from bootstrap.diagnose import gather as diagnose  # noqa: PLC0415 (only a failed verification pays for its import)

        if self.diagnosis is None:  # the same checks as `diagnose`, with what apply already holds
            p = self.prepared.data
            request = self.request or assumerequest.for_trust(p.config, self.prepared.plan.role_arn, p.external_id)
            self.diagnosis = diagnose.for_trust(
                request, self.verifier,
                target=p.sides.target, reader=p.sides.source, principal=p.principal.arn,
            )  # fmt: skip
        return self.diagnosis

    def keep_waiting(self, _: BaseException) -> bool:
        role = self.prepared.data.live.role
        created = role.created if role is not None else None
        young = created is not None and (datetime.now(UTC) - created).total_seconds() < RECENT_S
        if not (self.wrote or young or role is None):
            self.stopped = (
                "not retried: this run wrote nothing and the role is older than "
                f"{RECENT_S / 60:.0f} minutes, so the denial is not IAM propagation"
            )
            return False
        try:
            findings = self._diagnose().findings
        except BootstrapError:
            return True  # the checks could not run: keep waiting, as for propagation
        # A cause read and judged (status fail); evidence (the live call, CloudTrail) names none.
        causes = [f for f in findings if f.status == "fail" and f.id not in ("live-assume", "cloudtrail")]
        if causes:
            self.stopped = f"stopped waiting: the checks name the cause ({causes[0].id}), which waiting cannot fix"
        return not causes

    def explain(self) -> None:
        """Walk the diagnose checks with what the run already holds, and report the findings."""
        diagnosis = self._diagnose()
        self.on_progress(Diagnosed(self.prepared.plan.role_arn, self.prepared.data.principal.arn, diagnosis.findings))


# Writes that change only what the role may do once assumed, never whether AssumeRole into it
# succeeds: IAM decides that from the trust policy and the caller's own policies
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
# Tags are not here: a policy may allow or deny sts:AssumeRole on aws:ResourceTag.
ROLE_PERMISSIONS_ONLY = frozenset(
    {Op.ATTACH_POLICY, Op.DETACH_POLICY, Op.PUT_ROLE_POLICY, Op.DELETE_ROLE_POLICY, Op.SET_BOUNDARY}
)


class EarlyAssume:
    """The proof's AssumeRole, sent while the role's permissions are still being written.

    Once every write that decides the AssumeRole (the role, its trust, the grant) is done, the
    attachments and inline policies still going out cannot change its answer, so AssumeRole goes
    out beside them: a first onboarding waits a round less. Its answer is used only once every
    write is done (then who those credentials are is asked, as ever); a denial (IAM propagation, a
    write that failed) or no answer is None, and the proof then runs as usual after the writes, with
    its waiting and its diagnosis. Never with MFA (a one-time code is not spent on a guess), nor for
    a rename, whose old role is removed only after a proof taken when everything is in place."""

    def __init__(self, prepared: KeyBased, verifier: aws.Account | None, the_plan: Plan) -> None:
        self._request: assumerequest.AssumeRequest | None = None
        gating = [c for c in the_plan.changes if c.op not in ROLE_PERMISSIONS_ONLY]
        worth_it = len(gating) < len(the_plan.changes)  # something is still being written after them
        if verifier is not None and worth_it and not prepared.data.config.mfa_serial and not the_plan.after_verify:
            self._request = assumerequest.for_trust(prepared.data.config, the_plan.role_arn, prepared.data.external_id)
        self._verifier, self._waiting_for = verifier, set(gating)
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._sent: Future[aws.Credentials | None] | None = None

    def __enter__(self) -> EarlyAssume:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:  # a failed run does not wait for an answer it will not use
            self._pool.shutdown(wait=False, cancel_futures=True)

    def on_done(self, change: Change) -> None:
        """apply's callback (from either side's thread) for each write made."""
        with self._lock:
            self._waiting_for.discard(change)
            if self._request is None or self._sent is not None or self._waiting_for:
                return
            assert self._verifier is not None
            self._pool = ThreadPoolExecutor(max_workers=1)
            self._sent = self._pool.submit(verify.try_assume, self._verifier, self._request)

    def credentials(self) -> aws.Credentials | None:
        """AssumeRole's credentials, if it was sent and succeeded. Ask only once every write is done."""
        return self._sent.result() if self._sent is not None else None


def prove(
    prepared: KeyBased,
    verifier: aws.Account,
    judge: Judge,
    wrote: bool = False,
    assumed: aws.Credentials | None = None,
) -> Verification:
    """``assumed``: credentials AssumeRole gave while the role's permissions were being written
    (EarlyAssume), after every write that decides it."""
    config = prepared.data.config
    if not wrote:
        # Nothing was written after the reads, so AssumeRole's answer beside them (commands.prepare)
        # is as good as one asked now.
        assumed = prepared.data.proof
    if assumed is not None:
        # The proof's first half has answered: its second half is who those credentials are.
        checked = verify.check_assumed(
            verifier, assumed, prepared.plan.role_arn, prepared.data.sides.target_identity.account
        )
        return with_consumers(prepared, verifier, judge, checked, wrote)
    judge.on_progress(Waiting("Verifying: AssumeRole as the principal, waiting for IAM propagation"))
    try:
        result = verify.verify(
            verifier,
            assumerequest.for_trust(config, prepared.plan.role_arn, prepared.data.external_id),
            target_account=prepared.data.sides.target_identity.account,
            timeout_s=config.verify_timeout,
            on_attempt=lambda number, _elapsed: judge.on_progress(Attempt(number)),
            keep_waiting=judge.keep_waiting,
        )
    finally:
        judge.on_progress(Waited())
    if not result.ok and judge.stopped:
        return replace(result, error=f"{result.error} ({judge.stopped})")
    return with_consumers(prepared, verifier, judge, result, wrote)


def with_consumers(
    prepared: KeyBased, verifier: aws.Account, judge: Judge, result: Verification, wrote: bool
) -> Verification:
    """The bare proof passed: now each named consumer's own call (consumerproof.py). A refused one
    fails the proof, and the diagnosis then judges that call, not the bare one."""
    if not result.ok or not prepared.data.config.consumers:
        return result
    from bootstrap.trust import consumerproof  # noqa: PLC0415 (only runs with --for pay for it)

    verdicts = consumerproof.replay(prepared, verifier, wrote)
    refusal = consumerproof.first_refusal(verdicts)
    if refusal is not None:
        failed = next(c for c, v in zip(consumerproof.calls(prepared), verdicts, strict=True) if not v.ok)
        judge.request = consumerproof.request_of(prepared, failed)
    return replace(result, ok=refusal is None, error=refusal, consumers=verdicts)
