"""diagnose's own input: flags over an apply config file, mapped to the call to examine and the
profiles that may look at each side."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bootstrap.config import door, fieldcheck, model
from bootstrap.core import arns
from bootstrap.core.assumerequest import DIAGNOSE_SESSION, AssumeRequest
from bootstrap.core.errors import InvalidInput


@dataclass(frozen=True)
class DiagnoseConfig:
    """What diagnose needs: the call to examine, and the profiles that may look at each side."""

    call: AssumeRequest  # role_arn "": built from role_name/path and the target account
    role_name: str | None
    path: str
    source_profile: str | None  # the identity that tries to assume
    target_profile: str | None
    reader_profile: str | None  # may read IAM in the source account
    principal: str | None


def load_diagnose(file: Path | None, flags: Mapping[str, Any]) -> DiagnoseConfig:
    """Flags over an apply config file, mapped to diagnose's roles: the verify profile (the
    principal's credentials) tries to assume, and the source profile reads IAM in A."""
    given = {k: v for k, v in flags.items() if v not in (None, [], ())}
    door.refuse_unsafe_text(given, model.flag_of)
    base = model.load(file, {}) if file else None

    def pick(key: str, fallback: Any) -> Any:
        return given.get(key, fallback)

    def check_given(key: str, check: Callable[[Any], object]) -> Any:
        value = given.get(key)
        return model.checked_value(value, model.flag_of(key), check) if value is not None else None

    check_given("role_arn", _check_role_arn)
    check_given("principal", arns.parse_principal)
    check_given("external_id", arns.check_external_id)
    check_given("mfa_token", arns.check_mfa_token)
    check_given("mfa_serial", fieldcheck.check_mfa_serial)
    for profile_key in ("source_profile", "target_profile", "source_admin_profile"):
        check_given(profile_key, fieldcheck.check_profile_name)
    check_given("session_name", arns.check_session_name)
    check_given("duration_seconds", _check_duration)
    tags = model.tags_of(given.get("tags"), "--tag") if "tags" in given else ()
    if base is None and "role_arn" not in given:
        raise InvalidInput("Say which role: pass --role-arn ARN, or --config with the role's config file.")
    source = pick("source_profile", base and (base.verify_profile or base.source_profile))
    reader = pick("source_admin_profile", base.source_profile if base and base.verify_profile else None)
    mfa_serial = pick("mfa_serial", base and base.mfa_serial)
    mfa_token = pick("mfa_token", base and base.mfa_token)
    if bool(mfa_serial) != bool(mfa_token):
        raise InvalidInput("--mfa-serial and --mfa-token go together: give both, or neither.")
    call = AssumeRequest(
        role_arn=given.get("role_arn") or "",
        session_name=pick("session_name", base.session_name if base else DIAGNOSE_SESSION),
        external_id=pick("external_id", base and base.external_id),
        mfa_serial=mfa_serial,
        mfa_token=mfa_token,
        duration_seconds=int(pick("duration_seconds", 3600)),
        tags=tags,
        source_identity=given.get("source_identity"),
    )
    return DiagnoseConfig(
        call=call,
        role_name=base.role_name if base else None,
        path=base.path if base else "/",
        source_profile=source,
        target_profile=pick("target_profile", base and base.target_profile),
        reader_profile=reader,
        principal=pick("principal", base and base.principal),
    )


def _check_role_arn(value: str) -> None:
    arns.parse_role_arn(value)


def _check_duration(value: int) -> None:
    if not 900 <= value <= 43200:
        raise ValueError(f"{value} is outside the AssumeRole DurationSeconds range of 900-43200 seconds")
