"""The workflows behind each command, wired from the steps: connect -> read -> plan -> apply ->
verify. No typer here: cli.py parses flags and prints; this module decides and acts. It imports
boto3 (through the steps), so cli.py imports it only once a command runs."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bootstrap import apply, arns, aws, desired, live, plan, policydoc, sessions, verify
from bootstrap.config import Config
from bootstrap.errors import BootstrapError, InvalidInput, NotConfirmed, NotOwned, VerifyFailed
from bootstrap.plan import Plan, Side
from bootstrap.progress import Spinner, status
from bootstrap.render import Outcome
from bootstrap.state import OWNER_TAG, State

Confirm = Callable[[Plan], bool]


@dataclass(frozen=True)
class Prepared:
    """Everything known before the first write."""

    config: Config
    sides: sessions.Sides
    principal: arns.Principal
    source_principal: arns.Principal | None
    desired: State
    live: State
    plan: Plan
    external_id: str | None
    external_id_generated: bool

    @property
    def accounts(self) -> dict[Side, str]:
        return {
            Side.SOURCE: self.sides.source_identity.account,
            Side.TARGET: self.sides.target_identity.account,
        }


def _external_id_in(trust_policy: str) -> str | None:
    for statement in policydoc.statements(trust_policy):
        values = statement.get("Condition", {}).get("StringEquals", {}).get("sts:externalid")
        if values:
            return str(values[0])
    return None


def prepare(config: Config, adopt: bool = False) -> Prepared:
    """Connect to both accounts, check the principal, read both sides and plan. Read-only."""
    sides = sessions.connect(config.source_profile, config.target_profile)
    source_principal = None
    if config.principal is None or config.verify:
        try:
            source_principal = sessions.identity_principal(sides.source_identity, sides.source)
        except BootstrapError:
            if config.principal is None:
                raise
    principal = arns.parse_principal(config.principal) if config.principal else source_principal
    assert principal is not None
    target_account = sides.target_identity.account
    grant_name = desired.grant_policy_name(target_account, config.role_name)
    source_account = sides.source_identity.account
    with ThreadPoolExecutor(max_workers=5) as pool:
        checked = pool.submit(sessions.check_principal, sides.source, source_account, principal)
        live_role = pool.submit(live.read_role, sides.target, config.role_name)
        live_grant = pool.submit(live.read_grant, sides.source, principal, grant_name)
        retired = None
        if config.replaces:
            old_grant_name = desired.grant_policy_name(target_account, config.replaces)
            old_role = pool.submit(live.read_role, sides.target, config.replaces)
            old_grant = pool.submit(live.read_grant, sides.source, principal, old_grant_name)
            retired = State(target_account, source_account, old_role.result(), old_grant.result())
        checked.result()
        live_state = State(target_account, source_account, live_role.result(), live_grant.result())

    external_id, generated = config.external_id, False
    if external_id is None and config.generate_external_id:
        existing = _external_id_in(live_state.role.trust_policy) if live_state.role else None
        external_id, generated = (existing, False) if existing else (secrets.token_urlsafe(24), True)
    context = desired.Context(
        source_account=sides.source_identity.account,
        target_account=target_account,
        partition=sides.partition,
        principal=principal,
        external_id=external_id,
    )
    want = desired.build(config, context)
    return Prepared(
        config=config,
        sides=sides,
        principal=principal,
        source_principal=source_principal,
        desired=want,
        live=live_state,
        plan=plan.diff(want, live_state, adopt=adopt, retired=retired),
        external_id=external_id,
        external_id_generated=generated,
    )


def run_apply(prepared: Prepared, confirm: Confirm) -> Outcome:
    """Apply the prepared plan (after ``confirm``), then verify."""
    config, the_plan = prepared.config, prepared.plan
    if the_plan.not_owned:
        raise NotOwned(
            f"{'; '.join(the_plan.not_owned)}. trust-bootstrap changes only what it created (tagged "
            f"{OWNER_TAG[0]}={OWNER_TAG[1]}). Pick another --role-name, or re-run with --adopt to take it "
            "over (the plan shows every change first). Nothing was written."
        )
    verifier = None
    if config.verify:
        if config.require_mfa and not config.mfa_serial:
            raise InvalidInput(
                "The trust policy will require MFA, so verifying it needs an MFA code: pass --mfa-serial and "
                "--mfa-token, or --no-verify. Nothing was written."
            )
        verifier = verify.choose_verifier(
            prepared.sides.source,
            prepared.source_principal,
            prepared.principal,
            config.verify_profile,
            config.session_name,
        )
    if not the_plan.empty and not confirm(the_plan):
        raise NotConfirmed("Not confirmed: nothing was written.")
    done: tuple[plan.Change, ...] = ()
    if not the_plan.empty:
        done = apply.execute(
            the_plan,
            target=prepared.sides.target,
            source=prepared.sides.source,
            deadline_s=config.verify_timeout,
            on_done=lambda c: status(f"  done: {c.action} {c.resource}"),
        )
    result = None
    if verifier is not None:
        result = _verify(prepared, verifier)
    outcome = Outcome(
        role_arn=the_plan.role_arn,
        principal_arn=prepared.principal.arn,
        external_id=prepared.external_id,
        external_id_generated=prepared.external_id_generated,
        session_name=config.session_name,
        changes=done,
        verification=result,
        accounts=prepared.accounts,
    )
    if result is not None and not result.ok:
        raise VerificationFailed(outcome)
    return outcome


class VerificationFailed(VerifyFailed):
    """Both sides are in place, but the principal could not assume the role in time."""

    def __init__(self, outcome: Outcome) -> None:
        v = outcome.verification
        super().__init__(
            f"Both sides are in place ({len(outcome.changes)} change(s) applied now; the role {outcome.role_arn} "
            f"exists and {outcome.principal_arn} holds the sts:AssumeRole grant), but the principal could not "
            f"assume the role: {v.error} after {v.attempts} attempt(s) over {v.waited_s:.1f}s. "
            "Verified: the role and the grant. Not verified: that AssumeRole succeeds. IAM can take longer to "
            "propagate: re-run with a larger --verify-timeout (nothing will be written again), or check the "
            "ExternalId/MFA values you passed."
        )
        self.outcome = outcome


def _verify(prepared: Prepared, verifier: aws.Account) -> verify.Verification:
    config = prepared.config
    with Spinner("Verifying: AssumeRole as the principal, waiting for IAM propagation") as spinner:
        return verify.verify(
            verifier,
            role_arn=prepared.plan.role_arn,
            target_account=prepared.sides.target_identity.account,
            session_name=config.session_name,
            external_id=prepared.external_id,
            mfa_serial=config.mfa_serial,
            mfa_token=config.mfa_token,
            timeout_s=config.verify_timeout,
            on_attempt=spinner.attempt,
        )
