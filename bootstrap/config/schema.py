"""The one declaration of a trust's settings: the Config dataclass, each field with its help,
example, panel and placeholder. Pure and light: ``--help`` and ``init`` read it without importing
the validators (config.py), the CI trust (oidc.py) or botocore."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bootstrap.core.oidc import OidcTrust


@dataclass(frozen=True)
class InlinePolicy:
    name: str
    document: str  # compact JSON text
    source: str  # the file it was read from


def _key(default: Any = MISSING, *, help: str, example: Any, panel: str, metavar: str | None = None, **kw: Any) -> Any:
    """A Config field with its one description (see Config)."""
    meta = {"help": help, "example": example, "panel": panel, "metavar": metavar}
    if default is MISSING:
        return field(metadata=meta, **kw)
    return field(default=default, metadata=meta, **kw)


def described(key: str) -> Mapping[str, Any]:
    """A Config field's description: help, example, panel, metavar."""
    return _FIELDS[key].metadata


def help_of(key: str) -> str:
    return str(described(key)["help"])


@dataclass(frozen=True)
class Config:
    """One trust. Each field is declared once, with its description: validation reads its type and
    default, ``--help`` its help text, panel and placeholder (cli.py, cli_help.py), ``init`` its help
    as a comment and its example (initfile.py)."""

    role_name: str = _key(
        help="Name of the role in B (required).", example="terraform-deploy", panel="Identity", metavar="NAME"
    )
    source_profile: str | None = _key(
        None,
        help="AWS profile of the source account A (the principal's).",
        example="a-admin",
        panel="Identity",
        metavar="PROFILE",
    )
    target_profile: str | None = _key(
        None,
        help="AWS profile of the target account B (gets the role).",
        example="b-admin",
        panel="Identity",
        metavar="PROFILE",
    )
    principal: str | None = _key(
        None,
        help="Exact ARN of the user or role in A to trust. Default: the source profile's own identity.",
        example="arn:aws:iam::111111111111:user/ci-user",
        panel="Identity",
        metavar="ARN",
    )
    external_id: str | None = _key(
        None,
        help="Require this sts:ExternalId (2-1224 characters).",
        example="my_external_id",
        panel="Conditions",
        metavar="ID",
    )
    generate_external_id: bool = _key(
        False, help="Require a random ExternalId (kept by later runs).", example=True, panel="Conditions"
    )
    require_mfa: bool = _key(False, help="Require MFA in the trust policy.", example=True, panel="Conditions")
    mfa_max_age: int | None = _key(
        None,
        help="With MFA: the MFA sign-in must be younger than this many seconds.",
        example=3600,
        panel="Conditions",
        metavar="SECONDS",
    )
    policy_arns: tuple[str, ...] = _key(
        (),
        help="Managed policy to attach to the role (repeatable).",
        example=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        panel="Role",
        metavar="ARN",
    )
    inline_policies: tuple[InlinePolicy, ...] = _key(
        (),
        help="Inline policy for the role: NAME=FILE, a JSON file (repeatable).",
        example={"deploy": "policies/deploy.json"},
        panel="Role",
        metavar="NAME=FILE",
    )
    max_session_duration: int = _key(
        3600, help="Role MaxSessionDuration in seconds (3600-43200).", example=3600, panel="Role", metavar="SECONDS"
    )
    path: str = _key(
        "/", help="IAM path of the role, e.g. /cross-account/.", example="/", panel="Role", metavar="/PATH/"
    )
    permissions_boundary: str | None = _key(
        None,
        help="Permissions boundary policy ARN for the role.",
        example="arn:aws:iam::222222222222:policy/boundary",
        panel="Role",
        metavar="ARN",
    )
    description: str = _key("", help="Role description.", example="Deployments from CI", panel="Role", metavar="TEXT")
    tags: tuple[tuple[str, str], ...] = _key(
        (),
        help="KEY=VALUE tag for the role (repeatable).",
        example={"team": "platform"},
        panel="Role",
        metavar="KEY=VALUE",
    )
    session_name: str = _key(
        "trust-bootstrap-verify",
        help="Role session name used to verify.",
        example="trust-bootstrap-verify",
        panel="Verification",
        metavar="NAME",
    )
    verify_profile: str | None = _key(
        None,
        help="Profile with the principal's credentials, to verify.",
        example="ci",
        panel="Verification",
        metavar="PROFILE",
    )
    mfa_serial: str | None = _key(
        None,
        help="MFA device ARN (or hardware token serial) of the principal, to verify.",
        example="arn:aws:iam::111111111111:mfa/ci-user",
        panel="Verification",
        metavar="ARN",
    )
    mfa_token: str | None = _key(
        None,
        help="Current 6-digit MFA code, to verify; asked for when not given (on a terminal).",
        example="123456",
        panel="Verification",
        metavar="CODE",
        repr=False,
    )
    verify: bool = _key(True, help="Prove the trust with a live AssumeRole.", example=True, panel="Verification")
    verify_timeout: float = _key(
        120.0,
        help="Seconds to wait for IAM propagation when verifying.",
        example=120,
        panel="Verification",
        metavar="SECONDS",
    )
    replaces: str | None = _key(
        None,
        help="Rename: the role's previous name. The new role is created, granted and "
        "verified first, then the old one removed.",
        example="old-role-name",
        panel="Role",
        metavar="OLD_NAME",
    )
    managed_policy_quota: int = _key(
        10,
        help="Your account's managed-policies-per-role quota, if raised (10-20).",
        example=10,
        panel="Role",
        metavar="N",
    )
    allow_admin: bool = _key(
        False,
        help="Allow admin-equivalent policies: any that opens a privilege escalation (iam:PutRolePolicy, iam:PassRole with ec2:RunInstances, ...).",
        example=False,
        panel="Role",
    )
    trust_account: bool = _key(
        False,
        help="Trust the whole source account (its root), not the exact principal. Weaker.",
        example=False,
        panel="Identity",
    )
    consumers: tuple[str, ...] = _key(
        (),
        help="The program that uses the trust (repeatable): terraform, github-actions, gitlab-ci, aws-profile or "
        "hcp-terraform (an HCP Terraform trust only). The trust "
        "admits and the proof replays each one's own STS call [default: a bare AssumeRole].",
        example=["terraform", "github-actions"],
        panel="Conditions",
        metavar="CONSUMER",
    )
    oidc: OidcTrust | None = None  # a CI trust (web identity) instead of an IAM principal: oidcconfig.py


_FIELDS = {f.name: f for f in fields(Config)}
