"""Build a checked preset into an ``engine.presets.model.Preset``: grooves, lanes, blends.

Construction goes through the groove core, which validates ranges and
monotonicity; each GrooveError it raises is re-raised as a PresetError at
the YAML node responsible (the offsets item a fold-back names, the timing
default that folds a curve back, ...).  Blends resolve their parts through a
callback so the loader can follow names and paths and detect cycles.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import numpy as np

import groove

from .check import GrooveSpec, PresetSpec
from .errors import PresetError, Problems
from .model import Amounts, Lane, Preset

_STEP_RE = re.compile(r"\bstep (\d+)")


@contextmanager
def positioned(problems: Problems, nodes: dict, fallback, suffix: str = ""):
    """Re-raise a core GrooveError as a PresetError at the node it is about.

    ``nodes`` maps the field a core message starts with (``"offsets: ..."``)
    to ``(node, key path in the file)``; the message's field is replaced by
    that key path.  When the message names a ``step N`` of a list, the error
    points at that item (the last step named: the one that breaks the rule).
    """
    try:
        yield
    except PresetError:
        raise
    except groove.GrooveError as exc:
        message = str(exc)
        field, sep, rest = message.partition(": ")
        node, path = nodes.get(field, (None, None))
        if node is None:
            node, text = fallback, message
        else:
            text = f"{path}: {rest}" if sep else message
            steps = _STEP_RE.findall(rest)
            if steps and isinstance(node.value, list) and int(steps[-1]) < len(node.value):
                node = node.value[int(steps[-1])]
        raise problems.error(node, text + suffix) from None


def _field_nodes(spec_node, path: str, keys) -> dict:
    return {k: (spec_node.get(k), f"{path}{k}") for k in keys if spec_node.get(k) is not None}


def build_groove(spec: GrooveSpec, problems: Problems, resolve):
    """(main Groove, list of Lane) of a checked groove spec.

    ``resolve(part_spec)`` returns the Preset a blend part names.
    """
    f = spec.fields
    nodes = _field_nodes(
        spec.node, spec.path, ("amount", "grid", "period", "interp", "offsets", "velocity", "of")
    )
    with positioned(problems, nodes, spec.node):
        if spec.kind == "straight":
            return groove.straight(f.get("grid", "1/16")), []
        if spec.kind == "swing":
            main = groove.swing(f["amount"], f["grid"])
        elif spec.kind == "template":
            main = groove.template(
                f["offsets"],
                grid=f["grid"],
                period=f["period"],
                interp=f.get("interp", "linear"),
                velocity=f.get("velocity"),
            )
        else:
            return _build_blend(spec, problems, resolve)
    lanes = []
    for lane in spec.lanes:
        lane_nodes = _field_nodes(lane.node, f"{lane.path}.", ("amount", "offsets", "velocity"))
        lane_nodes.update({k: v for k, v in nodes.items() if k not in lane_nodes})
        with positioned(problems, lane_nodes, lane.node, f" (lane {lane.name})"):
            if spec.kind == "swing":
                g = groove.swing(lane.fields["amount"], f["grid"])
            else:
                g = groove.template(
                    lane.fields["offsets"],
                    grid=f["grid"],
                    period=f["period"],
                    interp=f.get("interp", "linear"),
                    velocity=lane.fields.get("velocity"),
                )
        lanes.append(Lane(lane.name, lane.notes, g))
    return main, lanes


def _build_blend(spec: GrooveSpec, problems: Problems, resolve):
    of_node = spec.node.get("of")
    parts = []
    for part in spec.parts:
        if part.inline is not None:
            main, lanes = build_groove(part.inline, problems, resolve)
            parts.append(
                Preset(name=part.path, groove=main, lanes=tuple(lanes), kind=part.inline.kind)
            )
        else:
            parts.append(resolve(part))
    weights = [part.weight for part in spec.parts]
    nodes = {"parts": (of_node, f"{spec.path}of"), "weights": (of_node, f"{spec.path}of")}
    with positioned(problems, nodes, of_node):
        main = groove.blend([(p.groove, w) for p, w in zip(parts, weights)])
        lanes = blend_lanes(parts, weights)
    return main, lanes


def blend_lanes(parts, weights) -> list:
    """Lanes of a blend, blended lane by lane.

    Notes are grouped by which lane (or main curve) they follow in each part;
    each group with a lane in some part becomes a lane of the blend whose
    curve blends, part by part, the curve those notes follow there.  So a
    lane present in one part only blends with the other parts' main curves.
    """
    table = np.stack([p.lane_of_pitch() for p in parts], axis=1)
    groups: dict[tuple, list] = {}
    for pitch in range(128):
        key = tuple(int(v) for v in table[pitch])
        if max(key) >= 0:
            groups.setdefault(key, []).append(pitch)
    lanes, used = [], set()
    for key, pitches in groups.items():
        names = dict.fromkeys(p.lanes[k].name for p, k in zip(parts, key) if k >= 0)
        base = name = "+".join(names)
        n = 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        curve = groove.blend([(p.grooves()[k + 1], w) for p, k, w in zip(parts, key, weights)])
        lanes.append(Lane(name, tuple(pitches), curve))
    return lanes


def build_preset(spec: PresetSpec, problems: Problems, resolve, path=None) -> Preset:
    """The Preset of a checked preset spec (raises PresetError, positioned)."""
    main, lanes = build_groove(spec.groove, problems, resolve)
    with positioned(problems, spec.amount_nodes, spec.groove.node):
        amounts = Amounts(**spec.amounts)
    if amounts.timing > 1.0:
        for name, g in [(None, main)] + [(lane.name, lane.groove) for lane in lanes]:
            with positioned(
                problems, spec.amount_nodes, spec.groove.node, f" (lane {name})" if name else ""
            ):
                g.scaled(amounts.timing)
    return Preset(
        name=spec.name or "",
        groove=main,
        lanes=tuple(lanes),
        amounts=amounts,
        description=spec.description,
        kind=spec.groove.kind,
        path=None if path is None else str(path),
    )
