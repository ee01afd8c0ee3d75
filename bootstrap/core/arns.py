"""AWS's own input constraints, and ARN parsing. Pure: no AWS calls.

Each check raises ``ValueError`` with a sentence that names the rule; config.py adds which key or
flag the value came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")

_ACCOUNT = re.compile(r"\d{12}")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_POLICY_NAME = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
_PATH = re.compile(r"/|/[\x21-\x7e]+/")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]+", re.ASCII)
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_MFA_TOKEN = re.compile(r"\d{6}")

MIN_SESSION_DURATION, MAX_SESSION_DURATION = 3600, 43200
EXTERNAL_ID_MIN, EXTERNAL_ID_MAX = 2, 1224
MAX_TAGS = 50


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


@dataclass(frozen=True)
class Principal:
    """An IAM user or role in the source account: what the trust policy names."""

    kind: str  # "user" or "role"
    name: str
    path: str
    account: str
    partition: str

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:{self.kind}{self.path}{self.name}"


def parse_arn(text: str) -> Arn:
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"'{text}' is not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)")
    _, partition, service, region, account, resource = parts
    if partition not in PARTITIONS:
        raise ValueError(f"'{text}' has partition '{partition}'; expected one of {', '.join(PARTITIONS)}")
    return Arn(partition, service, region, account, resource)


@dataclass(frozen=True)
class IamName:
    """The resource part of an IAM or STS ARN: role/PATH/NAME, user/NAME, policy/PATH/NAME, or a
    role session, assumed-role/ROLE/SESSION (STS drops the role's path there)."""

    kind: str  # "role", "user", "group", "policy", "assumed-role", ...
    path: str  # "/" or "/a/b/"
    name: str  # the user, role, group or policy; for a session, its role
    session: str | None = None  # for assumed-role: the session's name


def iam_name(text: str) -> IamName:
    """The kind, path and name an IAM or STS ARN names (ValueError: not an ARN)."""
    kind, _, rest = parse_arn(text).resource.partition("/")
    if kind == "assumed-role":
        role, _, session = rest.partition("/")
        return IamName(kind, "/", role, session)
    path, _, name = rest.rpartition("/")
    return IamName(kind, f"/{path}/" if path else "/", name)


def fields(text: str) -> tuple[str, str, str, str, str, str] | None:
    """The six colon-separated fields of an ARN or an ARN pattern ('arn', partition, service, region,
    account, resource: the resource keeps its own colons), unchecked (a field may hold wildcards), or
    None when there are not six. Never raises."""
    parts = text.split(":", 5)
    if len(parts) != 6:
        return None
    return parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]


def parse_role_arn(text: str) -> Arn:
    """An IAM role's ARN (arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME); ValueError when it is not one."""
    arn = parse_arn(text)
    if arn.service != "iam" or not arn.resource.startswith("role/"):
        raise ValueError(f"'{text}' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    return arn


def beside(text: str, name: str) -> str:
    """The ARN of the resource called ``name`` beside this one: same partition, account, kind and path."""
    return text.rsplit("/", 1)[0] + "/" + name


def is_session_of(text: str, role_name: str) -> bool:
    """Is this STS identity ARN a session of the role (arn:...:sts::ACCOUNT:assumed-role/ROLE/SESSION)?
    Never raises."""
    return f":assumed-role/{role_name}/" in text


def name_of(text: str) -> str:
    """The last segment of an ARN's resource: the name of a role, user or policy ARN. Never raises
    (a value read from a document may be anything)."""
    return text.rsplit("/", 1)[-1]


def account_of(text: str) -> str | None:
    """The account of an ARN, or None when ``text`` is not one (values read from policy documents
    may be anything; this never raises)."""
    try:
        return parse_arn(text).account or None
    except ValueError:
        return None


def check_account_id(value: str) -> str:
    if not _ACCOUNT.fullmatch(value):
        raise ValueError(f"'{value}' is not an AWS account ID (12 digits)")
    return value


def check_role_name(value: str) -> str:
    if not _ROLE_NAME.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a valid IAM role name: 1-64 characters of letters, digits and +=,.@_- "
            f"(this one has {len(value)})"
        )
    return value


def check_policy_name(value: str) -> str:
    if not _POLICY_NAME.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid IAM policy name: 1-128 characters of letters, digits and +=,.@_-")
    return value


def check_path(value: str) -> str:
    if len(value) > 512 or not _PATH.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a valid IAM path: '/' or '/segments/' that begins and ends with '/', "
            "at most 512 printable ASCII characters"
        )
    return value


def check_external_id(value: str) -> str:
    if not EXTERNAL_ID_MIN <= len(value) <= EXTERNAL_ID_MAX:
        raise ValueError(
            f"an ExternalId must be {EXTERNAL_ID_MIN}-{EXTERNAL_ID_MAX} characters long (this one has {len(value)})"
        )
    if not _EXTERNAL_ID.fullmatch(value):
        bad = sorted({c for c in value if not _EXTERNAL_ID.fullmatch(c)})
        raise ValueError(
            f"an ExternalId may contain only letters, digits and +=,.@:/_- (found {' '.join(map(repr, bad))})"
        )
    return value


def check_session_name(value: str) -> str:
    if not _SESSION_NAME.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid role session name: 2-64 characters of letters, digits and +=,.@_-")
    return value


def check_max_session_duration(value: int) -> int:
    if not MIN_SESSION_DURATION <= value <= MAX_SESSION_DURATION:
        raise ValueError(
            f"{value} is outside IAM's MaxSessionDuration range of {MIN_SESSION_DURATION}-{MAX_SESSION_DURATION} "
            "seconds (1 to 12 hours)"
        )
    return value


def check_mfa_token(value: str) -> str:
    if not _MFA_TOKEN.fullmatch(value):
        raise ValueError("an MFA token code is exactly 6 digits")
    return value


def check_managed_policy_arn(value: str) -> str:
    arn = parse_arn(value)
    if arn.service != "iam" or not arn.resource.startswith("policy/"):
        raise ValueError(f"'{value}' is not an IAM managed policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)")
    if arn.account != "aws":
        check_account_id(arn.account)
    return value


def parse_principal(value: str) -> Principal:
    """An IAM user or role ARN. Groups and sessions cannot be trusted principals: say what to use."""
    arn = parse_arn(value)
    kind, _, rest = arn.resource.partition("/")
    if arn.service == "sts" and kind == "assumed-role":
        role = rest.split("/")[0]
        raise ValueError(
            f"'{value}' is a role session, not a role; trust policies name the role: "
            f"arn:{arn.partition}:iam::{arn.account}:role/{role} (with its path, if it has one)"
        )
    if arn.service != "iam" or kind not in ("user", "role", "group") or not rest:
        raise ValueError(f"'{value}' is not an IAM user or role ARN (arn:aws:iam::ACCOUNT:user/NAME or :role/NAME)")
    if kind == "group":
        raise ValueError(
            f"'{value}' is an IAM group; groups cannot be principals in a trust policy. "
            "Name a user or role instead, and grant the group's members sts:AssumeRole yourself"
        )
    check_account_id(arn.account)
    path, _, name = rest.rpartition("/")
    path = f"/{path}/" if path else "/"
    check_path(path)
    (check_role_name if kind == "role" else _check_user_name)(name)
    return Principal(kind=kind, name=name, path=path, account=arn.account, partition=arn.partition)


def _check_user_name(value: str) -> str:
    if not _ROLE_NAME.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid IAM user name: 1-64 characters of letters, digits and +=,.@_-")
    return value


def role_arn(partition: str, account: str, path: str, name: str) -> str:
    return f"arn:{partition}:iam::{account}:role{path}{name}"
