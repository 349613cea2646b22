"""Check a parsed preset's structure: keys, types and lanes, every problem positioned.

This pass collects all problems of a file (unknown or missing keys, a string
where a number goes, lanes that share notes, ...) before any groove is
built, so ``groove presets validate`` can list them together.  Ranges that
the groove core checks itself (swing amount, velocity 0..1, fold-back, grid
and period) are left to it: the builder re-raises its messages positioned.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field

from .errors import Problems
from .schema import (
    ALL_GROOVE_KEYS,
    AMOUNT_KEYS,
    GROOVE_KEYS,
    INFO_KEYS,
    KINDS,
    LANE_KEYS,
    NAME_PATTERN,
    PART_KEYS,
    RANDOM_KEYS,
)
from .yaml_io import Node

_NAME_RE = re.compile(NAME_PATTERN)
_MISSING = object()


@dataclass
class LaneSpec:
    """A checked lane: its notes and the values its groove is built from."""

    name: str
    notes: tuple
    fields: dict
    node: Node
    path: str


@dataclass
class PartSpec:
    """A checked blend part: a reference (name or path) or an inline groove.

    ``node`` is the part's ``groove`` value, where errors about it point.
    """

    ref: str | None
    inline: GrooveSpec | None
    weight: float
    node: Node
    path: str


@dataclass
class GrooveSpec:
    """A checked groove: kind, constructor values, lanes and blend parts."""

    kind: str
    fields: dict
    node: Node
    path: str
    lanes: list = field(default_factory=list)
    parts: list = field(default_factory=list)


@dataclass
class PresetSpec:
    """A checked preset file: groove, info and rendering defaults (Amounts kwargs)."""

    name: str | None
    description: str
    groove: GrooveSpec
    amounts: dict
    amount_nodes: dict


def _describe(value) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class Checker:
    """Structural checks of one source; problems collect in ``self.problems``."""

    def __init__(self, source: str):
        self.problems = Problems(source)

    # -- scalars ----------------------------------------------------------
    def number(self, node: Node, path: str):
        """A finite int or float, or None after recording the problem."""
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                return value
            self.problems.add(node, f"{path}: {value!r} is not a finite number")
            return None
        hint = "; remove the quotes" if isinstance(value, str) and _looks_numeric(value) else ""
        self.problems.add(node, f"{path}: expected a number, got {_describe(value)}{hint}")
        return None

    def integer(self, node: Node, path: str, lo: int, hi: int):
        """A whole number lo..hi, or None after recording the problem."""
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.add(
                node, f"{path}: expected a whole number {lo}..{hi}, got {_describe(value)}"
            )
            return None
        if not lo <= value <= hi:
            self.problems.add(node, f"{path}: {value} is outside {lo}..{hi}")
            return None
        return value

    def text(self, node: Node, path: str, hint: str = "quote it if it is meant as text"):
        """A string, or None after recording the problem."""
        if isinstance(node.value, str):
            return node.value
        self.problems.add(node, f"{path}: expected text, got {_describe(node.value)}; {hint}")
        return None

    def numbers(self, node: Node, path: str):
        """A non-empty list of finite numbers, or None."""
        if not isinstance(node.value, list) or not node.value:
            what = "an empty list" if node.value == [] else _describe(node.value)
            self.problems.add(
                node, f"{path}: expected a list of numbers such as [0, 0.1, 0, 0.15], got {what}"
            )
            return None
        values = [self.number(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        return None if any(v is None for v in values) else [float(v) for v in values]

    # -- mappings -----------------------------------------------------------
    def mapping(self, node: Node, path: str, example: str) -> bool:
        if isinstance(node.value, dict):
            return True
        self.problems.add(
            node, f"{path}: expected a mapping such as {example}, got {_describe(node.value)}"
        )
        return False

    def keys(self, node: Node, path: str, required, optional, elsewhere=None):
        """Record unknown and missing keys of a mapping node (did-you-mean for typos)."""
        allowed = tuple(required) + tuple(optional)
        prefix = f"{path}." if path else ""
        for key in node.value:
            if key in allowed:
                continue
            owner = (elsewhere or {}).get(key)
            if owner:
                self.problems.add(
                    node.key_pos[key], f"{prefix}{key}: not used here ({owner}); remove it"
                )
                continue
            close = difflib.get_close_matches(
                key, allowed, n=1, cutoff=0.6
            ) or difflib.get_close_matches(key, list(elsewhere or ()), n=1, cutoff=0.6)
            hint = ""
            if close:
                hint = f"did you mean '{close[0]}'" + (
                    f" ({elsewhere[close[0]]})? " if close[0] not in allowed else "? "
                )
            self.problems.add(
                node.key_pos[key],
                f"{prefix}{key}: unknown key; {hint}allowed here: {', '.join(allowed)}",
            )
        for key in required:
            if key not in node.value:
                self.problems.add(
                    node, f"{path or 'preset'}: missing key '{key}' (needs {', '.join(required)})"
                )

    # -- presets ----------------------------------------------------------
    def preset(self, root: Node, stem: str | None = None) -> PresetSpec | None:
        """Check a whole preset file; None when any problem was recorded."""
        kind = self.kind(root, "")
        required, optional = GROOVE_KEYS.get(kind, ((), ALL_GROOVE_KEYS))
        self.keys(
            root,
            "",
            ("kind",) + required if kind else (),
            optional + INFO_KEYS + AMOUNT_KEYS
            if kind
            else INFO_KEYS + AMOUNT_KEYS + ALL_GROOVE_KEYS,
            _elsewhere(kind),
        )
        name = self.name(root.get("name"), stem)
        desc_node = root.get("description")
        description = self.text(desc_node, "description") if desc_node else ""
        groove = self.groove_fields(root, kind, "") if kind else None
        amounts, amount_nodes = self.amounts(root)
        if self.problems or groove is None:
            return None
        return PresetSpec(name, description or "", groove, amounts, amount_nodes)

    def kind(self, node: Node, path: str):
        kind_node = node.get("kind")
        where = f"{path}kind"
        if kind_node is None:
            self.problems.add(
                node,
                f"{path.rstrip('.') or 'preset'}: missing key 'kind' (one of {', '.join(KINDS)})",
            )
            return None
        if kind_node.value not in KINDS:
            close = difflib.get_close_matches(str(kind_node.value), KINDS, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.problems.add(
                kind_node,
                f"{where}: {kind_node.value!r} is not a kind; use one of {', '.join(KINDS)}{hint}",
            )
            return None
        return kind_node.value

    def name(self, node: Node | None, stem: str | None):
        if node is None:
            return stem
        name = self.text(node, "name")
        if name is None:
            return None
        if not _NAME_RE.match(name):
            self.problems.add(
                node,
                f"name: {name!r} is not a preset name; use letters, "
                "digits and - _ . + (e.g. my-funk)",
            )
        elif stem is not None and name != stem:
            self.problems.add(
                node,
                f"name: {name!r} differs from the file name "
                f"{stem + '.yaml'!r}; rename one so they match",
            )
        return name

    def groove_fields(self, node: Node, kind: str, path: str) -> GrooveSpec | None:
        """The groove part of a preset or inline part (keys already checked)."""
        spec = GrooveSpec(kind, {}, node, path)
        for key in GROOVE_KEYS[kind][0] + GROOVE_KEYS[kind][1]:
            child = node.get(key)
            if child is None or key in ("lanes", "of"):
                continue
            where = f"{path}{key}"
            if key in ("amount", "period"):
                spec.fields[key] = self.number(child, where)
            elif key == "grid":
                spec.fields[key] = self.text(child, where, "write a grid such as 1/16 or 1/8t")
            elif key == "interp":
                spec.fields[key] = self.text(child, where, "use linear or pchip")
            else:
                spec.fields[key] = self.numbers(child, where)
        if node.get("lanes") is not None and kind in LANE_KEYS:
            spec.lanes = self.lanes(node.get("lanes"), kind, f"{path}lanes")
        if kind == "blend" and node.get("of") is not None:
            spec.parts = self.parts(node.get("of"), f"{path}of")
        return spec

    def lanes(self, node: Node, kind: str, path: str) -> list:
        if not self.mapping(node, path, "{snare: {notes: [38], ...}}"):
            return []
        if not node.value:
            self.problems.add(node, f"{path}: no lanes listed; remove the key or add a lane")
        owner_of_note: dict[int, str] = {}
        lanes = []
        for name, lane in node.value.items():
            where = f"{path}.{name}"
            if not self.mapping(lane, where, "{notes: [38, 40], ...}"):
                continue
            self.keys(lane, where, *LANE_KEYS[kind])
            notes = self.notes(lane.get("notes"), f"{where}.notes", name, owner_of_note)
            fields = {}
            for key in ("amount", "offsets", "velocity"):
                child = lane.get(key)
                if child is not None and key in sum(LANE_KEYS[kind], ()):
                    check = self.number if key == "amount" else self.numbers
                    fields[key] = check(child, f"{where}.{key}")
            lanes.append(LaneSpec(name, notes, fields, lane, where))
        return lanes

    def notes(self, node: Node | None, path: str, lane: str, owner_of_note: dict):
        if node is None:
            return ()
        if not isinstance(node.value, list) or not node.value:
            self.problems.add(
                node,
                f"{path}: expected a list of MIDI notes 0..127 such as "
                f"[38, 40], got {_describe(node.value)}",
            )
            return ()
        notes = []
        for i, item in enumerate(node.value):
            note = self.integer(item, f"{path}[{i}]", 0, 127)
            if note is None:
                continue
            if note in notes:
                self.problems.add(item, f"{path}[{i}]: note {note} is listed twice")
            elif note in owner_of_note:
                self.problems.add(
                    item,
                    f"{path}[{i}]: note {note} is already in lane "
                    f"'{owner_of_note[note]}'; a note follows one lane only",
                )
            else:
                owner_of_note[note] = lane
                notes.append(note)
        return tuple(notes)

    def parts(self, node: Node, path: str) -> list:
        if not isinstance(node.value, list) or not node.value:
            self.problems.add(
                node,
                f"{path}: expected a list of parts such as "
                "[{groove: swing16-58, weight: 1}, ...], got "
                f"{_describe(node.value)}",
            )
            return []
        parts = []
        for i, item in enumerate(node.value):
            where = f"{path}[{i}]"
            if not self.mapping(item, where, "{groove: swing16-58, weight: 0.5}"):
                continue
            self.keys(item, where, *PART_KEYS)
            weight_node = item.get("weight")
            weight = 1.0 if weight_node is None else self.number(weight_node, f"{where}.weight")
            if weight is not None and weight < 0:
                self.problems.add(
                    weight_node, f"{where}.weight: {weight:g} is negative; weights must be >= 0"
                )
            part = self.part(item.get("groove"), f"{where}.groove", weight)
            if part is not None:
                parts.append(part)
        if len(parts) == len(node.value) and all(p.weight == 0 for p in parts):
            self.problems.add(
                node, f"{path}: all weights are 0; give at least one part a weight > 0"
            )
        return parts

    def part(self, node: Node | None, path: str, weight) -> PartSpec | None:
        if node is None or weight is None:
            return None
        if isinstance(node.value, str) and node.value.strip():
            return PartSpec(node.value.strip(), None, float(weight), node, path)
        if isinstance(node.value, dict):
            kind = self.kind(node, f"{path}.")
            if kind is None:
                return None
            self.keys(
                node,
                path,
                ("kind",) + GROOVE_KEYS[kind][0],
                GROOVE_KEYS[kind][1],
                _elsewhere(kind, inline=True),
            )
            inline = self.groove_fields(node, kind, f"{path}.")
            return PartSpec(None, inline, float(weight), node, path)
        self.problems.add(
            node,
            f"{path}: expected a preset name, a path or an inline "
            f"groove, got {_describe(node.value)}",
        )
        return None

    def amounts(self, root: Node):
        """Amounts kwargs and, per Amounts field, the (node, key path) it came from."""
        values, nodes = {}, {}
        for key, field_name in (
            ("timing", "timing"),
            ("quantize", "quantize"),
            ("velocity_amount", "velocity"),
        ):
            child = root.get(key)
            if child is not None:
                values[field_name] = self.number(child, key)
                nodes[field_name] = (child, key)
        random = root.get("random")
        if random is not None and self.mapping(
            random, "random", "{time_ms: 5, velocity: 4, seed: 1}"
        ):
            self.keys(random, "random", *RANDOM_KEYS)
            for key, field_name in (
                ("time_ms", "random_ms"),
                ("velocity", "random_velocity"),
                ("seed", "seed"),
            ):
                child = random.get(key)
                if child is None:
                    continue
                where = f"random.{key}"
                values[field_name] = (
                    self.integer(child, where, 0, 2**63 - 1)
                    if key == "seed"
                    else self.number(child, where)
                )
                nodes[field_name] = (child, where)
        return values, nodes


def _elsewhere(kind: str | None, inline: bool = False) -> dict:
    """key -> why it is misplaced, for keys that belong to other kinds (or the top level)."""
    if kind is None:
        return {}
    own = set(GROOVE_KEYS[kind][0] + GROOVE_KEYS[kind][1])
    where = {}
    for other, (req, opt) in GROOVE_KEYS.items():
        for key in req + opt:
            if key not in own and key not in where:
                where[key] = f"it belongs to kind '{other}', this is kind '{kind}'"
    if kind == "blend":
        where["lanes"] = "a blend takes its lanes from its parts; give the parts lanes"
    if inline:
        for key in INFO_KEYS + AMOUNT_KEYS:
            where[key] = "a blend part has no name or defaults of its own; set them on the blend"
    return where
