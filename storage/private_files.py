"""Files only the bot's own user may read: the SQLite database, the MSAL token cache.

0600 files in 0700 folders (security review, finding 9), tightened when they already exist with
a wider mode (restored from a backup, copied by a deploy step), and written atomically where a
half-written file would lose a secret (the rotated refresh token).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from pathlib import Path

__all__ = ("PRIVATE_FILE_MODE", "PRIVATE_FOLDER_MODE", "make_private", "tighten", "tighten_folder", "write_private")

_log = logging.getLogger(__name__)
PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700


def make_private(path: Path) -> None:
    """Create ``path`` 0600 if it is missing (a program would create it with the umask's mode,
    often 0644), else take group and others' access away; the same for its folder, 0700.

    An existing file is never opened: closing any descriptor of a file drops every POSIX lock
    this process holds on it, SQLite's included (another connection of ours may be reading it),
    and another process's SQLite may then checkpoint and delete the WAL under our feet ("database
    disk image is malformed"; sqlite.org/howtocorrupt.html, 2.2).
    """
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE))
    tighten(path, PRIVATE_FILE_MODE)
    tighten_folder(path.parent)


def write_private(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` atomically, readable by this user only (0600, folder 0700).

    Written to a temporary file in the same folder (same file system: the rename is atomic),
    flushed to disk, then renamed over ``path``: a crash leaves the old file or the new one,
    never half of one. ``mkstemp`` creates the temporary file 0600, so the content is never
    readable by others, not even for a moment; the rename gives ``path`` that mode whatever mode
    the file it replaces had.
    """
    folder = path.parent
    folder.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    tighten_folder(folder)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), PRIVATE_FILE_MODE)  # mkstemp's mode, said here rather than trusted
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_folder(folder)


def tighten(path: Path, mode: int) -> None:
    """Take away what ``mode`` does not allow (group and others), if anything.

    A file or folder of another user is only reported: chmod would fail, and the bot should
    start all the same.
    """
    info = path.stat()
    if not stat.S_IMODE(info.st_mode) & ~mode:
        return
    if info.st_uid != os.geteuid():
        _log.warning("%s is open to other users (mode %o) and belongs to another user: left as it is", path, stat.S_IMODE(info.st_mode))
        return
    os.chmod(path, mode)


def tighten_folder(folder: Path) -> None:
    """Make ``folder`` 0700, unless it is a shared folder (the sticky bit, as /tmp has): that is
    not the bot's to change, and the 0600 files protect what the bot keeps there."""
    if not folder.stat().st_mode & stat.S_ISVTX:
        tighten(folder, PRIVATE_FOLDER_MODE)


def _fsync_folder(folder: Path) -> None:
    """Flush the folder's entry for the renamed file, so the rename itself survives a power cut."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
