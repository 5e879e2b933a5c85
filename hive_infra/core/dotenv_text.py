""".env text: quoting, parsing and the merge of a stack's keys into a user's file.

Pure functions of strings, built on python-dotenv's own
parser so that what is written reads back exactly as the application reads it.
No file system, no Pulumi. ``merge`` is the whole rule book of how the stack
touches a user's ``.env`` text:

- owned keys are set in place (the last binding of a duplicated key, the one
  python-dotenv's values use; earlier duplicates are left alone) keeping an
  ``export`` prefix and an inline comment, or appended in order;
- defaults are appended only where the text has no binding for the key at all
  (a bare ``KEY`` line counts as the user's own), and a default the stack
  itself wrote and nobody changed follows a new default value;
- a key the stack stopped managing is removed only while the text still holds
  exactly the value the stack wrote, and only from a line the stack added: a
  key whose line was already in the text when the stack took it (``found``,
  whatever its value then) stays the user's line, and is left;
- every other line is kept byte for byte.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

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


#: A name python-dotenv and a shell both read as one environment variable.
KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DotenvSyntaxError(ValueError):
    """Text python-dotenv cannot parse; the message names the place, never a value."""


_LEAD = re.compile(r"\s*")
_EXPORT = re.compile(r"export[^\S\r\n]+")
_EOL = re.compile(r"[^\S\r\n]*(?:\r\n|\n|\r)?\Z")
_COMMENT = re.compile(r"[^\S\r\n]*#[^\r\n]*\Z")


@dataclass(frozen=True)
class MergeResult:
    # The text and the values hold secrets: they stay out of the repr.
    text: str = field(repr=False)
    #: key -> value the stack wrote or still owns (the new ``written``).
    written: dict[str, str] = field(repr=False)
    #: keys the stack stopped managing but left (changed by hand).
    left_keys: list[str]
    #: keys of ``written`` whose line was already in the text when the stack
    #: took the key: the user's lines, never removed (the new ``found``).
    found: list[str] = field(default_factory=list)


def statement_line(binding: Binding) -> int:
    """The line a binding's statement is on: python-dotenv counts from the blank lines before it."""
    string = binding.original.string
    return binding.original.line + string[: len(string) - len(string.lstrip())].count("\n")


def parse(text: str, where: str, lenient: bool = False) -> list[Binding]:
    """python-dotenv's bindings of ``text``; an unparseable line is an error
    (``lenient``: a statement of no key, kept as it is by a merge)."""
    bindings = list(parse_stream(io.StringIO(text)))
    for binding in bindings:
        if binding.error and not lenient:
            raise DotenvSyntaxError(
                f"{where}: python-dotenv cannot parse the statement at line "
                f"{statement_line(binding)}; fix the file and run again"
            )
    if "".join(b.original.string for b in bindings) != text.removeprefix("\ufeff"):
        raise DotenvSyntaxError(f"{where}: python-dotenv's parse does not cover the file")
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


@dataclass
class _Plan:
    """What a merge does to the parsed text."""

    replace: dict[int, str | None] = field(default_factory=dict)  # binding index -> new value (None: remove)
    appended: list[str] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)
    left: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)


def _plan(
    bindings: Sequence[Binding],
    owned: Sequence[Sequence[str]],
    defaults: Sequence[Sequence[str]],
    old_written: Mapping[str, str],
    old_found: Collection[str],
) -> _Plan:
    last = effective(bindings)
    plan = _Plan()

    def set_key(key: str, value: str) -> None:
        plan.written[key] = value
        index = last.get(key)
        if index is not None and (key in old_found or key not in old_written):
            plan.found.append(key)  # a line the stack did not add: it stays the user's
        if index is None:
            plan.appended.append(format_line(key, value))
        elif bindings[index].value != value:
            plan.replace[index] = value

    for key, value in owned:
        set_key(key, value)
    for key, value in defaults:
        index = last.get(key)
        if index is None:
            set_key(key, value)
        elif key in old_written and bindings[index].value == old_written[key]:
            set_key(key, value)  # ours and untouched: follows the new default
    managed = set(plan.written) | {key for key, _ in defaults}
    for key, value in old_written.items():
        if key in managed or key not in last or key in old_found:
            continue  # still ours, already gone, or the user's own line
        if bindings[last[key]].value == value:
            plan.replace[last[key]] = None
        else:
            plan.left.append(key)
    return plan


def _rewritten(binding: Binding, new_value: str | None) -> str:
    """A binding's line with a new value (keeping its export prefix and comment), or removed."""
    lead, prefix, comment, eol = _split(binding)
    if new_value is None:
        # keep the blank lines before a removed line, not its indentation
        return lead[: max(lead.rfind("\n"), lead.rfind("\r")) + 1]
    if comment and not comment[0].isspace():
        # `KEY#c` or `KEY='v'#c`: after an unquoted value only " #" starts a
        # comment, so `KEY=v#c` would read back as the value "v#c".
        comment = " " + comment
    return lead + prefix + format_line(str(binding.key), new_value) + comment + eol


def merge(
    text: str | None,
    owned: Sequence[Sequence[str]],
    defaults: Sequence[Sequence[str]],
    old_written: Mapping[str, str],
    header: str = "",
    where: str = "<env file>",
    old_found: Collection[str] = (),
    lenient: bool = False,
) -> MergeResult:
    """The file's new text. ``text`` None means the file does not exist.
    ``lenient``: a line python-dotenv cannot parse is kept as it is, not refused.

    ``old_written`` and ``old_found`` are the ``written`` and ``found`` of the
    previous merge (empty on the first one): the keys the stack holds, and
    which of their lines were the user's before the stack took them.
    """
    bom = "\ufeff" if text is not None and text.startswith("\ufeff") else ""
    bindings: list[Binding] = [] if text is None else parse(text, where, lenient)
    newline = newline_of(bindings)
    plan = _plan(bindings, owned, defaults, old_written, old_found)
    body = bom + "".join(
        _rewritten(b, plan.replace[i]) if i in plan.replace else b.original.string for i, b in enumerate(bindings)
    )
    if text is None and header:
        body = header + newline
    if plan.appended:
        # Only the one leading BOM is not content: a further U+FEFF is a user's
        # (odd) bare key, and appending right after it would glue the two keys.
        if body != bom and not body.endswith(("\n", "\r")):
            body += newline
        body += "".join(line + newline for line in plan.appended)
    return MergeResult(text=body, written=plan.written, left_keys=plan.left, found=plan.found)


def only_header_left(text: str, header: str) -> bool:
    """True when ``text`` holds nothing but blank lines and the stack's header."""
    for line in text.removeprefix("\ufeff").splitlines():
        if line.strip() and line.strip() != header.strip():
            return False
    return True
