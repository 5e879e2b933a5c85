"""Careful file I/O for files that hold secrets: read, atomic write, remove.

Floor 1 of the package: the standard library only, no Pulumi, no .env
knowledge. Paths are taken as given (relative to the process's working
directory, where Pulumi's dynamic provider host runs, or absolute) and made
absolute at call time, never stored.

- Reads refuse a symbolic link (never followed), a directory or any other
  non-regular file, an unreadable file and non-UTF-8 content.
- Writes are atomic: a temporary file in the same folder, fsync, ``os.replace``,
  fsync of the folder; the result has mode 0600. An existing file keeps its
  owner and group; a file created as root takes the owner and group of its
  folder. A missing folder is created with mode 0700 (it will hold secrets).

Every refusal raises ``UnsafeFileError`` naming the file, never its content.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


class UnsafeFileError(Exception):
    """A file this module will not read or write; the message names the file."""


def absolute(path: str) -> str:
    return os.path.abspath(path)


def _fsync_dir(folder: str) -> None:
    """Make a rename or unlink in ``folder`` durable."""
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_text(path: str) -> str | None:
    """The file's text, or None if it (or its folder) does not exist."""
    full = absolute(path)
    try:
        st = os.lstat(full)
    except (FileNotFoundError, NotADirectoryError):  # no such file can exist
        return None
    except OSError as exc:
        raise UnsafeFileError(f"{full}: cannot inspect the file: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeFileError(f"{full} is a symbolic link, which is never followed")
    if stat.S_ISDIR(st.st_mode):
        raise UnsafeFileError(f"{full} is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFileError(f"{full} is not a regular file")
    try:
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFileError(f"{full} is a symbolic link, which is never followed") from None
        raise UnsafeFileError(f"{full}: cannot read the file: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeFileError(f"{full} is not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError as exc:
        raise UnsafeFileError(f"{full}: cannot read the file: {exc.strerror}") from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeFileError(f"{full} is not UTF-8 text") from None


def _owner_to_keep(full: str, folder: str) -> tuple[int, int] | None:
    """The owner and group the new file must have, if any."""
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        if os.geteuid() == 0:
            dst = os.stat(folder)
            return dst.st_uid, dst.st_gid
        return None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        raise UnsafeFileError(f"{full} is not a regular file; it is left alone")
    return st.st_uid, st.st_gid


def write_atomic(path: str, text: str) -> None:
    """Replace the file atomically with ``text`` (mode 0600)."""
    full = absolute(path)
    folder = os.path.dirname(full)
    try:
        os.makedirs(folder, mode=PRIVATE_DIR_MODE, exist_ok=True)
    except OSError as exc:
        raise UnsafeFileError(f"cannot create the folder {folder} for {full}: {exc.strerror}") from None
    owner = _owner_to_keep(full, folder)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(full)}.", suffix=".tmp")
    except OSError as exc:
        raise UnsafeFileError(f"cannot write in {folder} for {full}: {exc.strerror}") from None
    try:
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)
            if owner is not None and os.geteuid() == 0:
                os.fchown(fd, *owner)
            data = text.encode("utf-8")
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, full)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def ensure_private(path: str) -> None:
    """Make an existing file mode 0600 (it holds secrets), without rewriting it."""
    fd = os.open(absolute(path), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != PRIVATE_FILE_MODE:
            os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)


def remove(path: str) -> None:
    """Delete the file if it exists, durably."""
    full = absolute(path)
    try:
        os.unlink(full)
    except FileNotFoundError:
        return
    _fsync_dir(os.path.dirname(full))
