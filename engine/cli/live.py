"""``groove live``: play MIDI through a groove in real time (JACK or PortAudio + rtmidi).

On JACK, a rack of built-in processors runs as one compiled kernel in a C
process callback (no Python on JACK's real-time thread); a rack holding a
third-party Python processor runs on a Python callback and the ready and
status lines say it is not real-time safe.

Exit codes: 0 stopped by Ctrl-C/SIGTERM/SIGHUP (after ending every note), 1
the audio server or the audio path failed (notes ended where still
possible), 2 bad arguments, a bad preset/rack, or a backend that cannot
start.
"""

from __future__ import annotations

from engine.live.backends import BACKENDS


def add_parser(sub):
    p = sub.add_parser(
        "live",
        help="groove live MIDI in real time (JACK or PortAudio + rtmidi)",
        description="Play MIDI from a keyboard or DAW through a groove in real time. Without "
        "--in/--out, virtual ports <name>:midi_in and <name>:midi_out are made.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("-p", "--preset", help="preset name or YAML path (watched, reloaded on save)")
    src.add_argument("--rack", metavar="FILE", help="rack YAML file (watched, reloaded on save)")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="jack",
        help="jack (sample-accurate; compiled real-time callback) or portaudio "
        "(sound card clock + rtmidi)",
    )
    p.add_argument(
        "--in",
        dest="in_port",
        metavar="PORT",
        help="connect this MIDI source (a name or part of one; see `groove ports`)",
    )
    p.add_argument("--out", dest="out_port", metavar="PORT", help="connect this MIDI destination")
    p.add_argument("--bpm", type=float, default=120.0, help="internal tempo (default 120)")
    p.add_argument(
        "--sync",
        choices=("internal", "midi"),
        default="internal",
        help="internal clock, or follow MIDI clock/Start/Stop/Continue/SPP on the input",
    )
    p.add_argument(
        "--min-bpm",
        type=float,
        metavar="BPM",
        help="the slowest tempo the fixed latency L must cover (default: --bpm with the "
        "internal clock, 60 with --sync midi); slower, early moves go out late (counted)",
    )
    p.add_argument(
        "--send-clock",
        action="store_true",
        help="be the MIDI clock master: send clock, Start, Stop on the output",
    )
    p.add_argument(
        "--latency-ms",
        type=float,
        metavar="L",
        help="constant latency L for the session, reported to JACK as the output port's "
        "latency (default: the largest early move the rack can reach)",
    )
    p.add_argument("--click", action="store_true", help="metronome click on an audio output")
    p.add_argument(
        "--synth",
        action="store_true",
        help="also play the output through FluidSynth: on JACK ports <name>:out_1/out_2, "
        "with --backend portaudio on the audio device (MIDI out goes on alongside)",
    )
    p.add_argument(
        "--soundfont",
        metavar="FILE.sf2",
        help="SoundFont for --synth (default: $GROOVE_SOUNDFONT, then the system's)",
    )
    p.add_argument(
        "--no-connect",
        dest="connect",
        action="store_false",
        help="JACK: leave out_1/out_2 unconnected (default: to the system's playback ports)",
    )
    p.add_argument("--name", default="groove", help="client/port name prefix (default groove)")
    p.add_argument(
        "--autostart",
        action="store_true",
        help="start the transport at once (otherwise on MIDI Start)",
    )
    p.add_argument(
        "--cc",
        action="append",
        default=[],
        metavar="PARAM=CC",
        help="drive timing, quantize, velocity or weightN (blend part N) from a CC, "
        "e.g. --cc timing=1 (CC value = timing in %%)",
    )
    p.add_argument(
        "--no-reload", dest="reload", action="store_false", help="do not watch the preset/rack file"
    )
    pa = p.add_argument_group("portaudio backend")
    pa.add_argument(
        "--midi-api",
        choices=("alsa", "jack", "coremidi", "winmm"),
        help="rtmidi's MIDI API (default: rtmidi's first)",
    )
    pa.add_argument("--device", help="audio output device (name or index; see `groove ports`)")
    pa.add_argument(
        "--block",
        dest="block_frames",
        type=int,
        metavar="FRAMES",
        help="audio block size (default 256)",
    )
    pa.add_argument(
        "--send-timing",
        choices=("thread", "block"),
        default="thread",
        help="send MIDI from a timed thread at each event's time (default) or "
        "from the audio callback, quantised to the block",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from engine.cli import UsageError
    from engine.live.backends import BackendError
    from engine.live.session import LiveConfig, Session

    if args.block_frames is not None and not 16 <= args.block_frames <= 8192:
        raise UsageError(f"--block: {args.block_frames} is outside 16 .. 8192")
    cfg = LiveConfig(
        **{k: v for k, v in vars(args).items() if k in LiveConfig.__dataclass_fields__}
    )
    try:
        return Session(cfg).run()
    except BackendError as exc:
        raise UsageError(str(exc)) from None
    except (ValueError, OSError):
        raise
    except Exception as exc:  # never a traceback: one line, and the notes were ended
        print(f"groove live: internal error: {exc!r}", file=sys.stderr)
        return 1
