"""The command's entry point: ``--help`` and ``--version`` answered without loading the command line,
every other run handed to it (``bootstrap.cli.app``).

Why: importing typer and building the command line costs more than the 0.1 s a help page should
take, and the help text depends only on this installation and the terminal. So the first ``--help``
is rendered by the command line as always, and kept in the user's cache directory under a key made
of everything it depends on (the installed files of trust-bootstrap and typer, the Python, how the
command was called, the terminal's width and the environment variables click reads); the next one
with the same key is read back. Nothing else is cached: no AWS answer, no configuration.
``TRUST_BOOTSTRAP_NO_CACHE=1`` turns it off. A cache that cannot be read or written is skipped.
Stdlib only, on purpose.

The cache is the user's own: its directory is created 0700 (and narrowed to 0700 when it is the
user's and wider), a directory another user owns is not used, and a page is written to a fresh
temporary file (mkstemp: a random name, created exclusively, never through a planted link) then
renamed into place. A page is text and nothing else: one holding a control character other than
newline and tab (a terminal escape sequence) is never printed, nor kept.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO, cast

import bootstrap

_HELP_FLAGS = ("--help", "-h")
# What click's help formatting reads besides the arguments (the width comes from the terminal).
_ENV_KEYS = ("COLUMNS", "LINES", "TERM", "NO_COLOR", "FORCE_COLOR", "CLICOLOR", "TYPER_USE_RICH", "LANG", "LC_ALL")
_PREFIX = "help-"


def main() -> None:
    argv = sys.argv[1:]
    if argv == ["--version"]:
        # The distribution's version is read from bootstrap.__version__ at build time (pyproject).
        sys.stdout.write(f"trust-bootstrap {bootstrap.__version__}\n")
        raise SystemExit(0)
    if _is_help(argv) and os.environ.get("TRUST_BOOTSTRAP_NO_CACHE", "") in ("", "0"):
        _help(argv)
    _tune_collector()
    from bootstrap.cli.app import main as cli_main

    try:
        cli_main()
    finally:
        # Everything still alive is about to be freed at once; moving it out of the collector's
        # reach spares the interpreter's last full collection (about 0.1 s).
        gc.freeze()


def _tune_collector() -> None:
    """Collect the youngest generation every 10,000 new objects instead of every 700.

    Why: a run is mostly start-up, and start-up makes long-lived objects (modules, botocore's service
    models), so at the default threshold the collector runs about 150 times and frees almost nothing:
    0.06-0.08 s of a no-op re-run. The collector stays on, so a long fleet run's memory is still
    bounded; it only looks less often."""
    gc.set_threshold(10_000, 10, 10)


def _is_help(argv: list[str]) -> bool:
    """``--help`` or ``COMMAND --help``: the pages whose text depends on nothing but the install."""
    if len(argv) == 1:
        return argv[0] in _HELP_FLAGS
    return len(argv) == 2 and argv[1] in _HELP_FLAGS and not argv[0].startswith("-")


def _help(argv: list[str]) -> None:
    """Print the cached page and exit, or render it, keep it and exit; return (the command line
    renders as usual) when there is no cache to use: no home directory, an unreadable package."""
    try:
        fingerprint = _installation()
        directory = _cache_dir()  # Path.home() raises RuntimeError without HOME or a passwd entry
        path = directory / f"{_PREFIX}{fingerprint}-{_request(argv)}.txt"
    except (OSError, RuntimeError):
        return
    text = _read_page(path) if _private(directory) else None
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()
        raise SystemExit(0)
    code, text = _render()
    if code == 0 and text and _is_text(text):
        _store(directory, path, text, fingerprint)
    raise SystemExit(code)


def _is_text(text: str) -> bool:
    """No control character but newline and tab: nothing a terminal would act on."""
    return not any((ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in text)


def _private(directory: Path) -> bool:
    """Is the cache directory this user's alone? Created 0700 if missing; narrowed to 0700 if it is
    the user's and wider; another user's directory (or a link, or a file) is not used."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(directory, 0o700)
    except OSError:
        return False
    return True


def _read_page(path: Path) -> str | None:
    """The kept page, or None: missing, unreadable, not UTF-8, or not plain text (see _is_text)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text if _is_text(text) else None


def _render() -> tuple[int, str]:
    """Run the command line for this help page, passing its output through and keeping a copy."""
    from bootstrap.cli.app import main as cli_main

    tee = _Tee(sys.stdout)
    sys.stdout = cast("TextIO", tee)
    try:
        cli_main()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        sys.stdout = tee.stream
    return code, "".join(tee.copy)


class _Tee:
    """stdout as the command line sees it (same encoding, same terminal), with a copy of the text."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.copy: list[str] = []

    def write(self, text: str) -> int:
        written = self.stream.write(text)  # a non-text write fails here, before it is copied
        self.copy.append(text)
        return written

    def __getattr__(self, name: str) -> Any:  # encoding, errors, isatty, flush, fileno...
        return getattr(self.stream, name)


def _installation() -> str:
    """What the help text is made from: this package's files, typer's installed version, the Python."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version}\0{sys.prefix}\0{bootstrap.__version__}\0".encode())  # prefix: the venv
    package = Path(bootstrap.__file__).parent
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            stat = os.stat(os.path.join(folder, name))
            digest.update(f"{folder[len(str(package)) :]}/{name}:{stat.st_mtime_ns}:{stat.st_size}\0".encode())
    digest.update(_typer_version().encode())
    return digest.hexdigest()[:16]


def _typer_version() -> str:
    """typer's dist-info name (it holds the version), found beside its package without importing it."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        if "typer" in names:
            return ",".join(sorted(n for n in names if n.startswith("typer-"))) + f"@{entry}"
    return "no typer"


def _request(argv: list[str]) -> str:
    """How this help page was asked for: arguments, program name, width, and what click reads."""
    width = shutil.get_terminal_size().columns
    parts = [*argv, sys.argv[0], str(width), str(sys.stdout.isatty())]
    parts += [f"{k}={os.environ.get(k, '')}" for k in _ENV_KEYS]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trust-bootstrap"


def _store(directory: Path, path: Path, text: str, fingerprint: str) -> None:
    """Write the page atomically; drop other installations' pages a day old, so the directory stays
    small while two installations in use side by side (two venvs) do not evict each other."""
    try:
        if not _private(directory):
            return
        fd, name = tempfile.mkstemp(prefix=f".{_PREFIX}", suffix=".tmp", dir=directory)  # O_EXCL, mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(name, path)
        except BaseException:
            os.unlink(name)
            raise
        day_ago = time.time() - 86400
        for old in (*directory.glob(f"{_PREFIX}*.txt"), *directory.glob(f".{_PREFIX}*.tmp")):  # .tmp: a crash's
            if not old.name.startswith(f"{_PREFIX}{fingerprint}-") and old.stat().st_mtime < day_ago:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only or missing home: the help was printed; it is just not kept
