"""``groove plot``: draw grooves' deviation curves and accents to an image."""

from __future__ import annotations

import math
import sys


def add_parser(sub):
    p = sub.add_parser(
        "plot",
        help="draw groove curves (D over one period, accents) to a PNG",
        description="Draw D(t) = T(t) - t of presets and blends over one "
        "period, with grid lines, knots and velocity accents. "
        "Needs matplotlib: pip install 'groove[plot]'.",
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="preset names or paths")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="image to write (.png; .svg or .pdf also work)",
    )
    p.add_argument("--bpm", type=float, default=120.0, help="tempo for ms (default 120)")
    p.add_argument(
        "--unit",
        choices=("ms", "percent"),
        default="ms",
        help="left axis in ms at --bpm (default) or percent of a grid step",
    )
    p.add_argument(
        "--beats",
        type=float,
        default=None,
        help="beats to draw (default: the longest period, at least 1)",
    )
    lanes = p.add_mutually_exclusive_group()
    lanes.add_argument(
        "--lanes",
        dest="lanes",
        action="store_true",
        default=None,
        help="draw lanes too (default when plotting one preset)",
    )
    lanes.add_argument("--no-lanes", dest="lanes", action="store_false")
    p.set_defaults(func=run)


def run(args) -> int:
    from engine.cli import UsageError

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(
            "groove plot: matplotlib is not installed; install it with pip install 'groove[plot]'",
            file=sys.stderr,
        )
        return 2
    if not (math.isfinite(args.bpm) and 0 < args.bpm <= 1000):
        raise UsageError(f"--bpm: {args.bpm:g} is outside (0, 1000]")
    if args.beats is not None and not (math.isfinite(args.beats) and 0 < args.beats <= 64):
        raise UsageError(f"--beats: {args.beats:g} is outside (0, 64]")
    from engine.presets import load
    from engine.presets.plot import plot_presets

    presets = [load(name) for name in args.names]
    lanes = len(presets) == 1 if args.lanes is None else args.lanes
    path = plot_presets(
        presets, args.output, unit=args.unit, bpm=args.bpm, span_beat=args.beats, lanes=lanes
    )
    print(f"wrote {path}")
    return 0
