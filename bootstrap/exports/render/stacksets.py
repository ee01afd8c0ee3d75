"""Pure: the StackSets engine's plan and results as text (a table per account) and as JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bootstrap.core.state import OWNER_TAG

if TYPE_CHECKING:  # annotations only (tests/test_architecture.py: ANNOTATION_ONLY): fleet's values
    from bootstrap.fleet.results import StackSetOutcome as Outcome
    from bootstrap.fleet.results import StackSetView as View
    from bootstrap.fleet.stacksets import Desired


def grant_in_words(d: Desired) -> str:
    return (
        f"{d.principal.arn} may call sts:AssumeRole on the role {d.role_path}{d.role_name} in any account whose "
        f"organization path starts with {d.scope.path} (organization {d.scope.org_id}, unit {d.scope.ou_id} and "
        "every unit below it, accounts that join later included), and on no other role or account."
    )


def _header(p: View) -> list[str]:
    s = p.settings
    state = "not there yet" if p.live is None else ("ours" if p.live.owned else "NOT ours")
    return [
        f"StackSets engine: StackSet {s.name} ({state}; the tool's own carry the tag {OWNER_TAG[0]}={OWNER_TAG[1]}), "
        f"service-managed, called as {s.call_as}; stack instances in {p.region} for {s.ou_id} and the units below it "
        f"({len(p.ou_accounts)} account(s)).",
        f"Grant {p.desired.grant_name} on {p.principal.kind}/{p.principal.name} in {p.source_account}: "
        + grant_in_words(p.desired),
    ]


def plan_text(p: View, teardown: bool = False) -> str:
    lines = _header(p)
    plan = p.plan
    for note in plan.not_owned:
        lines.append(f"Not managed by trust-bootstrap, left alone: {note}")
    if not plan.actions:
        lines.append(
            "Nothing to remove." if teardown else "No changes: the StackSet, its instances and the grant match."
        )
    else:
        lines.append("Teardown plan:" if teardown else "Plan:")
        sign = "-" if teardown else "+"
        for action in plan.actions:
            lines.append(f"  {sign} {action.what}")
            lines += [f"      {d}" for d in action.details[:60]]
            if len(action.details) > 60:
                lines.append(f"      ... {len(action.details) - 60} more line(s)")
            if action.accounts:
                lines.append("      accounts: " + ", ".join(action.accounts[:20]) +
                             (f" and {len(action.accounts) - 20} more" if len(action.accounts) > 20 else ""))  # fmt: skip
    lines += [f"Left alone: {note}." for note in plan.left]
    if not teardown:
        lines.append(f"Accounts of the unit without a stack instance: {', '.join(plan.missing) or 'none'}; "
                     f"with an outdated one: {', '.join(plan.outdated) or 'none'}.")  # fmt: skip
        if plan.extra:
            lines.append(f"Instances in accounts no longer in the unit: {', '.join(plan.extra)}.")
        lines.append(f"Drift: {_drift(p)}.")
    return "\n".join(lines)


def _drift(p: View) -> str:
    if p.drift != "checked":
        return p.drift
    drifted = sorted(i.account for i in p.instances if i.drift == "DRIFTED")
    unknown = sorted(i.account for i in p.instances if i.drift not in ("DRIFTED", "IN_SYNC"))
    if drifted:
        return "drifted in " + ", ".join(drifted)
    return "in sync" + (f" (unknown for {', '.join(unknown)})" if unknown else "")


def _verified(verified: bool | None) -> str:
    return "-" if verified is None else ("yes" if verified else "NO")


def result_text(outcome: Outcome) -> str:
    lines = [f"Done: {d}" for d in outcome.done] or ["Nothing written."]
    lines += [f"Failed: {f}" for f in outcome.failed_operations]
    if outcome.accounts:
        lines.append(f"{'ACCOUNT':<14}{'OPERATION':<12}{'VERIFIED':<10}DETAIL")
        for a in outcome.accounts:
            detail = a.error or a.reason or a.assumed_arn or ""
            lines.append(f"{a.account:<14}{(a.operation or '-').lower():<12}{_verified(a.verified):<10}{detail}")
        checked = [a for a in outcome.accounts if a.verified is not None]
        good = sum(1 for a in checked if a.verified)
        lines.append(f"Verified {good} of {len(checked)} checked account(s) ({len(outcome.accounts)} in the unit).")
    return "\n".join(lines)


def to_json(p: View, outcome: Outcome | None, teardown: bool = False) -> str:
    plan = p.plan
    document: dict[str, Any] = {
        "engine": "stacksets",
        "stack_set": {"name": p.settings.name, "exists": p.live is not None,
                      "owned": bool(p.live and p.live.owned), "call_as": p.settings.call_as},
        "organization_unit": p.settings.ou_id,
        "organization_path": p.desired.scope.path,
        "region": p.region,
        "source_account": p.source_account,
        "grant": {"name": p.desired.grant_name, "document": json.loads(p.desired.grant_document),
                  "in_words": grant_in_words(p.desired)},
        "plan": [{"step": str(a.step), "what": a.what, "details": list(a.details), "accounts": list(a.accounts)}
                 for a in plan.actions],
        "not_owned": list(plan.not_owned),
        "left": list(plan.left),
        "missing": list(plan.missing),
        "outdated": list(plan.outdated),
        "drift": _drift(p),
    }  # fmt: skip
    if outcome is not None:
        document["done"] = outcome.done
        document["failed_operations"] = outcome.failed_operations
        document["accounts"] = [
            {"account": a.account, "role_arn": a.role_arn, "operation": a.operation or None,
             "reason": a.reason or None, "ok": a.ok,
             "verification": None if a.verified is None else
             {"ok": a.verified, "assumed_arn": a.assumed_arn, "error": a.error}}
            for a in outcome.accounts
        ]  # fmt: skip
        document["ok"] = outcome.ok
    return json.dumps(document, indent=2)
