"""The EnvFile dynamic resource: a set of keys the stack owns in a .env file.

Floor 1 of the package. Every stack's state stores this module's path (the
dynamic provider is pickled by reference), so it stays importable under this
name, small, and free of imports from the rest of ``hive_infra``. The names
``hive_infra.envfile.EnvFileProvider`` and the resource type
``pulumi-python:dynamic/hive:EnvFile`` are part of existing stacks' state:
treat them as public and keep a shim if they ever move.

Inputs, as they travel through Pulumi (and are stored in state):

``path``
    The file, as given: relative to the project directory (the process cwd,
    where the dynamic provider host runs) or absolute. Also the resource id.
``owned``
    A list of ``[key, value]`` lists, in order: keys the stack sets.
``defaults``
    A list of ``[key, value]`` lists, in order: keys the stack only seeds.
``header``
    ``""`` or one comment line (starting with ``#``), written at the top of a
    file the stack creates.

Outputs: the four inputs (after ``pulumi refresh``, ``owned`` holds the values
the file has now, ``None`` for a missing key, and ``defaults`` holds ``None``
for a seeded key the file no longer has, so hand edits show up as drift),
``written`` (a ``{key: value}`` map of what the stack last wrote, the only keys
it may remove later) and ``left_keys`` (names of keys the stack stopped
managing but left in the file because their value was changed by hand).
``owned``, ``defaults`` and ``written`` are secret.

Rules on the file (see ``merge``): owned keys are set in place (the last
binding of a duplicated key, the one python-dotenv's values use; earlier
duplicates are left alone) keeping an ``export`` prefix and an inline
comment, or appended in order; defaults are appended only where the file has
no binding for the key at all (a bare ``KEY`` line counts as the user's own),
and a default the stack itself wrote and nobody changed follows a new default
value; a key the stack stopped managing is removed only while the file still
holds exactly the value the stack wrote. Every other line is kept byte for
byte. Writes are atomic (temporary file in the same folder, fsync,
``os.replace``, fsync of the folder), mode 0600; an existing file keeps its
owner and group, and a file created as root takes the owner and group of its
folder. A missing folder is created with mode 0700 (it holds secrets).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic
from dotenv.parser import Binding, parse_stream

_BARE = re.compile(r"[A-Za-z0-9_@%+=:,./-]*")
_DOUBLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_value(value: str) -> str:
    """Quote ``value`` so that python-dotenv reads exactly ``value`` back.

    Plain tokens stay bare; anything else is single-quoted (no escapes are
    needed there) unless it holds a quote, a backslash or a control character,
    in which case it is double-quoted with python-dotenv's escapes.
    """
    if _BARE.fullmatch(value):
        return value
    if not any(ch in value for ch in "'\\\n\r\t"):
        return f"'{value}'"
    return '"' + "".join(_DOUBLE_ESCAPES.get(ch, ch) for ch in value) + '"'


def format_line(key: str, value: str) -> str:
    """One ``KEY=value`` line (without the newline)."""
    return f"{key}={quote_value(value)}"


# --------------------------------------------------------------------------
# Validation

KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Pulumi's marker for a value not known yet (preview); see pulumi.runtime.rpc.
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_OUTPUT_NAMES = ("written", "left_keys")


class EnvFileError(Exception):
    """A file the provider refuses to touch. The message names the file, never a value."""


def _plain(value: Any) -> Any:
    """``value`` with Pulumi's secret wrappers removed, at any depth."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return _plain(value.get("value"))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _has_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_unknown(v) for v in value)
    return bool(value == _UNKNOWN)


def _check_pairs(name: str, pairs: Any, failures: list[str]) -> list[str]:
    """Validate a list of [key, value] pairs; returns the keys seen."""
    keys: list[str] = []
    if _has_unknown(pairs):
        return keys
    if pairs is None:
        return keys
    if not isinstance(pairs, (list, tuple)):
        failures.append(f"{name} must be a list of [key, value] pairs")
        return keys
    for index, pair in enumerate(pairs):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            failures.append(f"{name}[{index}] must be a [key, value] pair")
            continue
        key, value = pair
        if not (isinstance(key, str) and KEY_RE.fullmatch(key)):
            failures.append(f"{name}[{index}]: key {key!r} is not a valid environment name")
            continue
        keys.append(key)
        # Messages about values name the key only: values may be secrets.
        if not isinstance(value, str):
            failures.append(f"{name}: the value of {key} must be a string")
        elif "\0" in value:
            failures.append(f"{name}: the value of {key} holds a NUL character")
        elif "${" in value:
            failures.append(f"{name}: the value of {key} holds '${{', which python-dotenv would interpolate")
    return keys


def validate(props: Mapping[str, Any]) -> list[pulumi.dynamic.CheckFailure]:
    """Every problem with an EnvFile's inputs (unknown values pass)."""
    out: list[pulumi.dynamic.CheckFailure] = []
    path = props.get("path")
    if path != _UNKNOWN:
        if not isinstance(path, str) or not path or "\0" in path:
            out.append(pulumi.dynamic.CheckFailure("path", "path must be a non-empty string"))
        elif os.path.basename(path) in ("", ".", ".."):
            out.append(pulumi.dynamic.CheckFailure("path", f"path {path!r} does not name a file"))
    seen: dict[str, str] = {}
    for name in ("owned", "defaults"):
        failures: list[str] = []
        for key in _check_pairs(name, props.get(name), failures):
            if key in seen:
                failures.append(f"key {key} appears more than once (in {seen[key]} and {name})")
            seen[key] = name
        out.extend(pulumi.dynamic.CheckFailure(name, reason) for reason in failures)
    header = props.get("header", "")
    if header != _UNKNOWN and header is not None:
        if not isinstance(header, str) or "\n" in header or "\r" in header:
            out.append(pulumi.dynamic.CheckFailure("header", "header must be one line"))
        elif header and not header.startswith("#"):
            out.append(pulumi.dynamic.CheckFailure("header", "header must be a comment (start with #)"))
    return out


# --------------------------------------------------------------------------
# The merge: pure text in, text out.

_LEAD = re.compile(r"\s*")
_EXPORT = re.compile(r"export[^\S\r\n]+")
_EOL = re.compile(r"[^\S\r\n]*(?:\r\n|\n|\r)?\Z")
_COMMENT = re.compile(r"[^\S\r\n]*#[^\r\n]*\Z")


@dataclass(frozen=True)
class MergeResult:
    text: str
    #: key -> value the stack wrote or still owns (the new ``written``).
    written: dict[str, str]
    #: keys the stack stopped managing but left (changed by hand).
    left_keys: list[str]


def parse(text: str, where: str) -> list[Binding]:
    """python-dotenv's bindings of ``text``; an unparseable line is an error."""
    bindings = list(parse_stream(io.StringIO(text)))
    for binding in bindings:
        if binding.error:
            raise EnvFileError(
                f"{where}: python-dotenv cannot parse the statement at line "
                f"{binding.original.line}; fix the file and run again"
            )
    if "".join(b.original.string for b in bindings) != text.removeprefix("\ufeff"):
        raise EnvFileError(f"{where}: python-dotenv's parse does not cover the file")
    return bindings


def _split(binding: Binding) -> tuple[str, str, str, str]:
    """(lead, export prefix, inline comment, end of line) of a key binding."""
    original = binding.original.string
    lead = _LEAD.match(original).group()  # type: ignore[union-attr]  # \s* always matches
    rest = original[len(lead) :]
    export = _EXPORT.match(rest)
    prefix = export.group() if export else ""
    eol_match = _EOL.search(rest, len(prefix))
    assert eol_match is not None  # it can match the empty string at the end
    eol = eol_match.group()
    body = rest[len(prefix) : eol_match.start()]
    comment = ""
    for i in range(1, len(body)):
        if _COMMENT.match(body, i) is None:
            continue
        head = list(parse_stream(io.StringIO(body[:i])))
        if len(head) == 1 and not head[0].error and head[0][:2] == binding[:2]:
            comment = body[i:]
            break
    return lead, prefix, comment, eol


def newline_of(bindings: Sequence[Binding]) -> str:
    """The file's newline style: CRLF if any line ends with it, else LF.

    Only line ends count: a quoted value (or key) may hold a raw CR LF that
    says nothing about the file's style, so a binding's key and value are
    skipped and only its leading blank lines and its end of line are looked at.
    """
    for binding in bindings:
        original = binding.original.string
        if binding.key is None:  # a comment or blank lines: no value to skip
            outside = original
        else:
            lead = _LEAD.match(original).group()  # type: ignore[union-attr]  # \s* always matches
            outside = lead + original[len(original.rstrip("\r\n")) :]
        if "\r\n" in outside:
            return "\r\n"
    return "\n"


def effective(bindings: Sequence[Binding]) -> dict[str, int]:
    """key -> index of its last binding (the one python-dotenv's values use)."""
    return {b.key: i for i, b in enumerate(bindings) if b.key is not None}


def merge(
    text: str | None,
    owned: Sequence[Sequence[str]],
    defaults: Sequence[Sequence[str]],
    old_written: Mapping[str, str],
    header: str = "",
    where: str = "<env file>",
) -> MergeResult:
    """The file's new text. ``text`` None means the file does not exist."""
    bom = ""
    if text is None:
        bindings: list[Binding] = []
    else:
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        bindings = parse(text, where)
    last = effective(bindings)
    newline = newline_of(bindings)

    replace: dict[int, str | None] = {}  # index -> new line (None: remove)
    appended: list[str] = []
    written: dict[str, str] = {}
    left: list[str] = []

    def set_key(key: str, value: str) -> None:
        written[key] = value
        index = last.get(key)
        if index is None:
            appended.append(format_line(key, value))
        elif bindings[index].value != value:
            replace[index] = value

    for key, value in owned:
        set_key(key, value)
    for key, value in defaults:
        index = last.get(key)
        if index is None:
            set_key(key, value)
        elif key in old_written and bindings[index].value == old_written[key]:
            set_key(key, value)  # ours and untouched: follows the new default
    managed = set(written) | {key for key, _ in defaults}
    for key, value in old_written.items():
        if key in managed or key not in last:
            continue
        if bindings[last[key]].value == value:
            replace[last[key]] = None
        else:
            left.append(key)

    pieces: list[str] = [bom]
    for index, binding in enumerate(bindings):
        if index not in replace:
            pieces.append(binding.original.string)
            continue
        lead, prefix, comment, eol = _split(binding)
        new_value = replace[index]
        if new_value is None:
            # keep the blank lines before a removed line, not its indentation
            pieces.append(lead[: max(lead.rfind("\n"), lead.rfind("\r")) + 1])
        else:
            key = str(binding.key)
            if comment and not comment[0].isspace():
                # `KEY#c` or `KEY='v'#c`: after an unquoted value only " #" starts a
                # comment, so `KEY=v#c` would read back as the value "v#c".
                comment = " " + comment
            pieces.append(lead + prefix + format_line(key, new_value) + comment + eol)
    body = "".join(pieces)
    if text is None and header:
        body = header + newline
    if appended:
        # Only the one leading BOM is not content: a further U+FEFF is a user's
        # (odd) bare key, and appending right after it would glue the two keys.
        if body != bom and not body.endswith(("\n", "\r")):
            body += newline
        body += "".join(line + newline for line in appended)
    return MergeResult(text=body, written=written, left_keys=left)


def only_header_left(text: str, header: str) -> bool:
    """True when ``text`` holds nothing but blank lines and the stack's header."""
    for line in text.removeprefix("\ufeff").splitlines():
        if line.strip() and line.strip() != header.strip():
            return False
    return True


# --------------------------------------------------------------------------
# The file system


def _abs(path: str) -> str:
    return os.path.abspath(path)  # resolved at call time: never stored


def read_file(path: str) -> str | None:
    """The file's text, or None if it (or its folder) does not exist.

    Refuses a symlink (never followed), a directory or any other non-regular
    file, an unreadable file and non-UTF-8 content, naming the file.
    """
    full = _abs(path)
    try:
        st = os.lstat(full)
    except (FileNotFoundError, NotADirectoryError):  # no such file can exist
        return None
    except OSError as exc:
        raise EnvFileError(f"{full}: cannot inspect the file: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise EnvFileError(f"{full} is a symbolic link; EnvFile does not follow links")
    if stat.S_ISDIR(st.st_mode):
        raise EnvFileError(f"{full} is a directory, not a .env file")
    if not stat.S_ISREG(st.st_mode):
        raise EnvFileError(f"{full} is not a regular file")
    try:
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise EnvFileError(f"{full} is a symbolic link; EnvFile does not follow links") from None
        raise EnvFileError(f"{full}: cannot read the file: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise EnvFileError(f"{full} is not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError as exc:
        raise EnvFileError(f"{full}: cannot read the file: {exc.strerror}") from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise EnvFileError(f"{full} is not UTF-8 text") from None


def write_file(path: str, text: str) -> None:
    """Replace the file atomically with ``text`` (mode 0600)."""
    full = _abs(path)
    folder = os.path.dirname(full)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise EnvFileError(f"cannot create the folder {folder} for {full}: {exc.strerror}") from None
    owner: tuple[int, int] | None = None
    try:
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
            raise EnvFileError(f"{full} is not a regular file; EnvFile leaves it alone")
        owner = (st.st_uid, st.st_gid)
    except FileNotFoundError:
        if os.geteuid() == 0:
            dst = os.stat(folder)
            owner = (dst.st_uid, dst.st_gid)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(full)}.", suffix=".tmp")
    except OSError as exc:
        raise EnvFileError(f"cannot write in {folder} for {full}: {exc.strerror}") from None
    try:
        try:
            os.fchmod(fd, 0o600)
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
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def ensure_private(path: str) -> None:
    """Make an existing file the stack left unchanged mode 0600 (it holds secrets)."""
    full = _abs(path)
    fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def remove_file(path: str) -> None:
    full = _abs(path)
    try:
        os.unlink(full)
    except FileNotFoundError:
        return
    dir_fd = os.open(os.path.dirname(full), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _warn_left(path: str, keys: Sequence[str]) -> None:
    for key in keys:  # the key's name only: its value may be a secret
        pulumi.log.warn(
            f"EnvFile {path}: {key} is no longer managed by the stack but was changed "
            f"by hand, so it was left in the file"
        )


# --------------------------------------------------------------------------
# The provider


def _pairs(value: Any) -> list[list[Any]]:
    return [list(pair) for pair in (_plain(value) or [])]


def _inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "path": _plain(props.get("path")),
        "owned": _pairs(props.get("owned")),
        "defaults": _pairs(props.get("defaults")),
        "header": _plain(props.get("header")) or "",
    }


def _same_path(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and os.path.normpath(a) == os.path.normpath(b)


class EnvFileProvider(pulumi.dynamic.ResourceProvider):
    """CRUD of an EnvFile. Holds no state: everything is made inside the methods."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        inputs = {k: v for k, v in news.items() if k not in _OUTPUT_NAMES}
        plain = {k: _plain(v) for k, v in inputs.items()}
        return pulumi.dynamic.CheckResult(inputs, validate(plain))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        old = _inputs(olds)
        new = {k: _plain(news.get(k)) for k in ("path", "owned", "defaults", "header")}
        if new["path"] == _UNKNOWN or not _same_path(old["path"], new["path"]):
            return pulumi.dynamic.DiffResult(changes=True, replaces=["path"], delete_before_replace=True)
        if any(_has_unknown(new[k]) for k in ("owned", "defaults", "header")):
            return pulumi.dynamic.DiffResult(changes=True)
        changed = (
            old["path"] != new["path"]
            or dict(map(tuple, old["owned"])) != dict(map(tuple, _pairs(new["owned"])))
            or dict(map(tuple, old["defaults"])) != dict(map(tuple, _pairs(new["defaults"])))
            or old["header"] != (new["header"] or "")
        )
        return pulumi.dynamic.DiffResult(changes=changed, replaces=[], delete_before_replace=True)

    def _apply(self, props: Mapping[str, Any], old_written: Mapping[str, str]) -> dict[str, Any]:
        inputs = _inputs(props)
        problems = validate(inputs)
        if problems:
            raise EnvFileError("; ".join(f"{p.property}: {p.reason}" for p in problems))
        path = inputs["path"]
        text = read_file(path)
        result = merge(text, inputs["owned"], inputs["defaults"], old_written, inputs["header"], _abs(path))
        if result.text != text:
            write_file(path, result.text)
        else:
            ensure_private(path)
        _warn_left(path, result.left_keys)
        return {**inputs, "written": result.written, "left_keys": result.left_keys}

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        outs = self._apply(props, {})
        return pulumi.dynamic.CreateResult(outs["path"], outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        old_written = _plain(olds.get("written")) or {}
        if not _same_path(_plain(olds.get("path")), _plain(news.get("path"))):
            old_written = {}  # another file: nothing of ours is in it
        return pulumi.dynamic.UpdateResult(self._apply(news, old_written))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        state = _inputs(props)
        path = state["path"] or id_
        text = read_file(path)
        if text is None:
            return pulumi.dynamic.ReadResult("", {})  # the file is gone: so is the resource
        bindings = parse(text, _abs(path))
        values = {b.key: b.value for b in bindings if b.key is not None}
        outs = {
            **state,
            "path": path,
            "owned": [[key, values.get(key)] for key, _ in state["owned"]],
            "defaults": [[key, value if key in values else None] for key, value in state["defaults"]],
            "written": _plain(props.get("written")) or {},
            "left_keys": _plain(props.get("left_keys")) or [],
        }
        return pulumi.dynamic.ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        state = _inputs(props)
        path = state["path"] or id_
        text = read_file(path)
        if text is None:
            return
        result = merge(text, [], [], _plain(props.get("written")) or {}, "", _abs(path))
        _warn_left(path, result.left_keys)
        if only_header_left(result.text, state["header"]):
            remove_file(path)
        elif result.text != text:
            write_file(path, result.text)


# --------------------------------------------------------------------------
# The resource


@dataclass(frozen=True)
class EnvFileArgs:
    """What an EnvFile manages.

    ``owned`` and ``defaults`` are ordered ``(key, value)`` pairs (tuples or
    lists, plain or Outputs); they travel as lists of ``[key, value]`` lists.
    """

    path: pulumi.Input[str]
    owned: pulumi.Input[Sequence[tuple[str, str]]]
    defaults: pulumi.Input[Sequence[tuple[str, str]]] = ()
    header: pulumi.Input[str] = ""


def _secret_pairs(value: pulumi.Input[Sequence[tuple[str, str]]]) -> pulumi.Output[list[list[str]]]:
    """The pairs as a secret list of [key, value] lists."""
    return pulumi.Output.secret(value).apply(lambda pairs: [[k, v] for k, v in pairs])


#: Outputs that carry (or are derived from) secret values.
SECRET_OUTPUTS = ["owned", "defaults", "written"]


class EnvFile(pulumi.dynamic.Resource, module="hive", name="EnvFile"):
    """The keys a stack owns in one .env file; see the module's docstring."""

    path: pulumi.Output[str]
    owned: pulumi.Output[list[list[str]]]
    defaults: pulumi.Output[list[list[str]]]
    header: pulumi.Output[str]
    written: pulumi.Output[dict[str, str]]
    left_keys: pulumi.Output[list[str]]

    def __init__(self, name: str, args: EnvFileArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "path": args.path,
            "owned": _secret_pairs(args.owned),
            "defaults": _secret_pairs(args.defaults),
            "header": args.header,
            "written": None,
            "left_keys": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))
        super().__init__(EnvFileProvider(), name, props, opts)
