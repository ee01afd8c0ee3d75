"""Pure: Plans and results -> text for people or one JSON document for programs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bootstrap.core import arns, consumers
from bootstrap.core.plan import Change, Op, Plan, Side
from bootstrap.core.results import Outcome, Verification
from bootstrap.exports import formats as exports
from bootstrap.exports.render import consumers as consumerrender

if TYPE_CHECKING:  # annotations only: plain runs do not load the diagnosis modules (nor fleet results)
    from bootstrap.core.findings import Finding
    from bootstrap.fleet.results import FleetDiagnosis, FleetPlan, TargetResult

SYMBOLS = {"create": "+", "update": "~", "delete": "-"}
SIDE_NAMES = {Side.TARGET: "target", Side.SOURCE: "source"}


def _change_lines(change: Change) -> list[str]:
    lines = [f"    {SYMBOLS.get(change.action, '~')} {change.said}"]
    lines += [f"        {detail}" for detail in change.details]
    return lines


def _side_lines(changes: Sequence[Change], accounts: dict[Side, str]) -> list[str]:
    lines: list[str] = []
    for side in (Side.TARGET, Side.SOURCE):
        on_side = [c for c in changes if c.side is side]
        if on_side:
            lines.append(f"  {SIDE_NAMES[side]} account {accounts[side]}:")
            for change in on_side:
                lines += _change_lines(change)
    return lines


def plan_text(plan: Plan, accounts: dict[Side, str], header: str = "Plan:", named: tuple[str, ...] = ()) -> str:
    """``named``: the consumers (--for); what the trust admits for them follows the plan."""
    if plan.empty and not plan.not_owned:
        return "Both sides match: no changes." + consumerrender.plan_notes(named)
    lines = _side_lines(plan.changes, accounts)
    if plan.after_verify:
        lines.append("  then, only once the new role is verified (a rename; never with --no-verify):")
        lines += _side_lines(plan.after_verify, accounts)
    lines += [f"  ! {note}; left alone (see --adopt)" for note in plan.not_owned]
    if plan.empty:
        lines.append("No changes to make.")
    return "\n".join([header, *lines]) + consumerrender.plan_notes(named)


def change_json(change: Change, accounts: dict[Side, str]) -> dict[str, Any]:
    return {
        "account": accounts[change.side],
        "side": change.side.value,
        "action": change.action,  # create / update / delete: the plan's + ~ -
        "verb": change.verb,  # the word the plan and the progress say (attach, detach, tag, ...)
        "operation": change.op.value,
        "resource": change.resource,
        "details": list(change.details),
    }


def plan_json(plan: Plan, accounts: dict[Side, str]) -> str:
    return json.dumps(
        {
            "role_arn": plan.role_arn,
            "changes": [change_json(c, accounts) for c in plan.changes],
            "after_verification": [change_json(c, accounts) for c in plan.after_verify],
            "not_owned": list(plan.not_owned),
        },
        indent=2,
    )


def verification_line(v: Verification | None) -> str:
    if v is None:
        return "Verified:    skipped (--no-verify)"
    per_consumer = "".join("\n" + line for line in consumerrender.lines(v.consumers))
    if v.ok:
        return f"Verified:    {v.assumed_arn} ({v.attempts} attempt(s), {v.waited_s:.1f}s waiting for IAM propagation){per_consumer}"  # fmt: skip
    return f"Verified:    NO: {v.error} ({v.attempts} attempt(s) over {v.waited_s:.1f}s){per_consumer}"


def outcome_text(outcome: Outcome) -> str:
    counts = {side: sum(1 for c in outcome.changes if c.side is side) for side in (Side.TARGET, Side.SOURCE)}
    if outcome.changes:
        head = (
            f"Applied {len(outcome.changes)} change(s): {counts[Side.TARGET]} in target account "
            f"{outcome.accounts[Side.TARGET]}, {counts[Side.SOURCE]} in source account {outcome.accounts[Side.SOURCE]}."
        )
    else:
        head = "No changes: both sides already match (no write calls made)."
    lines = [head, "", f"Role:        {outcome.role_arn}", f"Principal:   {outcome.principal_arn}"]
    if outcome.external_id:
        note = (
            "  (generated now; it lives in the role's trust policy, and re-runs and 'export' show it again)"
            if outcome.external_id_generated
            else ""
        )
        lines.append(f"ExternalId:  {outcome.external_id}{note}")
    lines.append(verification_line(outcome.verification))
    lines += [f"Note:        {note}" for note in outcome.notes]
    lines += [
        "",
        "Use it from Terraform:",
        "\n".join(
            exports.provider_block(
                outcome.role_arn,
                consumers.session_name(consumers.Consumer.TERRAFORM, arns.name_of(outcome.role_arn)),
                outcome.external_id,
                mfa=outcome.requires_mfa,
                serial=outcome.mfa_serial,
            )
        ),
    ]
    return "\n".join(lines)


def verification_json(v: Verification | None) -> dict[str, Any] | None:
    """A verification as JSON (None when skipped), the same for every kind of trust."""
    if v is None:
        return None
    return {"ok": v.ok, "assumed_arn": v.assumed_arn, "attempts": v.attempts, "waited_s": round(v.waited_s, 3),
            "error": v.error, **({"consumers": consumerrender.as_json(v.consumers)} if v.consumers else {})}  # fmt: skip


def outcome_json(outcome: Outcome) -> str:
    verification = verification_json(outcome.verification)
    return json.dumps(
        {
            "role_arn": outcome.role_arn,
            "principal_arn": outcome.principal_arn,
            "external_id": outcome.external_id,
            "changes": [change_json(c, outcome.accounts) for c in outcome.changes],
            "verification": verification,
            "notes": list(outcome.notes),
        },
        indent=2,
    )


def bullet_list(items: Sequence[str]) -> str:
    return "\n".join(f"  - {item}" for item in items)


def teardown_text(plan: Plan, accounts: dict[Side, str], left: Sequence[str]) -> str:
    """What teardown will remove; empty when nothing (the result line then says so, once)."""
    if plan.empty:
        return ""
    text = plan_text(plan, accounts, header="Will remove:")
    return "\n".join([text, *(f"  Left alone: {note}." for note in left)])


def removed_text(done: Sequence[Change], left: Sequence[str], not_owned: Sequence[str] = ()) -> str:
    if not done and not_owned:
        lines = [f"Nothing removed: {note}; left alone (see --adopt)." for note in not_owned]
    elif not done:
        lines = ["Nothing to remove: no role or grant of this trust is left."]
    else:
        # Say only what this run removed: the grant and the role are two separate claims.
        what = [f"the grant {c.key} on {c.owner_kind}/{c.owner}" for c in done if c.op is Op.DELETE_GRANT]
        what += [f"the role {c.owner}" for c in done if c.op is Op.DELETE_ROLE]
        lines = [f"Removed {len(done)} item(s)" + (f", including {' and '.join(what)}." if what else ".")]
    return "\n".join([*lines, *(f"Left alone: {note}." for note in left)])


def teardown_json(plan: Plan, done: Sequence[Change], accounts: dict[Side, str], left: Sequence[str]) -> str:
    return json.dumps(
        {
            "role_arn": plan.role_arn,
            "removed": [change_json(c, accounts) for c in done],
            "not_owned": list(plan.not_owned),
            "left": list(left),
        },
        indent=2,
    )


MARKS = {"pass": "ok  ", "fail": "FAIL", "unknown": " ?? ", "inferred": "INFR"}
BAD = ("fail", "inferred")


def findings_text(role_arn: str, principal_arn: str, findings: Sequence[Finding]) -> str:
    lines = [f"AssumeRole of {role_arn} by {principal_arn or '(unknown principal)'}:", ""]
    width = max(len(f.id) for f in findings)
    for f in findings:
        lines.append(f"  [{MARKS.get(f.status, f.status)}] {f.id.ljust(width)}  {f.summary}")
        if f.fix and f.status != "pass":
            lines.append(f"  {' ' * (9 + width)}fix: {f.fix}")
    lines.append("")
    lines.append(conclusion(findings))
    return "\n".join(lines)


def conclusion(findings: Sequence[Finding]) -> str:
    """The last line of a diagnosis: it claims only what the checks that ran found."""
    causes = [f for f in findings if f.status == "fail" and f.kind == "cause"]
    inferred = [f for f in findings if f.status == "inferred"]
    unknown = [f.id for f in findings if f.status == "unknown" and f.kind == "cause"]
    passed = [f.id for f in findings if f.status == "pass" and f.kind == "cause"]
    live = next((f for f in findings if f.id == "live-assume"), None)
    not_run = f" Not checked: {', '.join(unknown)}." if unknown else ""
    if causes:
        return "Cause: " + "; ".join(f"{f.id}: {f.summary}" for f in causes)
    if inferred:
        return "Cause (inferred, not read): " + "; ".join(f"{f.id}: {f.summary}" for f in inferred) + not_run
    if live is not None and live.status == "fail":
        ran = ", ".join(passed) or "none"
        return (
            f"Cause not found by the static checks: AssumeRole fails, yet the checks that ran pass ({ran})."
            f"{not_run} Look there first, then at a session policy, or IAM propagation still in progress "
            "(seconds after a change)."
        )
    if not any(f.status in BAD for f in findings):
        if unknown:
            return f"AssumeRole works; the checks that ran pass.{not_run}"
        return "All checks pass: the principal can assume the role."
    return "See the failed checks above."


def findings_json(role_arn: str, principal_arn: str, findings: Sequence[Finding]) -> str:
    return json.dumps(
        {
            "role_arn": role_arn,
            "principal_arn": principal_arn,
            "ok": not any(f.status in BAD for f in findings),
            "conclusion": conclusion(findings),
            "checks": [
                {
                    "id": f.id,
                    "status": str(f.status),
                    "summary": f.summary,
                    "fix": f.fix,
                    "title": f.title,
                    "kind": str(f.kind),
                    "doc": f.doc,
                }
                for f in findings
            ],
        },
        indent=2,
    )


# -- fleets ----------------------------------------------------------------------------------------


def target_name(label: str, account: str | None) -> str:
    """A fleet target as a person reads it: its label and account, or the account alone when the
    label is the account (a target found in an organization unit), never "ID (ID)"."""
    return label if not account or account == label else f"{label} ({account})"


def fleet_plan_text(prepared: FleetPlan) -> str:
    lines = [f"Fleet plan: {len(prepared.targets) + len(prepared.unreached)} target(s)."]
    if prepared.grant_plan.changes:
        lines.append(f"  source account {prepared.source_account}:")
        for change in prepared.grant_plan.changes:
            lines += _change_lines(change)
    for reached in prepared.targets:
        head = f"  target {target_name(reached.label, reached.account_id)}:"
        if reached.plan.not_owned:
            lines.append(f"{head} ! {reached.plan.not_owned[0]}; left alone (see --adopt)")
        elif reached.plan.empty:
            lines.append(f"{head} no changes")
        else:
            lines.append(head)
            for change in reached.plan.changes:
                lines += _change_lines(change)
    lines += [f"  target {r.label}: FAILED: {r.error}" for r in prepared.unreached]
    if prepared.changes == 0 and not prepared.unreached and not prepared.not_owned:
        lines.append("All targets match: no changes.")
    return "\n".join(lines)


def _verified(result: TargetResult) -> str:
    v = result.verification
    if v is None:
        return "-"
    return f"yes ({v.attempts} attempt(s), {v.waited_s:.1f}s)" if v.ok else "NO"


def fleet_result_text(grant_done: Sequence[Change], results: Sequence[TargetResult]) -> str:
    rows = [("TARGET", "ACCOUNT", "CHANGES", "VERIFIED", "RESULT")]
    for r in results:
        outcome = "ok" if r.ok else f"FAILED: {r.error or (r.verification.error if r.verification else '')}"
        rows.append((r.label, r.account or "?", str(len(r.done)), _verified(r), outcome))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] for row in rows]
    failed = sum(1 for r in results if not r.ok)
    grant = f"Grant: {len(grant_done)} change(s) in the source account." if grant_done else "Grant: unchanged."
    summary = f"{len(results) - failed} of {len(results)} target(s) ok" + (f", {failed} failed." if failed else ".")
    return "\n".join([grant, *lines, summary])


def _target_json(r: TargetResult, accounts: dict[Side, str]) -> dict[str, Any]:
    v = r.verification
    return {
        "label": r.label,
        "account": r.account,
        "role_arn": r.role_arn,
        "ok": r.ok,
        "planned": [change_json(c, {Side.SOURCE: "", Side.TARGET: r.account or ""}) for c in r.planned],
        "changes": [change_json(c, {Side.SOURCE: "", Side.TARGET: r.account or ""}) for c in r.done],
        "verification": None
        if v is None
        else {
            "ok": v.ok,
            "assumed_arn": v.assumed_arn,
            "attempts": v.attempts,
            "waited_s": round(v.waited_s, 3),
            "error": v.error or None,
            **({"consumers": consumerrender.as_json(v.consumers)} if v.consumers else {}),
        },
        "error": r.error,
    }


def fleet_json(
    source_account: str,
    grant_changes: Sequence[Change],
    results: Sequence[TargetResult],
    left: Sequence[str] | None = None,
) -> str:
    """``left``: teardown's notes of what stays (the key is there only for teardown)."""
    accounts = {Side.SOURCE: source_account, Side.TARGET: ""}
    document = {
        "ok": all(r.ok for r in results),
        "grant": [change_json(c, accounts) for c in grant_changes],
        "targets": [_target_json(r, accounts) for r in results],
    }
    return json.dumps(document if left is None else {**document, "left": list(left)}, indent=2)


def fleet_findings_text(fleet: FleetDiagnosis) -> str:
    blocks = []
    for t in fleet.targets:
        head = f"== target {target_name(t.label, t.account_id)} =="
        body = t.error or ""
        if t.diagnosis is not None and not t.error:
            body = findings_text(t.role_arn, t.diagnosis.principal_arn, t.diagnosis.findings)
        blocks.append(f"{head}\n{body}")
    blocks += [f"== target {r.label} ==\nFAILED: {r.error}" for r in fleet.unreached]
    bad = sum(1 for t in fleet.targets if t.error or t.diagnosis is None or not t.diagnosis.ok) + len(fleet.unreached)
    total = len(fleet.targets) + len(fleet.unreached)
    blocks.append(f"{total - bad} of {total} target(s) pass every check.")
    return "\n\n".join(blocks)


def fleet_findings_json(fleet: FleetDiagnosis) -> str:
    targets: list[dict[str, Any]] = []
    for t in fleet.targets:
        entry: dict[str, Any] = {"label": t.label, "account": t.account_id, "role_arn": t.role_arn, "error": t.error}
        if t.diagnosis is not None:
            entry.update(json.loads(findings_json(t.role_arn, t.diagnosis.principal_arn, t.diagnosis.findings)))
        else:
            entry["ok"] = False
        targets.append(entry)
    targets += [
        {"label": r.label, "account": r.account, "ok": False, "error": r.error, "checks": []} for r in fleet.unreached
    ]
    return json.dumps({"ok": all(t["ok"] for t in targets), "targets": targets}, indent=2)
