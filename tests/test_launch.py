"""The entry point: --help and --version without loading the command line (typer, boto3), and a help
cache that never serves a page rendered for another width, command or installation."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest


def _run(tmp_path: Path, *args: str, columns: int = 100, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": str(columns), **env}
    environ.pop("TRUST_BOOTSTRAP_NO_CACHE", None)
    environ.update(env)
    command = [sys.executable, "-X", "importtime", "-m", "bootstrap", *args]
    return subprocess.run(command, env=environ, capture_output=True, text=True, check=False, timeout=120)


def _imported(run: subprocess.CompletedProcess[str], module: str) -> bool:
    # -X importtime lists every module imported, one per line: "import time: self | cumulative | name".
    return any(line.rsplit("|", 1)[-1].strip() == module for line in run.stderr.splitlines())


def _pages(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "trust-bootstrap").glob("help-*.txt"))


@pytest.mark.parametrize("args", [("--help",), ("apply", "--help"), ("teardown", "-h")])
def test_second_help_is_the_same_page_without_loading_the_command_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    first = _run(tmp_path, *args)
    second = _run(tmp_path, *args)
    uncached = _run(tmp_path, *args, TRUST_BOOTSTRAP_NO_CACHE="1")
    assert first.returncode == second.returncode == uncached.returncode == 0
    assert "Usage:" in first.stdout
    assert second.stdout == first.stdout == uncached.stdout
    assert _imported(first, "typer")  # rendered by the command line the first time
    assert not _imported(second, "typer") and not _imported(second, "boto3")
    assert _imported(uncached, "typer")  # TRUST_BOOTSTRAP_NO_CACHE=1 always renders
    assert len(_pages(tmp_path)) == 1


def test_each_width_and_command_has_its_own_page(tmp_path: Path) -> None:
    narrow, wide = _run(tmp_path, "apply", "--help", columns=60), _run(tmp_path, "apply", "--help", columns=120)
    again_narrow = _run(tmp_path, "apply", "--help", columns=60)
    top = _run(tmp_path, "--help", columns=60)
    assert max(map(len, narrow.stdout.splitlines())) <= 60 < max(map(len, wide.stdout.splitlines()))
    assert again_narrow.stdout == narrow.stdout and not _imported(again_narrow, "typer")
    assert "Commands" in top.stdout and "Commands" not in narrow.stdout
    assert len(_pages(tmp_path)) == 3


def test_a_failing_help_request_is_not_kept(tmp_path: Path) -> None:
    for _ in range(2):
        run = _run(tmp_path, "no-such-command", "--help")
        assert run.returncode == 2
        assert "No such command" in run.stderr
        assert _imported(run, "typer")
    assert _pages(tmp_path) == []


def test_help_is_printed_when_the_cache_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the cache directory would be")
    run = _run(tmp_path, "--help")
    assert run.returncode == 0 and "Usage:" in run.stdout
    assert "Traceback" not in run.stderr


def test_version_without_loading_the_command_line(tmp_path: Path) -> None:
    run = _run(tmp_path, "--version")
    assert run.returncode == 0
    assert run.stdout == f"trust-bootstrap {version('trust-bootstrap')}\n"
    assert not _imported(run, "typer")


def test_help_without_a_home_directory(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_CACHE_HOME", "TRUST_BOOTSTRAP_NO_CACHE")}
    code = "import os, pathlib; pathlib.Path.home = lambda: (_ for _ in ()).throw(RuntimeError('no home'))\n"
    code += "import sys; sys.argv = ['trust-bootstrap', '--help']\nfrom bootstrap.launch import main\nmain()"
    run = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "Usage:" in run.stdout and "Traceback" not in run.stderr


# -- issue 24, findings 5 and 6: the cache is the user's own and holds text only ------------------------


def test_a_planted_page_with_terminal_escapes_is_never_printed(tmp_path: Path) -> None:
    genuine = _run(tmp_path, "--help").stdout
    (page,) = _pages(tmp_path)
    page.write_text("Usage: evil\x1b]0;pwned\x07\x1b[2J\x1b[31m\r\n", encoding="utf-8")
    run = _run(tmp_path, "--help")
    assert run.returncode == 0
    assert run.stdout == genuine and "\x1b" not in run.stdout and "\r" not in run.stdout
    assert _imported(run, "typer")  # rendered anew, and kept in place of the planted page
    assert page.read_text(encoding="utf-8") == genuine


def test_the_cache_directory_is_private(tmp_path: Path) -> None:
    directory = tmp_path / "cache" / "trust-bootstrap"
    _run(tmp_path, "--help")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in _pages(tmp_path))
    directory.chmod(0o777)  # made by an older version, or by hand
    second = _run(tmp_path, "--help")
    assert second.returncode == 0 and stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_the_page_is_never_written_through_a_planted_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bootstrap import launch

    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    page = directory / "help-0123456789abcdef-0123456789abcdef.txt"
    for pid in range(os.getpid() - 5, os.getpid() + 5):  # every name the old code could have picked
        (directory / f"{page.stem}.{pid}.tmp").symlink_to(victim)
    launch._store(directory, page, "Usage: x\n", "0123456789abcdef")
    assert victim.read_text() == "keep me"
    assert not page.is_symlink() and page.read_text() == "Usage: x\n"
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert not list(directory.glob(".help-*.tmp"))  # nothing left behind
