"""What ``groove presets list`` shows of a preset: the file checked and built, parsed cheaply.

A listing must say what ``load`` says of every file (``invalid - <reason>``
included), so each file goes through the real checker (``check``) and the
real builder (``build``): no rule is repeated here.  What is saved is the
parse: ``load`` reads a file twice with ruamel's round-trip machinery (a
safety pre-scan, then a positioned load), which costs most of a listing.
Here one pass of a safe parser (libyaml's, from ruamel.yaml.clib, when it
is installed; ruamel's own otherwise) builds the same ``Node`` tree, its
scalars resolved by ruamel's YAML 1.2 rules, and a blend's parts are built
once per listing, not once per blend.

Anything the cheap parse might not read exactly as ``load`` does gives
None, and ``list_headers`` loads that file with ``load``, which reports any
problem, positioned, as it always does: a YAML error; a tab, an unusual line
break or a control character (libyaml's scanner and ruamel's differ there);
a directive, an anchor, an alias, any tag; a duplicate or non-text key; deep
nesting; a second document; a scalar that is not plain data; a DAW file.  So
does any problem the checker or the builder finds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from groove.errors import GrooveError

from .errors import PresetError
from .yaml_io import MAX_DEPTH, Node, read_text


@dataclass(frozen=True)
class PresetHeader:
    """The listing of one preset: the fields ``Preset`` and its groove give."""

    name: str
    kind: str
    description: str
    grid: str
    period_beat: float
    path: str

    @classmethod
    def of(cls, preset) -> PresetHeader:
        """The header of a loaded ``Preset``."""
        g = preset.groove
        return cls(preset.name, preset.kind, preset.description, g.grid, g.period_beat, preset.path)


class _Odd(Exception):
    """Anything the cheap path does not handle: load the file fully instead."""


_PLAIN = (str, int, float, type(None))  # bool is an int
#: Characters libyaml and ruamel's scanner treat apart (tabs, odd line breaks, controls):
#: a file with any of them is parsed by ``load`` itself.
_UNSURE = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]")


_SCALARS: dict = {}  # (text, implicit) -> value: resolving and constructing is most of a parse


def _scalar(yaml, event):
    from ruamel.yaml.nodes import ScalarNode

    if event.anchor or event.tag is not None:
        raise _Odd
    key = (event.value, event.implicit)
    value = _SCALARS.get(key, _SCALARS)
    if value is _SCALARS:
        tag = yaml.resolver.resolve(ScalarNode, event.value, event.implicit)
        value = yaml.constructor.construct_object(ScalarNode(tag, event.value))
        if not isinstance(value, _PLAIN):
            raise _Odd  # a date, bytes, ...: the round-trip loader's text of it decides
        if len(_SCALARS) > 4096:
            _SCALARS.clear()
        _SCALARS[key] = value
    return value


def _node(yaml, events, event, depth: int) -> Node:
    """The Node whose first event is ``event`` (positions 1-based, as ``yaml_io.parse``)."""
    from ruamel.yaml.events import MappingStartEvent, ScalarEvent, SequenceStartEvent

    line, col = event.start_mark.line + 1, event.start_mark.column + 1
    if isinstance(event, ScalarEvent):
        return Node(_scalar(yaml, event), line, col)
    if getattr(event, "anchor", None) or getattr(event, "tag", None) is not None:
        raise _Odd
    if depth >= MAX_DEPTH:
        raise _Odd
    if isinstance(event, MappingStartEvent):
        children, key_pos = {}, {}
        for key_event in events:
            if _is_end(key_event):
                return Node(children, line, col, key_pos)
            if not isinstance(key_event, ScalarEvent):
                raise _Odd
            key = _scalar(yaml, key_event)
            if type(key) is not str or key in children or key == "<<":
                raise _Odd
            key_pos[key] = (key_event.start_mark.line + 1, key_event.start_mark.column + 1)
            children[key] = _node(yaml, events, next(events), depth + 1)
        raise _Odd
    if isinstance(event, SequenceStartEvent):
        items = []
        for item_event in events:
            if _is_end(item_event):
                return Node(items, line, col)
            items.append(_node(yaml, events, item_event, depth + 1))
        raise _Odd
    raise _Odd  # an alias


def _is_end(event) -> bool:
    from ruamel.yaml.events import CollectionEndEvent

    return isinstance(event, CollectionEndEvent)


def parse_plain(text: str, pure: bool = False) -> Node:
    """The ``Node`` tree ``yaml_io.parse`` gives, by one pass of the safe parser.

    ``pure``: ruamel's own parser even when libyaml's is installed.

    Raises ``_Odd`` wherever that is not certain (see the module docstring).
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import (
        DocumentEndEvent,
        DocumentStartEvent,
        MappingStartEvent,
        StreamEndEvent,
        StreamStartEvent,
    )

    # libyaml's parser (ruamel.yaml.clib) when installed: 7x the pure one, and parsing
    # is most of a listing; scalars are still resolved by ruamel's YAML 1.2 rules
    if _UNSURE.search(text):
        raise _Odd
    yaml = YAML(typ="safe", pure=pure)
    try:
        events = iter(yaml.parse(text))
        if not isinstance(next(events), StreamStartEvent):
            raise _Odd
        doc = next(events)
        if not isinstance(doc, DocumentStartEvent):
            raise _Odd  # an empty file
        if getattr(doc, "version", None) or getattr(doc, "tags", None):
            raise _Odd  # %YAML / %TAG directives change how scalars resolve
        first = next(events)
        if not isinstance(first, MappingStartEvent):
            raise _Odd
        root = _node(yaml, events, first, 1)
        if not isinstance(next(events), DocumentEndEvent):
            raise _Odd
        if not isinstance(next(events), StreamEndEvent):
            raise _Odd  # a second document
    except (YAMLError, StopIteration):
        raise _Odd from None
    return root


class HeaderReader:
    """Checks and builds the presets of one listing, each file once."""

    def __init__(self):
        self._done: dict = {}
        self._reading: set = set()

    def __call__(self, path) -> PresetHeader:
        """The header of ``path``; raises when only ``load`` can tell (see ``read_header``)."""
        return PresetHeader.of(self.preset(path))

    def preset(self, path):
        """The ``Preset`` of ``path``, as ``load`` gives it."""
        from .build import build_preset
        from .check import Checker
        from .lookup import DAW_SUFFIXES, find

        key = Path(path).resolve()
        if key in self._done:
            return self._done[key]
        if key in self._reading or Path(path).suffix.lower() in DAW_SUFFIXES:
            raise _Odd  # a blend cycle (``load`` names it), or not YAML
        self._reading.add(key)
        try:
            root = parse_plain(read_text(path))
            checker = Checker(str(path))
            spec = checker.preset(root, stem=Path(path).stem)
            checker.problems.raise_if_any()
            base = Path(path).parent
            preset = build_preset(
                spec,
                checker.problems,
                lambda part: self.preset(find(part.ref, relative_to=base)),
                path,
            )
        finally:
            self._reading.discard(key)
        self._done[key] = preset
        return preset


def read_header(path, reader=None):
    """The header of one preset file, or None when only a full load can tell.

    None covers every problem (unreadable file, bad YAML, a missing blend
    part, a value out of range, ...): ``load`` reports it, positioned.
    """
    try:
        return (reader or HeaderReader())(path)
    except (_Odd, PresetError, GrooveError):
        return None
