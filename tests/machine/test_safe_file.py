"""The write protocol of safe_file: lock, compare-before-rename, temporary files, owner.

The slow trials (marked ``slow``) race real processes against the provider;
``pytest -m "not slow"`` skips them, a plain ``pytest`` runs them.
"""

from __future__ import annotations

import errno
import fcntl
import multiprocessing
import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest
from dotenv import dotenv_values

from hive_infra.machine import safe_file
from hive_infra.machine.safe_file import FileBusyError, UnsafeFileError
from hive_infra.providers.envfile import EnvFileError, EnvFileProvider
from tests.support.program import PROJECT_DIR

ROOT = PROJECT_DIR
SECRET = "s3cr3t-Pa55w0rd"
HEADER = "# Managed by Pulumi stack hive/dev: keys it owns are rewritten on `pulumi up`."


def props(path, owned, defaults=(), header=HEADER):
    return {
        "path": str(path),
        "owned": [list(p) for p in owned],
        "defaults": [list(p) for p in defaults],
        "header": header,
    }


def set_key(key: str, value: str):
    """A change for ``edit``: append or replace ``key`` (a simple stand-in for the merge)."""

    def change(text):
        lines = [line for line in (text or "").splitlines(keepends=True) if not line.startswith(f"{key}=")]
        return "".join(lines) + f"{key}={value}\n", None

    return change


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(safe_file.TEMP_PREFIX))


def snapshot(path: Path):
    st_ = path.stat()
    return path.read_bytes(), st_.st_ino, st_.st_mtime_ns, stat.S_IMODE(st_.st_mode), st_.st_uid, st_.st_gid


# --------------------------------------------------------------------------
# compare-before-rename


def _append(target: Path, line: str) -> None:
    with open(target, "a") as fh:  # `echo line >> .env`
        fh.write(line)


def _save_by_rename(target: Path, line: str) -> None:
    text = target.read_text()  # an editor that saves a new file over the old one
    (target.parent / "editor.swp").write_text(text + line)
    os.replace(target.parent / "editor.swp", target)


@pytest.mark.parametrize("write", [_append, _save_by_rename])
def test_a_write_between_read_and_compare_is_merged_again(tmp_path, write):
    target = tmp_path / ".env"
    target.write_text("USER=1\n")
    calls = []

    def change(text):
        calls.append(text)
        if len(calls) == 1:  # another program writes while we merge
            write(target, "EDITOR=2\n")
        return text + "OURS=3\n", len(calls)

    assert safe_file.edit(str(target), change) == 2, "the change is applied again to the text that changed"
    assert calls[1] == "USER=1\nEDITOR=2\n", "the second attempt starts from the other writer's text"
    assert target.read_text() == "USER=1\nEDITOR=2\nOURS=3\n", "neither the other writer's line nor ours is lost"
    assert temps(tmp_path) == [], "the discarded attempt's temporary file is removed"


def test_a_write_between_the_last_compare_and_the_rename_is_recovered(tmp_path, monkeypatch):
    target = tmp_path / ".env"
    target.write_text("USER=1\n")
    real_replace = os.replace
    late = []

    def replace(src, dst):
        if not late:  # a process that opened the file before the rename writes just before it
            late.append(1)
            with open(target, "a") as fh:
                fh.write("LATE=2\n")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    safe_file.edit(str(target), set_key("OURS", "3"))
    assert target.read_text() == "USER=1\nLATE=2\nOURS=3\n", (
        "a line written to the old file after the last comparison is seen there and merged again"
    )


def test_a_file_that_keeps_changing_is_a_clear_error(tmp_path, monkeypatch):
    target = tmp_path / ".env"
    target.write_text("USER=1\n")
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    count = [0]

    def change(text):
        count[0] += 1
        with open(target, "a") as fh:
            fh.write(f"EDIT_{count[0]}=x\n")
        return text + f"OURS={SECRET}\n", None

    with pytest.raises(FileBusyError) as info:
        safe_file.edit(str(target), change)
    message = str(info.value)
    assert str(target) in message and "kept changing" in message, f"the error names the file: {message}"
    assert "nothing was changed" in message, "and says what happened to it"
    assert SECRET not in message, "the error holds no value"
    assert count[0] == safe_file.MAX_ATTEMPTS, "the attempts are bounded"
    assert SECRET not in target.read_text(), "nothing of ours was written"
    assert temps(tmp_path) == [], "no temporary file is left behind"


def test_remove_compares_too(tmp_path):
    target = tmp_path / ".env"
    target.write_text("OURS=1\n")
    calls = []

    def change(text):
        calls.append(text)
        if len(calls) == 1:
            with open(target, "a") as fh:
                fh.write("USER=2\n")
        kept = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("OURS="))
        return (kept or None), None

    safe_file.edit(str(target), change)
    assert target.read_text() == "USER=2\n", "a file is not removed while another writer just wrote to it"


# --------------------------------------------------------------------------
# the lock


def test_the_folder_lock_makes_a_writer_wait(tmp_path):
    target = tmp_path / ".env"
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    released = []

    def release():
        time.sleep(0.3)
        released.append(time.monotonic())
        os.close(fd)

    thread = threading.Thread(target=release)
    thread.start()
    safe_file.edit(str(target), set_key("A", "1"))
    done = time.monotonic()
    thread.join()
    assert released and done >= released[0], "the edit waits until the other writer of ours lets go"
    assert target.read_text() == "A=1\n", "then it writes"


def test_a_lock_held_too_long_is_a_clear_error(tmp_path, monkeypatch):
    target = tmp_path / ".env"
    monkeypatch.setattr(safe_file, "LOCK_TIMEOUT", 0.2)
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(FileBusyError, match="locked") as info:
            safe_file.edit(str(target), set_key("A", "1"))
    finally:
        os.close(fd)
    assert str(target) in str(info.value), "the error names the file"
    assert not target.exists(), "nothing was written"


def test_without_flock_the_edit_still_compares_and_keeps_stale_temps(tmp_path, monkeypatch):
    target = tmp_path / ".env"
    stale = tmp_path / (safe_file.TEMP_PREFIX + "abcd1234")
    stale.write_text("old\n")

    def no_locks(_fd, _op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    safe_file.edit(str(target), set_key("A", "1"))
    assert target.read_text() == "A=1\n", "a file system without flock still gets the write"
    assert stale.exists(), "without the lock another writer may own that temporary file: it is left"


# --------------------------------------------------------------------------
# temporary files


def _git_repo(folder: Path) -> None:
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    shutil.copy(ROOT / ".gitignore", folder / ".gitignore")


def git_ignores(repo: Path, name: str) -> bool:
    done = subprocess.run(["git", "-C", str(repo), "check-ignore", "-q", "--", name], check=False)
    assert done.returncode in (0, 1), f"git check-ignore failed on {name}"
    return done.returncode == 0


@pytest.mark.parametrize("name", [".env", ".env.agent", ".env.genie", "custom.env"])
def test_temporary_files_are_ignored_by_the_shipped_gitignore_and_private(tmp_path, monkeypatch, name):
    _git_repo(tmp_path)
    target = tmp_path / name
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append((os.path.basename(src), stat.S_IMODE(os.stat(src).st_mode)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    old_umask = os.umask(0)  # the most open umask: the mode must not depend on it
    try:
        safe_file.edit(str(target), set_key("A", SECRET))
    finally:
        os.umask(old_umask)
    [(temp, mode)] = seen
    assert temp.startswith(safe_file.TEMP_PREFIX), f"the temporary file {temp} carries our prefix"
    assert git_ignores(tmp_path, temp), f"git must ignore the temporary file {temp} for {name}"
    assert mode == 0o600, f"the temporary file is 0600 before it holds anything, got {oct(mode)}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600, "and so is the file"


def test_stale_temporary_files_are_removed_by_the_next_write_and_nothing_else(tmp_path):
    ours = tmp_path / (safe_file.TEMP_PREFIX + "k2j3h4l5")
    legacy = tmp_path / "..env.abcd_123.tmp"  # the name earlier versions gave .env's temporary file
    legacy_other = tmp_path / "..env.agent.zz99yy88.tmp"  # another file's: removed when that file is written
    keep = {
        ".env.local": "USER=1\n",
        "..env.tmp": "not a temporary file of ours\n",
        ".env.hive-tmp": "no random part: not ours\n",
    }
    for path in (ours, legacy, legacy_other):
        path.write_text(f"POSTGRES_PASSWORD={SECRET}\n")
    for name, text in keep.items():
        (tmp_path / name).write_text(text)
    link = tmp_path / (safe_file.TEMP_PREFIX + "symlink1")
    link.symlink_to(tmp_path / ".env.local")
    safe_file.edit(str(tmp_path / ".env"), set_key("A", "1"))
    assert not ours.exists(), "a temporary file of ours left by a crash is removed under the lock"
    assert not legacy.exists(), "so is one an earlier version left for this file"
    assert legacy_other.exists(), "an earlier version's temporary file of another target waits for that target"
    for name, text in keep.items():
        assert (tmp_path / name).read_text() == text, f"{name} is not ours: it is kept"
    assert link.is_symlink(), "a symbolic link is never a temporary file of ours"
    safe_file.edit(str(tmp_path / ".env.agent"), set_key("A", "1"))
    assert not legacy_other.exists(), "writing that target removes it"


def test_the_shipped_gitignore_ignores_temporary_files_of_earlier_versions(tmp_path):
    _git_repo(tmp_path)
    for name in ("..env.abcd_123.tmp", "..env.agent.zz99yy88.tmp", "..env.genie.k2j3h4l5.tmp"):
        assert git_ignores(tmp_path, name), f"{name} may hold a secret left by a crash before the fix: ignored"
    assert not git_ignores(tmp_path, ".env.example"), "the example stays committable"


_CRASH = textwrap.dedent(
    """
    import os, sys
    from hive_infra.machine import safe_file
    from hive_infra.providers.envfile import EnvFileProvider

    step, path, secret = sys.argv[1:4]

    def crash(*args, **kwargs):
        os._exit(7)

    if step == "before-write":
        os.write = crash
    elif step == "before-rename":
        os.replace = crash
    elif step == "before-folder-fsync":
        safe_file._fsync_dir = crash
    EnvFileProvider().create({
        "path": path, "owned": [["POSTGRES_PASSWORD", secret]], "defaults": [], "header": "# stack",
    })
    sys.exit("the crash did not happen")
    """
)


@pytest.mark.parametrize("name", [".env", ".env.agent", ".env.genie"])
@pytest.mark.parametrize("step", ["before-write", "before-rename", "before-folder-fsync"])
def test_a_crash_at_each_step_leaves_no_secret_in_a_file_git_would_commit(tmp_path, step, name):
    _git_repo(tmp_path)
    target = tmp_path / name
    target.write_text("USER=1\n")
    done = subprocess.run(
        [sys.executable, "-c", _CRASH, step, str(target), SECRET],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 7, f"the writer must crash at {step}: {done.stderr}"
    holding = [p for p in tmp_path.iterdir() if p.is_file() and SECRET.encode() in p.read_bytes()]
    if step != "before-write":
        assert holding, f"the secret was written somewhere by {step} (else this test proves nothing)"
    for path in holding:
        assert git_ignores(tmp_path, path.name), (
            f"{path.name} holds the secret after a crash {step}: git must ignore it"
        )
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path.name} holds the secret: 0600"
    left = temps(tmp_path)
    assert len(left) == (0 if step == "before-folder-fsync" else 1), f"the crash {step} left {left}"
    EnvFileProvider().create(props(target, [["POSTGRES_PASSWORD", SECRET]]))
    assert temps(tmp_path) == [], "the next write removes the temporary file the crash left"
    assert dotenv_values(target) == {"USER": "1", "POSTGRES_PASSWORD": SECRET}, "and writes the file as wanted"


# --------------------------------------------------------------------------
# owner


def _other_user() -> pwd.struct_passwd | None:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


def _python_for(user: pwd.struct_passwd) -> tuple[str, dict[str, str]] | None:
    """An interpreter ``user`` can run that imports the provider, and its environment.

    The venv's python may link into a folder closed to other users (a pyenv
    under /root): then a system python of the same version, given the venv's
    packages on PYTHONPATH, will do.
    """
    paths = [str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": os.pathsep.join(paths)}
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, shutil.which(version), f"/usr/bin/{version}", f"/usr/local/bin/{version}"]
    for exe in dict.fromkeys(c for c in candidates if c):
        try:
            done = subprocess.run(
                [exe, "-c", "import hive_infra.providers.envfile"],
                cwd="/",
                user=user.pw_uid,
                group=user.pw_gid,
                extra_groups=[],
                env=env,
                capture_output=True,
                timeout=60,
            )
        except OSError:
            continue
        if done.returncode == 0:
            return exe, env
    return None


_AS_USER = textwrap.dedent(
    """
    import sys
    from hive_infra.providers.envfile import EnvFileError, EnvFileProvider

    try:
        EnvFileProvider().create({
            "path": sys.argv[1], "owned": [["POSTGRES_PASSWORD", sys.argv[2]]], "defaults": [], "header": "",
        })
    except EnvFileError as exc:
        print(exc)
        sys.exit(3)
    """
)


@pytest.mark.skipif(os.geteuid() != 0 or _other_user() is None, reason="needs root to run as another user")
def test_a_non_root_writer_refuses_another_users_file(tmp_path):
    user = _other_user()
    assert user is not None
    folder = Path(tempfile.mkdtemp(prefix="envfile-owner-"))  # tmp_path's parents are closed to other users
    try:
        os.chown(folder, user.pw_uid, user.pw_gid)
        target = folder / ".env"
        target.write_text("USER=1\n")
        os.chmod(target, 0o644)  # root's file, readable by the writer; the folder is the writer's
        before = snapshot(target)

        found = _python_for(user)
        assert found is not None, f"no python that {user.pw_name} can run imports the provider"
        python, env = found

        def run_as_user(path: Path):
            return subprocess.run(
                [python, "-c", _AS_USER, str(path), SECRET],
                cwd=folder,
                user=user.pw_uid,
                group=user.pw_gid,
                extra_groups=[],
                env={**env, "HOME": str(folder)},
                capture_output=True,
                text=True,
                timeout=60,
            )

        done = run_as_user(target)
        assert done.returncode == 3, f"the provider must refuse with an EnvFileError: {done.stdout}{done.stderr}"
        message = done.stdout
        assert str(target) in message, f"the error names the file: {message}"
        assert "owned by root" in message, f"the error names the owner: {message}"
        assert SECRET not in message, "the error holds no value"
        assert snapshot(target) == before, "the file is unchanged: content, inode, mtime, mode, owner"
        assert temps(folder) == [], "no temporary file is left"
        mine = folder / ".env.agent"
        mine.write_text("USER=1\n")
        os.chown(mine, user.pw_uid, user.pw_gid)
        done = run_as_user(mine)
        assert done.returncode == 0, f"the same user writes a file it owns: {done.stdout}{done.stderr}"
        assert dotenv_values(mine) == {"USER": "1", "POSTGRES_PASSWORD": SECRET}, "and merges into it"
        assert mine.stat().st_uid == user.pw_uid, "which stays the user's"
    finally:
        shutil.rmtree(folder)


def test_owner_refusal_names_the_owner(tmp_path, monkeypatch):
    target = tmp_path / ".env"
    target.write_text("USER=1\n")
    os.chmod(target, 0o644)
    before = snapshot(target)
    monkeypatch.setattr(os, "geteuid", lambda: before[4] + 4242)  # someone else, not root
    with pytest.raises(UnsafeFileError) as info:
        safe_file.edit(str(target), set_key("A", "1"))
    message = str(info.value)
    assert str(target) in message and f"owned by {pwd.getpwuid(before[4]).pw_name}" in message, message
    assert snapshot(target) == before, "nothing changed, not even the mode"
    with pytest.raises(UnsafeFileError, match="owned by"):
        safe_file.edit(str(target), lambda text: (text, None))  # only the mode would change: still refused
    assert snapshot(target) == before, "the mode of another user's file is not changed either"


# --------------------------------------------------------------------------
# slow trials: real processes racing


def _racer(folder: str, key: str, barrier, trials: int, failures) -> None:
    """One writer of ours: creates ``key`` in each trial's file at the same time as the other one."""
    import random

    real_replace = os.replace

    def delayed_replace(src, dst):
        # a scheduling delay between the last comparison and the rename: only the lock covers it
        time.sleep(random.uniform(0, 0.002))
        real_replace(src, dst)

    os.replace = delayed_replace
    provider = EnvFileProvider()
    for trial in range(trials):
        barrier.wait()
        try:
            provider.create(props(os.path.join(folder, f".env.{trial}"), [(key, f"{key.lower()}-{trial}")]))
        except Exception as exc:  # noqa: BLE001 - reported to the test
            failures.put(f"{key} trial {trial}: {exc!r}")


@pytest.mark.slow
def test_two_writers_of_ours_at_once_keep_both_keys(tmp_path):
    trials = 200
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    failures = ctx.Queue()
    workers = [ctx.Process(target=_racer, args=(str(tmp_path), key, barrier, trials, failures)) for key in ("A", "B")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0, "each writer runs every trial to the end"
    errors = []
    while not failures.empty():
        errors.append(failures.get())
    assert errors == [], f"no write may fail: {errors[:3]}"
    lost = []
    for trial in range(trials):
        got = dotenv_values(tmp_path / f".env.{trial}")
        lost += [key for key in ("A", "B") if got.get(key) != f"{key.lower()}-{trial}"]
    print(f"\ntwo writers of ours, {trials} trials: {len(lost)} keys lost")
    assert lost == [], f"both writers' keys survive every trial; lost {len(lost)} of {2 * trials}"
    assert temps(tmp_path) == [], "no temporary file is left"


@pytest.mark.slow
def test_a_shell_appender_during_hundreds_of_updates_loses_at_most_a_handful(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    target = folder / ".env"
    provider = EnvFileProvider()
    olds = provider.create(props(target, [("HIVE_API_KEY", "k0")])).outs
    lines = 300
    # A user's `echo >> .env` in a loop, about 80 lines a second.
    appender = subprocess.Popen(
        [
            "bash",
            "-c",
            f'for i in $(seq 1 {lines}); do echo "APPENDED_$i=$i" >> "$1"; sleep 0.01; done',
            "appender",
            str(target),
        ]
    )
    # Updates run from before the first line to after the last, and at least 300 of them
    # whatever the speed of the machine; each sets a new value, so each one writes.
    updates, gave_up = 0, []
    try:
        while appender.poll() is None or updates < 300:
            news = props(target, [("HIVE_API_KEY", f"k{updates + 1}")])
            try:
                olds = provider.update(str(target), olds, news).outs
                updates += 1
            except EnvFileError as exc:
                # The bounded retries ran out: a clear error and nothing lost, which the count below checks.
                assert "kept changing" in str(exc), f"only the bounded retries may fail an update: {exc}"
                gave_up.append(str(exc))
    finally:
        assert appender.wait(timeout=120) == 0, "the appender ran to the end"
    got = dotenv_values(target)
    lost = [i for i in range(1, lines + 1) if got.get(f"APPENDED_{i}") != str(i)]
    print(f"\n`>>` appender: {len(lost)} of {lines} lines lost during {updates} updates ({len(gave_up)} gave up)")
    assert got["HIVE_API_KEY"] == f"k{updates}", "the last update's value is in the file"
    assert len(lost) <= 5, f"only a line written between the last look and the rename may be lost: lost {lost}"
