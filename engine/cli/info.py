"""``groove info``: what is in a MIDI file, and how far its notes sit off the grid."""

from __future__ import annotations

import json
import sys


def add_parser(sub):
    p = sub.add_parser(
        "info",
        help="describe a MIDI file (tracks, tempo, grid offsets)",
        description="Describe a MIDI file: tracks, channels, notes, tempo, "
        "time signatures, length, and how far notes sit off a "
        "1/16 grid.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def run(args) -> int:
    from engine.midi.info import describe, format_text
    from engine.midi.midifile import MidiFileError

    try:
        info = describe(args.file)
    except MidiFileError as exc:
        print(f"groove info: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(info, indent=2) if args.json else format_text(info))
    return 0
