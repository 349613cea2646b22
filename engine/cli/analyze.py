"""``groove analyze``: what makes a performance feel the way it does.

Prints swing, mean offset (laid back or ahead), per-step offsets, spread
(tightness) and accents per lane, and the displacement region of the fitted
groove; ``--json`` prints the same as JSON, ``--plot`` draws it.
Exit codes: 0 done; 2 bad arguments or input.
"""

from __future__ import annotations

import json
from pathlib import Path

from .extract import add_selection_arguments, learn


def add_parser(sub):
    p = sub.add_parser(
        "analyze",
        help="report the groove of a recorded performance",
        description="Report what makes a performance feel the way it does: swing on 8ths "
        "and 16ths, mean offset (laid back or ahead), per-step offsets, spread "
        "and velocity accents per lane, and the displacement region of the "
        "fitted groove (area and centroid).",
    )
    p.add_argument("performance", metavar="PERF.mid", help="the played MIDI file")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument(
        "--plot",
        metavar="OUT.png",
        help="also draw the report (.png, .svg or .pdf; needs matplotlib)",
    )
    add_selection_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from engine.cli import UsageError
    from engine.learn import analyze

    if args.plot:
        out = Path(args.plot)
        if out.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise UsageError(
                f"--plot: {args.plot!r}; give an image file ending in .png, .svg or .pdf"
            )
        if not out.parent.is_dir():
            raise UsageError(
                f"--plot: the folder {str(out.parent)!r} does not exist; create it first"
            )
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'groove[plot]'") from None
    extraction = learn(args)
    rep = analyze.report(extraction)
    if args.plot:
        analyze.plot(rep, extraction, args.plot)
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print(analyze.format_text(rep))
        if args.plot:
            print(f"wrote {args.plot}")
    return 0
