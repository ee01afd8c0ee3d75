"""Writing files safely: never through a symbolic link someone planted, never half a file, never
readable by others for a moment, and never losing a concurrent writer's change.

Every write goes to a fresh temporary file in the same directory, created exclusively
(O_CREAT|O_EXCL|O_NOFOLLOW) with its final mode from the first byte, then renamed over the target:
rename(2) replaces a link at the target's name instead of following it, and readers see the old
file or the new one, never a mix. A file the user deliberately keeps behind a link (dotfile
managers do) is resolved first, and the caller says which file was written.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bootstrap.core.errors import InvalidInput

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def resolve(path: Path) -> Path:
    """The file a write to ``path`` must land in: itself, or the final target of a link.

    A dangling link (or a loop) is refused: writing through it would create a file wherever it
    points, which the user never chose."""
    path = Path(path).expanduser()
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if not target.exists():
        raise InvalidInput(
            f"{path} is a symbolic link to {os.readlink(path)}, which does not exist: not written through it. "
            "Remove the link or create its target first. Nothing was written."
        )
    if not target.is_file():
        raise InvalidInput(f"{path} leads to {target}, which is not a regular file. Nothing was written.")
    return target


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for ``path`` (on a lock file beside it: the file itself is replaced
    by rename, so a lock on it would not outlive a write). Read, change and write inside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _temp(directory: Path, name: str, mode: int) -> tuple[int, Path]:
    while True:
        temp = directory / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temp, _CREATE, mode), temp
        except FileExistsError:
            continue


def _fill(fd: int, data: bytes, mode: int) -> None:
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), mode)  # the umask may have narrowed the mode os.open was given
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write(
    path: Path, text: str, *, mode: int = 0o600, replace: bool = True, check: Callable[[Path], object] | None = None
) -> None:
    """Write ``text`` to ``path`` atomically with ``mode`` from the first byte. ``check`` is given
    the finished temporary file and may refuse it (raise): then nothing is left behind. Without
    ``replace``, an existing ``path`` (even one created a moment ago) is never overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = _temp(path.parent, path.name, mode)
    try:
        _fill(fd, text.encode("utf-8"), mode)
        if check is not None:
            check(temp)
        if replace:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path, follow_symlinks=False)  # fails if anything, even a link, holds the name
            except FileExistsError as err:
                raise InvalidInput(f"{path} appeared while it was being written: not overwritten.") from err
            temp.unlink()
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def backup(path: Path) -> Path:
    """Copy ``path`` (a regular file) to ``path.bak``, by rename: a link at ``.bak`` is replaced,
    never followed. Keeps the file's mode."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as source:
        data, mode = source.read(), os.fstat(source.fileno()).st_mode & 0o777
    copy = path.with_name(path.name + ".bak")
    fd, temp = _temp(path.parent, copy.name, mode)
    try:
        _fill(fd, data, mode)
        os.replace(temp, copy)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return copy


def mode_of(path: Path, default: int) -> int:
    try:
        return os.stat(path, follow_symlinks=False).st_mode & 0o777
    except OSError as err:
        if err.errno != errno.ENOENT:
            raise
        return default
