"""The workflows behind each command, wired from the steps: connect -> read -> plan -> apply ->
verify. No typer here: cli.py parses flags and prints; this module decides and acts. It imports
boto3 (through the steps), so cli.py imports it only once a command runs."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from bootstrap import (
    admincheck,
    apply,
    arns,
    aws,
    desired,
    exports,
    live,
    plan,
    policydoc,
    render,
    sessions,
    verify,
)
from bootstrap.config import Config
from bootstrap.errors import (
    Interrupted,
    InvalidInput,
    NotConfirmed,
    NotOwned,
    PreconditionFailed,
    VerifyFailed,
)
from bootstrap.plan import Plan, Side
from bootstrap.progress import Spinner, status
from bootstrap.render import Outcome
from bootstrap.state import OWNER_TAG, TRUST_SID, Role, State

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
    verifier: aws.Account | None = None  # credentials acting as the principal (apply with verification)

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


def _check_policies_exist(target: aws.Account, config: Config, role: Role | None) -> None:
    """Policies to attach (or the boundary) must exist in the target account: a typo found now
    costs nothing, found after CreateRole it leaves half a role."""
    attached = set(role.managed_policies) if role else set()
    if role and role.permissions_boundary:
        attached.add(role.permissions_boundary)
    wanted = [*config.policy_arns, *([config.permissions_boundary] if config.permissions_boundary else [])]
    to_check = [arn for arn in wanted if arn not in attached]
    if not to_check:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(to_check))) as pool:
        exists = dict(zip(to_check, pool.map(lambda arn: aws.policy_exists(target, arn), to_check), strict=True))
    missing = [arn for arn, found in exists.items() if not found]
    if missing:
        raise InvalidInput(
            f"{', '.join(missing)} does not exist in the target account (or is not attachable): check the ARN; "
            "customer managed policies are per account. Nothing was written."
        )
    admincheck.refuse_admin_managed(target, config, attached)


def prepare(config: Config, adopt: bool = False, for_apply: bool = False) -> Prepared:
    """Connect to both accounts, check the principal, read both sides and plan. Read-only.

    Independent calls go out together, in rounds: who the two profiles are; the principal, the
    role and the grant; then, only when there is something to write, what writing needs checked
    first (do the policies to attach exist? is the verify profile the principal?)."""
    verifying = for_apply and config.verify
    if verifying and config.require_mfa and not config.mfa_serial:
        raise InvalidInput(
            "The trust policy will require MFA, so verifying it needs an MFA code: pass --mfa-serial and "
            "--mfa-token, or --no-verify. Nothing was written."
        )
    with ThreadPoolExecutor(max_workers=6) as pool:
        sides_job = pool.submit(sessions.connect, config.source_profile, config.target_profile)
        verify_account = (
            verify.open_verify_profile(config.verify_profile) if verifying and config.verify_profile else None
        )
        sides = sides_job.result()
        principal, source_principal = sessions.resolve_principal(
            config.principal, sides.source_identity, sides.source, own_needed=verifying
        )
        target_account, source_account = sides.target_identity.account, sides.source_identity.account
        grant_name = desired.grant_policy_name(target_account, config.role_name)

        checked = pool.submit(sessions.check_principal, sides.source, source_account, principal)
        live_role = pool.submit(live.read_role, sides.target, config.role_name)
        live_grant = pool.submit(live.read_grant, sides.source, principal, grant_name)
        verifier_job = None
        if verifying:
            verifier_job = pool.submit(
                verify.choose_verifier, sides.source, source_principal, principal, verify_account, config.session_name
            )
        retired = None
        if config.replaces:
            old_grant_name = desired.grant_policy_name(target_account, config.replaces)
            old_role = pool.submit(live.read_role, sides.target, config.replaces)
            old_grant = pool.submit(live.read_grant, sides.source, principal, old_grant_name)
            retired = State(target_account, source_account, old_role.result(), old_grant.result())
        checked.result()
        live_state = State(target_account, source_account, live_role.result(), live_grant.result())
        verifier = verifier_job.result() if verifier_job else None

    external_id, generated = config.external_id, False
    if external_id is None and config.generate_external_id:
        existing = _external_id_in(live_state.role.trust_policy) if live_state.role else None
        external_id, generated = (existing, False) if existing else (secrets.token_urlsafe(24), True)
    context = desired.Context(
        source_account=source_account,
        target_account=target_account,
        partition=sides.partition,
        principal=principal,
        external_id=external_id,
    )
    want = desired.build(config, context)
    the_plan = plan.diff(want, live_state, adopt=adopt, retired=retired)
    if not the_plan.empty:
        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = [pool.submit(_check_policies_exist, sides.target, config, live_state.role)]
            if verify_account is not None and config.verify_profile:
                jobs.append(pool.submit(verify.check_verifier, verify_account, principal, config.verify_profile))
            for job in jobs:
                job.result()
    return Prepared(
        config=config,
        sides=sides,
        principal=principal,
        source_principal=source_principal,
        desired=want,
        live=live_state,
        plan=the_plan,
        external_id=external_id,
        external_id_generated=generated,
        verifier=verifier,
    )


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


def run_apply(prepared: Prepared, confirm: Confirm) -> Outcome:
    """Apply the prepared plan (after ``confirm``), then verify."""
    config, the_plan = prepared.config, prepared.plan
    if the_plan.not_owned:
        raise NotOwned(
            f"{'; '.join(the_plan.not_owned)}. trust-bootstrap changes only what it created (tagged "
            f"{OWNER_TAG[0]}={OWNER_TAG[1]} and trusting through its statement {TRUST_SID}). Pick another --role-name, or re-run with --adopt to take it "
            "over (the plan shows every change first). Nothing was written."
        )
    verifier = prepared.verifier if config.verify else None
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
        try:
            result = _verify(prepared, verifier)
        except KeyboardInterrupt:
            raise Interrupted(
                f"Verification interrupted. Both sides are in place: the role {the_plan.role_arn} and the grant on "
                f"{prepared.principal.arn} ({len(done)} change(s) applied now). Not verified: that AssumeRole succeeds. "
                "Re-run the same command to verify; it writes nothing again."
            ) from None
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
        assert verifier is not None
        _explain_failed_verification(prepared, verifier)
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


def run_verify(prepared: Prepared) -> verify.Verification:
    """Only the proof: AssumeRole as the principal, no writes. On failure, the diagnose checks."""
    if prepared.verifier is None:
        raise InvalidInput("verify needs verification on: drop --no-verify (or 'verify: false' in the config).")
    if prepared.live.role is None:
        raise VerifyFailed(
            f"There is no role {prepared.config.role_name} in account {prepared.live.target_account}: nothing to "
            "verify. Create it with 'trust-bootstrap apply' and the same options."
        )
    result = _verify(prepared, prepared.verifier)
    if not result.ok:
        _explain_failed_verification(prepared, prepared.verifier)
    return result


def _explain_failed_verification(prepared: Prepared, verifier: aws.Account) -> None:
    """Walk the diagnose checks with what the run already holds, and print the findings."""
    from bootstrap import diagnose  # noqa: PLC0415 (only a failed verification pays for its import)

    status("Verification failed; walking the diagnose checks:")
    diagnosis = diagnose.after_failed_verification(prepared, verifier)
    status(render.findings_text(prepared.plan.role_arn, prepared.principal.arn, diagnosis.findings))


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


# -- teardown ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeardownPrepared:
    plan: Plan
    accounts: dict[Side, str]
    source: aws.Account | None
    target: aws.Account | None
    left: tuple[str, ...]  # what this run leaves on a side it does not touch (--only)


# Deletes never wait for propagation; this only bounds retries that should not occur.
TEARDOWN_DEADLINE_S = 60.0
_GRANT_NAME = re.compile(r"trust-bootstrap-(\d{12})-(.+)")


def _target_account_from_grants(source: aws.Account, principal: arns.Principal, role_name: str) -> str:
    """With --only source and no target profile: the target account from our grant's name."""
    accounts = sorted(
        m.group(1)
        for name in aws.list_inline_policies(source, principal.kind, principal.name)
        if (m := _GRANT_NAME.fullmatch(name)) and m.group(2) == role_name
    )
    if len(accounts) == 1:
        return accounts[0]
    if not accounts:
        raise PreconditionFailed(
            f"{principal.arn} holds no trust-bootstrap grant for a role named {role_name}: nothing to remove in the "
            "source account. Pass --target-account if the grant has another name."
        )
    raise InvalidInput(
        f"{principal.arn} holds grants for roles named {role_name} in several accounts ({', '.join(accounts)}): "
        "pass --target-account to say which."
    )


def prepare_teardown(config: Config, only: Side | None = None, target_account: str | None = None) -> TeardownPrepared:
    """Plan the removal: the desired state is "nothing", planned against what is live. Read-only."""
    source = target = None
    principal: arns.Principal | None = None
    if only is None:
        sides = sessions.connect(config.source_profile, config.target_profile)
        source, target = sides.source, sides.target
        source_account, target_account = sides.source_identity.account, sides.target_identity.account
        principal, _ = sessions.resolve_principal(config.principal, sides.source_identity, source, own_needed=False)
    elif only is Side.SOURCE:
        source, source_identity = sessions.open_profile(config.source_profile, "source")
        source_account = source_identity.account
        principal, _ = sessions.resolve_principal(config.principal, source_identity, source, own_needed=False)
        target_account = target_account or _target_account_from_grants(source, principal, config.role_name)
    else:
        target, target_identity = sessions.open_profile(config.target_profile, "target")
        target_account, source_account = target_identity.account, "(not read)"
    assert target_account is not None
    grant_name = desired.grant_policy_name(target_account, config.role_name)
    with ThreadPoolExecutor(max_workers=2) as pool:
        role = pool.submit(live.read_role, target, config.role_name) if target else None
        grant = pool.submit(live.read_grant, source, principal, grant_name) if source and principal else None
        live_state = State(
            target_account, source_account, role.result() if role else None, grant.result() if grant else None
        )
    nothing_here = State(target_account, source_account, None, None)
    left = []
    if only is Side.TARGET:
        who = config.principal or "the principal"
        left.append(
            f"source account: the grant {grant_name} on {who} was not checked (--only target); remove it with "
            "'trust-bootstrap teardown --only source' and the same options"
        )
    elif only is Side.SOURCE:
        left.append(
            f"target account {target_account}: the role {config.role_name} was not checked (--only source); remove "
            "it with 'trust-bootstrap teardown --only target' and the same options"
        )
    return TeardownPrepared(
        plan=plan.diff(nothing_here, live_state),
        accounts={Side.SOURCE: source_account, Side.TARGET: target_account},
        source=source,
        target=target,
        left=tuple(left),
    )


def run_teardown(prepared: TeardownPrepared, confirm: Confirm) -> tuple[plan.Change, ...]:
    """Remove what the plan lists: the source-side grant first, so nobody can assume the role from
    that moment, then the role's policies and the role."""
    the_plan = prepared.plan
    if the_plan.not_owned:
        raise NotOwned(
            f"{'; '.join(the_plan.not_owned)}: trust-bootstrap removes only what it created, so it removes "
            "nothing. Delete it by hand (aws iam delete-role after detaching its policies), or take it over "
            "first with 'trust-bootstrap apply --adopt' and the same options. Nothing was removed."
        )
    if the_plan.empty or not confirm(the_plan):
        if the_plan.empty:
            return ()
        raise NotConfirmed("Not confirmed: nothing was removed.")
    # One side may be absent (--only): it has no changes in the plan, so it is never used.
    source = prepared.source or prepared.target
    target = prepared.target or prepared.source
    assert source is not None and target is not None
    return apply.execute(
        the_plan,
        target=target,
        source=source,
        deadline_s=TEARDOWN_DEADLINE_S,
        source_first=True,
        on_done=lambda c: status(f"  done: {c.action} {c.resource}"),
    )


# -- export --------------------------------------------------------------------------------------


def build_export(config: Config, *, offline: bool, target_account: str | None = None) -> exports.Trust:
    """What the exports render: from the live role (its real ARN), or from config alone."""
    caller_profile = config.verify_profile or config.source_profile
    if offline:
        if config.principal is None:
            raise InvalidInput("--offline needs the principal: pass --principal ARN (nothing is read from AWS).")
        if target_account is None:
            raise InvalidInput("--offline needs the target account for the role's ARN: pass --target-account ID.")
        principal = arns.parse_principal(config.principal)
        external_id = config.external_id
        if config.generate_external_id and external_id is None:
            raise InvalidInput("--offline cannot know a generated ExternalId: pass --external-id, or export online.")
        context = desired.Context(principal.account, target_account, principal.partition, principal, external_id)
    else:
        target, identity = sessions.open_profile(config.target_profile, "target")
        role = live.read_role(target, config.role_name)
        if role is None:
            raise PreconditionFailed(
                f"No role {config.role_name} in account {identity.account}: run 'trust-bootstrap apply' first, or "
                "export from the config alone with --offline."
            )
        if config.principal:
            principal = arns.parse_principal(config.principal)
        else:
            source, source_identity = sessions.open_profile(config.source_profile, "source")
            principal, _ = sessions.resolve_principal(None, source_identity, source)
        external_id = config.external_id or (
            _external_id_in(role.trust_policy) if config.generate_external_id else None
        )
        partition = arns.parse_arn(identity.arn).partition
        context = desired.Context(principal.account, identity.account, partition, principal, external_id)
    want = desired.build(config, context)
    assert want.role is not None and want.grant is not None
    role = replace(want.role, tags=tuple(t for t in want.role.tags if t != OWNER_TAG))
    return exports.Trust(
        role=role,
        principal_arn=principal.arn,
        grant_document=want.grant.document,
        external_id=external_id,
        require_mfa=config.require_mfa,
        mfa_max_age=config.mfa_max_age,
        session_name=config.session_name,
        caller_profile=caller_profile,
        mfa_serial=config.mfa_serial,
        endpoint_url=aws.profile_setting(caller_profile, "endpoint_url"),
    )
