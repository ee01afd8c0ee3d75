"""The workflows of a CI (web identity) trust: plan, apply, verify, teardown. No printing.

Direct topology: the role in B trusts the OIDC provider in B; the workflow assumes it with
AssumeRoleWithWebIdentity. Hub topology (--hub-role): a CI role in A, created and owned by the tool,
trusts the provider in A and is the principal of the usual cross-account role in B, with its grant
in A. The provider is shared by every role of its issuer: created when absent (tagged as ours),
never changed or deleted when it is not ours, and deleted by teardown only when no other role's
trust still names it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from bootstrap.aws import accounts as aws
from bootstrap.aws import oidc as aws_oidc
from bootstrap.aws import sessions
from bootstrap.aws import sts as aws_sts
from bootstrap.ci import consumerchain, hubfind
from bootstrap.ci import token as ci_token
from bootstrap.config.model import Config
from bootstrap.core import arns, oidc, plan
from bootstrap.core.errors import InvalidInput, NotConfirmed, NotOwned, PreconditionFailed, VerifyFailed
from bootstrap.core.plan import Change, Op, Plan, Side
from bootstrap.core.quotas import IAM
from bootstrap.core.results import Attempt, Confirm, Done, OnProgress, Verification, Waited, Waiting
from bootstrap.core.results import CiOutcome as Outcome
from bootstrap.core.state import OWNER_TAG, Grant, Role, State
from bootstrap.trust import apply, consumerpolicy, consumerproof, desired, live
from bootstrap.trust.prepared import Prepared


@dataclass(frozen=True)
class CiData:
    """A CI trust's own (the Prepared holds its plan, accounts and what teardown leaves)."""

    config: Config
    trust: oidc.OidcTrust
    target: aws.Account
    source: aws.Account  # the hub's account; the target itself in the direct topology
    provider_arn: str
    role_arn: str
    hub_role_arn: str | None
    proof: tuple[str, ...]  # the static proof: what sub each described run carries, and the verdict
    companion: Ci | None = None  # tfc-pair: the plan role's own (its ARN, trust and proof)


Ci = Prepared[Plan, CiData]


def kind_of(trust: oidc.OidcTrust) -> str:
    """The kind's name in the registry (cli/kinds/webidentity.py)."""
    return "oidc-hub" if trust.hub_role else "oidc-direct"


def _role(config: Config, arn: str, trust_policy: str, *, with_policies: bool) -> Role:
    return Role(
        name=arns.name_of(arn),
        path=config.path if with_policies else "/",
        arn=arn,
        trust_policy=trust_policy,
        max_session_duration=config.max_session_duration,
        permissions_boundary=config.permissions_boundary if with_policies else None,
        description=config.description if with_policies else "trust-bootstrap CI hub role",
        tags=tuple(sorted({**dict(config.tags), OWNER_TAG[0]: OWNER_TAG[1]}.items())),
        managed_policies=tuple(sorted(config.policy_arns)) if with_policies else (),
        inline_policies=tuple((p.name, p.document) for p in config.inline_policies) if with_policies else (),
    )


def _provider_changes(
    trust: oidc.OidcTrust, arn: str, found: oidc.Provider | None, side: Side, account: str, adopt: bool
) -> tuple[list[Change], list[str]]:
    if found is None:
        return [
            Change(side, account, Op.CREATE_OIDC_PROVIDER, "oidc-provider", arn, key=trust.issuer,
                   after=trust.audience, tags=(OWNER_TAG,), action="create", resource=f"OIDC provider {arn}",
                   details=(f"+ issuer {trust.issuer}, audience (client ID) {trust.audience}",))
        ], []  # fmt: skip
    if trust.audience in found.client_ids:
        return [], []
    if OWNER_TAG not in found.tags and not adopt:
        return [], [
            f"OIDC provider {arn} exists, not managed by trust-bootstrap, without the audience {trust.audience} "
            f"(it has {', '.join(found.client_ids) or 'none'})"
        ]
    return [
        Change(side, account, Op.ADD_OIDC_CLIENT_ID, "oidc-provider", arn, after=trust.audience,
               resource=f"OIDC provider {arn} audiences", details=(f"+ client ID {trust.audience}",))
    ], []  # fmt: skip


def _still_naming(naming: list[str], deleting: list[Change]) -> list[str]:
    """The roles (ARNs) whose trust names the provider, less those this teardown deletes: matched
    on account and name (a role's name is unique in its account), never on the name alone, so a
    role of the same name in the provider's account that the plan does not delete keeps it."""
    deleted = {(c.account, c.owner) for c in deleting if c.op is Op.DELETE_ROLE}
    return [arn for arn in naming if (arns.account_of(arn), arns.name_of(arn)) not in deleted]


def _sided(changes: tuple[Change, ...], side: Side) -> list[Change]:
    return [replace(c, side=side) for c in changes]


def _without(role: Role | None, policy_name: str) -> Role | None:
    """The hub role without its grant: the grant is planned as a grant, not as a role policy."""
    if role is None:
        return None
    return replace(role, inline_policies=tuple(p for p in role.inline_policies if p[0] != policy_name))


def prepare(config: Config, adopt: bool = False, teardown: bool = False) -> Ci:  # noqa: PLR0915 (one read round, one plan)
    """Read what is live in the account(s) and plan (or, with ``teardown``, plan the removal). Read-only."""
    trust = config.oidc
    assert trust is not None
    hub = trust.hub_role
    if hub:
        sides = sessions.connect(config.source_profile, config.target_profile)
        target, source = sides.target, sides.source
        target_account, source_account = sides.target_identity.account, sides.source_identity.account
        partition = sides.partition
    else:
        target, identity = sessions.open_profile(config.target_profile, "target")
        source, target_account, source_account = target, identity.account, identity.account
        partition = arns.parse_arn(identity.arn).partition
    provider_account = source_account if hub else target_account
    provider_side = Side.SOURCE if hub else Side.TARGET
    provider_arn = trust.provider_arn(partition, provider_account)
    role_arn = arns.role_arn(partition, target_account, config.path, config.role_name)
    hub_arn = arns.role_arn(partition, source_account, "/", hub) if hub else None
    hub_principal = arns.Principal("role", hub, "/", source_account, partition) if hub else None
    grant_name = desired.grant_policy_name(target_account, config.role_name)
    provider_host_account = source if hub else target

    with ThreadPoolExecutor(max_workers=5) as pool:
        live_role = pool.submit(live.read_role, target, config.role_name)
        live_provider = pool.submit(aws_oidc.get_provider, provider_host_account, provider_arn)
        live_hub = pool.submit(live.read_role, source, hub) if hub else None
        live_grant = pool.submit(live.read_grant, source, hub_principal, grant_name) if hub_principal else None
        naming = pool.submit(aws_oidc.roles_naming, provider_host_account, provider_arn) if teardown else None
        role, provider = live_role.result(), live_provider.result()
        hub_role = _without(live_hub.result(), grant_name) if live_hub else None
        grant = live_grant.result() if live_grant else None
        named_by = naming.result() if naming else []
    left: list[str] = []
    if teardown and not hub:  # a hub the role trusts is torn down with it, or said to stay (hubfind.py)
        found = hubfind.find(config, role, target_account)
        if found.name is not None:
            return prepare(replace(config, oidc=replace(trust, hub_role=found.name)), adopt, teardown=True)
        left += found.left

    web_trust = oidc.trust_policy(trust, provider_arn)
    if len(web_trust) > IAM.trust_policy_chars:  # many subjects and claims add up: refused before any write
        raise InvalidInput(
            f"The trust policy would be {len(web_trust)} characters ({len(trust.subjects)} subjects, "
            f"{len(trust.conditions)} claim conditions); IAM's default quota is {IAM.trust_policy_chars} (raisable to "
            "4096 through Service Quotas). Admit fewer refs or environments, or one pattern for several. "
            "Nothing was written."
        )
    if hub_arn and hub_principal:
        keys = consumerpolicy.tag_keys(config.consumers)  # the chaining step tags the session (--for github-actions)
        hub_trust = desired.trust_policy(hub_arn, None, False, None, keys)
        want_role: Role | None = _role(config, role_arn, hub_trust, with_policies=True)
        want_hub: Role | None = _role(config, hub_arn, web_trust, with_policies=False)
        want_grant: Grant | None = Grant(hub_principal, grant_name, desired.grant_policy(role_arn, keys))
    else:
        want_role, want_hub, want_grant = _role(config, role_arn, web_trust, with_policies=True), None, None
    if teardown:
        want_role = want_hub = want_grant = None

    base = plan.diff(
        State(target_account, source_account, want_role, want_grant),
        State(target_account, source_account, role, grant),
        adopt=adopt,
    )
    hub_plan = plan.diff(State(source_account, source_account, want_hub, None), State(source_account, source_account, hub_role, None), adopt=adopt) if hub else None  # fmt: skip
    notes = list(base.not_owned) + (list(hub_plan.not_owned) if hub_plan else [])
    provider_before: list[Change] = []
    provider_after: list[Change] = []
    if teardown and provider is not None:
        deleting = [*base.changes, *(hub_plan.changes if hub_plan else ())]
        others = _still_naming(named_by, deleting)
        if OWNER_TAG in provider.tags and not others:
            provider_after.append(
                Change(provider_side, provider_account, Op.DELETE_OIDC_PROVIDER, "oidc-provider", provider_arn,
                       action="delete", resource=f"OIDC provider {provider_arn}")
            )  # fmt: skip
        else:
            why = [] if OWNER_TAG in provider.tags else ["trust-bootstrap did not create it"]
            why += [f"the trust of {', '.join(others)} still names it"] if others else []
            left.append(f"OIDC provider {provider_arn} is kept: {'; '.join(why)}")
    elif not teardown:
        provider_before, provider_notes = _provider_changes(trust, provider_arn, provider, provider_side, provider_account, adopt)  # fmt: skip
        notes += provider_notes
    grant_changes = [c for c in base.changes if c.side is Side.SOURCE]
    target_changes = [c for c in base.changes if c.side is Side.TARGET]
    hub_changes = _sided(hub_plan.changes, Side.SOURCE) if hub_plan else []
    # Order within a side: the provider before the role that names it, the hub role before its grant;
    # on removal, the grant and the roles before the provider.
    ordered = [*grant_changes, *hub_changes] if teardown else [*hub_changes, *grant_changes]
    changes = (*provider_before, *ordered, *target_changes, *provider_after)
    the_plan = Plan(changes=tuple(changes), role_arn=role_arn, not_owned=tuple(notes))
    data = CiData(config, trust, target, source, provider_arn, role_arn, hub_arn, oidc.static_proof(trust))
    accounts = {Side.SOURCE: source_account, Side.TARGET: target_account}
    return Prepared(kind_of(trust), the_plan, accounts, data, left=tuple(left))


def warnings(config: Config) -> list[str]:
    trust = config.oidc
    if trust is None:
        return []
    notes = _id_warning(trust) + _consumer_warning(config)
    if not trust.org_wildcard:
        return notes
    return notes + _wildcard_warning(trust)


def _consumer_warning(config: Config) -> list[str]:
    """--for names a consumer's own STS call; in the direct topology there is none besides the job's
    AssumeRoleWithWebIdentity (which carries no session tags and which the proof makes), so a named
    consumer changes nothing: say so rather than accept it in silence (the hub topology replays it)."""
    named = consumerchain.adding_nothing(config)  # hcp-terraform: the run's own call, the proof's (plan notes)
    if not named:
        return []
    return [
        f"--for {', '.join(named)}: a CI job assumes this role directly with its token "
        "(AssumeRoleWithWebIdentity, no session tags), and that is the call the proof makes; a named consumer "
        "adds nothing to this trust. It matters in the hub topology (--hub-role), where the job chains."
    ]


def _id_warning(trust: oidc.OidcTrust) -> list[str]:
    """GitHub's immutable subject (repo:OWNER@ID/REPO@ID) is the default of every repository created,
    renamed or transferred since 2026-07-15 (GitHub changelog, 2026-04-23): a trust on names only
    admits nothing from such a repository. Said in plan and apply, not only by diagnose afterwards."""
    from bootstrap.core.claims import passed_keys  # noqa: PLC0415 (a GitHub trust only)

    if trust.platform != oidc.Platform.GITHUB or any(k == "repository_id" for k, _ in trust.conditions):
        return []
    if not passed_keys(trust.host):  # GitHub Enterprise Server: no immutable subjects there
        return []
    return [
        f"The trust names {trust.description.split(',')[0]} by name only (sub {trust.subject}). A repository "
        "created, renamed or transferred since 2026-07-15 (or opted in) sends repo:OWNER@OWNER_ID/REPO@REPO_ID "
        "subjects, which this trust does not admit. Pass --github-owner-id and --github-repo-id (or set "
        "GITHUB_TOKEN to look them up): both formats are then admitted, and the repository ID is pinned."
    ]


def _wildcard_warning(trust: oidc.OidcTrust) -> list[str]:
    if trust.platform == oidc.Platform.TFC:
        return [f"The trust admits {trust.subject}: every HCP Terraform workspace it matches (and any created "
                "later) can assume the role. Naming one workspace is stronger."]  # fmt: skip
    return [
        f"The trust admits {trust.subject}: every repository or project of that organization or group (and any "
        "created later) can assume the role. Naming one repository and ref is stronger."
    ]


def run_apply(prepared: Ci, confirm: Confirm, token_file: Path | None, on_progress: OnProgress) -> Outcome:
    the_plan = prepared.plan
    if the_plan.not_owned:
        raise NotOwned(
            f"{'; '.join(the_plan.not_owned)}. trust-bootstrap changes only what it created. Pick another name, or "
            "re-run with --adopt to take it over (the plan shows every change first). Nothing was written."
        )
    if not the_plan.empty and not confirm(the_plan):
        raise NotConfirmed("Not confirmed: nothing was written.")
    done: tuple[Change, ...] = ()
    if not the_plan.empty:
        done = apply.execute(
            the_plan,
            target=prepared.data.target,
            source=prepared.data.source,
            deadline_s=prepared.data.config.verify_timeout,
            on_done=lambda c: on_progress(Done(c)),
        )
    result, why = (None, "--no-verify") if not prepared.data.config.verify else prove(prepared, token_file, on_progress)
    outcome = Outcome(
        prepared.data.role_arn, prepared.data.hub_role_arn, prepared.data.provider_arn, prepared.data.trust, done, result, why,
        prepared.data.proof, prepared.accounts,
    )  # fmt: skip
    if result is not None and not result.ok:
        raise CiVerificationFailed(outcome)
    return outcome


class CiVerificationFailed(VerifyFailed):
    def __init__(self, outcome: Outcome) -> None:
        v = outcome.verification
        assert v is not None
        super().__init__(
            f"The trust is in place ({len(outcome.changes)} change(s) applied now), but a token for "
            f"{outcome.trust.description} could not assume {outcome.hub_role_arn or outcome.role_arn}: {v.error} after "
            f"{v.attempts} attempt(s) over {v.waited_s:.1f}s. Run 'trust-bootstrap diagnose' with the same CI options "
            "to see which claim does not match."
        )
        self.outcome = outcome


def token_for(prepared: Ci, token_file: Path | None) -> tuple[str | None, str]:
    """A token to prove with, and where it came from (or None and why there is none)."""
    trust = prepared.data.trust
    if token_file is not None:
        return ci_token.read_file(token_file), f"the token in {token_file}"
    if ci_token.in_github_actions():
        return ci_token.github_actions_token(trust.audience), "this GitHub Actions job's token"
    if ci_token.minter() and trust.contexts:
        token, why = ci_token.mint(dict(trust.contexts[0].claims))
        if token:
            return token, f"a token minted for {trust.contexts[0].description}"
        return None, f"the local token minter did not sign for {trust.issuer}: {why}"
    return None, (
        "no token to prove it with outside CI. Proved statically only; prove it live from the CI job with "
        "'trust-bootstrap verify --web-identity-token-file FILE' (or plain 'verify' inside GitHub Actions)"
    )


def prove(prepared: Ci, token_file: Path | None, on_progress: OnProgress) -> tuple[Verification | None, str]:
    token, how = token_for(prepared, token_file)
    if token is None:
        return None, how
    config = prepared.data.config
    first = prepared.data.hub_role_arn or prepared.data.role_arn
    # The STS endpoint of the account holding the first role; the call itself is unsigned.
    sts_account = prepared.data.source if prepared.data.hub_role_arn else prepared.data.target
    then = aws_oidc.assume_role_then(sts_account, prepared.data.role_arn, config.session_name) if prepared.data.hub_role_arn else None  # fmt: skip
    # The token's claims against the trust's conditions: a token the trust does not admit stays
    # refused however long IAM propagates, so it gets one attempt (AWS's answer) and no waiting.
    admitted, why = oidc.admits(prepared.data.trust, {k: str(v) for k, v in ci_token.claims_of(token, how).items()})
    on_progress(Waiting(f"Verifying with {how}: AssumeRoleWithWebIdentity, waiting for IAM propagation"))
    try:
        outcome = aws_oidc.assume_through_propagation(
            sts_account, first, config.session_name, token, config.verify_timeout,
            lambda number, _elapsed: on_progress(Attempt(number)), then,
            keep_waiting=lambda _err: admitted,
        )  # fmt: skip
    finally:
        on_progress(Waited())
    if outcome.credentials is None:
        error = outcome.error
        if not admitted:
            error += f" (not retried: the trust does not admit this token, {why}; waiting cannot fix that)"
        return Verification(False, None, outcome.attempts, outcome.waited_s, error=error), how
    identity = aws_sts.get_caller_identity(
        prepared.data.target.with_credentials(outcome.credentials, label="the assumed role")
    )
    if identity.account != prepared.accounts[Side.TARGET] or not arns.is_session_of(identity.arn, config.role_name):
        return Verification(False, identity.arn, outcome.attempts, outcome.waited_s,
                                   error=f"the assumed credentials are {identity.arn}, not the role"), how  # fmt: skip
    p = prepared.data  # --for: each consumer's chained call, in the hub topology
    verdicts = consumerchain.replay(config, p.source, p.hub_role_arn, p.role_arn, prepared.accounts[Side.TARGET], token)
    refusal = consumerproof.first_refusal(verdicts)
    return Verification(refusal is None, identity.arn, outcome.attempts, outcome.waited_s, refusal, verdicts), how


def run_verify(prepared: Ci, token_file: Path | None, on_progress: OnProgress) -> tuple[Outcome, str]:
    """Only the live proof, with a token (writes nothing). Returns the outcome and how it was proved."""
    if any(c.op is Op.CREATE_ROLE and c.owner == prepared.data.config.role_name for c in prepared.plan.changes):
        raise VerifyFailed(
            f"There is no role {prepared.data.config.role_name} in account {prepared.accounts[Side.TARGET]}: nothing to "
            "verify. Create it with 'trust-bootstrap apply' and the same options."
        )
    result, how = prove(prepared, token_file, on_progress)
    if result is None:
        raise PreconditionFailed(f"Cannot verify live: {how}.")  # verification impossible: exit 4, as documented
    outcome = Outcome(prepared.data.role_arn, prepared.data.hub_role_arn, prepared.data.provider_arn, prepared.data.trust, (), result,
                      "", prepared.data.proof, prepared.accounts)  # fmt: skip
    return outcome, how


def run_teardown(prepared: Ci, confirm: Confirm, on_progress: OnProgress) -> tuple[Change, ...]:
    the_plan = prepared.plan
    if the_plan.not_owned:
        raise NotOwned(
            f"{'; '.join(the_plan.not_owned)}: trust-bootstrap removes only what it created, so it removes nothing. "
            "Nothing was removed."
        )
    if the_plan.empty:
        return ()
    if not confirm(the_plan):
        raise NotConfirmed("Not confirmed: nothing was removed.")
    return apply.execute(
        the_plan,
        target=prepared.data.target,
        source=prepared.data.source,
        deadline_s=60.0,
        source_first=True,
        on_done=lambda c: on_progress(Done(c)),
    )
