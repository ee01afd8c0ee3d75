"""The proof per consumer (--for) as text and JSON: one line per consumer with its verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bootstrap.core import consumers
from bootstrap.core.consumers import ConsumerVerdict

if TYPE_CHECKING:
    from bootstrap.core import oidc


def lines(verdicts: tuple[ConsumerVerdict, ...]) -> list[str]:
    return [
        f"  for {v.consumer:<15} {'ok' if v.ok else 'REFUSED'}: session {v.session_name}: {v.detail}" for v in verdicts
    ]


def as_json(verdicts: tuple[ConsumerVerdict, ...]) -> list[dict[str, Any]]:
    return [{"consumer": v.consumer, "session_name": v.session_name, "ok": v.ok, "detail": v.detail} for v in verdicts]


def plan_notes(named: tuple[str, ...]) -> str:
    """What the trust admits for the named consumers, and why (shown under the plan when --for is given)."""
    if not named:
        return ""
    lines = ["", f"For {', '.join(named)}:"]
    if consumers.tags_session(named):
        lines.append(
            f"  github-actions: the trust and the grant allow sts:TagSession, only with the {len(consumers.GITHUB_TAG_KEYS)} "
            f"tag keys {consumers.GITHUB_ACTION} sends with access keys or role-chaining (aws:TagKeys, "
            "ForAllValues:StringEquals); the proof replays that tagged AssumeRole, session GitHubActions."
        )
    else:
        lines.append(
            "  no sts:TagSession: none of these tags its session. A GitHub workflow exported from this trust sets "
            "role-skip-session-tagging: true, since configure-aws-credentials tags every AssumeRole it sends and this "
            "trust would refuse the tags (add --for github-actions to admit them instead)."
        )
    lines += [
        f"  {name}: the proof replays its AssumeRole (session {consumers.session_name(consumers.Consumer(name), 'ROLE')})"
        for name in named
        if name != consumers.Consumer.GITHUB_ACTIONS.value
    ]
    return "\n".join(lines)


def ci_notes(trust: oidc.OidcTrust, named: tuple[str, ...]) -> str:
    """Under a CI trust's plan: what the proof does for hcp-terraform (the others are warned of or
    replayed as before). Its run calls with dynamic provider credentials (core/consumers.py)."""
    # "tfc" is oidc.Platform.TFC, imported for annotations only (not at run time)
    if consumers.Consumer.HCP_TERRAFORM.value not in named or trust.platform != "tfc":
        return ""
    if trust.hub_role is None:
        how = (
            "the run's own call, AssumeRoleWithWebIdentity with its workload identity token (dynamic provider "
            "credentials, no session tags), is the call the proof makes: nothing further to replay."
        )
    else:
        session = consumers.session_name(consumers.Consumer.HCP_TERRAFORM, "ROLE")
        how = (
            f"the run assumes the hub role {trust.hub_role} with its workload identity token (dynamic provider "
            "credentials), then the Terraform AWS provider's assume_role chains into the role; the proof replays "
            f"that hop from the hub role (session {session}, {consumers.CHAINED_MAX_S} s at most: role chaining)."
        )
    return f"\n\nFor hcp-terraform:\n  {how}"
