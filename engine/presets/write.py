"""Write presets: a Preset or a mapping to YAML, validated, atomically.

A mapping loaded with ``read_document`` keeps its comments and key order
when written back.  A Preset is turned into the format's keys from its
groove's parameters (blend parts become inline grooves); the text is loaded
back before anything is written, so a file that would not load (or that
names the wrong preset) is never written.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .errors import PresetError
from .model import Amounts, Preset
from .yaml_io import dumps, write_text_atomic


def _plain_number(value):
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _fields_from_params(kind: str, params: dict, where: str) -> dict:
    if params.get("timing", 1.0) != 1.0:
        raise PresetError(
            f"{where}: the groove is scaled (timing {params['timing']:g}); write "
            "the unscaled groove and set the preset's timing default instead"
        )
    if kind == "straight":
        return {"kind": "straight", "grid": params["grid"]}
    if kind == "swing":
        return {"kind": "swing", "amount": _plain_number(params["amount"]), "grid": params["grid"]}
    if kind == "template":
        fields = {
            "kind": "template",
            "period": _plain_number(params["period"]),
            "grid": params["grid"],
            "interp": params["interp"],
            "offsets": [_plain_number(v) for v in params["offsets"]],
        }
        if "velocity" in params:
            fields["velocity"] = [_plain_number(v) for v in params["velocity"]]
        return fields
    if kind == "blend":
        return {
            "kind": "blend",
            "of": [
                {
                    "groove": _fields_from_params(_kind_of(p), p, f"{where}.of[{i}]"),
                    "weight": float(w),
                }
                for i, (p, w) in enumerate(params["parts"])
            ],
        }
    raise PresetError(f"{where}: a groove of kind {kind!r} cannot be written as a preset")


def _kind_of(params: dict) -> str:
    # A blend keeps only its parts' parameters; their keys tell the kind apart.
    for key, kind in (("parts", "blend"), ("offsets", "template"), ("amount", "swing")):
        if key in params:
            return kind
    return "straight"


_SHARED = {"template": ("period", "grid", "interp"), "swing": ("grid",)}


def _lane_entry(
    kind: str, main_params: dict, lane_params: dict, lane_kind: str, notes, where: str
) -> dict:
    """``{notes, offsets/amount, velocity}`` of a lane of a ``kind`` groove."""
    shared = _SHARED.get(kind)
    fields = _fields_from_params(lane_kind, lane_params, where)
    main = _fields_from_params(kind, main_params, where)
    if shared is None or lane_kind != kind or any(fields[k] != main[k] for k in shared):
        raise PresetError(
            f"{where}: a lane of a {kind} must be a {kind} with the same "
            f"{', '.join(shared or ('grid',))}; this one is a {lane_kind} on "
            f"{fields.get('grid')}"
        )
    out = {"notes": [int(n) for n in notes]}
    out.update({k: v for k, v in fields.items() if k in ("amount", "offsets", "velocity")})
    return out


def _blend_of(preset: Preset) -> list:
    """A blend's parts as inline grooves, each with its share of the blend's lanes.

    Every blend lane's curve blends, part by part, the curve its notes follow
    in that part; giving each part a lane with those notes and that curve
    rebuilds the same lanes on loading.
    """
    parts = preset.groove.params["parts"]
    of = []
    for i, (params, weight) in enumerate(parts):
        kind, where = _kind_of(params), f"of[{i}].groove"
        fields = _fields_from_params(kind, params, where)
        lanes = {}
        for lane in preset.lanes:
            lane_parts = lane.groove.params.get("parts") if lane.groove.kind == "blend" else None
            if lane_parts is None or len(lane_parts) != len(parts):
                raise PresetError(
                    f"lanes.{lane.name}: a blend's lane must blend the same "
                    f"{len(parts)} parts as the blend"
                )
            lane_params = lane_parts[i][0]
            if kind in _SHARED:
                lanes[lane.name] = _lane_entry(
                    kind,
                    params,
                    lane_params,
                    _kind_of(lane_params),
                    lane.notes,
                    f"{where}.lanes.{lane.name}",
                )
            elif lane_params != params:
                raise PresetError(
                    f"lanes.{lane.name}: part {i} is a {kind}, which cannot have "
                    "lanes, but the lane differs from its curve"
                )
        if lanes:
            fields["lanes"] = lanes
        of.append({"groove": fields, "weight": float(weight)})
    return of


def preset_mapping(preset: Preset, name: str | None = None) -> dict:
    """The format's keys (plain data) for a Preset; ``name`` overrides its name."""
    out = {"name": name or preset.name}
    if preset.description:
        out["description"] = preset.description
    g = preset.groove
    out.update(_fields_from_params(g.kind, g.params, "groove"))
    if preset.lanes and g.kind == "blend":
        out["of"] = _blend_of(preset)
    elif preset.lanes:
        out["lanes"] = {
            lane.name: _lane_entry(
                g.kind,
                g.params,
                lane.groove.params,
                lane.groove.kind,
                lane.notes,
                f"lanes.{lane.name}",
            )
            for lane in preset.lanes
        }
    a, default = preset.amounts, Amounts()
    for key, value, base in (
        ("timing", a.timing, default.timing),
        ("quantize", a.quantize, default.quantize),
        ("velocity_amount", a.velocity, default.velocity),
    ):
        if value != base:
            out[key] = _plain_number(value)
    if a.random_ms or a.random_velocity or a.seed:
        out["random"] = {
            "time_ms": _plain_number(a.random_ms),
            "velocity": _plain_number(a.random_velocity),
            "seed": int(a.seed),
        }
    return out


def to_document(value):
    """Plain data as round-trip YAML nodes: block mappings, flow lists of scalars.

    Round-trip nodes (from ``read_document``) keep their comments and style
    and are converted in place (pass a copy); numpy scalars and arrays
    become plain numbers and lists.
    """
    if isinstance(value, CommentedMap):
        for key in list(value):
            value[key] = to_document(value[key])
        return value
    if isinstance(value, CommentedSeq):
        for i, item in enumerate(value):
            value[i] = to_document(item)
        return value
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[str(k)] = to_document(v)
        return out
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [
            to_document(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)
        ]
        seq = CommentedSeq(items)
        if all(not isinstance(v, (dict, list)) for v in items):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _set_header(document: CommentedMap, header_comment: str) -> None:
    document.ca.comment = None
    document.yaml_set_start_comment(header_comment)


def write_preset(path, preset, header_comment: str | None = None) -> Preset:
    """Write a preset file atomically; return it as loaded back.

    Parameters
    ----------
    path : path
        Target file (``NAME.yaml``); its directory must exist.  A Preset's
        name is written as the file name's stem.
    preset : Preset or mapping
        A Preset, a plain mapping of the format's keys, or a document from
        ``read_document`` (its comments and key order are kept).
    header_comment : str, optional
        Comment lines written at the top (each line gets ``# ``); replaces
        the document's own leading comment.

    Raises
    ------
    PresetError
        The text would not load back as a valid preset (nothing is written).
    """
    from engine.presets import load_text

    path = Path(path)
    if isinstance(preset, Preset):
        document = to_document(preset_mapping(preset, name=path.stem))
    elif isinstance(preset, dict):
        # a copy: the caller's document (and its comments) stay as they were
        document = to_document(
            copy.deepcopy(preset) if isinstance(preset, CommentedMap) else preset
        )
    else:
        raise TypeError(f"preset: expected a Preset or a mapping, got {type(preset).__name__}")
    if header_comment is not None:
        _set_header(document, header_comment)
    text = dumps(document)
    loaded = load_text(text, source=str(path), path=path)
    write_text_atomic(path, text)
    return loaded
