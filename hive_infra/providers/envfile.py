"""The EnvFile dynamic resource: a set of keys the stack owns in a .env file.

Every stack's state stores the provider's module path (it is pickled by
reference): ``hive_infra.providers.envfile`` for stacks updated since the move
of issue #21, ``hive_infra.envfile`` (a shim, the same module) before it. Those
paths, the name ``EnvFileProvider`` and the resource type
``pulumi-python:dynamic/hive:EnvFile`` are part of existing stacks' state:
treat them as public (docs/architecture.md). The rules of the merge
live in ``dotenv_text``, the careful file I/O in ``safe_file``; this module
only wires them to Pulumi's dynamic provider protocol.

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
``written`` (a ``{key: value}`` map of the keys the stack holds and the values
it last set), ``found_keys`` (the keys of ``written`` whose line was already in
the file when the stack took the key: the user's lines, which the stack sets
but never removes) and ``left_keys`` (names of keys the stack stopped managing
but left in the file because their value was changed by hand). Only keys of
``written`` not in ``found_keys`` may be removed later. ``owned``, ``defaults``
and ``written`` are secret.

State written before ``found_keys`` existed has no such output: every key of
its ``written`` counts as one the stack added, as it did then; keys the stack
takes from then on are recorded. State without even ``written`` records
nothing found either.

``diff`` compares the inputs with the state, and the file on disk with the
inputs: it also reports a change when the merge would change the file's text
(an owned value edited by hand, a missing file, a seeded default that was
removed) or when the file is not mode 0600, so ``pulumi up`` repairs drift
without a refresh. It never writes; a file the provider refuses to touch
fails ``diff`` (and so ``preview``) with the same error ``up`` gives.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from hive_infra.core.dotenv_text import KEY_RE, DotenvSyntaxError, MergeResult, merge, only_header_left, parse
from hive_infra.machine import safe_file
from hive_infra.machine.safe_file import PRIVATE_FILE_MODE, UnsafeFileError
from hive_infra.providers.wire import has_unknown as _has_unknown
from hive_infra.providers.wire import is_unknown as _is_unknown
from hive_infra.providers.wire import plain as _plain

_OUTPUT_NAMES = ("written", "left_keys", "found_keys")


class EnvFileError(Exception):
    """A file the provider refuses to touch. The message names the file, never a value."""


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """Report the text and file layers' refusals as ``EnvFileError``."""
    try:
        yield
    except (DotenvSyntaxError, UnsafeFileError) as exc:
        raise EnvFileError(str(exc)) from None


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
    if not _is_unknown(path):
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
    if not _is_unknown(header) and header is not None:
        if not isinstance(header, str) or "\n" in header or "\r" in header:
            out.append(pulumi.dynamic.CheckFailure("header", "header must be one line"))
        elif header and not header.startswith("#"):
            out.append(pulumi.dynamic.CheckFailure("header", "header must be a comment (start with #)"))
    return out


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


def _history(olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[dict[str, str] | None, list[str]]:
    """The ``written`` and ``found_keys`` an update of ``olds`` to ``news`` starts from.

    ``written`` is None for state that has none (see the module's docstring).
    """
    if not _same_path(_plain(olds.get("path")), _plain(news.get("path"))):
        return {}, []  # another file: nothing of ours is in it
    written = _plain(olds.get("written"))
    return written, _plain(olds.get("found_keys")) or []


def _plan(
    inputs: Mapping[str, Any], text: str | None, old_written: Mapping[str, str] | None, old_found: Collection[str]
) -> MergeResult:
    """What the file's text must become: a function of ``text`` only, for ``diff`` and for each attempt of a write."""
    result = merge(
        text,
        inputs["owned"],
        inputs["defaults"],
        old_written or {},
        inputs["header"],
        safe_file.absolute(inputs["path"]),
        old_found=old_found,
    )
    if old_written is None:  # no record at all: count nothing as found, as before the record existed
        result = dataclasses.replace(result, found=[])
    return result


class EnvFileProvider(pulumi.dynamic.ResourceProvider):
    """CRUD of an EnvFile. Holds no state: everything is made inside the methods."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        inputs = {k: v for k, v in news.items() if k not in _OUTPUT_NAMES}
        plain = {k: _plain(v) for k, v in inputs.items()}
        return pulumi.dynamic.CheckResult(inputs, validate(plain))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        old = _inputs(olds)
        new = {k: _plain(news.get(k)) for k in ("path", "owned", "defaults", "header")}
        if _is_unknown(new["path"]) or not _same_path(old["path"], new["path"]):
            return pulumi.dynamic.DiffResult(changes=True, replaces=["path"], delete_before_replace=True)
        if any(_has_unknown(new[k]) for k in ("owned", "defaults", "header")):
            return pulumi.dynamic.DiffResult(changes=True)
        drifted = self._drifted(_inputs(news), *_history(olds, news))  # read even when inputs changed: see _drifted
        changed = (
            old["path"] != new["path"]
            or dict(map(tuple, old["owned"])) != dict(map(tuple, _pairs(new["owned"])))
            or dict(map(tuple, old["defaults"])) != dict(map(tuple, _pairs(new["defaults"])))
            or old["header"] != (new["header"] or "")
        )
        return pulumi.dynamic.DiffResult(changes=changed or drifted, replaces=[], delete_before_replace=True)

    @staticmethod
    def _drifted(inputs: Mapping[str, Any], old_written: Mapping[str, str] | None, old_found: Collection[str]) -> bool:
        """True when an update would change the file's text or mode. Reads only.

        A file the provider refuses to touch raises the error ``update`` would
        give: a preview that promised no change while ``up`` cannot make sure of
        the file would be wrong, and the user learns what to fix before ``up``.
        """
        if validate(inputs):
            return True  # let update report the problem
        with _refusals():
            text, mode = safe_file.read_text_and_mode(inputs["path"])
            wanted = _plan(inputs, text, old_written, old_found).text
        return wanted != text or (mode is not None and mode != PRIVATE_FILE_MODE)

    def _apply(
        self, props: Mapping[str, Any], old_written: Mapping[str, str] | None, old_found: Collection[str]
    ) -> dict[str, Any]:
        inputs = _inputs(props)
        problems = validate(inputs)
        if problems:
            raise EnvFileError("; ".join(f"{p.property}: {p.reason}" for p in problems))

        def change(text: str | None) -> tuple[str | None, MergeResult]:
            result = _plan(inputs, text, old_written, old_found)
            return result.text, result

        path = inputs["path"]
        with _refusals():
            result = safe_file.edit(path, change)
        _warn_left(path, result.left_keys)
        return {**inputs, "written": result.written, "left_keys": result.left_keys, "found_keys": result.found}

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        outs = self._apply(props, {}, [])
        return pulumi.dynamic.CreateResult(outs["path"], outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(self._apply(news, *_history(olds, news)))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        state = _inputs(props)
        path = state["path"] or id_
        with _refusals():
            text = safe_file.read_text(path)
            if text is None:
                return pulumi.dynamic.ReadResult("", {})  # the file is gone: so is the resource
            bindings = parse(text, safe_file.absolute(path))
        values = {b.key: b.value for b in bindings if b.key is not None}
        outs = {
            **state,
            "path": path,
            "owned": [[key, values.get(key)] for key, _ in state["owned"]],
            "defaults": [[key, value if key in values else None] for key, value in state["defaults"]],
            "written": _plain(props.get("written")) or {},
            "left_keys": _plain(props.get("left_keys")) or [],
            "found_keys": _plain(props.get("found_keys")) or [],
        }
        return pulumi.dynamic.ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        state = _inputs(props)
        path = state["path"] or id_
        old_written = _plain(props.get("written")) or {}
        old_found = _plain(props.get("found_keys")) or []

        def change(text: str | None) -> tuple[str | None, list[str]]:
            if text is None:
                return None, []
            # Lenient: a line the stack did not write (unparseable, not UTF-8) is kept, never a failure.
            where = safe_file.absolute(path)
            result = merge(text, [], [], old_written, "", where, old_found=old_found, lenient=True)
            if only_header_left(result.text, state["header"]):
                return None, result.left_keys  # nothing of the user's is left: remove the file
            return result.text, result.left_keys

        with _refusals():
            left = safe_file.edit(path, change, make_private=False, keep_bytes=True)
        _warn_left(path, left)


# --------------------------------------------------------------------------
# The resource


def _keys_only(pairs: Any) -> str:
    """How the repr shows pairs: their keys, never their values."""
    if isinstance(pairs, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs):
        return "<values hidden: " + ", ".join(str(p[0]) for p in pairs) + ">"
    return "<hidden>"


@dataclass(frozen=True, repr=False)
class EnvFileArgs:
    """What an EnvFile manages.

    ``owned`` and ``defaults`` are ordered ``(key, value)`` pairs (tuples or
    lists, plain or Outputs); they travel as lists of ``[key, value]`` lists.
    Their values may be secrets: the repr shows their keys only.
    """

    path: pulumi.Input[str]
    owned: pulumi.Input[Sequence[tuple[str, str]]]
    defaults: pulumi.Input[Sequence[tuple[str, str]]] = ()
    header: pulumi.Input[str] = ""

    def __repr__(self) -> str:
        return (
            f"EnvFileArgs(path={self.path!r}, owned={_keys_only(self.owned)}, "
            f"defaults={_keys_only(self.defaults)}, header={self.header!r})"
        )


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
    found_keys: pulumi.Output[list[str]]

    def __init__(self, name: str, args: EnvFileArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "path": args.path,
            "owned": _secret_pairs(args.owned),
            "defaults": _secret_pairs(args.defaults),
            "header": args.header,
            "written": None,
            "left_keys": None,
            "found_keys": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))
        super().__init__(EnvFileProvider(), name, props, opts)
