"""What every backend shares: the error class, the options, port matching and the
callback report.  Main thread only; imports nothing of the backends."""

from __future__ import annotations

from dataclasses import dataclass


class BackendError(RuntimeError):
    """A backend that cannot start: the message says what to do about it."""


@dataclass
class BackendOptions:
    """What ``groove live`` asks of a backend (names as on the command line)."""

    name: str = "groove"
    in_port: str | None = None
    out_port: str | None = None
    click: bool = False
    midi_api: str | None = None  # portaudio: rtmidi API name
    device: str | None = None  # portaudio: audio device (name or index)
    block_frames: int | None = None  # portaudio: stream block size
    sample_rate: float | None = None  # portaudio: stream rate (default: the device's)
    send_timing: str = "thread"  # portaudio: "thread" (timed sender) or "block"
    synth: str | None = None  # a SoundFont to play the output on (jack: out_1/out_2)
    connect_audio: bool = True  # jack: connect out_1/out_2 to the playback ports


def match_port(wanted: str, names: list, what: str) -> str:
    """The one port name that is ``wanted``, or contains it (case-insensitive).

    Raises BackendError naming the ports there are when none or several match.
    """
    if wanted in names:
        return wanted
    low = wanted.lower()
    hits = [n for n in names if low in n.lower()]
    if len(hits) == 1:
        return hits[0]
    shown = ", ".join(repr(n) for n in names) or "none"
    if not hits:
        raise BackendError(
            f"{what}: no port matches {wanted!r} (there are: {shown}); `groove ports` lists them"
        )
    raise BackendError(
        f"{what}: {wanted!r} matches {len(hits)} ports "
        f"({', '.join(repr(h) for h in hits)}); give more of the name"
    )


def callback_report(
    callback_sec, callbacks: int, block_frames: int, sample_rate: float, cpu_sec=None
) -> str:
    """Callback time p50/p99/max against the block period, for the final status line.

    ``callback_sec`` is a ring (numpy array) of the last callbacks' wall
    durations, ``cpu_sec`` the same callbacks' thread CPU time (wall minus
    CPU is time the thread was preempted or waited, e.g. for the GIL).
    """
    import numpy as np

    n = min(callbacks, callback_sec.shape[0])
    if n == 0:
        return "no callbacks"
    # The first callbacks include start-up work (page faults, caches): skip them when we can.
    skip = min(n // 10, 100)
    took = callback_sec[skip:n] * 1000.0
    period_ms = block_frames / sample_rate * 1000.0
    p50, p99 = np.percentile(took, [50, 99])
    text = (
        f"callback p50 {p50:.3f} p99 {p99:.3f} max {took.max():.3f} ms of a "
        f"{period_ms:.2f} ms block (p99 {100 * p99 / period_ms:.1f} %)"
    )
    if cpu_sec is not None:
        cpu = cpu_sec[skip:n] * 1000.0
        text += f", cpu p50 {np.percentile(cpu, 50):.3f} p99 {np.percentile(cpu, 99):.3f} ms"
    return text


def connect_jack_ports(client, options, midi_in, midi_out, click_out=None, synth_out=()):
    """Connect a JACK client's ports as ``groove live`` asks (main thread).

    ``--in``/``--out`` by name (or a unique part of one); the click to the first two
    playback ports; the synth's outputs to them too unless ``--no-connect``.  Raises
    BackendError with one line; the caller closes what it opened.
    """
    c, opt = client, options
    try:
        if opt.in_port:
            names = [p.name for p in c.get_ports(is_midi=True, is_output=True)]
            c.connect(match_port(opt.in_port, names, "--in"), midi_in)
        if opt.out_port:
            names = [p.name for p in c.get_ports(is_midi=True, is_input=True)]
            c.connect(midi_out, match_port(opt.out_port, names, "--out"))
        playback = c.get_ports(is_audio=True, is_input=True, is_physical=True)[:2]
        if click_out is not None:
            for port in playback:
                c.connect(click_out, port)
        if synth_out and opt.connect_audio:
            for mine, port in zip(synth_out, playback):
                c.connect(mine, port)
    except BackendError:
        raise
    except Exception as exc:  # jack.JackError and friends: one line, not a traceback
        raise BackendError(f"backend jack: cannot connect ports ({exc})") from None
