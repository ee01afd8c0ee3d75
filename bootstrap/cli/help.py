"""The command line's help layout: options in panels (identity, role, conditions, verification, fleet,
output), each with a placeholder that says what it takes and the default it falls back to.

Part of the command line (click/typer only): help is formatted without rich and without boto3, so
``--help`` stays fast. The defaults shown come from the one Config declaration, not a copy.
"""

from __future__ import annotations

import textwrap
from dataclasses import MISSING, fields
from typing import Any

from typer.core import TyperCommand

from bootstrap.config.schema import Config
from bootstrap.core.platforms import REGISTRY

# typer carries its own copy of click (typer._click): options are recognised by what they are
# ("option", is_flag), not by isinstance against the separately installed click.

# Flag name -> Config field, where they differ (repeatable flags are singular, their keys plural).
CONFIG_FIELD = {"policy_arn": "policy_arns", "inline_policy": "inline_policies", "tag": "tags"}
_FLAG_OF = {v: k for k, v in CONFIG_FIELD.items()}

# Options a command accepts only so that apply's command line works with it too (teardown): their
# help is one paragraph of their names, apart from the options that matter.
SYMMETRY_PANEL = "Accepted for symmetry with apply (ignored)"

# The flags of the registry's CI platforms (CircleCI, Bitbucket, Buildkite, ...): core/platforms.py.
PLATFORM_KEYS = tuple(key for spec in REGISTRY.values() for key in spec.flag_keys())

# The command line's own options (not config keys), by parameter name: their panel and placeholder.
# Config keys take both from their one description in Config.
_CLI_PANELS: dict[str, tuple[str, ...]] = {
    "Identity": ("config_file", "role_arn", "source_admin_profile", "target_account", "only"),
    "Role": ("adopt",),
    "CI without keys (OIDC)": (  # a CI trust's keys live in their own config sections (oidcconfig.py)
        "github_repo", "github_ref", "github_environment", "github_pull_request", "github_event", "github_owner_id",
        "github_repo_id", "gitlab_project", "gitlab_ref", "gitlab_ref_type", "gitlab_host", "oidc_issuer",
        "oidc_audience", "oidc_subject", "hub_role", "allow_org_wildcard", "web_identity_token_file",
        "source_account", "tfc_organization", "tfc_project", "tfc_workspace", "tfc_run_phase", "tfc_hostname",
        "tfc_audience", "tfc_plan_role", "tfc_plan_policy_arn", "github_claims", "github_workflow",
        "github_subject_format", "github_token_file", "github_api_url",
        *PLATFORM_KEYS,
    ),
    "Fleet": (
        "targets_from_org", "management_profile", "access_role", "parallel", "engine", "call_as", "stackset_region",
        "verify_sample", "detect_drift",
    ),
    "Output": ("output", "yes", "detailed_exitcode", "debug", "help"),
}  # fmt: skip
_CLI_METAVARS = {
    "config_file": "FILE",
    "source_admin_profile": "PROFILE",
    "management_profile": "PROFILE",
    "role_arn": "ARN",
    "duration_seconds": "SECONDS",
    "targets_from_org": "OU_ID",
    "access_role": "NAME",
    "parallel": "N",
    "target_account": "ACCOUNT_ID",
    "stackset_region": "REGION",
    "verify_sample": "N",
    "source_account": "ACCOUNT_ID",
    "github_repo": "OWNER/REPO",
    "github_ref": "REF",
    "github_environment": "NAME",
    "github_event": "EVENT",
    "github_owner_id": "ID",
    "github_repo_id": "ID",
    "github_claims": "KEY=VALUE",
    "github_workflow": "WORKFLOW@REF",
    "github_subject_format": "name|immutable|both",
    "github_token_file": "FILE",
    "github_api_url": "URL",
    "gitlab_project": "GROUP/PROJECT",
    "gitlab_ref": "NAME",
    "gitlab_ref_type": "branch|tag",
    "gitlab_host": "HOST",
    "oidc_issuer": "URL",
    "oidc_audience": "AUD",
    "oidc_subject": "SUB",
    "hub_role": "NAME",
    "web_identity_token_file": "FILE",
    **{f"tfc_{k}": "NAME" for k in ("organization", "project", "workspace", "plan_role")},
    "tfc_hostname": "HOST",
    "tfc_audience": "AUD",
    "tfc_plan_policy_arn": "ARN",
    **{f"{spec.name}_{f.key}": f.metavar for spec in REGISTRY.values() for f in spec.fields},
}
_CONFIG_DESCRIBED = [f for f in fields(Config) if f.metadata.get("panel")]
PANELS = ("Identity", "Role", "Conditions", "Verification", "Fleet", "CI without keys (OIDC)", "Output")
PANEL_OF = {
    **{_FLAG_OF.get(f.name, f.name): str(f.metadata["panel"]) for f in _CONFIG_DESCRIBED},
    **{name: panel for panel, names in _CLI_PANELS.items() for name in names},
    "duration_seconds": "Verification",
}
METAVARS = {
    **{_FLAG_OF.get(f.name, f.name): str(f.metadata["metavar"]) for f in _CONFIG_DESCRIBED if f.metadata["metavar"]},
    **_CLI_METAVARS,
}


# The defaults of the one Config declaration worth showing, by option name.
CONFIG_DEFAULTS = {
    _FLAG_OF.get(f.name, f.name): f.default
    for f in fields(Config)
    if f.default is not MISSING and f.default not in (None, "", (), False)
}


def _is_option(param: Any) -> bool:
    return getattr(param, "param_type_name", "") == "option"


def _default_text(param: Any, defaults: dict[str, Any]) -> str | None:
    name = param.name or ""
    if name in defaults and param.default is None:  # falls back to the config's default
        value = defaults[name]
        if isinstance(value, bool):
            return f"--{name.replace('_', '-')}" if value else None
        return f"{value:g}" if isinstance(value, float) else str(value)
    if _is_option(param) and param.default not in (None, False, (), []) and not param.is_flag:
        default = param.default
        return str(getattr(default, "value", default))
    return None


class PanelCommand(TyperCommand):
    """A typer command whose help groups options in panels and shows every default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            option: Any = param  # typer's vendored click Option: show_default, is_flag
            if _is_option(option):
                option.show_default = False  # the layout below shows defaults itself, once
                if option.name in METAVARS and not option.is_flag:
                    option.metavar = METAVARS[option.name]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        groups: dict[str, list[tuple[str, str]]] = {}
        symmetry: list[str] = []  # options accepted only so that apply's command line works here
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if getattr(param, "rich_help_panel", None) == SYMMETRY_PANEL:
                symmetry += [o for o in (*param.opts, *param.secondary_opts) if o.startswith("--")]
                continue
            names, help_text = record
            default = _default_text(param, CONFIG_DEFAULTS)
            if default is not None and "[default:" not in help_text:
                help_text = f"{help_text}  [default: {default}]"
            groups.setdefault(PANEL_OF.get(param.name or "", "Other"), []).append((names, help_text))
        for title in [*PANELS, "Other"]:
            if title in groups:
                with formatter.section(f"{title} options"):
                    formatter.write_dl(groups[title])
        if symmetry:
            with formatter.section(SYMMETRY_PANEL):
                text = (
                    "apply's other options, so that the same command line works with either verb; they do not "
                    "change what is removed: " + " ".join(symmetry)
                )
                width = max(formatter.width - formatter.current_indent, 40)
                for line in textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False):
                    formatter.write(f"{'':>{formatter.current_indent}}{line}\n")
