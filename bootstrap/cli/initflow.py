"""init's workflow: the questions it asks (with defaults from the AWS profiles found), each answer
checked as the config file will be, and writing the file so that it loads. No prompting or printing
here: cli.py asks and shows."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bootstrap.aws import sessions
from bootstrap.config import initfile
from bootstrap.config import model as config
from bootstrap.core import arns, consumers, tfc
from bootstrap.core.errors import InvalidInput
from bootstrap.exports import safewrite

# The answers the config file will be checked against: asked again until they pass, so init never
# writes a file that the next run rejects.
CHECKS: dict[str, Callable[[str], object]] = {
    "role_name": arns.check_role_name,
    "principal": arns.parse_principal,
    "external_id": arns.check_external_id,
    "consumers": lambda answer: [consumers.parse(name) for name in _names(answer)],
    "tfc_organization": lambda answer: tfc.check_name(answer, "organization"),
    "tfc_workspace": lambda answer: tfc.check_name(answer, "workspace"),
}


def _names(answer: str) -> list[str]:
    """A comma- or space-separated answer as names."""
    return [name for name in answer.replace(",", " ").split() if name]


def refuse_existing(file: Path, force: bool) -> None:
    if os.path.lexists(file) and not force:
        raise InvalidInput(f"{file} exists: not overwritten. Pass --force to replace it, or another file name.")


def known_profiles() -> list[str]:
    return sessions.known_profiles()


def questions(profiles: list[str]) -> list[tuple[str, str, str]]:
    """(config key, question, default answer) in the order asked."""
    return [
        ("source_profile", "Profile of the source account A (the principal's)", profiles[0] if profiles else ""),
        ("target_profile", "Profile of the target account B (gets the role)", profiles[1] if len(profiles) > 1 else ""),
        ("role_name", "Role name in B", "terraform-deploy"),
        ("principal", "Principal ARN in A (empty: the source profile's identity)", ""),
        ("external_id", "ExternalId to require (empty: none)", ""),
        ("verify_profile", "Profile with the principal's credentials, to verify (empty: none)", ""),
        (
            "consumers",
            "Who uses the trust: terraform, github-actions, gitlab-ci, aws-profile, hcp-terraform (comma-separated; the trust "
            "admits and the proof replays each one's own call; empty: a bare AssumeRole)",
            "",
        ),
    ]


# Asked after questions() only when hcp-terraform is named: it serves an HCP Terraform trust only
# (config/consumers.py), so init asks for the workspace whose runs assume the role (the tfc: section).
TFC_QUESTIONS = [
    ("tfc_organization", "HCP Terraform organization (hcp-terraform: its runs assume the role)", ""),
    ("tfc_workspace", "HCP Terraform workspace", ""),
]


def asks_workspace(answered: Mapping[str, Any]) -> bool:
    named = answered.get("consumers")
    names = _names(named) if isinstance(named, str) else list(named or [])
    return consumers.Consumer.HCP_TERRAFORM.value in names


def check_answer(key: str, answer: str) -> None:
    """Raises ValueError (saying why) when the answer would make the file fail to load."""
    if answer and key in CHECKS:
        CHECKS[key](answer)


def write(file: Path, values: Mapping[str, Any], *, force: bool) -> Path:
    """Write the commented config file; returns the file written (``file``, or the file it links to)."""
    if not values.get("role_name"):
        raise InvalidInput("A role name is required: pass --role-name NAME (or answer the prompt with --interactive).")
    target = safewrite.resolve(file)  # a dangling link is refused, never written through
    values = dict(values)
    if isinstance(values.get("consumers"), str):  # a prompt's answer: "terraform, github-actions"
        values["consumers"] = _names(values["consumers"])
    place = {k: values.pop(f"tfc_{k}", None) for k in ("organization", "workspace")}  # follow_ups' answers
    if all(place.values()):
        values["tfc"] = place
    text = initfile.render(values)
    try:
        # What we write must load: checked on the finished temporary file, so an invalid one is never left.
        safewrite.write(target, text, mode=safewrite.mode_of(target, 0o600), replace=force,
                        check=lambda temp: _loads(temp, target))  # fmt: skip
    except OSError as err:
        raise InvalidInput(f"Cannot write {target}: {err.strerror}. Nothing was written.") from err
    return target


def _loads(temp: Path, final: Path) -> None:
    try:
        config.load(temp, {})
    except InvalidInput as err:
        raise InvalidInput(err.message.replace(str(temp), str(final)) + " Nothing was written.") from err
