"""The sandbox's data directory (profiles' keys, the OIDC issuer's private key): 0700, its files 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bootstrap.sandbox import datadir


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _started(directory: Path) -> subprocess.Popen[str]:
    """The sandbox command, once it has written its files (it prints the exports after)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bootstrap", "sandbox", "--dir", str(directory)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline().startswith("export AWS_CONFIG_FILE="), process.stderr
    return process


@pytest.mark.parametrize("exists", [False, True], ids=["new-directory", "existing-0755-directory"])
def test_the_data_directory_is_0700_and_every_file_in_it_0600(tmp_path: Path, exists: bool) -> None:
    directory = tmp_path / "box"
    if exists:
        directory.mkdir(mode=0o755)
        directory.chmod(0o755)
    old_umask = os.umask(0o022)  # the usual umask: what is not set explicitly would be world-readable
    try:
        process = _started(directory)
    finally:
        os.umask(old_umask)
    try:
        assert _mode(directory) == 0o700
        names = sorted(p.name for p in directory.iterdir())
        assert {"config", "credentials", "oidc-issuer.key", "oidc-issuer.pem"} <= set(names), names
        assert {name: _mode(directory / name) for name in names} == dict.fromkeys(names, 0o600)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_link_planted_at_a_secrets_name_is_replaced_not_followed(tmp_path: Path) -> None:
    directory = datadir.secure_directory(tmp_path / "box")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("not the sandbox's")
    (directory / "credentials").symlink_to(elsewhere)
    datadir.write_private(directory / "credentials", "[a-admin]\n")
    assert elsewhere.read_text() == "not the sandbox's"
    assert not (directory / "credentials").is_symlink()
    assert _mode(directory / "credentials") == 0o600
    assert sorted(p.name for p in directory.iterdir()) == ["credentials"]  # no temporary file left behind


def test_a_path_that_is_not_a_directory_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "file"
    plain.write_text("")
    with pytest.raises(OSError, match=r"exists|not a directory"):
        datadir.secure_directory(plain)
