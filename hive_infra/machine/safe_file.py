"""Careful file I/O for files that hold secrets: read, and edit under a lock.

The standard library only, no Pulumi, no .env
knowledge. Paths are taken as given (relative to the process's working
directory, where Pulumi's dynamic provider host runs, or absolute) and made
absolute at call time, never stored.

- Reads refuse a symbolic link (never followed), a directory or any other
  non-regular file, an unreadable file and non-UTF-8 content.
- ``edit`` applies a change (a function of the text read) so that no other
  writer's line is lost:

  * writers of this program exclude each other with an advisory lock,
    ``flock`` on the folder itself (no lock file in the user's folder; the
    lock outlives the renames of the file; ``flock`` also excludes threads of
    one process, which POSIX record locks would not), held from the read to
    the rename;
  * everyone else (an editor, ``echo >> .env``) is caught by a
    compare-before-rename: once the new text is in a temporary file, the file
    is read again, and if it changed since it was read the change is applied
    again to the new text, up to ``MAX_ATTEMPTS`` times; then ``FileBusyError``;
  * a write that lands in the old file after that last comparison (a process
    that opened it just before the rename) is seen afterwards, since the old
    file is still open: the change is applied once more to that text. Only a
    line written in the instant between that last look and the rename can
    still be lost.

- Writes are atomic: a temporary file in the same folder, created 0600 and
  named ``.env.hive-tmp.XXXXXXXX`` (so the ``.env.*`` rule of the shipped
  ``.gitignore``, and the usual ``.env*``, ignore it whatever the target's
  name), fsync, compare, ``os.replace``, fsync of the folder. Temporary files a
  crash left behind (ours, and the ``.<name>.XXXXXXXX.tmp`` ones of earlier
  versions) are removed by the next edit in that folder, under the lock.
- The result has mode 0600. As root, an existing file keeps its owner and
  group and a new file takes those of its folder. Any other user changes only
  files it owns (a rename would make another user's file its own): a file
  owned by someone else is refused, naming the owner, with nothing changed. A
  missing folder is created with mode 0700 (it will hold secrets).

Every refusal raises ``UnsafeFileError`` naming the file, never its content.
On a file system without ``flock`` (some network file systems) the edit goes
on without the lock, protected by the comparison alone.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pwd
import random
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700

#: Our temporary files: ``.env.hive-tmp.`` and mkstemp's random letters.
TEMP_PREFIX = ".env.hive-tmp."
#: How many times ``edit`` reads, changes and compares before it gives up.
MAX_ATTEMPTS = 10
#: Seconds ``edit`` waits for another writer of this program to finish.
LOCK_TIMEOUT = 60.0

_T = TypeVar("_T")

#: errnos of a file system that has no ``flock``.
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.EBADF}


class UnsafeFileError(Exception):
    """A file this module will not read or write; the message names the file."""


class FileBusyError(UnsafeFileError):
    """The file kept changing (or stayed locked) while it was being edited."""


def absolute(path: str) -> str:
    return os.path.abspath(path)


def _legacy_temp(name: str) -> re.Pattern[str]:
    """Temporary files of versions before ``TEMP_PREFIX``: ``.<name>.XXXXXXXX.tmp``."""
    return re.compile(re.escape(f".{name}.") + r"[a-z0-9_]{8}\.tmp")


def _fsync_dir(folder: str) -> None:
    """Make a rename or unlink in ``folder`` durable."""
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _decode(data: bytes | None, full: str, errors: str = "strict") -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UnsafeFileError(
            f"{full}, line {line}: the file is not UTF-8 text (this line holds a byte that is not UTF-8); save "
            "the file as UTF-8 (e.g. iconv -f latin1 -t utf-8) or remove that byte"
        ) from None


def _read_all(fd: int, full: str) -> bytes:
    chunks = []
    offset = 0
    try:
        while chunk := os.pread(fd, 1 << 16, offset):
            chunks.append(chunk)
            offset += len(chunk)
    except OSError as exc:
        raise UnsafeFileError(f"{full}: cannot read the file: {exc.strerror}") from None
    return b"".join(chunks)


def _open(full: str) -> tuple[int, os.stat_result] | None:
    """An open descriptor on the regular file ``full`` and its status, or None if it does not exist."""
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
    except FileNotFoundError:  # removed since the lstat
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFileError(f"{full} is a symbolic link, which is never followed") from None
        raise UnsafeFileError(f"{full}: cannot read the file: {exc.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeFileError(f"{full} is not a regular file")
    return fd, st


def read_bytes(path: str) -> bytes | None:
    """The file's bytes (no decoding), or None if it does not exist; refused as ``read_text`` refuses."""
    full = absolute(path)
    opened = _open(full)
    if opened is None:
        return None
    fd, _ = opened
    try:
        return _read_all(fd, full)
    finally:
        os.close(fd)


def read_text(path: str) -> str | None:
    """The file's text, or None if it (or its folder) does not exist."""
    full = absolute(path)
    return _decode(read_bytes(full), full)


def read_text_and_mode(path: str) -> tuple[str | None, int | None]:
    """The file's text and permission bits, or (None, None) if it does not exist. Never writes."""
    full = absolute(path)
    opened = _open(full)
    if opened is None:
        return None, None
    fd, st = opened
    try:
        return _decode(_read_all(fd, full), full), stat.S_IMODE(st.st_mode)
    finally:
        os.close(fd)


def _is_private(st: os.stat_result) -> bool:
    return stat.S_IMODE(st.st_mode) == PRIVATE_FILE_MODE


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _check_owner(full: str, st: os.stat_result | None) -> None:
    """Refuse to change another user's file unless root (see the module's docstring)."""
    me = os.geteuid()
    if st is None or me == 0 or st.st_uid == me:
        return
    owner = _user(st.st_uid)
    raise UnsafeFileError(
        f"{full} is owned by {owner}, not by {_user(me)} who runs this: rewriting it would make it "
        f"{_user(me)}'s; run as {owner} or as root. Nothing was changed"
    )


def _write_temp(full: str, folder: str, data: bytes, st: os.stat_result | None) -> str:
    """A durable temporary file in ``folder`` holding ``data``, mode 0600, owned as the target must be."""
    # mkstemp creates the file with O_EXCL and mode 0600: it is never readable by others.
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX)
    except OSError as exc:
        raise UnsafeFileError(f"cannot write in {folder} for {full}: {exc.strerror}") from None
    try:
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)
            if os.geteuid() == 0:
                owner = st or os.stat(folder)  # an existing file's owner, else the folder's
                os.fchown(fd, owner.st_uid, owner.st_gid)
            elif st is not None and os.fstat(fd).st_gid != st.st_gid:
                with contextlib.suppress(PermissionError):  # keep the group if we are in it
                    os.fchown(fd, -1, st.st_gid)
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def _remove_stale_temps(folder: str, name: str) -> None:
    """Remove temporary files a crash left in ``folder``: only call with the folder locked."""
    legacy = _legacy_temp(name)
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not (entry.name.startswith(TEMP_PREFIX) or legacy.fullmatch(entry.name)):
                continue
            if entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


@contextlib.contextmanager
def _folder_lock(folder: str, full: str) -> Iterator[bool]:
    """Hold ``flock`` on ``folder``; yields whether the file system gave the lock."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise UnsafeFileError(f"cannot open the folder {folder} of {full}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT
        locked = True
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise FileBusyError(
                        f"{full}: another run of this program kept its folder locked for {LOCK_TIMEOUT:.0f} s; "
                        f"nothing was changed"
                    ) from None
                time.sleep(random.uniform(0.001, 0.01))
            except OSError as exc:
                if exc.errno not in _NO_LOCKS:
                    raise UnsafeFileError(f"cannot lock the folder {folder} of {full}: {exc.strerror}") from None
                locked = False  # no flock here: the comparison before the rename still guards
                break
        yield locked
    finally:
        os.close(fd)  # releases the lock


class _Nothing:
    """Marks "no late write to build on" (None means a missing file)."""


_NOTHING = _Nothing()


def edit(
    path: str,
    change: Callable[[str | None], tuple[str | None, _T]],
    *,
    make_private: bool = True,
    keep_bytes: bool = False,
) -> _T:
    """Apply ``change`` to the file's text; see the module's docstring.

    ``change`` gets the text (None: no file) and returns the new text (None:
    remove the file) and a value that ``edit`` returns, from the call whose
    text was written. It may be called several times: it must depend on the
    text only. When it returns the text unchanged nothing is written (with
    ``make_private`` the file is still made mode 0600). ``keep_bytes``: bytes
    not UTF-8 reach ``change`` as lone surrogates and are written back as they were.
    The read, compare, rename and late-write check are one protocol, in this one loop.
    """
    full, errors = absolute(path), "surrogateescape" if keep_bytes else "strict"
    folder = os.path.dirname(full)
    if not os.path.isdir(folder):
        new_text, result = change(None)
        if new_text is None:
            return result  # nothing to do, and no folder to make
        _make_folder(folder, full)
    with _folder_lock(folder, full) as locked:
        if locked:  # no other writer of ours is between mkstemp and rename in this folder
            _remove_stale_temps(folder, os.path.basename(full))
        late: bytes | _Nothing | None = _NOTHING  # what a late writer left in the file we replaced
        ours: bytes | None = None  # and what we wrote over it
        wrote = False
        for attempt in range(MAX_ATTEMPTS):
            opened = _open(full)
            fd, st = opened if opened is not None else (None, None)
            try:
                data = None if fd is None else _read_all(fd, full)
                base = data
                if not isinstance(late, _Nothing) and data == ours:
                    base = late  # nobody touched our file since: build on the late write
                late = _NOTHING
                new_text, result = change(_decode(base, full, errors))
                new = None if new_text is None else new_text.encode("utf-8", errors)
                if new == data:
                    if make_private and fd is not None and st is not None:
                        _make_private(fd, st, full)
                    return result
                _check_owner(full, st)
                if _replace(full, folder, new, data, st):
                    wrote = True
                    after = None if fd is None else _read_all(fd, full)
                    if after == data:
                        return result
                    # Someone wrote to the file after the last comparison: apply the change to that.
                    late, ours = after, new
                    continue
            finally:
                if fd is not None:
                    os.close(fd)
            time.sleep(min(0.2, 0.002 * 2**attempt) * random.uniform(0.5, 1.5))
    raise _busy(full, wrote)


def _make_folder(folder: str, full: str) -> None:
    try:
        os.makedirs(folder, mode=PRIVATE_DIR_MODE, exist_ok=True)
    except OSError as exc:
        raise UnsafeFileError(f"cannot create the folder {folder} for {full}: {exc.strerror}") from None


def _make_private(fd: int, st: os.stat_result, full: str) -> None:
    """Mode 0600 for the open file ``fd`` (``st`` its stat), unless it is already private."""
    if not _is_private(st):
        _check_owner(full, st)
        os.fchmod(fd, PRIVATE_FILE_MODE)


def _busy(full: str, wrote: bool) -> FileBusyError:
    done = (
        "the stack's change was written, but lines another program wrote meanwhile may be missing"
        if wrote
        else "nothing was changed"
    )
    return FileBusyError(
        f"{full} kept changing while it was being updated ({MAX_ATTEMPTS} attempts): another program is "
        f"writing it; {done}. Run again once it is done"
    )


def _replace(full: str, folder: str, new: bytes | None, expected: bytes | None, st: os.stat_result | None) -> bool:
    """Put ``new`` (None: no file) in place if the file still holds ``expected``; False if it changed."""
    tmp = None if new is None else _write_temp(full, folder, new, st)
    try:
        if read_bytes(full) != expected:
            return False
        if tmp is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(full)
        else:
            os.replace(tmp, full)
            tmp = None
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    _fsync_dir(folder)
    return True
