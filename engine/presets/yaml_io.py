"""Safe, positioned YAML for presets: read, parse, dump and write atomically.

ruamel.yaml's round-trip loader builds only plain data (never arbitrary
Python objects) and remembers where every key and item was, which is what
makes ``FILE:LINE:COL`` messages possible; its dumper keeps comments and key
order when a preset is rewritten.  Before parsing, an event pre-scan rejects
what could hurt a reader: anchors and aliases (a billion-laughs document
expands exponentially), non-core tags, deep nesting (the composer recurses)
and more than one document; the file size is capped before decoding.
"""

from __future__ import annotations

import datetime
import io

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    MappingStartEvent,
    NodeEvent,
    SequenceStartEvent,
)
from ruamel.yaml.reader import ReaderError

from .errors import PresetError, position

#: Largest preset file read (a real preset is well under 10 KiB).
MAX_FILE_BYTES = 1 << 20
#: Deepest nesting of mappings and lists (a blend of inline lanes needs ~8).
MAX_DEPTH = 32
_CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")
)


class Node:
    """A parsed YAML value with the 1-based line and column where it starts.

    ``value`` is a str, int, float, bool or None, a list of Nodes, or a dict
    of key -> Node (keys are str); ``key_pos`` gives each key's own position.
    """

    __slots__ = ("value", "line", "col", "key_pos")

    def __init__(self, value, line: int, col: int, key_pos=None):
        self.value = value
        self.line = line
        self.col = col
        self.key_pos = key_pos or {}

    def get(self, key: str):
        """The child Node under ``key`` of a mapping, or None."""
        return self.value.get(key) if isinstance(self.value, dict) else None

    def __repr__(self):
        return f"Node({self.value!r} @{self.line}:{self.col})"


def _fail(source, line, col, message):
    return PresetError(position(source, line, col, message))


def read_text(path) -> str:
    """The text of a preset file: at most 1 MiB, UTF-8 (a leading BOM is dropped)."""
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _fail(source, 1, 1, f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise _fail(
            source,
            1,
            1,
            f"the file is larger than {MAX_FILE_BYTES} bytes (1 MiB); "
            "a preset is a few hundred bytes: is this the right file?",
        )
    return decode(data, source)


def decode(data: bytes, source: str) -> str:
    """UTF-8 text of ``data``; on a bad byte, its line, column and byte offset."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        line, col = _line_col(good, len(good))
        raise _fail(
            source,
            line,
            col,
            f"the file is not UTF-8: byte 0x{data[exc.start]:02x} at byte offset "
            f"{exc.start} cannot be decoded; save the file as UTF-8",
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _line_col(text: str, index: int):
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _mark(mark):
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _yaml_error(exc: YAMLError, source: str, text: str) -> PresetError:
    if isinstance(exc, ReaderError):
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "?")
        line, col = _line_col(text, exc.position)
        return _fail(
            source,
            line,
            col,
            f"character U+{char:04X} is not allowed in YAML ({exc.reason}); remove it",
        )
    if isinstance(exc, DuplicateKeyError):
        line, col = _mark(exc.problem_mark)
        return _fail(source, line, col, f"{exc.problem}; each key may appear once in a mapping")
    if isinstance(exc, MarkedYAMLError):
        line, col = _mark(exc.problem_mark or exc.context_mark)
        context = ""
        if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
            context = f" ({exc.context} at line {exc.context_mark.line + 1})"
        return _fail(source, line, col, f"YAML syntax error: {exc.problem or exc.context}{context}")
    return _fail(source, 1, 1, f"YAML error: {exc}")


def _prescan(text: str, source: str):
    """Reject aliases, foreign tags, deep nesting and extra documents; the root event."""
    depth, documents, root = 0, 0, None
    for event in YAML(typ="rt").parse(text):
        where = _mark(event.start_mark)
        if isinstance(event, DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _fail(
                    source,
                    *where,
                    "a second YAML document (---) starts here; put one preset in each file",
                )
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor):
            raise _fail(
                source,
                *where,
                f"YAML anchors and aliases (&{event.anchor} / "
                f"*{event.anchor}) are not allowed in presets; "
                "write the values out",
            )
        tag = getattr(event, "tag", None)
        if tag is not None and str(tag) not in _CORE_TAGS:
            raise _fail(
                source,
                *where,
                f"the YAML tag {tag} is not allowed in presets; remove it and write a plain value",
            )
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _fail(
                    source,
                    *where,
                    f"nesting deeper than {MAX_DEPTH} levels; a preset needs only a few",
                )
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
        if root is None and isinstance(event, NodeEvent):
            root = event
    return root


def load_document(text: str, source: str):
    """The round-trip YAML document (CommentedMap) of ``text``, checked as above.

    Raises PresetError for malformed or unsafe YAML and for a top level that
    is not a mapping.
    """
    if len(text) > MAX_FILE_BYTES:
        raise _fail(source, 1, 1, f"the text is longer than {MAX_FILE_BYTES} characters")
    try:
        root = _prescan(text, source)
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise _yaml_error(exc, source, text) from None
    if root is None or data is None:
        raise _fail(
            source,
            1,
            1,
            "the file is empty; a preset is a mapping such as "
            "'kind: swing', 'amount: 58', 'grid: 1/16'",
        )
    if not isinstance(root, MappingStartEvent):
        what = "a list" if isinstance(root, SequenceStartEvent) else f"the value {data!r}"
        raise _fail(
            source,
            *_mark(root.start_mark),
            f"the top level is {what}, not a mapping; a preset is keys and values "
            "such as 'kind: swing' on separate lines",
        )
    return data


def parse(text: str, source: str) -> Node:
    """Parse preset text into a Node tree (every value positioned)."""
    data = load_document(text, source)
    return _to_node(data, data.lc.line + 1, data.lc.col + 1, source)


def _scalar(value):
    if value is None or isinstance(value, (bool, str)):
        return value if not isinstance(value, str) else str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def _to_node(value, line, col, source) -> Node:
    if isinstance(value, dict):
        children, key_pos = {}, {}
        for key, child in value.items():
            kl, kc = value.lc.key(key)
            vl, vc = value.lc.value(key)
            if not isinstance(key, str) or isinstance(key, bool):
                raise _fail(
                    source,
                    kl + 1,
                    kc + 1,
                    f"the key {key!r} is not a name; keys are words such as 'offsets'",
                )
            key = str(key)
            key_pos[key] = (kl + 1, kc + 1)
            children[key] = _to_node(child, vl + 1, vc + 1, source)
        return Node(children, line, col, key_pos)
    if isinstance(value, list):
        items = []
        for i, child in enumerate(value):
            il, ic = value.lc.item(i)
            items.append(_to_node(child, il + 1, ic + 1, source))
        return Node(items, line, col)
    return Node(_scalar(value), line, col)


def dumps(document) -> str:
    """YAML text of a round-trip document (comments and key order kept)."""
    yaml = YAML(typ="rt")
    yaml.width = 4096  # one line per list: ruamel's wrapping of flow lists is hard to read
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    yaml.dump(document, buf)
    return buf.getvalue()


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see ``engine.atomic``)."""
    from engine.atomic import write_bytes

    write_bytes(path, text.encode("utf-8"))
