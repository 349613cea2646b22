"""What ``groove presets list`` shows of a preset, read from the top of its file.

``read_header`` walks the file's YAML events (ruamel's safe parser: the same
syntax as ``load``, without the round-trip machinery) only until it has
the fields a listing shows: name, description, kind and what the period
and grid follow from (``grid``, ``period``, a blend's parts, whose headers
are read the same way).  No groove is built and nothing is compiled, so a
listing costs a fraction of loading every preset.

A header that is incomplete or odd in any way (no kind, an unknown kind, a
value that is not a plain scalar, a name that is not the file's, a blend
part that cannot be found) gives None, and ``list_headers`` loads that file
fully instead, which reports the problem exactly as ``load`` does.  A file
whose header is fine but whose body (offsets, lanes, amounts) is broken is
listed as its header says; ``groove presets validate`` checks everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from groove.curve import swing_period_beat
from groove.errors import GrooveError
from groove.grid import MAX_PERIOD_BEAT, as_fraction, grid_step_beat, lcm_fraction

from .errors import PresetError
from .schema import KINDS
from .yaml_io import MAX_DEPTH, read_text

#: Fields each kind's period and grid follow from (besides ``kind``).
_NEEDS = {"swing": ("grid",), "template": ("grid", "period"), "straight": (), "blend": ("of",)}
_WANTED = frozenset(("name", "description", "kind", "grid", "period", "of"))


@dataclass(frozen=True)
class PresetHeader:
    """The listing of one preset: the fields ``Preset`` and its groove would give."""

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
    """Anything the header reader does not handle: load the file fully instead."""


def _yaml():
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True)


def _scalar(yaml, event):
    from ruamel.yaml.nodes import ScalarNode

    if event.anchor or event.tag not in (None, "!"):
        raise _Odd
    tag = yaml.resolver.resolve(ScalarNode, event.value, event.implicit)
    return yaml.constructor.construct_object(ScalarNode(tag, event.value))


def _value(yaml, events, event, depth=0):
    """The plain value (dict, list, scalar) whose first event is ``event``."""
    from ruamel.yaml.events import MappingStartEvent, ScalarEvent, SequenceStartEvent

    if depth > MAX_DEPTH:
        raise _Odd
    if isinstance(event, ScalarEvent):
        return _scalar(yaml, event)
    if isinstance(event, MappingStartEvent) and not event.anchor:
        out = {}
        for key_event in events:
            if _is_end(key_event):
                return out
            if not isinstance(key_event, ScalarEvent):
                raise _Odd
            key = _scalar(yaml, key_event)
            if not isinstance(key, str) or key in out:
                raise _Odd
            out[key] = _value(yaml, events, next(events), depth + 1)
        raise _Odd
    if isinstance(event, SequenceStartEvent) and not event.anchor:
        items = []
        for item_event in events:
            if _is_end(item_event):
                return items
            items.append(_value(yaml, events, item_event, depth + 1))
        raise _Odd
    raise _Odd  # an alias, or an anchored collection


def _is_end(event) -> bool:
    from ruamel.yaml.events import CollectionEndEvent

    return isinstance(event, CollectionEndEvent)


def _skip(events, event):
    """Consume the value starting at ``event`` without building it."""
    from ruamel.yaml.events import CollectionStartEvent

    if not isinstance(event, CollectionStartEvent):
        return
    depth = 1
    for e in events:
        if isinstance(e, CollectionStartEvent):
            depth += 1
        elif _is_end(e):
            depth -= 1
            if depth == 0:
                return
    raise _Odd


def _complete(fields) -> bool:
    kind = fields.get("kind")
    return (
        "name" in fields
        and "description" in fields
        and kind in _NEEDS
        and all(k in fields for k in _NEEDS[kind])
        and (kind != "straight" or "grid" in fields)
    )


def _top_fields(text: str) -> dict:
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import MappingStartEvent, NodeEvent

    yaml = _yaml()
    events = yaml.parse(text)
    fields = {}
    try:
        root = next(e for e in events if isinstance(e, NodeEvent))
        if not isinstance(root, MappingStartEvent) or root.anchor:
            raise _Odd
        for key_event in events:
            if _is_end(key_event):
                break
            key = _value(yaml, events, key_event)
            if not isinstance(key, str) or key in fields:
                raise _Odd
            if key in _WANTED:
                fields[key] = _value(yaml, events, next(events))
            else:
                _skip(events, next(events))
            if _complete(fields):
                break
    except (YAMLError, StopIteration):
        raise _Odd from None
    return fields


def _groove(fields, base: Path, reader):
    """(kind, grid, period as a Fraction) of a groove's fields."""
    kind = fields.get("kind")
    if kind not in KINDS or any(k not in fields for k in _NEEDS[kind]):
        raise _Odd
    if kind == "blend":
        return _blend(fields["of"], base, reader)
    grid = fields.get("grid", "1/16")
    if not isinstance(grid, str):
        raise _Odd
    step = grid_step_beat(grid)
    if kind == "swing":
        return kind, grid, swing_period_beat(grid)
    if kind == "straight":
        return kind, grid, step
    period = fields["period"]
    if isinstance(period, bool) or not isinstance(period, (int, float)):
        raise _Odd
    period = as_fraction(period, "period")
    if (period / step).denominator != 1 or not 0 < period <= MAX_PERIOD_BEAT:
        raise _Odd
    return kind, grid, period


def _blend(parts, base: Path, reader):
    if not isinstance(parts, list) or not parts:
        raise _Odd
    grids, periods, weights = [], [], []
    for part in parts:
        if not isinstance(part, dict) or "groove" not in part:
            raise _Odd
        weight = part.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise _Odd
        ref = part["groove"]
        if isinstance(ref, dict):
            _, grid, period = _groove(ref, base, reader)
        elif isinstance(ref, str) and ref.strip():
            from .lookup import find

            header = reader(find(ref.strip(), relative_to=base))
            grid, period = header.grid, Fraction(header.period_beat)
        else:
            raise _Odd
        grids.append(grid)
        periods.append(period)
        weights.append(float(weight))
    if max(weights) <= 0:
        raise _Odd
    period = periods[0]
    for p in periods[1:]:
        period = lcm_fraction(period, p)
    if period > MAX_PERIOD_BEAT:
        raise _Odd
    return "blend", grids[weights.index(max(weights))], period


class HeaderReader:
    """Reads headers, each file once (blends name their parts by file)."""

    def __init__(self):
        self._done: dict = {}
        self._reading: set = set()

    def __call__(self, path) -> PresetHeader:
        """The header of ``path``; raises when only a full load can tell (see ``read_header``)."""
        key = Path(path).resolve()
        if key in self._done:
            return self._done[key]
        if key in self._reading:
            raise _Odd  # a blend cycle: the full load names it
        self._reading.add(key)
        try:
            fields = _top_fields(read_text(path))
            name = fields.get("name", Path(path).stem)
            description = fields.get("description", "")
            if name != Path(path).stem or not isinstance(description, str):
                raise _Odd
            kind, grid, period = _groove(fields, Path(path).parent, self)
        finally:
            self._reading.discard(key)
        header = PresetHeader(name, kind, description, grid, float(period), str(path))
        self._done[key] = header
        return header


def read_header(path, reader=None):
    """The header of one preset file, or None when only a full load can tell.

    None covers every problem (unreadable file, bad YAML, a missing blend
    part, ...): ``load`` reports it, positioned.
    """
    try:
        return (reader or HeaderReader())(path)
    except (_Odd, PresetError, GrooveError):
        return None
