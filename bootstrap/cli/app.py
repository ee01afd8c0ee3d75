"""The command line: parses flags, calls the workflow of each command, shows what it returns and
reports, and maps errors and results to exit codes.

Only the cli package imports typer and rich (options: the options; edge: errors, confirmation; help:
the help; kinds: each kind of trust behind one interface, and the registry that picks one; init,
sandbox: those commands). None imports botocore at module level, so ``--help`` stays fast; each
command imports its workflow when it runs.
"""

from __future__ import annotations

import copy
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bootstrap.cli.edge import Commands, check_account, echo_err, edge, fail
from bootstrap.cli.help import PLATFORM_KEYS, SYMMETRY_PANEL, PanelCommand
from bootstrap.cli.init import init as _init
from bootstrap.cli.kinds import registry as kinds
from bootstrap.cli.options import (
    CI_PROOF,
    FLEET_ONLY,
    IGNORED_BY_TEARDOWN,
    WRITE_ONLY,
    AdoptOpt,
    ExportFormat,
    Only,
    Output,
    YesOpt,
    diagnose_options,
    trust_command,
    with_options,
    without_ignored,
)
from bootstrap.cli.progress import Reporter
from bootstrap.cli.sandbox import sandbox as _sandbox
from bootstrap.core.errors import ExitCode

if TYPE_CHECKING:
    from typer.models import CommandInfo

app = typer.Typer(
    cls=Commands,
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
        from bootstrap import __version__  # the distribution's version (pyproject reads it from there)

        typer.echo(f"trust-bootstrap {__version__}")
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
    with edge(opts["debug"], output=opts["output"]):
        run = kinds.request(opts)
        fail(kinds.pick(run).apply(run, yes=yes, adopt=adopt))


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
    with edge(opts["debug"], output=opts["output"]):
        run = kinds.request(opts)
        fail(kinds.pick(run).verify(run, target_account=target_account, source_account=source_account))


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
    # Terraform's convention: with --detailed-exitcode every error is 1, so 2 always means drift.
    with edge(opts["debug"], error_code=(lambda _: 1) if detailed_exitcode else (lambda c: c), output=opts["output"]):
        run = kinds.request(opts)
        fail(kinds.pick(run).plan(run, adopt=adopt, detailed_exitcode=detailed_exitcode, detect_drift=detect_drift))


_CI_KEYS = (
    "github_repo", "github_ref", "github_environment", "github_event", "github_owner_id", "github_repo_id",
    "gitlab_project", "gitlab_ref", "gitlab_ref_type", "gitlab_host", "oidc_issuer", "oidc_audience", "oidc_subject",
    "tfc_organization", "tfc_project", "tfc_workspace", "tfc_run_phase", "tfc_hostname", "tfc_audience",
    "github_claims", "github_workflow", *PLATFORM_KEYS,
)  # fmt: skip
_DIAGNOSE_KEYS = (
    "role_arn", "source_profile", "target_profile", "source_admin_profile", "principal", "external_id", "mfa_serial",
    "mfa_token", "duration_seconds", "session_name", "source_identity",
)  # fmt: skip


@app.command(cls=PanelCommand)
@with_options(diagnose_options)
def diagnose(**opts: Any) -> None:
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
    output: Output = opts["output"]
    with edge(opts["debug"], output=output):
        from bootstrap.cli import diagnose_flow
        from bootstrap.exports.render import text as render
        from bootstrap.fleet.results import FleetDiagnosis

        request = diagnose_flow.DiagnoseRequest(
            opts["config_file"],
            flags={**{k: opts[k] for k in _DIAGNOSE_KEYS}, "tags": opts["tag"]},
            ci_options={k: opts[k] for k in _CI_KEYS if opts[k] is not None},
            token_file=opts["web_identity_token_file"],
            targets_from_org=opts["targets_from_org"],
            management_profile=opts["management_profile"],
            parallel=opts["parallel"],
        )
        result = diagnose_flow.run(request, Reporter())
        as_json = output is Output.json
        if isinstance(result, FleetDiagnosis):
            typer.echo(render.fleet_findings_json(result) if as_json else render.fleet_findings_text(result))
        else:
            show = render.findings_json if as_json else render.findings_text
            typer.echo(show(result.role_arn, result.principal, result.findings))
        if not result.ok:
            fail(int(ExitCode.CAUSE_FOUND))


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
    with edge(opts["debug"], output=opts["output"]):
        run = kinds.request(opts, fleets=False)  # export takes no fleet options
        if target_account is not None:
            check_account(target_account)
        from bootstrap.ci import export_flow

        request = export_flow.ExportRequest(format_.value, offline, target_account, alias, external_id_variable,
                                            profile_name, write, force, opts["output"] == "json")  # fmt: skip
        exported = kinds.pick(run).export(run, request)
        for note in exported.notes:
            echo_err(f"Note: {note}")
        written = exported.written
        if written is None:
            typer.echo(exported.text, nl=False)
            return
        via = f" (the file {exported.config_file} links to)" if written.file != exported.config_file else ""
        kept = f" (backup: {written.backup})" if written.backup else ""
        echo_err(f"Wrote profile {exported.profile} to {written.file}{via}{kept}.")


app.command(name="init", cls=PanelCommand)(_init)  # listed in --help in this order


@app.command(cls=PanelCommand)
@trust_command(ignored=IGNORED_BY_TEARDOWN)  # apply's command line, its verb swapped, works here too
def teardown(
    yes: YesOpt = False,
    _adopt: Annotated[bool, typer.Option("--adopt", rich_help_panel=SYMMETRY_PANEL)] = False,
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
    with edge(opts["debug"], output=opts["output"]):
        opts = without_ignored(opts, IGNORED_BY_TEARDOWN)  # what they say is apply's to use, not teardown's
        run = kinds.request(opts)
        fail(kinds.pick(run).teardown(run, yes=yes, only=only, target_account=target_account))


app.command(name="sandbox", cls=PanelCommand)(_sandbox)


def main() -> None:
    app_for(sys.argv[1:])()


def app_for(argv: list[str]) -> typer.Typer:
    """The command line, with only the command ``argv`` names when it names one.

    Why: typer turns every command's signature into click parameters before it parses anything, and
    a run uses one command. The whole app stays for everything else (``--help``, a wrong command
    name), so the top-level help and click's suggestions still list every command."""
    wanted = [c for c in app.registered_commands if argv[:1] == [_name_of(c)]]
    if not wanted:
        return app
    one = copy.copy(app)
    one.registered_commands = wanted
    return one


def _name_of(command: CommandInfo) -> str:
    # typer names a command after its function unless given a name (typer.main.get_command_name).
    function = command.callback.__name__ if command.callback is not None else ""
    return command.name or function.lower().replace("_", "-")


if __name__ == "__main__":
    main()
