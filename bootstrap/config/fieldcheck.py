"""Pure: checks of the values that end up inside files people execute or tools parse (profile
names, MFA device ARNs, tag values), each for its field, so that no value can break out of it.

Profile names become ``[profile NAME]`` section headers and ``source_profile = NAME`` lines in
~/.aws/config: a newline or a bracket in one would start a new section (a planted
``credential_process`` runs a command as the user). Tags follow the pattern of botocore's own IAM
model, read from the model itself so it cannot drift from AWS's.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

from bootstrap.aws import botomodel
from bootstrap.core import identifiers

# What botocore can read back as a profile name: it splits a section header with shlex
# (botocore/configloader.py, build_profile_map), so quotes, backslashes and white space would
# change the name; configparser ends a header at ']' and a value at a newline, and treats
# '#'/';' as comments. What remains is the set profile names are written with in AWS's
# documentation (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html).
_PROFILE_NAME = re.compile(r"[A-Za-z0-9_.+@:/=,-]{1,128}")

# A full ARN of an MFA device (virtual or hardware TOTP: mfa/, FIDO: u2f/), with an optional path.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_checking-status.html
_MFA_ARN = re.compile(r"arn:aws(-cn|-us-gov)?:iam::\d{12}:(mfa|u2f)/([\x21-\x7e]*/)?[\w+=,.@-]{1,128}", re.ASCII)
_MFA_ARN_CHARS = re.compile(r"[\w+=/:,.@-]{9,256}", re.ASCII)  # sts serialNumberType


def check_profile_name(value: str) -> str:
    if not _PROFILE_NAME.fullmatch(value):
        bad = sorted({c for c in value if not _PROFILE_NAME.fullmatch(c)})
        shown = " ".join(repr(c) for c in bad) if bad else f"{len(value)} characters"
        raise ValueError(
            f"{value!r} is not a usable AWS profile name: 1-128 letters, digits and _.+@:/=,- only, no spaces, "
            f"brackets or line breaks (found {shown})"
        )
    return value


# The serial number of a legacy hardware token, which STS also takes as SerialNumber ("either the serial
# number for a hardware device (such as GAHT12345678) or an ARN"):
# https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
_HARDWARE_SERIAL = re.compile(r"[A-Z0-9]{9,256}", re.ASCII)


def check_mfa_serial(value: str) -> str:
    if _HARDWARE_SERIAL.fullmatch(value):
        return value  # letters and digits only: nothing that could leave its field
    if not (_MFA_ARN_CHARS.fullmatch(value) and _MFA_ARN.fullmatch(value)):
        raise ValueError(
            f"{value!r} is not the full ARN of an MFA device (arn:aws:iam::ACCOUNT:mfa/NAME, as the IAM console "
            "shows it under 'Assigned MFA device') nor a hardware token's serial number (such as GAHT12345678)"
        )
    return value


_CATEGORY = re.compile(r"\\p\{(\w)\}")


@functools.cache
def _model_pattern(shape: str) -> tuple[Callable[[str], bool], int, int]:
    """A predicate for one character of botocore's IAM ``shape`` pattern, and its length bounds.

    The model's patterns are Java-style classes such as ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+``: Python's
    ``re`` has no ``\\p{...}``, so the Unicode categories are matched with unicodedata."""
    spec = botomodel.shape("iam", shape)  # only runs that set tags pay for the model (shared with the sessions)
    pattern: str = spec["pattern"]
    if not (pattern.startswith("[") and pattern[-2:] in ("]+", "]*")):
        raise AssertionError(f"unexpected pattern {pattern!r} for {shape} in botocore's IAM model")
    body = pattern[1:-2]
    categories = tuple(_CATEGORY.findall(body))
    literals = set(re.sub(r"\\(.)", r"\1", _CATEGORY.sub("", body)))

    def allowed(char: str) -> bool:
        return char in literals or unicodedata.category(char)[0] in categories

    return allowed, int(spec.get("min", 0)), int(spec.get("max", 1 << 30))


def _check_against_model(shape: str, value: str, what: str) -> None:
    allowed, low, high = _model_pattern(shape)
    bad = sorted({c for c in value if not allowed(c)})
    if bad or not low <= len(value) <= high:
        found = f" (not allowed: {' '.join(repr(c) for c in bad)})" if bad else f" (this one has {len(value)})"
        raise ValueError(
            f"{what} must be {low}-{high} Unicode letters, digits, spaces or _.:/=+-@{found}; this is IAM's "
            "tag pattern, from botocore's model"
        )


def check_tag(key: str, value: str) -> tuple[str, str]:
    """A role tag, by IAM's model: tagKeyType and tagValueType.
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html
    IAM's pattern admits every \\p{Z} character, U+2028 and U+2029 among them: line breaks, refused here."""
    identifiers.check_one_line(key)
    identifiers.check_one_line(value)
    _check_against_model("tagKeyType", key, f"tag key {key!r}")
    if key.lower().startswith("aws:"):
        raise ValueError(f"tag key {key!r} uses the prefix 'aws:', which AWS reserves")
    _check_against_model("tagValueType", value, f"tag value {value!r} for key {key!r}")
    return key, value


def check_description(value: str) -> str:
    """A role description, by IAM's model (roleDescriptionType: its pattern is valid Python too)."""
    spec = botomodel.shape("iam", "roleDescriptionType")
    if len(value) > int(spec["max"]):
        raise ValueError(f"a role description is at most {spec['max']} characters (this one has {len(value)})")
    if not re.fullmatch(spec["pattern"], value):
        bad = sorted({c for c in value if not re.fullmatch(spec["pattern"], c)})
        raise ValueError(
            "a role description may hold tab, line breaks, printable ASCII and Latin-1 letters only "
            f"(not allowed: {' '.join(repr(c) for c in bad)}); this is IAM's pattern, from botocore's model"
        )
    return value


def check_ini_value(name: str, value: str) -> str:
    """A value for one ``key = value`` line of an INI file: one line, no control characters."""
    if identifiers.first_unsafe(value) is not None or value != value.strip():
        raise ValueError(
            f"{name} {value!a} cannot be written to an AWS config file: it holds a line break or control "
            "character, or begins or ends with white space"
        )
    return value
