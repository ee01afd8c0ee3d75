"""Writing a profile into the AWS config file: never clobbering, with a backup, atomically."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from bootstrap.errors import PreconditionFailed


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


def upsert_profile(path: Path, profile: str, section: str, *, force: bool) -> Path | None:
    """Add ``section`` (a whole ``[profile NAME]`` block) to the file, or replace that profile with
    ``force``. Returns the backup's path when the file existed. The write is atomic: a crash leaves
    the old file or the new one, never half of one."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
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
    backup = None
    if path.exists():
        backup = path.with_name(path.name + ".bak")
        shutil.copy2(path, backup)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(new_text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return backup
