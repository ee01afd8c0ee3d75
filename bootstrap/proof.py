"""The proof of a trust: AssumeRole as the principal through IAM propagation, waiting only while
waiting can help, and the diagnose checks when it fails. Used by apply and verify (commands.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bootstrap import assumerequest, aws, verify
from bootstrap.errors import BootstrapError
from bootstrap.results import Attempt, Diagnosed, OnProgress, Verification, Waited, Waiting

if TYPE_CHECKING:
    from bootstrap.prepared import Prepared


# A role created this recently may still be propagating (IAM is eventually consistent; AWS speaks
# of seconds, sometimes minutes): https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html
RECENT_S = 600.0


class Judge:
    """Decides, on a denied AssumeRole, whether waiting can still help: only while the denial can be
    propagation (this run wrote, or the role is new) and the diagnose checks name no definite cause."""

    def __init__(self, prepared: Prepared, verifier: aws.Account, wrote: bool, on_progress: OnProgress) -> None:
        self.prepared, self.verifier, self.wrote = prepared, verifier, wrote
        self.on_progress = on_progress
        self.diagnosis: Any = None
        self.stopped = ""  # why waiting stopped before the deadline

    def _diagnose(self) -> Any:
        from bootstrap import diagnose  # noqa: PLC0415 (only a failed verification pays for its import)

        if self.diagnosis is None:  # the same checks as `diagnose`, with what apply already holds
            p = self.prepared
            self.diagnosis = diagnose.for_trust(
                assumerequest.for_trust(p.config, p.plan.role_arn, p.external_id), self.verifier,
                target=p.sides.target, reader=p.sides.source, principal=p.principal.arn,
            )  # fmt: skip
        return self.diagnosis

    def keep_waiting(self, _: BaseException) -> bool:
        role = self.prepared.live.role
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
        self.on_progress(Diagnosed(self.prepared.plan.role_arn, self.prepared.principal.arn, diagnosis.findings))


def prove(prepared: Prepared, verifier: aws.Account, judge: Judge, wrote: bool = False) -> Verification:
    config = prepared.config
    if prepared.proof is not None and not wrote:
        # Nothing was written after the reads, and AssumeRole already answered beside them
        # (commands.prepare): the proof's second half is who those credentials are.
        return verify.check_assumed(
            verifier, prepared.proof, prepared.plan.role_arn, prepared.sides.target_identity.account
        )
    judge.on_progress(Waiting("Verifying: AssumeRole as the principal, waiting for IAM propagation"))
    try:
        result = verify.verify(
            verifier,
            assumerequest.for_trust(config, prepared.plan.role_arn, prepared.external_id),
            target_account=prepared.sides.target_identity.account,
            timeout_s=config.verify_timeout,
            on_attempt=lambda number, _elapsed: judge.on_progress(Attempt(number)),
            keep_waiting=judge.keep_waiting,
        )
    finally:
        judge.on_progress(Waited())
    if not result.ok and judge.stopped:
        return replace(result, error=f"{result.error} ({judge.stopped})")
    return result
