"""``groove presets``: list, show, validate presets and print their JSON Schema."""

from __future__ import annotations

import json
import math
import sys

import numpy as np


def add_parser(sub):
    p = sub.add_parser(
        "presets",
        help="list, show and validate groove presets",
        description="Groove presets are YAML files (presets/NAME.yaml); "
        "see `groove presets schema` for the format.",
    )
    actions = p.add_subparsers(dest="presets_action", metavar="ACTION")
    ls = actions.add_parser("list", help="every preset found: name, kind, period, description")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.set_defaults(func=run_list)
    show = actions.add_parser("show", help="a preset's resolved parameters and a chart of D")
    show.add_argument("name", help="preset name or path to a preset file")
    show.add_argument("--bpm", type=float, default=120.0, help="tempo for ms (default 120)")
    show.add_argument(
        "--percent", action="store_true", help="chart D in percent of a grid step instead of ms"
    )
    show.add_argument("--ascii", action="store_true", help="plain ASCII chart")
    show.set_defaults(func=run_show)
    val = actions.add_parser("validate", help="check preset files; one line per problem")
    val.add_argument("files", nargs="+", metavar="FILE")
    val.set_defaults(func=run_validate)
    schema = actions.add_parser("schema", help="print the JSON Schema of the preset format")
    schema.set_defaults(func=run_schema)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def _period_text(preset) -> str:
    return f"{preset.groove.period_beat:g}"


def run_list(args) -> int:
    from engine.presets import PresetError, list_headers
    from engine.presets.lookup import preset_files

    files = preset_files()
    origins = {path: origin for _, path, origin in files}
    rows = []
    for name, path, result in list_headers(files):
        if isinstance(result, PresetError):
            rows.append(
                {
                    "name": name,
                    "kind": "invalid",
                    "period_beat": None,
                    "grid": None,
                    "description": "",
                    "path": str(path),
                    "origin": origins.get(path),
                    "error": str(result),
                }
            )
        else:
            rows.append(
                {
                    "name": name,
                    "kind": result.kind,
                    "grid": result.grid,
                    "period_beat": result.period_beat,
                    "description": result.description,
                    "path": str(path),
                    "origin": origins.get(path),
                    "error": None,
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max([len(r["name"]) for r in rows] + [4])
    print(f"{'NAME':<{width}}  {'KIND':<9} {'PERIOD':>6}  DESCRIPTION")
    for r in rows:
        period = f"{r['period_beat']:g}" if r["period_beat"] is not None else "-"
        text = r["error"] or r["description"]
        print(f"{r['name']:<{width}}  {r['kind']:<9} {period:>6}  {text}")
    return 0


def _numbers(values) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _blend_parts(preset) -> list:
    from engine.presets import read_document

    weights = [w for _, w in preset.groove.params["parts"]]
    try:
        written = [item.get("groove") for item in read_document(preset.path)["of"]]
    except Exception:  # the preset loaded, so this only guards odd sources
        written = [None] * len(weights)
    names = [
        w if isinstance(w, str) else f"inline {w.get('kind')}" if isinstance(w, dict) else "?"
        for w in written
    ]
    return [f"{n} x {w:.3g}" for n, w in zip(names, weights)]


def describe(preset, bpm: float) -> list:
    """The resolved parameters of a preset, one ``key  value`` line each."""
    g, a = preset.groove, preset.amounts
    rows = [
        ("kind", preset.kind),
        ("period", f"{g.period_beat:g} beat" + ("" if g.period_beat == 1 else "s")),
        ("grid", f"{g.grid} ({g.grid_beat:g} beat)"),
    ]
    params = g.params
    if preset.kind == "swing":
        rows.append(("amount", f"{params['amount']:g} %"))
    elif preset.kind == "template":
        rows += [("interp", params["interp"]), ("offsets", _numbers(params["offsets"]))]
        if "velocity" in params:
            rows.append(("velocity", _numbers(params["velocity"])))
    elif preset.kind == "blend" and preset.path:
        rows.append(("of", ", ".join(_blend_parts(preset))))
    for lane in preset.lanes:
        rows.append((f"lane {lane.name}", "notes " + " ".join(map(str, lane.notes))))
    random = (
        f"{a.random_ms:g} ms, velocity {a.random_velocity:g}, seed {a.seed}"
        if a.random_ms or a.random_velocity
        else "none"
    )
    rows.append(
        (
            "amounts",
            f"timing {a.timing:g}, quantize {a.quantize:g}, velocity "
            f"{a.velocity:g}, random {random}",
        )
    )
    ms = 60000.0 / bpm
    max_timing = "none" if math.isinf(g.max_timing) else f"{g.max_timing:.3g}"
    low, high = (round(v * ms, 1) + 0.0 for v in (g.min_deviation_beat, g.max_deviation_beat))
    rows.append(
        (
            "range",
            f"D from {low:+.1f} to {high:+.1f} ms at {bpm:g} bpm; folds back "
            f"past timing {max_timing}",
        )
    )
    width = max(len(k) for k, _ in rows)
    return [f"  {k:<{width}}  {v}" for k, v in rows]


def _chart(title, g, args, ascii_only) -> list:
    from engine.presets.chart import (
        accent_row,
        chart_span_beat,
        column_beat,
        column_chart,
        step_values,
    )

    unit = "percent" if args.percent else "ms"
    span, step = chart_span_beat(g.period_beat), column_beat(g)
    beats, values = step_values(g, unit, args.bpm, step_beat=step, span_beat=span)
    label = "%" if args.percent else "ms"
    where = f"each {g.grid} step" if step == g.grid_beat else "every 1/16"
    head = f"{title}: D at {where}, " + (
        f"% of a {g.grid} step" if args.percent else f"ms at {args.bpm:g} bpm"
    )
    lines = [head] + column_chart(values, beats, ascii_only=ascii_only, unit_label=label)
    on_grid = np.abs(beats / g.grid_beat - np.round(beats / g.grid_beat)) < 1e-9
    accents = np.where(on_grid, g.accent(beats), np.nan)
    if not (accents[on_grid] == 1.0).all():
        lines.append(f"{'accent':>8}  " + accent_row(accents, len(beats), ascii_only))
    return lines


def _can_draw_blocks() -> bool:
    try:
        "█┼▁▀".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def run_show(args) -> int:
    from engine.cli import UsageError
    from engine.presets import load

    if not (math.isfinite(args.bpm) and 0 < args.bpm <= 1000):
        raise UsageError(f"--bpm: {args.bpm:g} is outside (0, 1000]")
    preset = load(args.name)
    ascii_only = args.ascii or not _can_draw_blocks()
    print(f"{preset.name}  ({preset.path})")
    if preset.description:
        print(f"  {preset.description}")
    print("\n".join(describe(preset, args.bpm)))
    charts = [("main", preset.groove)] + [
        (f"lane {lane.name}", lane.groove) for lane in preset.lanes
    ]
    for title, g in charts:
        print()
        print("\n".join(_chart(title, g, args, ascii_only)))
    return 0


def run_validate(args) -> int:
    from engine.presets import validate

    bad = problems = 0
    for name in args.files:
        lines = validate([name])
        for line in lines:
            print(line, flush=True)
        bad += bool(lines)
        problems += len(lines)
    print(
        f"{len(args.files) - bad} of {len(args.files)} preset files valid"
        + (f", {problems} problems" if problems else ""),
        file=sys.stderr,
    )
    return 1 if problems else 0


def run_schema(args) -> int:
    from engine.presets import json_schema_text

    sys.stdout.write(json_schema_text())
    return 0
