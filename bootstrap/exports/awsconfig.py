"""Writing a profile into the AWS config file: never clobbering, locked, with a backup, atomically."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from bootstrap.core.errors import InvalidInput, PreconditionFailed
from bootstrap.exports import safewrite


def config_file() -> Path:
    """The file the AWS CLI and SDKs read: AWS_CONFIG_FILE, else ~/.aws/config."""
    return Path(os.environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config").expanduser()


def _section_span(text: str, profile: str) -> tuple[int, int] | None:
    header = re.compile(rf"^\[\s*profile\s+{re.escape(profile)}\s*\]\s*$", re.MULTILINE)
    found = header.search(text)
    if found is None:
        return None
    following = re.compile(r"^\[", re.MULTILINE).search(text, found.end())
    return found.start(), following.start() if following else len(text)


@dataclass(frozen=True)
class Written:
    file: Path  # the file written: the config path, or the file it links to
    backup: Path | None


def upsert_profile(path: Path, profile: str, section: str, *, force: bool) -> Written:
    """Add ``section`` (a whole ``[profile NAME]`` block) to the file, or replace that profile with
    ``force``. Under an exclusive lock the file is read, changed and written, so concurrent runs
    each keep the others' profiles; the write is atomic (a crash leaves the old file or the new one)
    and never follows a link planted at the file or its backup (see safewrite)."""
    target = safewrite.resolve(path)
    try:
        with safewrite.locked(target):
            return _upsert(target, profile, section, force)
    except OSError as err:
        raise InvalidInput(f"Cannot write {target}: {err.strerror}. Nothing was written.") from err


def _upsert(path: Path, profile: str, section: str, force: bool) -> Written:
    exists = path.exists()
    text = path.read_text(encoding="utf-8") if exists else ""
    span = _section_span(text, profile)
    if span is not None and not force:
        raise PreconditionFailed(
            f"The profile '{profile}' already exists in {path}: not replaced. Pass --force to replace it "
            "(a backup of the file is kept), or --profile-name to pick another name. Nothing was written."
        )
    if span is None:
        separator = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        new_text = text + separator + section
    else:
        new_text = text[: span[0]] + section + "\n" + text[span[1] :].lstrip("\n")
    backup = safewrite.backup(path) if exists else None
    safewrite.write(path, new_text, mode=safewrite.mode_of(path, 0o600))
    return Written(path, backup)
