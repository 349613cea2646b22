"""The preset format in one place: which keys each kind takes, and its JSON Schema.

The checker (``engine.presets.check``) reads the key tables below; the JSON
Schema (``groove presets schema``, ``presets/schema.json``) is generated from
the same tables, so editors and the loader agree on what a key means.
"""

from __future__ import annotations

import json

from groove import GRIDS, MAX_PERIOD_BEAT, MAX_TIMING

KINDS = ("swing", "template", "blend", "straight")
#: Keys every preset file may have besides its groove.
INFO_KEYS = ("name", "description")
#: Rendering defaults (engine.presets.model.Amounts); not allowed inside a blend part.
AMOUNT_KEYS = ("timing", "quantize", "velocity_amount", "random")
#: kind -> (required keys, optional keys) of the groove itself.
GROOVE_KEYS = {
    "straight": ((), ("grid",)),
    "swing": (("amount", "grid"), ("lanes",)),
    "template": (("period", "grid", "offsets"), ("interp", "velocity", "lanes")),
    "blend": (("of",), ()),
}
#: kind -> (required, optional) keys of one lane of a preset of that kind.
LANE_KEYS = {
    "swing": (("notes", "amount"), ()),
    "template": (("notes", "offsets"), ("velocity",)),
}
PART_KEYS = (("groove",), ("weight",))
RANDOM_KEYS = ((), ("time_ms", "velocity", "seed"))
#: What a preset name may look like (it is also a file name).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"
ALL_GROOVE_KEYS = ("kind",) + tuple(
    dict.fromkeys(k for req, opt in GROOVE_KEYS.values() for k in req + opt)
)

_DOC = {
    "name": "Preset name: the file name without .yaml (letters, digits, - _ . +).",
    "description": "One line shown by `groove presets list`.",
    "kind": "swing: MPC-style swing; template: one offset per grid step; blend: a weighted "
    "mix of other presets; straight: no groove.",
    "amount": "Swing in percent: the share of each pair of grid steps given to the first. "
    "50 is straight, 66.67 a triplet feel, 75 hard swing.",
    "grid": "Grid step: 1/N with N in 1..64, optionally t (triplet) or d (dotted).",
    "period": f"Length of the pattern in beats (quarter notes), at most {MAX_PERIOD_BEAT}; "
    "a whole number of grid steps.",
    "interp": "How the curve runs between grid steps: linear (default) or pchip (smooth, "
    "monotone cubic).",
    "offsets": "One timing offset per grid step, in fractions of a step (late > 0); "
    "period / grid values.",
    "velocity": "Optional velocity accents 0..1, one per grid step (1 = full velocity).",
    "lanes": "Optional: instruments that groove differently. Each lane lists its MIDI notes "
    "and its own curve; notes in no lane follow the top-level curve.",
    "of": "The parts of a blend: a preset name, a path (relative to this file) or an "
    "inline groove, each with a weight >= 0.",
    "timing": f"Default timing amount, 0..{MAX_TIMING} (1 = the curve as written).",
    "quantize": "Default quantize amount 0..1: pulls notes to the grid before the groove.",
    "velocity_amount": "Default velocity amount -1..1: factor = 1 + v * (accent - 1).",
    "random": "Default humanising: Gaussian timing (time_ms) and velocity spread, and a seed.",
    "notes": "MIDI note numbers 0..127 of this lane; a note belongs to at most one lane.",
    "groove": "A preset name, a path to a preset file, or an inline groove.",
    "weight": "Weight of this part, >= 0 (default 1); weights are normalised to sum 1.",
    "time_ms": "Gaussian timing sigma in milliseconds (0..1000), clipped at 2.5 sigma.",
    "random_velocity": "Gaussian velocity sigma in velocity units (0..127).",
    "seed": "Seed of the deterministic random offsets (a whole number >= 0).",
}


def _num(doc, **bounds):
    return {"type": "number", "description": doc, **bounds}


def _list(items, doc, **extra):
    return {"type": "array", "items": items, "minItems": 1, "description": doc, **extra}


def _object(required, optional, props):
    return {
        "type": "object",
        "required": list(required),
        "additionalProperties": False,
        "properties": {k: props[k] for k in required + optional},
    }


def _groove_properties():
    return {
        "kind": {"enum": list(KINDS), "description": _DOC["kind"]},
        "amount": _num(_DOC["amount"], exclusiveMinimum=0, exclusiveMaximum=100),
        "grid": {"$ref": "#/definitions/grid"},
        "period": _num(_DOC["period"], exclusiveMinimum=0, maximum=MAX_PERIOD_BEAT),
        "interp": {"enum": ["linear", "pchip"], "description": _DOC["interp"]},
        "offsets": {"$ref": "#/definitions/offsets"},
        "velocity": {"$ref": "#/definitions/velocity"},
        "lanes": {
            "type": "object",
            "description": _DOC["lanes"],
            "additionalProperties": {"type": "object"},
        },
        "of": _list({"$ref": "#/definitions/part"}, _DOC["of"]),
    }


def _groove_object(top_level: bool) -> dict:
    props = _groove_properties()
    extra = ()
    if top_level:
        props.update(
            {
                "name": {"type": "string", "pattern": NAME_PATTERN, "description": _DOC["name"]},
                "description": {"type": "string", "description": _DOC["description"]},
                "timing": _num(_DOC["timing"], minimum=0, maximum=MAX_TIMING),
                "quantize": _num(_DOC["quantize"], minimum=0, maximum=1),
                "velocity_amount": _num(_DOC["velocity_amount"], minimum=-1, maximum=1),
                "random": {"$ref": "#/definitions/random"},
            }
        )
        extra = INFO_KEYS + AMOUNT_KEYS
    rules = []
    for kind, (required, optional) in GROOVE_KEYS.items():
        then = {
            "required": list(required),
            "propertyNames": {"enum": ["kind", *required, *optional, *extra]},
        }
        if kind in LANE_KEYS:
            then["properties"] = {
                "lanes": {"additionalProperties": {"$ref": f"#/definitions/{kind}Lane"}}
            }
        rules.append(
            {"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]}, "then": then}
        )
    return {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "properties": props,
        "allOf": rules,
    }


def json_schema() -> dict:
    """The JSON Schema (draft-07) of a preset file, for editors and validators."""
    notes = _list(
        {"type": "integer", "minimum": 0, "maximum": 127}, _DOC["notes"], uniqueItems=True
    )
    lane_props = {
        "notes": notes,
        "amount": _groove_properties()["amount"],
        "offsets": {"$ref": "#/definitions/offsets"},
        "velocity": {"$ref": "#/definitions/velocity"},
    }
    definitions = {
        "grid": {"enum": list(GRIDS), "description": _DOC["grid"]},
        "offsets": _list({"type": "number"}, _DOC["offsets"]),
        "velocity": _list({"type": "number", "minimum": 0, "maximum": 1}, _DOC["velocity"]),
        "swingLane": _object(*LANE_KEYS["swing"], lane_props),
        "templateLane": _object(*LANE_KEYS["template"], lane_props),
        "part": _object(
            *PART_KEYS,
            {
                "groove": {
                    "description": _DOC["groove"],
                    "oneOf": [
                        {"type": "string", "minLength": 1},
                        {"$ref": "#/definitions/inlineGroove"},
                    ],
                },
                "weight": _num(_DOC["weight"], minimum=0),
            },
        ),
        "random": _object(
            *RANDOM_KEYS,
            {
                "time_ms": _num(_DOC["time_ms"], minimum=0, maximum=1000),
                "velocity": _num(_DOC["random_velocity"], minimum=0, maximum=127),
                "seed": {"type": "integer", "minimum": 0, "description": _DOC["seed"]},
            },
        ),
        "inlineGroove": _groove_object(top_level=False),
    }
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "groove preset",
        "description": "One groove: swing, template or blend, with optional lanes "
        "and rendering defaults (presets/NAME.yaml).",
    }
    schema.update(_groove_object(top_level=True))
    schema["definitions"] = definitions
    return schema


def json_schema_text() -> str:
    """The schema as the text of presets/schema.json (2-space indent, newline at the end)."""
    return json.dumps(json_schema(), indent=2) + "\n"
