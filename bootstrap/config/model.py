"""YAML file + command-line flags -> one frozen, validated Config.

Flags override the file key by key (a list given as flags replaces the file's list). Every value is
checked against AWS's own constraints here, before any AWS call, and an error names the flag or the
config key (and file) the bad value came from.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from bootstrap.config import consumers as consumerconfig
from bootstrap.config import fieldcheck, schema
from bootstrap.config import oidc as oidcconfig
from bootstrap.config.door import refuse_unsafe_text
from bootstrap.core import adminpolicy, arns, policydoc
from bootstrap.core.errors import InvalidInput
from bootstrap.core.quotas import IAM

# Declared in schema.py (light enough for --help), validated here; the same names here for callers.
Config = schema.Config
InlinePolicy = schema.InlinePolicy
described = schema.described
help_of = schema.help_of

T = TypeVar("T")

ADMIN_POLICY_SUFFIX = "policy/AdministratorAccess"

# The keys a config file may hold: every Config field (file form: tags and inline_policies are
# mappings). Command-line-only switches (--yes, --output, --debug) are deliberately not here.
CONFIG_KEYS = tuple(f.name for f in fields(Config) if f.name != "oidc") + oidcconfig.FILE_KEYS


# Keys only the StackSets engine reads (``engine: stacksets``; see stacksets.py).
STACKSETS_ONLY = ("call_as", "stackset_region", "verify_sample")
# Keys of a fleet config file: shared defaults at the top, one entry per target account.
FLEET_KEYS = (
    "targets", "targets_from_org", "management_profile", "access_role", "fleet_name", "engine", *STACKSETS_ONLY,
)  # fmt: skip

# Settings that exclude each other: a flag for one drops the file's others, so that the command line
# always wins over the file. A member is a top-level key, a section's key ("github.ref": the flag
# --github-ref, the file's github: {ref: ...}), or a whole section (every --github-* flag).
EXCLUSIVE: tuple[tuple[str, ...], ...] = (
    ("external_id", "generate_external_id"),
    ("github.ref", "github.environment", "github.pull_request"),
    ("github", "oidc.subject"),
    ("github", "gitlab", "tfc", *oidcconfig.PLATFORMS),  # and every platform of the registry
)
TARGET_KEYS = ("label", "account_id", "access_role")
FLEET_ONLY_AT_TOP = ("source_profile", "principal", "verify_profile")  # the fleet has one principal


class _Source:
    """Says where a value came from, for error messages."""

    def __init__(self, file: Path | None, flags: Mapping[str, Any], prefix: str = "") -> None:
        self.file = file
        self.flags = flags
        self.prefix = prefix

    def where(self, key: str) -> str:
        if key in self.flags:
            return flag_of(key)
        return f"config key '{self.prefix}{key}' in {self.file}"


_LIST_FLAGS = {"policy_arns": "--policy-arn", "inline_policies": "--inline-policy", "tags": "--tag"}
_LIST_FLAGS.update(consumerconfig.FLAG, github_claims="--github-claim")  # --for (the consumers key), --github-claim


def flag_of(key: str) -> str:
    return _LIST_FLAGS.get(key, "--" + key.replace("_", "-"))


def load(file: Path | None, flags: Mapping[str, Any]) -> Config:
    """Build the Config. ``flags`` holds only the options the user actually gave."""
    refuse_unsafe_text(flags, flag_of)
    raw = _read_file(file) if file else {}
    if "targets" in raw:
        raise InvalidInput(
            f"The config file {file} lists targets: it describes a fleet, which this command does not take. "
            "Use apply, plan or teardown with it."
        )
    raw = {k: v for k, v in flags_win(raw, flags).items() if k not in FLEET_KEYS}
    return _build({**raw, **flags}, _Source(file, flags), file.parent if file else Path.cwd())


def _flagged(member: str, flags: Mapping[str, Any]) -> bool:
    if member in oidcconfig.SECTIONS:
        return any(flags.get(f"{member}_{key}") not in (None, False) for key in oidcconfig.SECTIONS[member])
    return flags.get(member.replace(".", "_")) not in (None, False)


def flags_win(raw: Mapping[str, Any], flags: Mapping[str, Any]) -> dict[str, Any]:
    """The file's values without those a flag overrules: for each group of EXCLUSIVE settings that
    a flag names, the file's other members of the group are dropped."""
    kept = dict(raw)
    for group in EXCLUSIVE:
        given = [member for member in group if _flagged(member, flags)]
        for member in (m for m in group if given and m not in given):
            section, _, key = member.partition(".")
            if not key:
                kept.pop(section, None)
            elif isinstance(kept.get(section), Mapping):
                kept[section] = {k: v for k, v in kept[section].items() if k != key}
    return kept


def checked_value(value: T, where: str, check: Callable[[T], object]) -> T:
    """Run one of AWS's constraint checks; its complaint becomes an error naming where the value came from."""
    try:
        check(value)
    except ValueError as err:
        raise InvalidInput(f"{where}: {err}.") from err
    return value


def _build(merged: dict[str, Any], source: _Source, base_dir: Path) -> Config:
    """One Config from merged file values and flags, every value checked."""

    def get(key: str, kind: type[T], check: Callable[[T], object] | None = None) -> T | None:
        value = merged.get(key)
        if value is None:
            return None
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            hint = ""
            if kind is bool and isinstance(value, str) and value.lower() in ("true", "false"):
                hint = f" (a quoted string): write {key}: {value.lower()} without quotes"
            raise InvalidInput(f"{source.where(key)}: expected {_kind_name(kind)}, got {value!r}{hint}.")
        return checked_value(value, source.where(key), check) if check is not None else value

    role_name = get("role_name", str, _and_model(arns.check_role_name, "iam", "CreateRole", "RoleName"))
    if role_name is None:
        raise InvalidInput("A role name is required: pass --role-name NAME or set role_name in the config file.")
    external_id = get("external_id", str, _and_model(arns.check_external_id, "sts", "AssumeRole", "ExternalId"))
    generate = bool(get("generate_external_id", bool))
    if external_id and generate:
        raise InvalidInput("--external-id and --generate-external-id exclude each other: give one or the other.")
    mfa_max_age = get("mfa_max_age", int, _positive)
    mfa_serial = get("mfa_serial", str, _check_mfa_serial)
    mfa_token = get("mfa_token", str, arns.check_mfa_token)
    if mfa_token and not mfa_serial:
        raise InvalidInput(
            f"{source.where('mfa_token')}: an MFA code needs its device: pass --mfa-serial (the device's ARN) too."
        )
    # mfa_serial alone is the config people keep (init's template suggests it): the code is asked for
    # only by the commands that spend it on the proof's AssumeRole (apply, verify; needs_mfa_code).
    principal = get("principal", str, arns.parse_principal)
    replaces = get("replaces", str, _and_model(arns.check_role_name, "iam", "CreateRole", "RoleName"))
    if replaces == role_name:
        raise InvalidInput(f"{source.where('replaces')}: the role cannot replace itself ('{role_name}').")
    policy_arns = list(
        dict.fromkeys(_str_list(merged.get("policy_arns"), source.where("policy_arns"), arns.check_managed_policy_arn))
    )
    quota = get("managed_policy_quota", int) or IAM.managed_policies_per_role
    if not IAM.managed_policies_per_role <= quota <= IAM.managed_policies_per_role_max:
        raise InvalidInput(
            f"{source.where('managed_policy_quota')}: {quota} is outside {IAM.managed_policies_per_role}-"
            f"{IAM.managed_policies_per_role_max}, the range IAM allows for managed policies per role."
        )
    if len(policy_arns) > quota:
        raise InvalidInput(
            f"{source.where('policy_arns')}: {len(policy_arns)} managed policies, over the quota of {quota} per role "
            f"(IAM's default is {IAM.managed_policies_per_role}, raisable to {IAM.managed_policies_per_role_max}). If your account's "
            "quota was raised, pass --managed-policy-quota N; otherwise merge policies."
        )
    built = Config(
        role_name=role_name,
        oidc=oidcconfig.parse(merged, source.where),
        source_profile=get("source_profile", str, fieldcheck.check_profile_name),
        target_profile=get("target_profile", str, fieldcheck.check_profile_name),
        principal=principal,
        external_id=external_id,
        generate_external_id=generate,
        require_mfa=bool(get("require_mfa", bool)) or mfa_max_age is not None,
        mfa_max_age=mfa_max_age,
        policy_arns=tuple(policy_arns),
        managed_policy_quota=quota,
        allow_admin=bool(get("allow_admin", bool)),
        trust_account=bool(get("trust_account", bool)),
        inline_policies=_inline_policies(merged.get("inline_policies"), source.where("inline_policies"), base_dir),
        max_session_duration=get("max_session_duration", int, arns.check_max_session_duration) or 3600,
        path=get("path", str, _and_model(arns.check_path, "iam", "CreateRole", "Path")) or "/",
        permissions_boundary=get("permissions_boundary", str, arns.check_managed_policy_arn),
        description=get("description", str, fieldcheck.check_description) or "",
        tags=tags_of(merged.get("tags"), source.where("tags")),
        session_name=get(
            "session_name", str, _and_model(arns.check_session_name, "sts", "AssumeRole", "RoleSessionName")
        )
        or "trust-bootstrap-verify",
        verify_profile=get("verify_profile", str, fieldcheck.check_profile_name),
        mfa_serial=mfa_serial,
        mfa_token=mfa_token,
        verify=get("verify", bool) is not False,
        verify_timeout=get("verify_timeout", float, _positive) or 120.0,
        replaces=replaces,
        consumers=consumerconfig.parse(merged, source.where),
    )
    consumerconfig.check_trust(built.consumers, built.oidc, source.where)  # --for hcp-terraform: a tfc trust only
    if not built.allow_admin:
        _refuse_admin(built, source)
    return built


def needs_mfa_code(config: Config) -> bool:
    """Whether proving this trust sends an MFA code the config does not hold (mfa_serial without
    mfa_token): apply and verify then ask for it, just before the proof's AssumeRole spends it."""
    return config.verify and bool(config.mfa_serial) and not config.mfa_token


def _refuse_admin(config: Config, source: _Source) -> None:
    """Admin-equivalent permissions hand the whole target account to the source principal: only
    with --allow-admin. Judged here, before any AWS call: AdministratorAccess by name and the inline
    policies by their documents, together (adminpolicy.py); the other managed policies are judged by
    their documents once read from the target account (trust/admincheck.py), before any write."""
    named = [arn for arn in config.policy_arns if adminpolicy.is_admin_managed(arn)]
    if named:
        raise InvalidInput(
            f"{source.where('policy_arns')}: {named[0]} is admin-equivalent (it allows every action on every "
            "resource); on a cross-account role it hands the whole target account to the source principal. "
            "If that is intended, pass --allow-admin."
        )
    if not config.inline_policies:
        return
    inline = {f"inline policy '{p.name}' ({p.source})": json.loads(p.document) for p in config.inline_policies}
    found = adminpolicy.escalations(inline, own=[adminpolicy.role_template(config.path, config.role_name)])
    if found:
        raise InvalidInput(f"{source.where('inline_policies')}: {adminpolicy.refusal(found[0])}")


def _read_file(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidInput(f"Cannot read the config file {file}: {err.strerror}.") from err
    except UnicodeDecodeError as err:
        raise InvalidInput(
            f"The config file {file} is not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset {err.start})."
        ) from err
    import yaml  # noqa: PLC0415 (only runs that read a config file pay for its import)

    from bootstrap.config import yamlstrict  # noqa: PLC0415 (imports yaml)

    try:
        data = yamlstrict.load(text)
    except yamlstrict.StrictYamlError as err:
        raise InvalidInput(f"The config file {file}, line {err.line}: {err}.") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise InvalidInput(f"The config file {file} is not valid YAML{where}: {problem}.") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput(f"The config file {file} must be a mapping of keys to values, not a {type(data).__name__}.")
    refuse_unsafe_text(data, lambda key: f"config key '{key}' in {file}")
    _check_keys(data, (*CONFIG_KEYS, *FLEET_KEYS), f"the config file {file}")
    return data


def _check_keys(data: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    """Every unknown key at once, each with the known key it is closest to, if one is close."""
    unknown = [str(key) for key in data if key not in known]
    if not unknown:
        return
    close = {key: difflib.get_close_matches(key, known, n=1) for key in unknown}
    if len(unknown) == 1:
        (key,) = unknown
        hint = f" Did you mean '{close[key][0]}'?" if close[key] else f" Known keys: {', '.join(known)}."
        raise InvalidInput(f"Unknown key '{key}' in {where}.{hint}")
    named = ", ".join(f"'{k}'" + (f" (did you mean '{close[k][0]}'?)" if close[k] else "") for k in unknown)
    known_list = "" if all(close.values()) else f" Known keys: {', '.join(known)}."
    raise InvalidInput(f"{len(unknown)} unknown keys in {where}: {named}.{known_list}")


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}.get(kind, kind.__name__)


def _and_model(check: Callable[[Any], object], service: str, operation: str, member: str) -> Callable[[Any], None]:
    """Our readable check first, then the API's own constraint from botocore's model (botomodel.py):
    whatever the model refuses, AWS would refuse after the first writes."""

    def both(value: Any) -> None:
        check(value)
        from bootstrap.aws import botomodel  # noqa: PLC0415 (botocore's models load only when a value is checked)

        botomodel.check(service, operation, member, value)

    return both


def _positive(value: float) -> None:
    if value <= 0:
        raise ValueError(f"{value} must be greater than zero")


_check_mfa_serial = fieldcheck.check_mfa_serial  # a full device ARN: it is written into ~/.aws/config


_check_description = fieldcheck.check_description


def _str_list(value: Any, where: str, check: Callable[[str], object]) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise InvalidInput(f"{where}: expected a list of strings, got {value!r}.")
    for item in items:
        checked_value(item, where, check)
    return items


def _pairs(value: Any, where: str, form: str) -> list[tuple[str, str]]:
    """A mapping (config file) or a list of 'KEY=VALUE' strings (flags) -> pairs."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [(str(k), "" if v is None else str(v)) for k, v in value.items()]
    if isinstance(value, list):
        pairs = []
        for item in value:
            key, sep, val = str(item).partition("=")
            if not sep or not key:
                raise InvalidInput(f"{where}: '{item}' is not of the form {form}.")
            pairs.append((key, val))
        return pairs
    raise InvalidInput(f"{where}: expected a mapping or a list of {form}, got {value!r}.")


def tags_of(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    pairs = _pairs(value, where, "KEY=VALUE")
    if len(pairs) > arns.MAX_TAGS - 1:  # one tag is the ownership tag
        raise InvalidInput(f"{where}: {len(pairs)} tags; a role takes at most {arns.MAX_TAGS}, one of which is ours.")
    for key, val in pairs:
        checked_value((key, val), where, lambda pair: fieldcheck.check_tag(*pair))
    return tuple(sorted(dict(pairs).items()))


def _inline_policies(value: Any, where: str, base_dir: Path) -> tuple[InlinePolicy, ...]:
    policies = []
    for name, file_name in _pairs(value, where, "NAME=FILE"):
        checked_value(name, where, _and_model(arns.check_policy_name, "iam", "PutRolePolicy", "PolicyName"))
        path = Path(file_name).expanduser()
        if not path.is_absolute():
            path = base_dir / path
        policies.append(InlinePolicy(name, _read_policy_file(path, name, where), str(path)))
    total = sum(len(p.document) for p in policies)
    if total > IAM.inline_total_chars["role"]:
        raise InvalidInput(
            f"{where}: the inline policies add up to {total} characters (without white space); IAM allows "
            f"{IAM.inline_total_chars['role']} per role. Move some statements into a managed policy."
        )
    return tuple(sorted(policies, key=lambda p: p.name))


def _read_policy_file(path: Path, name: str, where: str) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidInput(f"{where}: cannot read the policy file {path} for '{name}': {err.strerror}.") from err
    except UnicodeDecodeError as err:
        raise InvalidInput(
            f"{where}: the policy file {path} for '{name}' is not UTF-8 text (byte 0x{err.object[err.start]:02x} at "
            f"offset {err.start}). Nothing was written."
        ) from err
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(
            f"{where}: the policy file {path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})."
        ) from err
    try:  # JSON's \uD800-\uDFFF escapes decode to lone surrogates, which no UTF-8 request can carry
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidInput(
            f"{where}: the policy file {path} for '{name}' holds a lone surrogate escape "
            f"(\\u{ord(err.object[err.start]):04x}), half of a character that is not text. Nothing was written."
        ) from err
    if not isinstance(document, dict) or "Statement" not in document:
        raise InvalidInput(f"{where}: the policy file {path} is not an IAM policy (a JSON object with a Statement).")
    try:
        policydoc.check_grammar(document)
    except ValueError as err:
        raise InvalidInput(
            f"{where}: the policy file {path} for '{name}' breaks IAM's policy grammar: {err}. Nothing was written."
        ) from err
    return json.dumps(document, separators=(",", ":"))
