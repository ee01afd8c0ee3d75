"""Config file keys and flags of a CI (OIDC) trust -> one validated OidcTrust. Pure.

File form: `github:` (config/ghconfig.py), `gitlab: {project, ref, ref_type, host, audience}`,
`oidc: {issuer, audience, subject}` (gitlab.ref and oidc.subject: one value or a list), `tfc:`, plus
`hub_role` and `allow_org_wildcard` at the top. Flags (`--github-repo`, ...) arrive flat
(`github_repo`) and override the file's nested values key by key.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bootstrap.core import arns
from bootstrap.core.errors import InvalidInput
from bootstrap.core.platforms import REGISTRY

if TYPE_CHECKING:  # at run time imported by the functions that build a CI trust: most runs build none
    from bootstrap.core import oidc

# Top-level config keys this module owns, and the keys each section takes.
FILE_KEYS = ("github", "gitlab", "tfc", "oidc", "hub_role", "allow_org_wildcard", *REGISTRY)
SECTIONS = {
    "github": (
        "repo",
        "ref",
        "environment",
        "pull_request",
        "owner_id",
        "repo_id",
        "subject_format",
        "claims",
        "workflow",
        "issuer",
        "audience",
    ),
    "gitlab": ("project", "ref", "ref_type", "host", "audience"),
    "tfc": (
        "organization",
        "project",
        "workspace",
        "run_phase",
        "hostname",
        "audience",
        "plan_role",
        "plan_policy_arn",
    ),
    "oidc": ("issuer", "audience", "subject"),
    # CircleCI, Bitbucket, Buildkite, ...: one registry entry each (core/platforms.py)
    **{name: tuple(f.key for f in spec.fields) for name, spec in REGISTRY.items()},
}
PLATFORMS = tuple(REGISTRY)  # the registry's platforms, each a section and a set of --NAME-* flags
# Flat flag keys, as cli.py passes them.
FLAG_KEYS = (
    *(f"{section}_{key}" for section, keys in SECTIONS.items() for key in keys),
    "hub_role",
    "allow_org_wildcard",
)
# Settings of an AWS-principal trust that make no sense for a web identity trust (direct topology).
_PRINCIPAL_ONLY = ("principal", "external_id", "generate_external_id", "require_mfa", "mfa_max_age", "trust_account")

Where = Callable[[str], str]


def _section(merged: Mapping[str, Any], name: str, where: Where) -> dict[str, Any]:
    """The section's file values with the flat flags over them."""
    raw = merged.get(name) or {}
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where(name)}: expected a mapping of {', '.join(SECTIONS[name])}.")
    unknown = [str(key) for key in raw if key not in SECTIONS[name]]
    if unknown:  # every one at once, each with the known key it is closest to, if one is close
        close = {key: difflib.get_close_matches(key, SECTIONS[name], n=1) for key in unknown}
        named = ", ".join(f"'{k}'" + (f" (did you mean '{close[k][0]}'?)" if close[k] else "") for k in unknown)
        raise InvalidInput(f"{where(name)}: unknown key{'s' if len(unknown) > 1 else ''} {named}; known: "
                           f"{', '.join(SECTIONS[name])}.")  # fmt: skip
    values = {k: v for k, v in raw.items() if v is not None}
    for key in SECTIONS[name]:
        flat = f"{name}_{key}"
        if merged.get(flat) is not None:
            values[key] = merged[flat]
    return values


def _value_where(name: str, key: str, merged: Mapping[str, Any], where: Where) -> str:
    flat = f"{name}_{key}"
    return where(flat) if merged.get(flat) is not None else f"{where(name)} ('{key}')"


def parse(merged: Mapping[str, Any], where: Where) -> oidc.OidcTrust | None:
    """The CI trust the merged file values and flags describe, or None when they describe none."""
    sections = {name: _section(merged, name, where) for name in SECTIONS}
    given = [name for name, values in sections.items() if values]
    hub_role = merged.get("hub_role")
    allow_wide = merged.get("allow_org_wildcard") is True
    if not given:
        if hub_role is not None:
            raise InvalidInput(
                f"{where('hub_role')}: a hub role is for CI trusts; say which CI may assume it (--github-repo, "
                "--gitlab-project or --oidc-issuer/--oidc-subject)."
            )
        return None
    from bootstrap.core import globs, oidc, oidcinput, tfc  # noqa: PLC0415 (a CI trust: see the imports)

    platforms = [g for g in given if g != "oidc"]
    if len(platforms) > 1:
        raise InvalidInput(f"--{'-*, --'.join(platforms)}-* describe different CI platforms: give one of them.")
    for key in _PRINCIPAL_ONLY:
        if merged.get(key) not in (None, False):
            raise InvalidInput(
                f"{where(key)} does not apply to a CI (web identity) trust: the token's claims are the "
                "credentials. Remove it, or describe an IAM principal trust instead."
            )
    if hub_role is not None:
        _check(hub_role, where("hub_role"), arns.check_role_name)

    def value(name: str, key: str, check: Callable[[str], object] | None = None) -> str | None:
        raw = sections[name].get(key)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise InvalidInput(f"{_value_where(name, key, merged, where)}: expected a string, got {raw!r}.")
        text = str(raw)
        if check is not None:
            _check(text, _value_where(name, key, merged, where), check)
        return text

    generic = sections["oidc"]
    audience = value("oidc", "audience", oidcinput.check_audience)
    issuer_override = value("oidc", "issuer", oidcinput.check_issuer)
    if "tfc" in platforms:  # HCP Terraform / Terraform Enterprise: config/tfc.py
        from bootstrap.config import tfc as tfcconfig  # noqa: PLC0415 (a CI trust: see the imports)

        return tfcconfig.build(value, merged, hub_role, allow_wide)
    if platforms and platforms[0] in REGISTRY:
        return _registered(platforms[0], sections[platforms[0]], merged, where, (issuer_override, audience), hub_role,
                           allow_wide)  # fmt: skip
    if "github" in platforms:
        from bootstrap.config import ghconfig  # noqa: PLC0415 (a CI trust: see the imports)

        return ghconfig.build(sections["github"], value, merged, where, issuer_override, audience, hub_role, allow_wide)
    if "gitlab" in platforms:
        if issuer_override:
            raise InvalidInput("--oidc-issuer goes with GitHub or a generic trust; for GitLab pass --gitlab-host.")
        return _gitlab(sections["gitlab"], value, merged, where, audience, hub_role, allow_wide)
    if not generic.get("issuer") or not generic.get("subject"):
        raise InvalidInput(
            "A generic CI trust needs --oidc-issuer URL and --oidc-subject SUB (a trust without a sub condition "
            "lets every identity of the issuer in); --oidc-audience defaults to sts.amazonaws.com."
        )
    from bootstrap.config import ghconfig  # noqa: PLC0415 (a CI trust: see the imports)

    at = _value_where("oidc", "subject", merged, where)
    subjects = ghconfig.strings(generic, "subject", merged, where, "oidc")
    subjects = ghconfig.checked(subjects, at, lambda s: oidcinput.check_subject(s, allow_wide))
    assert issuer_override is not None
    trusts = [
        oidc.generic_trust(
            oidcinput.check_issuer(issuer_override),
            audience or oidc.STS_AUDIENCE,
            subject.strip(),
            hub_role,
            org_wildcard=globs.has_wildcard(subject) and not tfc.confined_to_one_workspace(subject),
        )
        for subject in subjects
    ]
    return _merged(trusts)


def _registered(
    name: str,
    section: Mapping[str, Any],
    merged: Mapping[str, Any],
    where: Where,
    generic: tuple[str | None, str | None],
    hub_role: str | None,
    allow_wide: bool,
) -> oidc.OidcTrust:
    """A platform of the registry: its keys (each one value or, where it repeats, a list) -> its trust."""
    from bootstrap.config import ghconfig  # noqa: PLC0415 (a CI trust: see the imports)

    spec = REGISTRY[name]
    issuer_override, audience = generic
    if issuer_override:
        raise InvalidInput(f"--oidc-issuer does not go with --{name}-*: the platform names its issuer.")
    values = {f.key: ghconfig.strings(section, f.key, merged, where, name) for f in spec.fields}
    try:
        trust = spec.build(values, audience, allow_wide)
    except ValueError as err:
        raise InvalidInput(f"{spec.title} trust: {err}. Nothing was written.") from err
    return replace(trust, hub_role=hub_role)


def _merged(trusts: list[oidc.OidcTrust]) -> oidc.OidcTrust:
    """One trust admitting the subjects of all (they differ only in the subject): a repeated flag adds."""
    first = trusts[0]
    if len(trusts) == 1:
        return first
    subjects = list(dict.fromkeys(s for t in trusts for s in t.subjects))
    return replace(
        first,
        more_subjects=tuple(subjects[1:]),
        contexts=tuple(c for t in trusts for c in t.contexts),
        description=_described(trusts),
        org_wildcard=any(t.org_wildcard for t in trusts),
    )


def _described(trusts: list[oidc.OidcTrust]) -> str:
    """'GitLab project P (HOST), branch main or branch next': the shared head once, each run's tail."""
    for separator in (", ", " with "):
        parts = [t.description.rpartition(separator) for t in trusts]
        if all(head and head == parts[0][0] for head, _, _ in parts):
            return f"{parts[0][0]}{separator}{' or '.join(tail for _, _, tail in parts)}"
    return " or ".join(t.description for t in trusts)


def _gitlab(
    section: Mapping[str, Any],
    value: Callable[..., str | None],
    merged: Mapping[str, Any],
    where: Where,
    audience: str | None,
    hub_role: str | None,
    allow_wide: bool,
) -> oidc.OidcTrust:
    from bootstrap.core import oidc, oidcinput  # noqa: PLC0415 (a CI trust: see the imports)

    project = value("gitlab", "project", lambda p: oidcinput.check_gitlab_project(p, allow_wide))
    if project is None:
        raise InvalidInput("A GitLab trust needs the project: pass --gitlab-project GROUP/PROJECT.")
    from bootstrap.config import ghconfig  # noqa: PLC0415 (a CI trust: see the imports)

    refs = ghconfig.strings(section, "ref", merged, where, "gitlab")
    refs = ghconfig.checked(refs, _value_where("gitlab", "ref", merged, where), oidcinput.check_gitlab_ref)
    if not refs:
        raise InvalidInput("Say which branch or tag may assume the role: pass --gitlab-ref NAME (for example main).")
    ref_type = value("gitlab", "ref_type") or "branch"
    if ref_type not in ("branch", "tag"):
        raise InvalidInput(f"{_value_where('gitlab', 'ref_type', merged, where)}: '{ref_type}' is not branch or tag.")
    host = value("gitlab", "host", oidcinput.check_gitlab_host) or oidc.GITLAB_HOST
    aud = value("gitlab", "audience", oidcinput.check_audience) or audience
    trusts = [
        oidc.gitlab_trust(
            project,
            ref=ref,
            ref_type=ref_type,
            host=oidcinput.check_gitlab_host(host),
            audience=aud,
            hub_role=hub_role,
        )
        for ref in refs
    ]
    return _merged(trusts)


def _check(value: Any, where: str, check: Callable[[Any], object]) -> None:
    try:
        check(value)
    except ValueError as err:
        raise InvalidInput(f"{where}: {err}.") from err
