"""The command line: parses flags, runs a workflow from commands.py, prints, maps errors to exit codes.

Only this module imports typer. It imports nothing that imports boto3 at module level, so
``trust-bootstrap --help`` stays fast; each command imports its workflow when it runs.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from bootstrap.cli_help import CONFIG_FIELD, PanelCommand
from bootstrap.errors import (
    BootstrapError,
    ExitCode,
    Interrupted,
    InvalidInput,
    NotConfirmed,
    PreconditionFailed,
    VerifyFailed,
    error_document,
)
from bootstrap.schema import help_of as _h  # every config key's help is declared once, in Config

if TYPE_CHECKING:
    from bootstrap.config import Config
    from bootstrap.plan import Plan

_ARGS_KEY = "trust_bootstrap.args"


def _wants_json(args: list[str]) -> bool:
    pairs = zip(args, [*args[1:], ""], strict=True)
    return any((a in ("--output", "-o") and b == "json") or a in ("--output=json", "-ojson") for a, b in pairs)


class _Commands(TyperGroup):
    """Usage errors (an unknown flag, a value of the wrong type) keep the exit-code contract too:
    1 under ``plan --detailed-exitcode`` (where 2 means drift), and one JSON document with
    ``--output json``."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        raw = list(args)
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta[_ARGS_KEY] = raw
        return ctx

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as err:
            # typer vendors its own click: know its UsageError (and BadParameter...) by name.
            if not any(k.__name__ == "UsageError" for k in type(err).__mro__):
                raise
            raw: list[str] = ctx.meta.get(_ARGS_KEY, [])
            if raw[:1] == ["plan"] and "--detailed-exitcode" in raw:
                err.exit_code = 1  # type: ignore[attr-defined]
            if _wants_json(raw):
                usage = BootstrapError(err.format_message())  # type: ignore[attr-defined]
                usage.kind = "usage"
                typer.echo(json.dumps(error_document(usage, err.exit_code), indent=2))  # type: ignore[attr-defined]
            raise


app = typer.Typer(
    cls=_Commands,
    name="trust-bootstrap",
    help="Set up AWS cross-account role access in one run: the role in the target account, the "
    "sts:AssumeRole grant in the source account, and a live verification.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # never print tracebacks with local variables (secrets)
    rich_markup_mode=None,  # plain click help (see cli_help): rich would cost --help its speed
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"trust-bootstrap {version('trust-bootstrap')}")
        raise typer.Exit(0)


@app.callback()
def _main_options(
    _version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
    ] = False,
) -> None:
    """Set up AWS cross-account role access in one run: the role in the target account, the
    sts:AssumeRole grant in the source account, and a live verification."""


class Output(StrEnum):
    text = "text"
    json = "json"


# -- options shared by apply (and the commands that identify the same trust) ---------------------
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file; flags override its keys.", show_default=False),
]
SourceProfileOpt = Annotated[str | None, typer.Option(help=_h("source_profile"))]
TargetProfileOpt = Annotated[str | None, typer.Option(help=_h("target_profile"))]
RoleNameOpt = Annotated[str | None, typer.Option(help=_h("role_name"))]
PrincipalOpt = Annotated[
    str | None,
    typer.Option(help=_h("principal")),
]
ExternalIdOpt = Annotated[str | None, typer.Option(help=_h("external_id"))]
GenerateExternalIdOpt = Annotated[
    bool | None,
    typer.Option("--generate-external-id", help=_h("generate_external_id")),
]
RequireMfaOpt = Annotated[bool | None, typer.Option("--require-mfa", help=_h("require_mfa"))]
MfaMaxAgeOpt = Annotated[
    int | None,
    typer.Option(help=_h("mfa_max_age")),
]
PolicyArnOpt = Annotated[
    list[str] | None,
    typer.Option("--policy-arn", help=_h("policy_arns")),
]
InlinePolicyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--inline-policy",
        help=_h("inline_policies"),
    ),
]
MaxSessionOpt = Annotated[int | None, typer.Option(help=_h("max_session_duration"))]
PathOpt = Annotated[str | None, typer.Option(help=_h("path"))]
BoundaryOpt = Annotated[str | None, typer.Option(help=_h("permissions_boundary"))]
DescriptionOpt = Annotated[str | None, typer.Option(help=_h("description"))]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help=_h("tags"))]
SessionNameOpt = Annotated[str | None, typer.Option(help=_h("session_name"))]
VerifyProfileOpt = Annotated[str | None, typer.Option(help=_h("verify_profile"))]
MfaSerialOpt = Annotated[str | None, typer.Option(help=_h("mfa_serial"))]
MfaTokenOpt = Annotated[str | None, typer.Option(help=_h("mfa_token"))]
VerifyOpt = Annotated[
    bool | None,
    typer.Option("--verify/--no-verify", help=_h("verify"), show_default=False),
]
VerifyTimeoutOpt = Annotated[
    float | None,
    typer.Option(help=_h("verify_timeout")),
]
TrustAccountOpt = Annotated[
    bool | None,
    typer.Option("--trust-account", help=_h("trust_account")),
]
AllowAdminOpt = Annotated[
    bool | None,
    typer.Option("--allow-admin", help=_h("allow_admin")),
]
PolicyQuotaOpt = Annotated[int | None, typer.Option(help=_h("managed_policy_quota"))]
ReplacesOpt = Annotated[
    str | None,
    typer.Option(help=_h("replaces")),
]
OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="text, or one JSON document on stdout.")]


def _ci(help_text: str) -> Any:
    return typer.Option(help=help_text)


# CI (web identity) trusts: see oidcconfig.py for the config-file form.
GithubRepoOpt = Annotated[
    str | None, _ci("CI trust: the GitHub repository OWNER/REPO whose workflows may assume the role.")
]
GithubRefOpt = Annotated[
    str | None, _ci("GitHub: the full ref, refs/heads/BRANCH or refs/tags/TAG (wildcard: StringLike).")
]
GithubEnvOpt = Annotated[str | None, _ci("GitHub: jobs of this deployment environment (their sub names it).")]
GithubPrOpt = Annotated[
    bool | None,
    typer.Option("--github-pull-request", help="GitHub: pull_request runs."),
]
GithubOwnerIdOpt = Annotated[str | None, _ci("GitHub: the owner's numeric ID, for the immutable sub format.")]
GithubRepoIdOpt = Annotated[str | None, _ci("GitHub: the repository's numeric ID, for the immutable sub format.")]
GitlabProjectOpt = Annotated[str | None, _ci("CI trust: the GitLab project GROUP/PROJECT.")]
GitlabRefOpt = Annotated[str | None, _ci("GitLab: the branch or tag name (no refs/ prefix).")]
GitlabRefTypeOpt = Annotated[str | None, _ci("GitLab: branch or tag [default: branch].")]
GitlabHostOpt = Annotated[str | None, _ci("GitLab: the instance host [default: gitlab.com].")]
OidcIssuerOpt = Annotated[str | None, _ci("CI trust: the https issuer URL (generic, or GitHub Enterprise Server).")]
OidcAudienceOpt = Annotated[str | None, _ci("CI trust: the token audience [default: sts.amazonaws.com].")]
OidcSubjectOpt = Annotated[str | None, _ci("Generic CI trust: the exact sub (or a pattern with * : StringLike).")]
HubRoleOpt = Annotated[
    str | None, _ci("Hub topology: the CI role in A the workflow assumes first (created and owned).")
]
AllowOrgWildcardOpt = Annotated[
    bool | None,
    typer.Option(
        "--allow-org-wildcard",
        help="Allow a sub wildcard over a whole organization or group (warned).",
    ),
]
TokenFileOpt = Annotated[
    Path | None, _ci("A CI job's web identity token file, to prove the trust live (never printed).")
]
YesOpt = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask before writing (needed when not interactive)."),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")]
AdoptOpt = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="Take over an existing role not created by trust-bootstrap (shows the diff).",
    ),
]


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _fail(code: int) -> NoReturn:
    """End the command with this exit code (0 too: a fleet run ends its command either way)."""
    raise typer.Exit(code)


def _as_error(err: Exception) -> BootstrapError:
    """A botocore failure that escaped the steps still gets its own kind and exit code; anything
    else unexpected is a bug (exit 1)."""
    if isinstance(err, BootstrapError):
        return err
    if type(err).__module__.split(".")[0] in ("botocore", "boto3", "urllib3"):
        from bootstrap import aws  # boto3 is loaded already: a botocore error was raised

        mapped = aws.classify(err, "an AWS call")
        if mapped is not None:
            return mapped
    return BootstrapError(
        f"Internal error: {type(err).__name__}: {err}. Re-run with --debug for a traceback, and report it."
    )


@contextmanager
def _edge(debug: bool, error_code: Callable[[int], int] = lambda c: c, output: Output = Output.text) -> Iterator[None]:
    """The one broad handler: every error becomes a message and a documented exit code; with
    ``--output json`` also one JSON document on stdout ({"error": {...}})."""
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        message = "Interrupted. Whatever was written so far stays; re-run the same command to finish (it converges)."
        _report(Interrupted(message), error_code, output, prefix="")
    except Exception as err:
        if debug:
            traceback.print_exc()
        error = _as_error(err)
        _report(error, error_code, output, prefix="" if error.message.startswith("Internal error") else "Error: ")


def _report(error: BootstrapError, error_code: Callable[[int], int], output: Output, prefix: str) -> NoReturn:
    code = error_code(int(error.exit_code))
    _err(f"{prefix}{error.message}")
    if output is Output.json:
        typer.echo(json.dumps(error_document(error, code), indent=2))
    _fail(code)


def _flags(**values: Any) -> dict[str, Any]:
    """The options the user actually gave, under their config-file keys."""
    return {CONFIG_FIELD.get(k, k): v for k, v in values.items() if v is not None}


def _load(config_file: Path | None, flags: dict[str, Any]) -> Config:
    from bootstrap import config

    return config.load(config_file, flags)


def _confirmer(yes: bool) -> Callable[[Plan], bool]:
    def confirm(plan: Plan) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise NotConfirmed(
                "Refusing to write without confirmation in a non-interactive run: review the plan above, then "
                "re-run with --yes. Nothing was written."
            )
        return typer.confirm("Make these changes?", default=False, err=True)

    return confirm


def _trust_options(
    config_file: ConfigOpt = None,
    source_profile: SourceProfileOpt = None,
    target_profile: TargetProfileOpt = None,
    role_name: RoleNameOpt = None,
    principal: PrincipalOpt = None,
    external_id: ExternalIdOpt = None,
    generate_external_id: GenerateExternalIdOpt = None,
    require_mfa: RequireMfaOpt = None,
    mfa_max_age: MfaMaxAgeOpt = None,
    policy_arn: PolicyArnOpt = None,
    inline_policy: InlinePolicyOpt = None,
    max_session_duration: MaxSessionOpt = None,
    path: PathOpt = None,
    permissions_boundary: BoundaryOpt = None,
    description: DescriptionOpt = None,
    tag: TagOpt = None,
    session_name: SessionNameOpt = None,
    verify_profile: VerifyProfileOpt = None,
    mfa_serial: MfaSerialOpt = None,
    mfa_token: MfaTokenOpt = None,
    verify: VerifyOpt = None,
    verify_timeout: VerifyTimeoutOpt = None,
    replaces: ReplacesOpt = None,
    trust_account: TrustAccountOpt = None,
    allow_admin: AllowAdminOpt = None,
    managed_policy_quota: PolicyQuotaOpt = None,
    github_repo: GithubRepoOpt = None,
    github_ref: GithubRefOpt = None,
    github_environment: GithubEnvOpt = None,
    github_pull_request: GithubPrOpt = None,
    github_owner_id: GithubOwnerIdOpt = None,
    github_repo_id: GithubRepoIdOpt = None,
    gitlab_project: GitlabProjectOpt = None,
    gitlab_ref: GitlabRefOpt = None,
    gitlab_ref_type: GitlabRefTypeOpt = None,
    gitlab_host: GitlabHostOpt = None,
    oidc_issuer: OidcIssuerOpt = None,
    oidc_audience: OidcAudienceOpt = None,
    oidc_subject: OidcSubjectOpt = None,
    hub_role: HubRoleOpt = None,
    allow_org_wildcard: AllowOrgWildcardOpt = None,
    web_identity_token_file: TokenFileOpt = None,
    targets_from_org: Annotated[
        str | None, typer.Option(help="Fleet: every account of this organization unit (and those below it).")
    ] = None,
    management_profile: Annotated[
        str | None, typer.Option(help="Fleet: profile of the organization's management account.")
    ] = None,
    access_role: Annotated[
        str | None,
        typer.Option(help="Fleet: role to reach each member account [default: OrganizationAccountAccessRole]."),
    ] = None,
    parallel: Annotated[int, typer.Option(min=1, max=64, help="Fleet: targets worked on at once.")] = 8,
    engine: Annotated[
        str | None,
        typer.Option(
            metavar="local|stacksets",
            help="Fleet engine: local (this machine, a thread per target) or stacksets (a service-managed "
            "CloudFormation StackSet over --targets-from-org, new accounts included) [default: local].",
        ),
    ] = None,
    call_as: Annotated[
        str | None, typer.Option(metavar="SELF|DELEGATED_ADMIN", help="StackSets: call as a delegated administrator.")
    ] = None,
    stackset_region: Annotated[
        str | None,
        typer.Option(help="StackSets: the region of the stack instances [default: the management profile's]."),
    ] = None,
    verify_sample: Annotated[
        int | None, typer.Option(min=1, help="StackSets: verify a random sample of N accounts instead of all.")
    ] = None,
    output: OutputOpt = Output.text,
    debug: DebugOpt = False,
) -> None:
    """The options that identify and describe one trust: shared by apply, plan and teardown."""


_NOT_CONFIG = (
    "config_file", "output", "debug", "targets_from_org", "management_profile", "access_role", "parallel",
    "web_identity_token_file", "engine", "call_as", "stackset_region", "verify_sample",
)  # fmt: skip


def _oidc_run(mode: str, cfg: Config, opts: dict[str, Any], yes: bool = False, adopt: bool = False) -> int:
    """apply / plan / verify / teardown of a CI (web identity) trust. Returns the exit code."""
    from bootstrap import oidcci, oidcflow, oidcrender, render
    from bootstrap.results import CiOutcome

    output: Output = opts["output"]
    as_json = output is Output.json
    token_file: Path | None = opts.get("web_identity_token_file")
    in_ci = mode == "verify" and opts.get("target_account") is not None
    if in_ci:
        _check_account(opts["target_account"])
        if opts.get("source_account") is not None:
            _check_account(opts["source_account"])
        prepared = oidcci.prepare_in_ci(cfg, opts["target_account"], opts.get("source_account"))
    else:
        prepared = oidcflow.prepare(cfg, adopt=adopt, teardown=mode == "teardown")
    if mode in ("plan", "apply"):
        for note in oidcflow.warnings(cfg):
            _err(f"Warning: {note}")
    if mode == "plan":
        typer.echo(oidcrender.plan_json_ci(prepared.plan, prepared.accounts, prepared.trust) if as_json
                   else oidcrender.plan_text_ci(prepared.plan, prepared.accounts, prepared.proof))  # fmt: skip
        return 2 if opts.get("detailed_exitcode") and not (prepared.plan.empty and not prepared.plan.not_owned) else 0
    if mode == "teardown":
        typer.echo(render.teardown_text(prepared.plan, prepared.accounts, prepared.left), err=as_json)
        done = oidcflow.run_teardown(prepared, _confirmer(yes))
        typer.echo(render.teardown_json(prepared.plan, done, prepared.accounts, prepared.left) if as_json
                   else "\n" + render.removed_text(done, prepared.left))  # fmt: skip
        return 0
    if mode == "verify":
        result, how = oidcflow.run_verify(prepared, token_file)
        if as_json:
            typer.echo(oidcrender.outcome_json(CiOutcome(prepared.role_arn, prepared.hub_role_arn,
                prepared.provider_arn, prepared.trust, (), result, "", prepared.proof, prepared.accounts)))  # fmt: skip
        else:
            typer.echo(f"Proved with {how}.\n" + render.verification_line(result))
        return 0 if result.ok else int(ExitCode.VERIFY_FAILED)
    typer.echo(oidcrender.plan_text_ci(prepared.plan, prepared.accounts, prepared.proof), err=as_json)
    try:
        outcome = oidcflow.run_apply(prepared, _confirmer(yes), token_file)
    except oidcflow.CiVerificationFailed as failed:
        if as_json:
            typer.echo(oidcrender.outcome_json(failed.outcome))
        raise
    typer.echo(oidcrender.outcome_json(outcome) if as_json else "\n" + oidcrender.outcome_text(outcome))
    return 0


def _fleet_mode(opts: dict[str, Any]) -> bool:
    from bootstrap import config, stacksets

    if stacksets.wants_stacksets(opts["config_file"], opts.get("engine")):
        return True
    return bool(opts["targets_from_org"]) or config.is_fleet(opts["config_file"])


def _run_fleet(
    opts: dict[str, Any], *, mode: str, yes: bool = False, adopt: bool = False, detailed_exitcode: bool = False
) -> int:
    """apply / plan / teardown / verify (``mode``) over a fleet. Returns the exit code."""
    from bootstrap import stacksets

    if stacksets.wants_stacksets(opts["config_file"], opts.get("engine")):
        return _run_stacksets(opts, mode=mode, yes=yes, detailed_exitcode=detailed_exitcode)
    from bootstrap import fleet, render
    from bootstrap.progress import FleetProgress
    from bootstrap.results import TargetResult

    output: Output = opts["output"]
    flags = _flags(**{k: v for k, v in opts.items() if k not in _NOT_CONFIG})
    flags.update({k: opts[k] for k in ("management_profile", "access_role") if opts[k]})
    the_fleet = fleet.load(
        opts["config_file"],
        flags,
        targets_from_org=opts["targets_from_org"],
        management_profile=opts["management_profile"],
    )
    progress = FleetProgress(len(the_fleet.targets))
    teardown = mode == "teardown"
    prepared = fleet.prepare(the_fleet, parallel=opts["parallel"], teardown=teardown, adopt=adopt, on_event=progress)
    progress.close()
    # Like a single run: the plan on stdout (stderr when stdout carries the JSON document).
    typer.echo(render.fleet_plan_text(prepared.summary), err=output is Output.json or mode == "verify")
    if mode == "plan":
        if output is Output.json:
            planned = [TargetResult(r.target.label, r.account_id, r.plan.role_arn, r.plan.changes,
                                          not_owned=r.plan.not_owned) for r in prepared.reached]  # fmt: skip
            typer.echo(
                render.fleet_json(prepared.source_account, prepared.grant_plan.changes, [*planned, *prepared.unreached])
            )
        if prepared.unreached:  # a target not read is an error, never "no drift" (and never a bug's 1)
            return (
                1 if detailed_exitcode else max(r.exit_code or int(ExitCode.PRECONDITION) for r in prepared.unreached)
            )
        drift = prepared.changes > 0 or bool(prepared.not_owned)
        return 2 if detailed_exitcode and drift else 0
    writing = mode != "verify"
    if writing and prepared.changes and not _confirmer(yes)(prepared.grant_plan):
        raise NotConfirmed("Not confirmed: nothing was written.")
    progress = FleetProgress(len(the_fleet.targets))
    grant_done, results = fleet.run(
        prepared,
        parallel=opts["parallel"],
        verify_trust=the_fleet.base.verify or not writing,
        teardown=teardown,
        write=writing,
        on_event=progress,
    )
    progress.close()
    if output is Output.json:
        typer.echo(render.fleet_json(prepared.source_account, grant_done, results))
    else:
        typer.echo(render.fleet_result_text(grant_done, results))
    failed_code = ExitCode.VERIFY_FAILED if not writing else ExitCode.APPLY_FAILED
    return 0 if all(r.ok for r in results) else int(failed_code)


def _run_stacksets(opts: dict[str, Any], *, mode: str, yes: bool, detailed_exitcode: bool) -> int:
    """apply / plan / verify / teardown with the StackSets engine. Returns the exit code."""
    from bootstrap import stackset_flow, stacksets
    from bootstrap import stacksets_render as show

    output: Output = opts["output"]
    flags = _flags(**{k: v for k, v in opts.items() if k not in _NOT_CONFIG})
    flags.update({k: opts[k] for k in ("targets_from_org", "management_profile", "call_as", "stackset_region",
                                       "verify_sample") if opts.get(k) is not None})  # fmt: skip
    settings = stacksets.load(opts["config_file"], flags)
    teardown = mode == "teardown"
    prepared = stackset_flow.prepare(settings, teardown=teardown, detect_drift=bool(opts.get("detect_drift")))
    typer.echo(show.plan_text(prepared, teardown), err=output is Output.json or mode != "plan")
    if mode == "plan":
        if output is Output.json:
            typer.echo(show.to_json(prepared, None))
        drift = bool(prepared.plan.actions or prepared.plan.not_owned)
        return 2 if detailed_exitcode and drift else 0

    def event(who: str, what: str) -> None:
        if output is Output.text:
            _err(f"  {who}: {what}")

    outcome = stackset_flow.Outcome()
    if mode != "verify" and prepared.plan.actions and not _confirmer(yes)(None):  # type: ignore[arg-type]
        raise NotConfirmed("Not confirmed: nothing was written.")
    if teardown:
        outcome = stackset_flow.teardown(prepared, event)
    elif mode == "apply":
        outcome = stackset_flow.apply(prepared, event)
    if not teardown and (mode == "verify" or settings.base.verify):
        stackset_flow.verify_accounts(
            prepared, outcome, parallel=opts["parallel"], sample=settings.verify_sample, on_event=event
        )
    elif not teardown:
        stackset_flow.unverified(prepared, outcome)
    typer.echo(show.to_json(prepared, outcome, teardown) if output is Output.json else show.result_text(outcome))
    if prepared.plan.not_owned and teardown:
        return int(ExitCode.NOT_OWNED)
    if outcome.failed_operations:
        return int(ExitCode.APPLY_FAILED)
    return 0 if outcome.ok else int(ExitCode.VERIFY_FAILED)


# Options that only matter when writing the role or proving it: a command that neither writes nor
# verifies does not offer them (a flag that silently does nothing is a lie).
WRITE_ONLY = (
    "generate_external_id",
    "policy_arn",
    "inline_policy",
    "max_session_duration",
    "permissions_boundary",
    "description",
    "tag",
    "replaces",
    "allow_admin",
    "managed_policy_quota",
)
CONDITIONS = ("external_id", "require_mfa", "mfa_max_age", "trust_account")
FLEET_ONLY = ("targets_from_org", "management_profile", "access_role", "parallel", "engine", "call_as",
              "stackset_region", "verify_sample")  # fmt: skip
VERIFY_ONLY = ("session_name", "verify_profile", "mfa_serial", "mfa_token", "verify", "verify_timeout", "verify_sample")
CI_PROOF = ("web_identity_token_file",)  # a CI token proves: teardown and export do not take one


def trust_command(*, without: tuple[str, ...] = ()) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command (``def cmd(own options..., **opts)``) the shared trust options as well, so
    apply, plan, verify and teardown read the same flags and config file; ``without`` drops the
    options a command has no use for (their keys still come from a config file)."""

    def wrap(fn: Callable[..., None]) -> Callable[..., None]:
        shared = [
            p for p in inspect.signature(_trust_options, eval_str=True).parameters.values() if p.name not in without
        ]
        own = [p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.kind is not p.VAR_KEYWORD]
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in (*own, *shared)]
        fn.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return fn

    return wrap


def _config_of(opts: dict[str, Any]) -> Config:
    return _load(opts["config_file"], _flags(**{k: v for k, v in opts.items() if k not in _NOT_CONFIG}))


@app.command(cls=PanelCommand)
@trust_command()
def apply(yes: YesOpt = False, adopt: AdoptOpt = False, **opts: Any) -> None:
    """Create or repair the trust: the role in B, the grant in A, then verify with AssumeRole.

    Shows the plan first and asks (or --yes). A re-run with nothing to change makes no writes.

    Example:

      trust-bootstrap apply --source-profile a-admin --target-profile b-admin --role-name deploy
      --principal arn:aws:iam::111111111111:user/ci-user --external-id my_external_id
      --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess --verify-profile ci --yes
    """
    output: Output = opts["output"]
    with _edge(opts["debug"], output=opts["output"]):
        if _fleet_mode(opts):
            _fail(_run_fleet(opts, mode="apply", yes=yes, adopt=adopt))
        cfg = _config_of(opts)
        if cfg.oidc is not None:
            _fail(_oidc_run("apply", cfg, opts, yes=yes, adopt=adopt))
        from bootstrap import commands, render

        prepared = commands.prepare(cfg, adopt=adopt, for_apply=True)
        for note in commands.warnings(cfg):
            _err(f"Warning: {note}")
        typer.echo(render.plan_text(prepared.plan, prepared.accounts), err=output is Output.json)
        try:
            outcome = commands.run_apply(prepared, _confirmer(yes))
        except commands.VerificationFailed as failed:
            failed.extra = json.loads(render.outcome_json(failed.outcome))  # one JSON document: result and error
            raise
        typer.echo(render.outcome_json(outcome) if output is Output.json else "\n" + render.outcome_text(outcome))


@app.command(cls=PanelCommand)
@trust_command(without=WRITE_ONLY)
def verify(
    target_account: Annotated[
        str | None,
        typer.Option(help="CI trusts, inside the CI job: the role's account ID (no profile needed; nothing is read)."),
    ] = None,
    source_account: Annotated[
        str | None, typer.Option(help="CI trusts in the hub topology, inside the CI job: the hub role's account ID.")
    ] = None,
    **opts: Any,
) -> None:
    """Prove the trust works, writing nothing: AssumeRole as the principal, then GetCallerIdentity.

    Takes the same options and config as apply. Exit 0 when the principal gets in, 7 when not
    (the diagnose checks are printed). Works on a fleet too.

    Example (a nightly check):

      trust-bootstrap verify --config trust.yaml --output json
    """
    output: Output = opts["output"]
    with _edge(opts["debug"], output=opts["output"]):
        if _fleet_mode(opts):
            _fail(_run_fleet(opts, mode="verify"))
        cfg = _config_of(opts)
        if cfg.oidc is not None:
            _fail(
                _oidc_run("verify", cfg, {**opts, "target_account": target_account, "source_account": source_account})
            )
        if target_account or source_account:
            raise InvalidInput("--target-account and --source-account go with CI trusts (--github-repo, ...).")
        from bootstrap import commands, render
        from bootstrap.results import Outcome

        prepared = commands.prepare(cfg, for_apply=True)
        result = commands.run_verify(prepared)
        outcome = Outcome(
            role_arn=prepared.plan.role_arn,
            principal_arn=prepared.principal.arn,
            external_id=prepared.external_id,
            external_id_generated=False,
            session_name=cfg.session_name,
            changes=(),
            verification=result,
            accounts=prepared.accounts,
        )
        if not result.ok and output is Output.json:
            failed = VerifyFailed(f"The principal could not assume the role: {result.error}.")
            failed.extra = json.loads(render.outcome_json(outcome))  # one JSON document: result and error
            raise failed
        typer.echo(render.outcome_json(outcome) if output is Output.json else render.verification_line(result))
        if not result.ok:
            _fail(int(ExitCode.VERIFY_FAILED))


@app.command(cls=PanelCommand)
@trust_command()  # the same flags as apply, so one command line serves both
def plan(
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 0 when both sides match, 2 when there are changes, 1 on error."),
    ] = False,
    adopt: AdoptOpt = False,
    detect_drift: Annotated[
        bool,
        typer.Option("--detect-drift", help="StackSets: run CloudFormation's StackSet drift detection first."),
    ] = False,
    **opts: Any,
) -> None:
    """Show what apply would change in each account. Read-only: makes no writes.

    Example (a nightly drift check):

      trust-bootstrap plan --config trust.yaml --detailed-exitcode
    """
    output: Output = opts["output"]
    # Terraform's convention: with --detailed-exitcode every error is 1, so 2 always means drift.
    with _edge(opts["debug"], error_code=(lambda _: 1) if detailed_exitcode else (lambda c: c), output=output):
        if _fleet_mode(opts):
            opts["detect_drift"] = detect_drift
            _fail(_run_fleet(opts, mode="plan", adopt=adopt, detailed_exitcode=detailed_exitcode))
        cfg = _config_of(opts)
        if cfg.oidc is not None:
            _fail(_oidc_run("plan", cfg, {**opts, "detailed_exitcode": detailed_exitcode}, adopt=adopt))
        from bootstrap import commands, render

        prepared = commands.prepare(cfg, adopt=adopt)
        if output is Output.json:
            typer.echo(render.plan_json(prepared.plan, prepared.accounts))
        else:
            typer.echo(render.plan_text(prepared.plan, prepared.accounts))
        differs = not prepared.plan.empty or bool(prepared.plan.not_owned)
        if detailed_exitcode and differs:
            _fail(2)


@app.command(cls=PanelCommand)
def diagnose(
    role_arn: Annotated[str | None, typer.Option(help="The role that cannot be assumed.")] = None,
    source_profile: Annotated[
        str | None, typer.Option(help="Profile of the identity that tries to assume the role.")
    ] = None,
    target_profile: Annotated[str | None, typer.Option(help="Profile that may read the role in its account.")] = None,
    source_admin_profile: Annotated[
        str | None, typer.Option(help="Profile that may read IAM in the source account, if the source profile may not.")
    ] = None,
    principal: Annotated[str | None, typer.Option(help="The principal ARN, if not the source profile's own.")] = None,
    external_id: Annotated[str | None, typer.Option(help="The ExternalId the caller sends.")] = None,
    mfa_serial: MfaSerialOpt = None,
    mfa_token: MfaTokenOpt = None,
    duration_seconds: Annotated[
        int | None, typer.Option(help="Requested session duration, 900-43200 [default: 3600].")
    ] = None,
    session_name: Annotated[
        str | None, typer.Option(help="Role session name [default: trust-bootstrap-diagnose].")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", metavar="KEY=VALUE", help="Session tag (repeatable).")
    ] = None,
    source_identity: Annotated[str | None, typer.Option(help="Source identity the caller sets.")] = None,
    config_file: ConfigOpt = None,
    targets_from_org: Annotated[
        str | None, typer.Option(help="Fleet: diagnose every account of this organization unit.")
    ] = None,
    management_profile: Annotated[
        str | None,
        typer.Option(
            help="Profile of the organization's management account: reads the SCPs of the caller's account and "
            "the RCPs of the role's account (checks scp, rcp); for a fleet, also its accounts."
        ),
    ] = None,
    parallel: Annotated[int, typer.Option(min=1, max=64, help="Fleet: targets diagnosed at once.")] = 8,
    github_repo: GithubRepoOpt = None,
    github_ref: GithubRefOpt = None,
    github_environment: GithubEnvOpt = None,
    github_event: Annotated[
        str | None, _ci("GitHub: the run's event (push, pull_request, ...) [default: push].")
    ] = None,
    github_owner_id: GithubOwnerIdOpt = None,
    github_repo_id: GithubRepoIdOpt = None,
    gitlab_project: GitlabProjectOpt = None,
    gitlab_ref: GitlabRefOpt = None,
    gitlab_ref_type: GitlabRefTypeOpt = None,
    gitlab_host: GitlabHostOpt = None,
    oidc_issuer: OidcIssuerOpt = None,
    oidc_audience: OidcAudienceOpt = None,
    oidc_subject: OidcSubjectOpt = None,
    web_identity_token_file: TokenFileOpt = None,
    output: OutputOpt = Output.text,
    debug: DebugOpt = False,
) -> None:
    """Name the exact cause of an AssumeRole AccessDenied, and the fix. Works on any role.

    For CI (AssumeRoleWithWebIdentity): describe the run (--github-repo/--github-ref/--github-event/
    --github-environment, --gitlab-project/--gitlab-ref, or --oidc-issuer/--oidc-subject) or pass a
    real token with --web-identity-token-file; needs --role-arn and --target-profile.

    Exit 0 when no check fails, 9 when a check names a cause (read, or inferred when the source
    side cannot be read). Given a fleet config file (or --targets-from-org), it diagnoses every
    target's role.

    Example:

      trust-bootstrap diagnose --role-arn arn:aws:iam::222222222222:role/terraform-deploy
      --source-profile ci --target-profile b-admin --external-id my_external_id
    """
    with _edge(debug, output=output):
        from bootstrap import config, diagnose, render

        ci_options = {k: v for k, v in dict(
            github_repo=github_repo, github_ref=github_ref, github_environment=github_environment,
            github_event=github_event, github_owner_id=github_owner_id, github_repo_id=github_repo_id,
            gitlab_project=gitlab_project, gitlab_ref=gitlab_ref, gitlab_ref_type=gitlab_ref_type,
            gitlab_host=gitlab_host, oidc_issuer=oidc_issuer, oidc_audience=oidc_audience, oidc_subject=oidc_subject,
        ).items() if v is not None}  # fmt: skip
        if ci_options or web_identity_token_file:
            if not role_arn:
                raise InvalidInput("Say which role: pass --role-arn ARN (and --target-profile to read it).")
            from bootstrap import oidcci

            findings, who = oidcci.run_diagnose(role_arn, target_profile, ci_options, web_identity_token_file)
            show = render.findings_json if output is Output.json else render.findings_text
            typer.echo(show(role_arn, f"web identity: {who}", findings))
            _fail(int(ExitCode.CAUSE_FOUND) if any(f.status == "fail" for f in findings) else 0)
        if config_file is not None and not targets_from_org and not config.is_fleet(config_file):
            ci_config = config.load(config_file, {})
            if ci_config.oidc is not None:  # a CI trust's config: diagnose the run it describes
                from bootstrap import oidcci

                arn, findings, who = oidcci.run_diagnose_config(ci_config)
                show = render.findings_json if output is Output.json else render.findings_text
                typer.echo(show(arn, f"web identity: {who}", findings))
                _fail(int(ExitCode.CAUSE_FOUND) if any(f.status == "fail" for f in findings) else 0)
        if targets_from_org or config.is_fleet(config_file):
            _fail(_diagnose_fleet(config_file, targets_from_org, management_profile, source_profile, parallel, output))
        request = config.load_diagnose(
            config_file,
            dict(
                role_arn=role_arn, source_profile=source_profile, target_profile=target_profile,
                source_admin_profile=source_admin_profile, principal=principal, external_id=external_id,
                mfa_serial=mfa_serial, mfa_token=mfa_token, duration_seconds=duration_seconds,
                session_name=session_name, tags=tag, source_identity=source_identity,
            ),
        )  # fmt: skip
        result = diagnose.run(request, management_profile)
        show = render.findings_json if output is Output.json else render.findings_text
        typer.echo(show(result.facts.params.role_arn, result.principal_arn, result.findings))
        if not result.ok:
            _fail(int(ExitCode.CAUSE_FOUND))


def _diagnose_fleet(
    config_file: Path | None,
    targets_from_org: str | None,
    management_profile: str | None,
    source_profile: str | None,
    parallel: int,
    output: Output,
) -> int:
    from bootstrap import fleet, render
    from bootstrap.progress import FleetProgress
    from bootstrap.results import FleetDiagnosis

    flags: dict[str, Any] = {k: v for k, v in (("management_profile", management_profile),
                                               ("source_profile", source_profile)) if v}  # fmt: skip
    the_fleet = fleet.load(config_file, flags, targets_from_org=targets_from_org, management_profile=management_profile)
    progress = FleetProgress(len(the_fleet.targets))
    prepared = fleet.prepare(the_fleet, parallel=parallel, on_event=progress)
    progress.close()
    diagnosed = FleetDiagnosis(fleet.diagnose_targets(prepared, parallel), prepared.unreached)
    show = render.fleet_findings_json if output is Output.json else render.fleet_findings_text
    typer.echo(show(diagnosed))
    return 0 if diagnosed.ok else int(ExitCode.CAUSE_FOUND)


class ExportFormat(StrEnum):
    terraform = "terraform"
    terraform_role = "terraform-role"
    aws_config = "aws-config"
    cloudformation = "cloudformation"
    json = "json"
    github_actions = "github-actions"  # CI trusts
    gitlab_ci = "gitlab-ci"


@app.command(cls=PanelCommand)
@trust_command(without=(*FLEET_ONLY, *CI_PROOF))
def export(
    format_: Annotated[ExportFormat, typer.Option("--format", "-f", help="What to render.")] = ExportFormat.terraform,
    offline: Annotated[
        bool, typer.Option("--offline", help="Render from the config alone; read nothing from AWS.")
    ] = False,
    target_account: Annotated[str | None, typer.Option(help="With --offline: the target account ID.")] = None,
    alias: Annotated[str | None, typer.Option(help="terraform: the provider alias.")] = None,
    external_id_variable: Annotated[
        bool, typer.Option("--external-id-variable", help="terraform: the ExternalId as a sensitive variable.")
    ] = False,
    profile_name: Annotated[
        str | None, typer.Option(help="aws-config: the profile name [default: the role name].")
    ] = None,
    write: Annotated[bool, typer.Option("--write", help="aws-config: add the profile to the AWS config file.")] = False,
    force: Annotated[bool, typer.Option("--force", help="With --write: replace a profile of that name.")] = False,
    **opts: Any,
) -> None:
    """Hand the trust to the tools you run: Terraform, ~/.aws/config, CloudFormation StackSets, JSON.

    Reads the live role for its ARN; --offline renders from the config alone.

    Examples:

      trust-bootstrap export --config trust.yaml --format terraform --alias target

      trust-bootstrap export --config trust.yaml --format aws-config --write
    """
    with _edge(opts["debug"], output=opts["output"]):
        cfg = _config_of(opts)
        if target_account is not None:
            _check_account(target_account)
        if write and format_ is not ExportFormat.aws_config:
            raise InvalidInput("--write goes with --format aws-config.")
        if profile_name is not None:
            _check_profile_name(profile_name)
        ci_formats = (ExportFormat.github_actions, ExportFormat.gitlab_ci)
        if (format_ in ci_formats) != (cfg.oidc is not None):
            raise InvalidInput(
                f"--format {format_.value} is for CI trusts (--github-repo, --gitlab-project, --oidc-issuer); a CI trust "
                "exports as github-actions or gitlab-ci."
                if format_ in ci_formats
                else f"A CI trust exports as --format github-actions or gitlab-ci, not {format_.value}."
            )
        if format_ in ci_formats:
            from bootstrap import ciexports, oidcci

            ci = oidcci.build_ci_export(cfg, offline=offline, target_account=target_account)
            render_ci = ciexports.github_actions if format_ is ExportFormat.github_actions else ciexports.gitlab_ci
            typer.echo(render_ci(ci), nl=False)
            return
        from bootstrap import awsconfig, commands, exports

        trust = commands.build_export(cfg, offline=offline, target_account=target_account)
        if format_ is ExportFormat.terraform:
            text = exports.terraform(trust, alias=alias, external_id_variable=external_id_variable)
        elif format_ is ExportFormat.terraform_role:
            text = exports.terraform_role(trust)
        elif format_ is ExportFormat.aws_config:
            text = exports.aws_config_section(trust, profile_name or cfg.role_name)
        elif format_ is ExportFormat.cloudformation:
            text = exports.cloudformation(trust)
        else:
            text = exports.documents(trust)
        if not write:
            typer.echo(text, nl=False)
            return
        target_file = awsconfig.config_file()
        written = awsconfig.upsert_profile(target_file, profile_name or cfg.role_name, text, force=force)
        via = f" (the file {target_file} links to)" if written.file != target_file else ""
        kept = f" (backup: {written.backup})" if written.backup else ""
        _err(f"Wrote profile {profile_name or cfg.role_name} to {written.file}{via}{kept}.")


@app.command(cls=PanelCommand)
def init(
    file: Annotated[Path, typer.Argument(help="The config file to write.")] = Path("trust-bootstrap.yaml"),
    source_profile: SourceProfileOpt = None,
    target_profile: TargetProfileOpt = None,
    role_name: RoleNameOpt = None,
    principal: PrincipalOpt = None,
    external_id: ExternalIdOpt = None,
    policy_arn: PolicyArnOpt = None,
    verify_profile: VerifyProfileOpt = None,
    interactive: Annotated[
        bool | None,
        typer.Option("--interactive/--no-interactive", help="Ask for what is missing [default: on a terminal]."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Write a commented config file: from flags, or by asking (defaults from your AWS profiles).

    Example:

      trust-bootstrap init trust.yaml --source-profile a-admin --target-profile b-admin --role-name deploy
    """
    with _edge(debug):
        if os.path.lexists(file) and not force:
            raise InvalidInput(f"{file} exists: not overwritten. Pass --force to replace it, or another file name.")
        values: dict[str, Any] = {
            "source_profile": source_profile, "target_profile": target_profile, "role_name": role_name,
            "principal": principal, "external_id": external_id, "policy_arns": policy_arn,
            "verify_profile": verify_profile,
        }  # fmt: skip
        if interactive if interactive is not None else sys.stdin.isatty():
            values = _ask(values)
        if not values.get("role_name"):
            raise InvalidInput(
                "A role name is required: pass --role-name NAME (or answer the prompt with --interactive)."
            )
        from bootstrap import initfile, safewrite

        target = safewrite.resolve(file)  # a dangling link is refused, never written through
        text = initfile.render(values)
        try:
            # What we write must load: checked on the finished temporary file, so an invalid one is never left.
            safewrite.write(target, text, mode=safewrite.mode_of(target, 0o600), replace=force,
                            check=lambda temp: _loads(temp, target))  # fmt: skip
        except OSError as err:
            raise InvalidInput(f"Cannot write {target}: {err.strerror}. Nothing was written.") from err
        via = f" (the file {file} links to)" if target != file else ""
        _err(f"Wrote {target}{via}. Next: trust-bootstrap plan --config {file}")


def _loads(temp: Path, final: Path) -> None:
    from bootstrap import config

    try:
        config.load(temp, {})
    except InvalidInput as err:
        raise InvalidInput(err.message.replace(str(temp), str(final)) + " Nothing was written.") from err


def _ask(values: dict[str, Any]) -> dict[str, Any]:
    import boto3

    profiles = boto3.Session().available_profiles
    if profiles:
        _err("Profiles found: " + ", ".join(profiles))
    questions = [
        ("source_profile", "Profile of the source account A (the principal's)", profiles[0] if profiles else ""),
        ("target_profile", "Profile of the target account B (gets the role)", profiles[1] if len(profiles) > 1 else ""),
        ("role_name", "Role name in B", "terraform-deploy"),
        ("principal", "Principal ARN in A (empty: the source profile's identity)", ""),
        ("external_id", "ExternalId to require (empty: none)", ""),
        ("verify_profile", "Profile with the principal's credentials, to verify (empty: none)", ""),
    ]
    from bootstrap import arns

    # The answers the config file will be checked against: asked again until they pass, so init
    # never writes a file that the next run rejects.
    checks: dict[str, Callable[[str], object]] = {
        "role_name": arns.check_role_name,
        "principal": arns.parse_principal,
        "external_id": arns.check_external_id,
    }
    answered = dict(values)
    for key, question, default in questions:
        while answered.get(key) is None:
            answer = typer.prompt(question, default=default, show_default=bool(default), err=True).strip()
            try:
                if answer and key in checks:
                    checks[key](answer)
            except ValueError as err:
                _err(f"Not valid: {err}. Try again.")
                continue
            answered[key] = answer or None
            if not answer:
                break
    return answered


class Only(StrEnum):
    source = "source"
    target = "target"


@app.command(cls=PanelCommand)
@trust_command(without=(*WRITE_ONLY, *VERIFY_ONLY, *CONDITIONS, *CI_PROOF))
def teardown(
    yes: YesOpt = False,
    only: Annotated[
        Only | None,
        typer.Option(help="Remove one side only, when the other account's profile is gone or unreachable."),
    ] = None,
    target_account: Annotated[
        str | None,
        typer.Option(
            help="With --only source and no target profile: the target account ID (found from the grant otherwise)."
        ),
    ] = None,
    **opts: Any,
) -> None:
    """Undo an onboarding: remove the grant in A first, then the role in B. Only what trust-bootstrap owns.

    Never deletes the principal. Shows what will be removed in each account and asks (or --yes).

    Example:

      trust-bootstrap teardown --source-profile a-admin --target-profile b-admin --role-name deploy
      --principal arn:aws:iam::111111111111:user/ci-user --yes
    """
    output: Output = opts["output"]
    with _edge(opts["debug"], output=opts["output"]):
        if _fleet_mode(opts):
            _fail(_run_fleet(opts, mode="teardown", yes=yes))
        cfg = _config_of(opts)
        if cfg.oidc is not None:
            _fail(_oidc_run("teardown", cfg, opts, yes=yes))
        if target_account is not None:
            _check_account(target_account)
        from bootstrap import render
        from bootstrap import teardown as workflow
        from bootstrap.plan import Side

        side = None if only is None else Side(only.value)
        prepared = workflow.prepare_teardown(cfg, only=side, target_account=target_account)
        if announce := render.teardown_text(prepared.plan, prepared.accounts, ()):
            typer.echo(announce + "\n", err=output is Output.json)
        done = workflow.run_teardown(prepared, _confirmer(yes))
        if output is Output.json:
            typer.echo(render.teardown_json(prepared.plan, done, prepared.accounts, prepared.left))
        else:
            typer.echo(render.removed_text(done, prepared.left, prepared.plan.not_owned))


def _check_profile_name(value: str) -> None:
    from bootstrap import fieldcheck
    from bootstrap.errors import InvalidInput

    try:
        fieldcheck.check_profile_name(value)
    except ValueError as err:
        raise InvalidInput(f"--profile-name: {err}. Nothing was written.") from err


def _check_account(value: str) -> None:
    from bootstrap import arns
    from bootstrap.errors import InvalidInput

    try:
        arns.check_account_id(value)
    except ValueError as err:
        raise InvalidInput(f"--target-account: {err}.") from err


@app.command(cls=PanelCommand)
def sandbox(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to write the AWS config and credentials files.")
    ] = Path(".sandbox"),
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 0,
    propagation_delay: Annotated[
        float,
        typer.Option(help="Deny AssumeRole on a role created or changed less than this many seconds ago."),
    ] = 0.0,
    org_accounts: Annotated[
        int, typer.Option(help="Also seed an organization (management profile org-admin) with N member accounts.")
    ] = 0,
    latency: Annotated[
        float, typer.Option(help="Seconds added to every call, like a real endpoint's round trip.")
    ] = 0.0,
    fail: Annotated[
        list[str] | None,
        typer.Option(
            "--fail",
            metavar="OPERATION:CODE:COUNT[:DELAY]",
            help="Fault injection: fail the next COUNT calls of OPERATION (* for any) with CODE (Throttling, "
            "ServiceFailure, InternalFailure, ServiceUnavailable, reset, html: an HTML 500 page, garbage: a body that "
            "is no AWS response), after DELAY seconds. Repeatable.",
        ),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Run a local two-account AWS (A=111111111111, B=222222222222) until Ctrl-C.

    Profiles: a-admin and b-admin (administrators), ci (the user ci-user in A, no policies).
    Needs the 'sandbox' extra: pip install 'trust-bootstrap[sandbox]'.
    """
    with _edge(debug):
        try:
            from bootstrap.sandbox.server import (
                ACCESS_ROLE,
                ACCOUNT_A,
                ACCOUNT_B,
                MANAGEMENT_ACCOUNT,
                Fault,
                Sandbox,
                iter_exports,
            )
        except ImportError as err:
            raise PreconditionFailed(
                "The sandbox needs the 'sandbox' extra (moto), which is not installed: "
                "pip install 'trust-bootstrap[sandbox]'."
            ) from err
        try:
            faults = [Fault.parse(text) for text in fail or []]
        except ValueError as err:
            raise InvalidInput(f"--fail: {err}.") from err
        box = Sandbox(
            directory.resolve(),
            port=port,
            propagation_delay=propagation_delay,
            org_accounts=org_accounts,
            latency=latency,
        )
        box.start()
        for fault in faults:
            box.inject(fault)
        try:
            _err(
                f"Sandbox running at {box.endpoint}: account A={ACCOUNT_A} (profiles a-admin, ci), "
                f"B={ACCOUNT_B} (profile b-admin); IAM authorization on; propagation delay "
                f"{propagation_delay:g}s. Use it in another shell with:"
            )
            for line in iter_exports(box):
                typer.echo(line)
            _err(
                f"OIDC issuer (a stand-in for GitHub Actions / GitLab): {box.issuer.url}, certificate "
                f"{box.issuer.certificate_file}. Trust it with --oidc-issuer {box.issuer.url} (with --github-repo ... or "
                "--oidc-subject ...); apply and verify then prove the trust with a token they mint. Mint one yourself: "
                'curl -s -X POST "$TRUST_BOOTSTRAP_TOKEN_MINTER" -d '
                '\'{"sub": "repo:OWNER/REPO:ref:refs/heads/main", "aud": "sts.amazonaws.com"}\''
            )
            if box.org_members:
                _err(
                    f"Organization: management account {MANAGEMENT_ACCOUNT} (profile org-admin), organization unit "
                    f"{box.org_unit} with {len(box.org_members)} member accounts reachable through {ACCESS_ROLE}."
                )
            sys.stdout.flush()
            _err("Press Ctrl-C to stop.")
            import threading

            threading.Event().wait()
        except KeyboardInterrupt:
            _err("Sandbox stopped.")
        finally:
            box.stop()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
