"""The repository carries nothing that only exists on the machine it was made on."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# An absolute path of a build machine: a home, a temp dir, a workspace mount.
MACHINE_PATH = re.compile(r"(?<![\w./-])/(?:tmp|var/tmp|home|root|Users|work)/[\w.-]+")


def _tracked() -> list[tuple[str, str]]:
    out = subprocess.run(["git", "ls-files", "-s", "-z"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    rows = []
    for entry in filter(None, out.split("\0")):
        meta, path = entry.split("\t", 1)
        rows.append((meta.split()[0], path))
    return rows


def test_no_tracked_link_points_outside_the_repository() -> None:
    outside = []
    for mode, path in _tracked():
        if mode != "120000":
            continue
        target = os.readlink(ROOT / path)
        resolved = (ROOT / path).parent.joinpath(target).resolve()
        if os.path.isabs(target) or not resolved.is_relative_to(ROOT):
            outside.append(f"{path} -> {target}")
    assert outside == [], f"tracked links leave the repository: {outside}"


def test_no_tracked_file_names_a_path_of_the_build_machine() -> None:
    found = []
    for mode, path in _tracked():
        if mode == "120000" or path.startswith("tests/"):
            continue  # tests may build temp paths of their own; links are checked above
        text = (ROOT / path).read_text(encoding="utf-8", errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            if MACHINE_PATH.search(line):
                found.append(f"{path}:{lineno}: {line.strip()}")
    assert found == [], "tracked files name absolute paths of a build machine:\n" + "\n".join(found)


def test_the_checker_sees_a_machine_path() -> None:
    # Guards the pattern itself, so the test above cannot pass by matching nothing.
    assert MACHINE_PATH.search('include "/tmp/ckv/bin"')
    assert MACHINE_PATH.search("ln -s /home/dev/venv")
    assert not MACHINE_PATH.search("https://example.com/tmp/x")
    assert not MACHINE_PATH.search("~/.aws/config")
