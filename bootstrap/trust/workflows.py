"""One trust's workflows (apply, plan, verify), wired from the steps: connect -> read -> plan ->
apply -> verify. No typer and no printing here: cli.py parses flags and shows what these report
(``on_progress``) and return; this module decides and acts. It imports botocore (through the steps),
so cli.py imports it only once a command runs."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from bootstrap.aws import accounts as aws
from bootstrap.aws import sessions
from bootstrap.aws import sts as aws_sts
from bootstrap.config import model as config_model
from bootstrap.config.model import Config
from bootstrap.core import arns, plan, policydoc
from bootstrap.core.assumerequest import AssumeRequest
from bootstrap.core.errors import (
    BootstrapError,
    Interrupted,
    InvalidInput,
    NotConfirmed,
    NotOwned,
    VerifyFailed,
)
from bootstrap.core.plan import Plan
from bootstrap.core.results import Confirm, Done, OnProgress, Outcome
from bootstrap.core.state import OWNER_TAG, TRUST_SID, Role, State
from bootstrap.trust import apply, desired, live, prewrite, proof, verify
from bootstrap.trust.prepared import KeyBased, KeyBasedData, Prepared, accounts_of


def external_id_in(trust_policy: str) -> str | None:
    for statement in policydoc.statements(trust_policy):
        values = statement.get("Condition", {}).get("StringEquals", {}).get("sts:externalid")
        if values:
            return str(values[0])
    return None


def _wanted(
    config: Config, sides: sessions.Sides, principal: arns.Principal, role: Role | None
) -> tuple[State, str | None, bool]:
    """(the desired state, its ExternalId, whether that ExternalId was generated now)."""
    external_id, generated = config.external_id, False
    if external_id is None and config.generate_external_id:
        existing = external_id_in(role.trust_policy) if role else None
        external_id, generated = (existing, False) if existing else (secrets.token_urlsafe(24), True)
    context = desired.Context(
        source_account=sides.source_identity.account,
        target_account=sides.target_identity.account,
        partition=sides.partition,
        principal=principal,
        external_id=external_id,
    )
    return desired.build(config, context), external_id, generated


def prepare(config: Config, adopt: bool = False, for_apply: bool = False) -> KeyBased:
    """Connect to both accounts, check the principal, read both sides and plan. Read-only.

    Round trips, not CPU, decide how long a run takes (each IAM call is 50-300 ms away), so every
    read goes out as soon as what it needs is known, not in fixed steps:
    1. with only the input: who the two profiles are, the principal, the role, its listings and
       the inline policies the input names; for apply also the principal's inline policy names and
       what writing would need checked (prewrite.py: do the policies to attach exist? is the verify
       profile the principal?), before anyone knows whether anything will be written;
    2. with the target account known: the grant (its name holds that account), unless round 1's
       listing shows there is none; beside it either the proof's AssumeRole, when the role already
       stands as wanted (used only if the plan turns out empty), or, when something will be
       written, the sizes of the principal's other inline policies (does the grant fit?).
    No write and no check is skipped: the plan still waits for every read and every check."""
    verifying = for_apply and config.verify
    if verifying and config.require_mfa and not config.mfa_serial:
        raise InvalidInput(
            "The trust policy will require MFA, so verifying it needs an MFA code: pass --mfa-serial and "
            "--mfa-token, or --no-verify. Nothing was written."
        )
    with ThreadPoolExecutor(max_workers=12) as pool:
        # Round 1, sent together once every session and client is made: the round ends when its
        # last call returns, so sending the first ones while the later clients are still being made
        # (CPU) would not end it sooner, and would spread it over two rounds of the bench's count.
        source = aws.open_account(config.source_profile, "source")
        target = aws.open_account(config.target_profile, "target")
        verify_account = (
            aws.open_account(config.verify_profile, "verify") if verifying and config.verify_profile else None
        )
        aws.make_clients(source, target, verify_account)
        source_id = pool.submit(aws_sts.get_caller_identity, source)
        target_id = pool.submit(aws_sts.get_caller_identity, target)
        given = arns.parse_principal(config.principal) if config.principal else None
        found = pool.submit(sessions.find_principal, source, given) if given else None
        inline_names = tuple(p.name for p in config.inline_policies)
        live_role_job = pool.submit(live.read_role, target, config.role_name, inline_names)
        # What writing would need checked, before knowing whether anything will be (apply only).
        early = prewrite.send_early(pool, config, target, source, given, verify_account) if for_apply else None
        sides = sessions.sides_of(source, target, source_id.result(), target_id.result())

        # Round 2: what needs the accounts known.
        principal, source_principal = sessions.resolve_principal(
            config.principal, sides.source_identity, sides.source, own_needed=verifying
        )
        target_account, source_account = sides.target_identity.account, sides.source_identity.account
        grant_name = desired.grant_policy_name(target_account, config.role_name)
        if found is None:
            found = pool.submit(sessions.find_principal, source, principal)
        live_grant = prewrite.grant_read(pool, early, sides.source, principal, grant_name)
        verifier_job = None
        if verifying:
            verifier_job = pool.submit(
                verify.choose_verifier, sides.source, source_principal, principal, verify_account, config.session_name
            )
        retired = _retired(pool, config, sides, principal)
        live_role = live_role_job.result()
        want, external_id, generated = _wanted(config, sides, principal, live_role)
        # The plan as it would be if the grant already stood as wanted: the role side alone.
        role_side = plan.diff(want, State(target_account, source_account, live_role, want.grant), adopt=adopt)
        checks: list[Future[Any]] = []
        check_args = (pool, config, sides.target, sides.source, live_role, principal, grant_name, verify_account, early)
        early_proof = None
        if not role_side.empty:
            checks = prewrite.checks(*check_args)
        elif verifier_job is not None and not config.mfa_serial and retired is None and not role_side.not_owned:
            early_proof = _try_proof(pool, verifier_job, role_side.role_arn, config.session_name, external_id)
        sessions.principal_found(source_account, principal, found.result())
        live_state = State(target_account, source_account, live_role, live_grant.result())
        verifier = verifier_job.result() if verifier_job else None
        the_plan = plan.diff(want, live_state, adopt=adopt, retired=retired)
        if not the_plan.empty and not checks:  # only the grant (or a rename's old role) needs writes
            checks = prewrite.checks(*check_args)
        results = [job.result() for job in checks]
        rooms = [r for r in results if isinstance(r, prewrite.GrantRoom)]
        if rooms:
            prewrite.check_grant_fits(the_plan, rooms[0])
        credentials = early_proof.result() if early_proof is not None and the_plan.empty else None
    data = KeyBasedData(config, sides, principal, source_principal, want, live_state, external_id, generated,
                        verifier=verifier, proof=credentials)  # fmt: skip
    return Prepared("key-based", the_plan, accounts_of(sides), data)


def _retired(
    pool: ThreadPoolExecutor, config: Config, sides: sessions.Sides, principal: arns.Principal
) -> State | None:
    """A rename's old role and grant, as they stand (--replaces)."""
    if not config.replaces:
        return None
    target_account, source_account = sides.target_identity.account, sides.source_identity.account
    old_grant_name = desired.grant_policy_name(target_account, config.replaces)
    old_role = pool.submit(live.read_role, sides.target, config.replaces)
    old_grant = pool.submit(live.read_grant, sides.source, principal, old_grant_name)
    return State(target_account, source_account, old_role.result(), old_grant.result())


def _try_proof(
    pool: ThreadPoolExecutor, verifier_job: Future[aws.Account], role_arn: str, session: str, external_id: str | None
) -> Future[aws.Credentials | None] | None:
    """The proof's AssumeRole, sent beside the grant read when the role already stands as wanted."""
    try:
        verifier = verifier_job.result()
    except BootstrapError:  # raised again by the caller, in its turn (after the principal check)
        return None
    return pool.submit(verify.try_assume, verifier, AssumeRequest(role_arn, session, external_id=external_id))


def warnings(config: Config) -> list[str]:
    """Safe-default warnings: what the run allows that a security review would question."""
    notes = []
    if config.trust_account:
        notes.append(
            "--trust-account: the role trusts the whole source account, so any user or role there whose own policies "
            "allow sts:AssumeRole can assume it. Trusting the exact principal (the default) is stronger."
        )
    if not (config.external_id or config.generate_external_id or config.require_mfa):
        notes.append(
            "The role requires neither an ExternalId nor MFA. For a third party, require an ExternalId "
            "(--generate-external-id) against the confused-deputy problem; for people, --require-mfa."
        )
    return notes


# Asks for the current MFA code (the CLI: a prompt); called only when the proof is about to spend it.
AskCode = Callable[[], str]


def _with_code(prepared: KeyBased, ask_code: AskCode | None) -> KeyBased:
    """The prepared run with the MFA code the proof sends, asked for now when the config names a
    device but holds no code: a one-time code asked for at the start would be stale after the
    writes and the propagation wait (and plan, export and teardown never need one)."""
    if not config_model.needs_mfa_code(prepared.data.config):
        return prepared
    check_code_source(prepared.data.config, ask_code)
    assert ask_code is not None
    code = ask_code()
    try:
        arns.check_mfa_token(code)
    except ValueError as err:
        raise InvalidInput(f"The MFA code: {err}.") from err
    return replace(prepared, data=replace(prepared.data, config=replace(prepared.data.config, mfa_token=code)))


def check_code_source(config: Config, ask_code: AskCode | None) -> None:
    """Before any call: a proof that needs an MFA code must be able to get one (asked, or given)."""
    if ask_code is None and config_model.needs_mfa_code(config):
        raise InvalidInput(
            f"Verifying sends an MFA code for the device {config.mfa_serial} (mfa_serial), and there is no "
            "terminal to ask for it: pass the current code with --mfa-token CODE, or --no-verify. Nothing was written."
        )


def run_apply(
    prepared: KeyBased, confirm: Confirm, on_progress: OnProgress, ask_code: AskCode | None = None
) -> Outcome:
    """Apply the prepared plan (after ``confirm``), then verify; a rename's old role and grant are
    removed only after that verification succeeds. ``ask_code``: the MFA code, asked for just
    before the proof spends it (when the config names a device but holds no code)."""
    config, the_plan = prepared.data.config, prepared.plan
    if the_plan.not_owned:
        raise NotOwned(
            f"{'; '.join(the_plan.not_owned)}. trust-bootstrap changes only what it created (tagged "
            f"{OWNER_TAG[0]}={OWNER_TAG[1]} and trusting through its statement {TRUST_SID}). Pick another --role-name, or re-run with --adopt to take it "
            "over (the plan shows every change first). Nothing was written."
        )
    verifier = prepared.data.verifier if config.verify else None
    check_code_source(config, ask_code)
    if not the_plan.empty and not confirm(the_plan):
        raise NotConfirmed("Not confirmed: nothing was written.")
    done: tuple[plan.Change, ...] = ()
    assumed = None
    if the_plan.changes:
        writes = replace(the_plan, after_verify=())
        with proof.EarlyAssume(prepared, verifier, writes) as early:
            done = _execute(prepared, writes, on_progress, early.on_done)
            assumed = early.credentials()
    result = None
    judge = None
    if verifier is not None:
        try:
            prepared = _with_code(prepared, ask_code)
            judge = proof.Judge(prepared, verifier, bool(done), on_progress)
            result = proof.prove(prepared, verifier, judge, wrote=bool(done), assumed=assumed)
        except BootstrapError as err:  # the network, the credentials, an unreadable answer
            err.message = (
                f"{_in_place(prepared, done)} Not verified: the verification could not finish: {err.message} "
                f"{_kept_old_role(prepared)}Re-run the same command to verify; it writes nothing again."
            )
            err.done = _done_lines(done)
            raise
        except KeyboardInterrupt:
            raise Interrupted(
                f"Verification interrupted. Both sides are in place: the role {the_plan.role_arn} and the grant on "
                f"{prepared.data.principal.arn} ({len(done)} change(s) applied now). Not verified: that AssumeRole succeeds. "
                f"{_kept_old_role(prepared)}Re-run the same command to verify; it writes nothing again."
            ) from None
    notes: tuple[str, ...] = ()
    if the_plan.after_verify and result is not None and result.ok:
        retire = Plan(changes=the_plan.after_verify, role_arn=the_plan.role_arn)
        done += _execute(prepared, retire, on_progress)
    elif the_plan.after_verify and result is None:
        notes = (
            f"{_kept_old_role(prepared)}Once the new role is proven, remove it: re-run this apply with "
            f"--replaces {config.replaces} and verification on (--verify-profile with the principal's "
            f"credentials), or 'trust-bootstrap teardown --role-name {config.replaces}'.",
        )
    outcome = Outcome(
        role_arn=the_plan.role_arn,
        principal_arn=prepared.data.principal.arn,
        external_id=prepared.data.external_id,
        external_id_generated=prepared.data.external_id_generated,
        session_name=config.session_name,
        changes=done,
        verification=result,
        accounts=prepared.accounts,
        notes=notes,
        requires_mfa=config.require_mfa,
        mfa_serial=config.mfa_serial,
    )
    if result is not None and not result.ok:
        assert judge is not None
        judge.explain()
        raise VerificationFailed(outcome, kept=_kept_old_role(prepared) if the_plan.after_verify else "")
    return outcome


def _done_lines(done: tuple[plan.Change, ...]) -> tuple[str, ...]:
    return tuple(c.said for c in done)


def _in_place(prepared: KeyBased, done: tuple[plan.Change, ...]) -> str:
    return (
        f"Both sides are in place: the role {prepared.plan.role_arn} and the grant on {prepared.data.principal.arn} "
        f"({len(done)} change(s) applied now)."
    )


def _execute(
    prepared: KeyBased, the_plan: Plan, on_progress: OnProgress, also: apply.OnDone | None = None
) -> tuple[plan.Change, ...]:
    def on_done(change: plan.Change) -> None:
        on_progress(Done(change))
        if also is not None:
            also(change)

    return apply.execute(
        the_plan,
        target=prepared.data.sides.target,
        source=prepared.data.sides.source,
        deadline_s=prepared.data.config.verify_timeout,
        on_done=on_done,
    )


def _kept_old_role(prepared: KeyBased) -> str:
    if not prepared.plan.after_verify:
        return ""
    return (
        f"The old role {prepared.data.config.replaces} and its grant were kept (a rename removes them only after the "
        "new role is verified). "
    )


class VerificationFailed(VerifyFailed):
    """Both sides are in place, but the principal could not assume the role in time."""

    def __init__(self, outcome: Outcome, kept: str = "") -> None:
        v = outcome.verification
        assert v is not None  # raised only when the verification ran and failed
        super().__init__(
            f"Both sides are in place ({len(outcome.changes)} change(s) applied now; the role {outcome.role_arn} "
            f"exists and {outcome.principal_arn} holds the sts:AssumeRole grant), but the principal could not "
            f"assume the role: {v.error} after {v.attempts} attempt(s) over {v.waited_s:.1f}s. "
            f"Verified: the role and the grant. Not verified: that AssumeRole succeeds. {kept}IAM can take longer "
            "to propagate: re-run with a larger --verify-timeout (nothing will be written again), or check the "
            "ExternalId/MFA values you passed.",
            done=_done_lines(outcome.changes),
        )
        self.outcome = outcome


def run_verify(prepared: KeyBased, on_progress: OnProgress, ask_code: AskCode | None = None) -> Outcome:
    """Only the proof: AssumeRole as the principal, no writes. On failure, the diagnose checks
    (reported to ``on_progress``); the outcome's verification says whether it passed.
    ``ask_code``: as for run_apply."""
    if prepared.data.verifier is None:
        raise InvalidInput("verify needs verification on: drop --no-verify (or 'verify: false' in the config).")
    if prepared.data.live.role is None:
        raise VerifyFailed(
            f"There is no role {prepared.data.config.role_name} in account {prepared.data.live.target_account}: nothing to "
            "verify. Create it with 'trust-bootstrap apply' and the same options."
        )
    prepared = _with_code(prepared, ask_code)
    assert prepared.data.verifier is not None
    judge = proof.Judge(prepared, prepared.data.verifier, False, on_progress)
    result = proof.prove(prepared, prepared.data.verifier, judge)
    if not result.ok:
        judge.explain()
    return Outcome(
        role_arn=prepared.plan.role_arn,
        principal_arn=prepared.data.principal.arn,
        external_id=prepared.data.external_id,
        external_id_generated=False,
        session_name=prepared.data.config.session_name,
        changes=(),
        verification=result,
        accounts=prepared.accounts,
        requires_mfa=prepared.data.config.require_mfa,
        mfa_serial=prepared.data.config.mfa_serial,
    )
