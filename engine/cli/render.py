"""``groove render``: apply a groove preset to MIDI files.

Numbering on the command line: tracks are 0-based, as ``groove info``
prints them; channels are 1-16, as musicians count them; pitches 0-127.
Exit codes: 0 done, 1 some files of a batch failed, 2 bad arguments, a bad
preset, or a single input that cannot be rendered (nothing is written).
"""

from __future__ import annotations

import sys


def add_parser(sub):
    p = sub.add_parser(
        "render",
        help="apply a groove to MIDI files",
        description="Apply a groove preset to MIDI files (notes, CCs, pitch bend move along "
        "the groove; meta events and sysex stay).",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="MIDI file(s), folder(s) (searched for *.mid, *.midi) or glob(s)",
    )
    p.add_argument("-p", "--preset", required=True, help="preset name or YAML path")
    p.add_argument("-o", "--output", help="output file, or folder for several inputs")
    amounts = p.add_argument_group("amounts (override the preset's defaults)")
    amounts.add_argument("--timing", type=float, metavar="A", help="groove timing amount 0..1.3")
    amounts.add_argument("--quantize", type=float, metavar="Q", help="pull to the grid first, 0..1")
    amounts.add_argument("--velocity", type=float, metavar="V", help="velocity accents -1..1")
    amounts.add_argument("--random-ms", type=float, metavar="MS", help="random timing sigma in ms")
    amounts.add_argument("--random-velocity", type=float, metavar="S", help="random velocity sigma")
    amounts.add_argument("--seed", type=int, metavar="N", help="seed of the random offsets (>= 0)")
    p.add_argument(
        "--ends",
        choices=("groove", "keep"),
        default="groove",
        help="note-offs follow the groove (default) or keep each duration",
    )
    p.add_argument("--tracks", metavar="LIST", help="only these tracks, 0-based: 0,2-3")
    p.add_argument("--channels", metavar="LIST", help="only these channels, 1-16: 10 or 1-9")
    p.add_argument("--notes", metavar="LIST", help="only these pitches, 0-127: 36-51,60")
    p.add_argument(
        "--only-notes",
        action="store_true",
        help="move notes only; CCs, pitch bend, aftertouch stay",
    )
    p.add_argument(
        "--resolution",
        type=int,
        metavar="TPB",
        help="ticks per beat of the output (default: the input's)",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="worker processes for several files (default 1)",
    )
    p.add_argument("--in-place", action="store_true", help="allow overwriting the inputs")
    blocks = p.add_argument_group("block engine (the live engine driven by an offline clock)")
    blocks.add_argument(
        "--engine",
        choices=("direct", "blocks"),
        default="direct",
        help="direct whole-file maths (default) or the block engine; both write the same file",
    )
    blocks.add_argument(
        "--block-size", type=int, default=256, metavar="N", help="frames per block (default 256)"
    )
    blocks.add_argument(
        "--random-blocks",
        type=int,
        metavar="SEED",
        help="random block sizes 1..4096 from this seed",
    )
    blocks.add_argument("--rack", metavar="RACK.yaml", help="play through this rack")
    audio = p.add_argument_group("audio (FluidSynth through a General MIDI SoundFont)")
    audio.add_argument(
        "--wav",
        metavar="OUT.wav",
        help="also write what the output sounds like: .wav, or .flac (one input only)",
    )
    audio.add_argument(
        "--soundfont",
        metavar="FILE.sf2",
        help="SoundFont for --wav (default: $GROOVE_SOUNDFONT, then the system's; "
        "groove doctor says which)",
    )
    audio.add_argument(
        "--wav-depth",
        choices=("16", "24", "float"),
        default="24",
        help="sample format of --wav (default 24-bit; FLAC takes 16 or 24)",
    )
    p.add_argument(
        "--sample-rate",
        type=float,
        default=48000.0,
        metavar="SR",
        help="frames per second of the block engine and of --wav (default 48000; "
        "--wav: 8000 to 96000, FluidSynth's range)",
    )
    p.set_defaults(func=run)


def parse_list(text: str, name: str, lo: int, hi: int) -> frozenset:
    """ "0,2-3" -> {0, 2, 3}, every value within lo..hi."""
    from engine.cli import UsageError

    values = set()
    for part in text.split(","):
        part = part.strip()
        try:
            a, _, b = part.partition("-")
            first, last = int(a), int(b or a)
        except ValueError:
            raise UsageError(
                f"--{name}: {part!r} is not a number or a range like 2-5 "
                f"(use values {lo}..{hi}, e.g. {lo},{lo + 2}-{lo + 3})"
            ) from None
        if not lo <= first <= last <= hi:
            raise UsageError(f"--{name}: {part!r} is outside {lo}..{hi} (or a backward range)")
        values.update(range(first, last + 1))
    return frozenset(values)


def selection(args) -> dict:
    """--tracks (0-based), --channels (1-16, as 0-15) and --notes as keyword arguments."""
    out = {}
    if args.tracks:
        out["tracks"] = parse_list(args.tracks, "tracks", 0, 65535)
    if args.channels:
        out["channels"] = frozenset(c - 1 for c in parse_list(args.channels, "channels", 1, 16))
    if args.notes:
        out["notes"] = parse_list(args.notes, "notes", 0, 127)
    return out


def options_from(args) -> dict:
    from engine.cli import UsageError

    opts = dict(
        timing=args.timing,
        quantize=args.quantize,
        velocity=args.velocity,
        random_ms=args.random_ms,
        random_velocity=args.random_velocity,
        seed=args.seed,
        ends=args.ends,
        only_notes=args.only_notes,
        resolution=args.resolution,
    )
    opts = {k: v for k, v in opts.items() if v is not None}
    opts.update(selection(args))
    if not 1000 <= args.sample_rate <= 768000:
        raise UsageError(f"--sample-rate: {args.sample_rate:g} Hz; use 1000 to 768000")
    if args.engine == "blocks":
        if not 1 <= args.block_size <= 65536:
            raise UsageError(f"--block-size: {args.block_size} frames; use 1 to 65536")
        opts.update(
            engine="blocks",
            block_size=args.block_size,
            block_seed=args.random_blocks,
            sample_rate=args.sample_rate,
        )
        if args.rack:
            from engine.host.rack_file import load_rack

            load_rack(args.rack)  # a bad rack fails here, with its file:line:col
            opts["rack"] = args.rack
    elif args.rack:
        raise UsageError("--rack needs --engine blocks")
    if args.soundfont and not args.wav:
        raise UsageError("--soundfont plays --wav; give --wav OUT.wav too")
    if args.wav:
        from engine.audio.fluid import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
        from engine.audio.render import check_output
        from engine.audio.soundfont import find_soundfont

        if not MIN_SAMPLE_RATE <= args.sample_rate <= MAX_SAMPLE_RATE:
            raise UsageError(
                f"--sample-rate: {args.sample_rate:g} Hz; FluidSynth (--wav) plays "
                f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz; use --sample-rate 48000"
            )
        check_output(args.wav, args.wav_depth)  # before anything is written
        opts.update(
            wav=args.wav,
            soundfont=str(find_soundfont(args.soundfont).path),
            wav_depth=args.wav_depth,
            sample_rate=args.sample_rate,
        )
    return opts


def _repairs(dropped: int, closed: int) -> str:
    parts = []
    if dropped:
        parts.append(f"{dropped} note-off(s) without a note-on dropped")
    if closed:
        parts.append(f"{closed} note(s) that never ended closed at the end of their track")
    return "; ".join(parts)


def run(args) -> int:
    from engine.cli import UsageError
    from engine.midi import batch
    from engine.midi.midifile import MidiFileError
    from engine.midi.render import Options, load_preset, render_file

    if args.jobs < 1:
        raise UsageError(f"-j: {args.jobs} workers; use 1 or more")
    opts = options_from(args)
    preset = load_preset(args.preset)
    block_keys = ("engine", "block_size", "block_seed", "sample_rate", "rack")
    block_keys += ("wav", "soundfont", "wav_depth")
    Options.make(preset, **{k: v for k, v in opts.items() if k not in block_keys})
    try:
        todo = batch.plan(args.inputs, args.output, args.in_place)
    except batch.PlanError as exc:
        raise UsageError(str(exc)) from None
    if todo.batch and "wav" in opts:
        raise UsageError("--wav takes one input file (it writes one WAV)")
    if not todo.batch:
        src, dst = todo.jobs[0]
        if "wav" in opts:
            opts["notice"] = lambda line: print(f"groove render: {line}", file=sys.stderr)
        try:
            stats = render_file(src, dst, preset, **opts)
        except MidiFileError as exc:
            print(f"groove render: {exc}", file=sys.stderr)
            return 2
        extra = _repairs(stats.orphan_offs_dropped, stats.unended_closed)
        print(
            f"wrote {dst} ({stats.notes} notes in {stats.tracks} track(s)"
            f"{'; ' + extra if extra else ''})"
        )
        if "wav" in opts:
            print(f"wrote {opts['wav']} (through {opts['soundfont']})")
        return 0
    summary = batch.run(todo.jobs, preset, opts, workers=args.jobs)
    rate = summary.done / summary.seconds if summary.seconds else 0.0
    where = todo.out_dir if todo.out_dir is not None else "their own places (--in-place)"
    print(
        f"rendered {summary.done} of {summary.files} files ({summary.notes} notes) into "
        f"{where} in {summary.seconds:.1f} s ({rate:.1f} files/s); "
        f"{len(summary.failures)} failed"
    )
    extra = _repairs(summary.orphan_offs_dropped, summary.unended_closed)
    if extra:
        print(extra)
    return 1 if summary.failures else 0
