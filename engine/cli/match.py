"""``groove match``: rank presets by how well they explain a performance's timing.

Exit codes: 0 done; 2 bad arguments or input, or no presets to rank.
"""

from __future__ import annotations

import json
import sys


def add_parser(sub):
    p = sub.add_parser(
        "match",
        help="rank presets by how well they explain a performance",
        description="Apply each preset to the performance's notes quantized to its grid and "
        "rank the presets by the timing residual against what was played.",
    )
    p.add_argument("performance", metavar="PERF.mid", help="the played MIDI file")
    p.add_argument(
        "--top", type=int, default=5, metavar="N", help="show the N best (default 5; 0 shows all)"
    )
    p.add_argument(
        "--presets",
        metavar="DIR",
        help="rank the presets in this folder (e.g. extracted ones) instead of "
        "the shipped and user presets",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--tracks", metavar="LIST", help="only these tracks, 0-based: 0,2-3")
    p.add_argument("--channels", metavar="LIST", help="only these channels, 1-16: 10")
    p.add_argument("--notes", metavar="LIST", help="only these pitches, 0-127: 35-59")
    p.set_defaults(func=run)


def run(args) -> int:
    from engine.cli import UsageError
    from engine.learn import match, performance

    from .extract import selection

    if args.top < 0:
        raise UsageError(f"--top: {args.top}; give 0 (all) or a positive count")
    sel = selection(args)
    rows, problems = match.candidates(args.presets)
    for p in problems:
        print(f"groove match: skipped an invalid preset: {p}", file=sys.stderr)
    if not rows:
        where = args.presets or "the preset folders (`groove presets list`)"
        raise UsageError(f"no valid presets to rank in {where}")
    perf = performance.read(args.performance, **sel)
    ranking = match.rank(perf, rows, top=args.top or None)
    if args.json:
        print(
            json.dumps(
                dict(
                    file=perf.path,
                    notes=len(perf),
                    candidates=len(rows),
                    huber_ms=match.HUBER_MS,
                    ranking=ranking,
                ),
                indent=2,
            )
        )
    else:
        print(match.format_table(perf, ranking, len(rows)))
    return 0
