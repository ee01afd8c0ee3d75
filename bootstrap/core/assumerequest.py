"""The one value for an sts:AssumeRole request: role, session name, ExternalId, MFA, duration, tags.

Pure. verify, diagnose (facts.Facts.params), the evaluator's request context and aws_sts all take
this value; nothing re-lists its fields. Parameters as AWS names them:
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

DIAGNOSE_SESSION = "trust-bootstrap-diagnose"


@dataclass(frozen=True)
class AssumeRequest:
    """One AssumeRole call as the caller sends it. The MFA token never shows in repr()."""

    role_arn: str
    session_name: str = DIAGNOSE_SESSION
    external_id: str | None = None
    mfa_serial: str | None = None
    mfa_token: str | None = field(default=None, repr=False)
    duration_seconds: int | None = None  # None: not sent (AWS's default, one hour)
    tags: tuple[tuple[str, str], ...] = ()
    source_identity: str | None = None

    @property
    def mfa_given(self) -> bool:
        """MFA is sent only with both the device's serial and a code."""
        return bool(self.mfa_serial and self.mfa_token)

    @property
    def duration(self) -> int:
        """The session length AWS grants: the one asked for, else its default of 3600 seconds."""
        return self.duration_seconds if self.duration_seconds is not None else 3600

    def api_params(self) -> dict[str, Any]:
        """The AssumeRole parameters, in AWS's spelling."""
        params: dict[str, Any] = {"RoleArn": self.role_arn, "RoleSessionName": self.session_name}
        if self.duration_seconds is not None:
            params["DurationSeconds"] = self.duration_seconds
        if self.external_id:
            params["ExternalId"] = self.external_id
        if self.mfa_given:
            params["SerialNumber"], params["TokenCode"] = self.mfa_serial, self.mfa_token
        if self.tags:
            params["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags]
        if self.source_identity:
            params["SourceIdentity"] = self.source_identity
        return params


class TrustSettings(Protocol):
    """What a config says about the AssumeRole that proves a trust (schema.Config has these)."""

    @property
    def session_name(self) -> str: ...
    @property
    def mfa_serial(self) -> str | None: ...
    @property
    def mfa_token(self) -> str | None: ...


def for_trust(settings: TrustSettings, role_arn: str, external_id: str | None) -> AssumeRequest:
    """The AssumeRole a configured trust is proven (and diagnosed) with: the config's session name
    and MFA, and the ExternalId in force (the configured one, or the one this run generated)."""
    return AssumeRequest(
        role_arn,
        session_name=settings.session_name,
        external_id=external_id,
        mfa_serial=settings.mfa_serial,
        mfa_token=settings.mfa_token,
    )
