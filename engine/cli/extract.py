"""``groove extract``: learn a groove preset from a recorded performance.

Exit codes: 0 written; 2 bad arguments or input (too few notes, a grid
that does not divide the period, a score that does not match, no notes on
the chosen channels), with nothing written.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .render import selection


def add_parser(sub):
    p = sub.add_parser(
        "extract",
        help="learn a groove preset from a recorded performance",
        description="Learn a groove (offsets and velocity accents per grid step, and lanes "
        "per instrument when they differ) from a played MIDI file, robustly, "
        "and write it as a template preset.",
    )
    p.add_argument("performance", metavar="PERF.mid", help="the played MIDI file")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="NAME.yaml",
        help="preset file to write (its name is the file name)",
    )
    add_selection_arguments(p)
    p.set_defaults(func=run)


def add_selection_arguments(p):
    """Options shared by extract and analyze: grid, period, bars, lanes, selection."""
    p.add_argument(
        "--score",
        metavar="SCORE.mid",
        help="the quantized score of the same notes: pair notes with it instead "
        "of snapping them to the grid",
    )
    p.add_argument("--grid", default="1/16", help="grid step, e.g. 1/16, 1/8, 1/8t (default 1/16)")
    p.add_argument(
        "--period",
        type=float,
        default=4.0,
        help="length of the groove in beats (default 4: a bar of 4/4)",
    )
    p.add_argument("--bars", metavar="FIRST-LAST", help="only these bars, 1-based: 1-8 or 5")
    p.add_argument(
        "--lanes",
        choices=("auto", "none"),
        default="auto",
        help="per-instrument lanes: auto (drum families on channel 10, else one "
        "per track when pitches differ) or none",
    )
    p.add_argument("--tracks", metavar="LIST", help="only these tracks, 0-based: 0,2-3")
    p.add_argument("--channels", metavar="LIST", help="only these channels, 1-16: 10")
    p.add_argument("--notes", metavar="LIST", help="only these pitches, 0-127: 35-59")


def parse_bars(text):
    """ "3-8" -> (3, 8); "5" -> (5, 5); None stays None."""
    from engine.cli import UsageError

    if text is None:
        return None
    first, _, last = text.partition("-")
    try:
        bars = (int(first), int(last or first))
    except ValueError:
        raise UsageError(
            f"--bars: {text!r} is not FIRST-LAST (e.g. 1-8) or one bar number"
        ) from None
    if bars[0] < 1 or bars[1] < bars[0]:
        raise UsageError(f"--bars: {text!r}; give FIRST-LAST with 1 <= FIRST <= LAST")
    return bars


def learn(args):
    """Read the inputs and extract (shared by extract and analyze); warnings to stderr."""
    from engine.learn import extract, performance

    sel = selection(args)
    bars = parse_bars(args.bars)
    extract.steps_per_period(args.grid, args.period)  # bad grid/period before any reading
    perf = performance.read(args.performance, **sel)
    score = performance.read(args.score, **sel) if args.score else None
    result = extract.extract(
        perf, grid=args.grid, period=args.period, lanes=args.lanes, bars=bars, score=score
    )
    for w in result.warnings:
        print(f"groove {args.command}: warning: {w}", file=sys.stderr)
    return result


def run(args) -> int:
    from engine.cli import UsageError
    from engine.presets import write_preset
    from engine.presets.schema import NAME_PATTERN

    out = Path(args.output)
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise UsageError(
            f"-o: {args.output!r}; a preset file ends in .yaml (e.g. {out.stem or 'mygroove'}.yaml)"
        )
    if not re.match(NAME_PATTERN, out.stem):
        raise UsageError(
            f"-o: {out.stem!r} is not a preset name (the file name is the "
            "preset's name); use letters, digits and - _ . + (e.g. my-funk.yaml)"
        )
    if not out.parent.is_dir():
        raise UsageError(f"-o: the folder {str(out.parent)!r} does not exist; create it first")
    result = learn(args)
    mapping = result.to_mapping(out.stem)
    write_preset(out, mapping, header_comment=result.header_comment())
    lanes = ", ".join(ln.name for ln in result.lanes) or "none"
    print(
        f"wrote {out} ({result.notes_used} notes; lanes: {lanes}; residual "
        f"{result.residual_ms:.1f} ms, {result.quantized_ms:.1f} ms on the straight grid)"
    )
    return 0
