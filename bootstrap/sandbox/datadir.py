"""The sandbox's data directory and the secrets in it: the directory 0700, every file 0600 from its first byte.

The directory holds the profiles' access keys, the OIDC issuer's private key and the certificate
clients are told to trust, so nobody but its owner may read, list or plant anything in it. Files
are written to a fresh temporary file in the same directory, created exclusively and without
following links (O_CREAT|O_EXCL|O_NOFOLLOW) with mode 0600, then renamed over the target: a link
planted at the target's name is replaced, never followed, and readers never see half a file.

The sandbox shares no code with the tool it judges (bootstrap/ outside this package), so this is
its own small writer, not the tool's.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeDirectory(OSError):
    """The data directory is not a directory this user owns."""


def secure_directory(directory: Path) -> Path:
    """Create ``directory`` with mode 0700 (and its missing parents as usual), or tighten an
    existing one to 0700. Refused: a path that is not a directory, or one another user owns
    (tightening someone else's directory would fail anyway, and a secret must not land there)."""
    directory = Path(directory)
    directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    info = directory.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeDirectory(f"{directory} is not a directory")
    if info.st_uid != os.getuid():
        raise UnsafeDirectory(f"{directory} belongs to another user: the sandbox keeps its secrets elsewhere")
    if stat.S_IMODE(info.st_mode) != DIRECTORY_MODE:
        directory.chmod(DIRECTORY_MODE)  # mkdir's mode is cut by the umask, and an existing one keeps its own
    return directory


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` with mode 0600 from the first byte, replacing (never following) whatever is there."""
    payload = data.encode() if isinstance(data, str) else data
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, _CREATE, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)  # the umask may have cut the mode os.open was given
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
