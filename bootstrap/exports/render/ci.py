"""Pure: CI (web identity) trusts' plans and results -> text for people or one JSON document."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bootstrap.core import globs, oidc
from bootstrap.core.plan import Change, Plan, Side
from bootstrap.core.results import CiOutcome, Verification
from bootstrap.exports.render import consumers as consumerrender
from bootstrap.exports.render.text import change_json, plan_text, verification_json, verification_line


def trust_json(trust: oidc.OidcTrust) -> dict[str, Any]:
    return {
        "platform": trust.platform,
        "description": trust.description,
        "issuer": trust.issuer,
        "audience": trust.audience,
        "subject": trust.subject,
        "subjects": list(trust.subjects),
        "subject_operator": trust.sub_operator,
        # each further claim condition (StringEquals, any of the values): KEY -> values
        "conditions": {key: list(values) for key, values in trust.conditions},
        "hub_role": trust.hub_role,
    }


def predicted_json(trust: oidc.OidcTrust) -> list[dict[str, Any]]:
    rows = []
    for context in trust.contexts:
        ok, why = oidc.admits(trust, dict(context.claims))
        rows.append({"run": context.description, "sub": context.sub, "admitted": ok, "why": why})
    return rows


def trust_lines(trust: oidc.OidcTrust, provider_arn: str) -> list[str]:
    return [
        f"CI trust:    {trust.description}",
        f"Provider:    {provider_arn} (issuer {trust.issuer})",
        f"Audience:    StringEquals {trust.host}:aud = {trust.audience}",
        *(
            f"Subject:     {'StringLike' if globs.has_wildcard(sub) else 'StringEquals'} {trust.host}:sub = {sub}"
            for sub in trust.subjects
        ),
        *(f"Claim:       StringEquals {trust.host}:{key} = {' or '.join(values)}" for key, values in trust.conditions),
    ]


def plan_text_ci(
    plan: Plan,
    accounts: dict[Side, str],
    proof: Sequence[str],
    trust: oidc.OidcTrust | None = None,
    named: tuple[str, ...] = (),
) -> str:
    """``named``: the consumers (--for); what the proof does for hcp-terraform follows the static proof."""
    lines = [plan_text(plan, accounts)]
    lines += [f"Static proof: {line}" for line in proof]
    return "\n".join(lines) + (consumerrender.ci_notes(trust, named) if trust is not None else "")


def plan_json_ci(plan: Plan, accounts: dict[Side, str], trust: oidc.OidcTrust) -> str:
    return json.dumps(
        {
            "role_arn": plan.role_arn,
            "changes": [change_json(c, accounts) for c in plan.changes],
            "not_owned": list(plan.not_owned),
            "ci": trust_json(trust),
            "predicted": predicted_json(trust),
        },
        indent=2,
    )


def _verification(v: Verification | None, not_verified: str) -> str:
    if v is None:
        return f"Verified:    not live: {not_verified}"
    return verification_line(v)


# the format each platform's trust exports as (export_flow.check refuses the others)
_EXPORT_FORMATS = {
    oidc.Platform.TFC: "tfc-variables (or tfe)",
    oidc.Platform.GITHUB: "github-actions",
    oidc.Platform.GITLAB: "gitlab-ci",
    oidc.Platform.GENERIC: "github-actions (or gitlab-ci)",
}


def outcome_text(outcome: CiOutcome) -> str:
    changes: Sequence[Change] = outcome.changes
    if changes:
        accounts = sorted({c.account for c in changes})
        head = f"Applied {len(changes)} change(s) in account(s) {', '.join(accounts)}."
    else:
        head = "No changes: everything already matches (no write calls made)."
    lines = [head, "", f"Role:        {outcome.role_arn}"]
    if outcome.hub_role_arn:
        lines.append(f"Hub role:    {outcome.hub_role_arn} (the workflow assumes it first, then the role)")
    lines += trust_lines(outcome.trust, outcome.provider_arn)
    lines += [f"Static proof: {line}" for line in outcome.proof]
    lines.append(_verification(outcome.verification, outcome.not_verified))
    formats = _EXPORT_FORMATS.get(outcome.trust.platform, "pipeline")  # a registry platform: its snippet
    lines += ["", f"Use it from CI: trust-bootstrap export --format {formats} with the same options."]
    return "\n".join(lines)


def outcome_json(outcome: CiOutcome) -> str:
    verification = verification_json(outcome.verification)
    return json.dumps(
        {
            "role_arn": outcome.role_arn,
            "hub_role_arn": outcome.hub_role_arn,
            "provider_arn": outcome.provider_arn,
            "ci": trust_json(outcome.trust),
            "predicted": predicted_json(outcome.trust),
            "changes": [change_json(c, outcome.accounts) for c in outcome.changes],
            "verification": verification,
            "not_verified": outcome.not_verified or None,
        },
        indent=2,
    )
